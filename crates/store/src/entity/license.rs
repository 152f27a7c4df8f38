use sea_orm::entity::prelude::*;

/// A license code issued for an order line (delivery mode `license_code`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "licenses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: String,
    pub subscription_id: String,
    pub seller_id: String,
    /// The seller's instanceId for the license (later license calls name it).
    pub instance_id: String,
    pub license_code: String,
    pub issued_at: DateTimeUtc,
    /// The first activation by the seller's software.
    pub activated_at: Option<DateTimeUtc>,
    /// `real_effect_time` of that activation, when given.
    pub effective_at: Option<DateTimeUtc>,
    pub last_heartbeat_at: Option<DateTimeUtc>,
    pub heartbeat_account: Option<String>,
    pub heartbeat_ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
