use mercato_domain::catalog::ChargingMode;
use mercato_domain::delivery::DeliveryMode;
use mercato_domain::orders::{Period, SubscriptionStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub buyer_id: String,
    pub order_id: String,
    pub order_line_id: String,
    pub product_id: String,
    pub seller_id: String,
    pub product_name: String,
    pub sku_id: String,
    pub status: SubscriptionStatus,
    pub instance_id: Option<String>,
    pub charging_mode: ChargingMode,
    pub period: Option<Period>,
    pub trial: bool,
    pub auto_renew: bool,
    pub starts_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The order line whose specification is current (plan changes); None:
    /// the purchase line.
    pub spec_line_id: Option<String>,
    /// Why usage froze it: 'arrears' or 'package_used_up' (None otherwise).
    pub frozen_for: Option<String>,
    /// How the purchase is delivered (decided when it was paid).
    pub delivery_mode: DeliveryMode,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
