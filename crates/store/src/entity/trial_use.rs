use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "trial_uses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub buyer_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: String,
    pub order_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
