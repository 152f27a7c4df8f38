use mercato_domain::delivery::{DeliveryMode, SupervisionStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub subscription_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub product_id: String,
    pub product_name: String,
    pub mode: DeliveryMode,
    pub status: SupervisionStatus,
    /// When the current status began (the appeal wait counts from it).
    pub status_since: DateTimeUtc,
    /// Timeline rows so far; every change is conditional on it.
    pub steps: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
