use sea_orm::entity::prelude::*;

/// Five-day refunds a buyer took in a UTC year (migration 0012).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "full_refund_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub buyer_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i64,
    pub used: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
