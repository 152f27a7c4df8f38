use mercato_domain::catalog::{ReviewKind, ReviewSnapshot, ReviewStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub product_id: String,
    pub seller_id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    #[sea_orm(column_name = "snapshot_json")]
    pub snapshot: ReviewSnapshot,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
