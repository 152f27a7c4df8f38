use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cooperation: String,
    pub rate_bp: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
