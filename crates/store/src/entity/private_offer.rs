use mercato_domain::channel::offers::{OfferStatus, OfferTerms};
use mercato_domain::ids::OfferId;
use sea_orm::entity::prelude::*;

/// A seller's private offer to one buyer (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "private_offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: OfferId,
    pub seller_id: String,
    pub buyer_id: String,
    pub product_id: String,
    /// The partner's demand it answers.
    pub demand_id: Option<String>,
    /// The partner credited with a share of the sale, and that share.
    pub partner_id: Option<String>,
    pub share_bp: Option<i64>,
    #[sea_orm(column_name = "terms_json")]
    pub terms: OfferTerms,
    pub message: Option<String>,
    pub status: OfferStatus,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    /// The order that used it.
    pub order_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub status_since: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
