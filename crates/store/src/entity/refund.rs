use mercato_domain::refunds::{RefundRule, UnsubscribeScope};
use sea_orm::entity::prelude::*;

/// A refund order's record (migration 0012).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: String,
    pub order_line_id: String,
    pub subscription_id: String,
    pub buyer_id: String,
    /// `domain::refunds::UnsubscribeScope`.
    pub scope: UnsubscribeScope,
    /// `domain::refunds::RefundRule`.
    pub rule: RefundRule,
    pub amount_minor: i64,
    pub seller_minor: i64,
    pub commission_minor: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
    /// Taken back from the partner's share of the sale.
    pub partner_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
