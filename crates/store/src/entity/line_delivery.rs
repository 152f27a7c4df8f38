use mercato_domain::delivery::DeliveredBy;
use sea_orm::entity::prelude::*;

/// When an order line's delivery completed: its settleable time.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "line_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: String,
    pub order_id: String,
    pub seller_id: String,
    pub delivered_by: DeliveredBy,
    pub delivered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
