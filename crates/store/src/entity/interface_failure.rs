use sea_orm::entity::prelude::*;

/// A purchase (order line) that failed because of the seller's interface.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interface_failures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: String,
    pub product_id: String,
    pub seller_id: String,
    pub failed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
