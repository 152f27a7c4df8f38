use mercato_domain::channel::partners::ExclusiveDiscountStatus;
use mercato_domain::ids::ExclusiveDiscountId;
use sea_orm::entity::prelude::*;

/// An exclusive discount (专属优惠) a partner asked for (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exclusive_discounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ExclusiveDiscountId,
    pub partner_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub percent_off_bp: i64,
    /// The partner's share of the sales it is used on, fixed when approved.
    pub share_bp: Option<i64>,
    pub status: ExclusiveDiscountStatus,
    pub reason: String,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    pub requested_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
