use mercato_domain::catalog::Billing;
use sea_orm::entity::prelude::*;

/// One instance's valid usage in one closed billing period, rated.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub instance_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_start: DateTimeUtc,
    pub billing: Billing,
    pub subscription_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub product_id: String,
    pub records: i64,
    pub quantity_e4: i64,
    /// Covered by quota packages.
    pub package_e4: i64,
    /// Not covered by packages.
    pub overage_e4: i64,
    /// The SKU's unit price the overage was rated at (None on a package's
    /// own instance, whose overage is never charged).
    pub unit_price: Option<String>,
    pub amount_minor: i64,
    /// The platform's part of amount_minor.
    pub commission_minor: i64,
    pub currency: String,
    pub charge_id: Option<String>,
    pub rated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
