use mercato_domain::catalog::{Cooperation, ProductType};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_rates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_type: ProductType,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cooperation: Cooperation,
    pub rate_bp: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
