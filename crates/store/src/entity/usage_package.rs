use sea_orm::entity::prelude::*;

/// A quota package (an on_demand_pkg subscription) and how much is used.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_packages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subscription_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub instance_id: Option<String>,
    pub quota_e4: i64,
    pub used_e4: i64,
    pub starts_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
