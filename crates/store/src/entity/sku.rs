use mercato_domain::catalog::{ChargingMode, SkuSpec, SkuStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "skus")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub product_id: String,
    pub sku_code: String,
    pub status: SkuStatus,
    pub charging_mode: ChargingMode,
    pub currency: String,
    #[sea_orm(column_name = "spec_json")]
    pub spec: SkuSpec,
    pub entry_price_minor: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
