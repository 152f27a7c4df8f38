use mercato_domain::catalog::{ChargingMode, Cooperation, ProductType, SkuSpec};
use mercato_domain::channel::pricing::Discounts;
use mercato_domain::orders::{LineKind, Period};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub order_id: String,
    pub line_no: i64,
    pub product_id: String,
    pub seller_id: String,
    pub product_name: String,
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub sku_id: String,
    pub sku_code: String,
    pub charging_mode: ChargingMode,
    pub period: Option<Period>,
    pub period_count: Option<i64>,
    pub quantity: i64,
    pub trial: bool,
    pub trial_days: Option<i64>,
    pub auto_renew: bool,
    pub amount_minor: i64,
    pub currency: String,
    /// The SKU as bought (compact JSON in `sku_spec_json`).
    #[sea_orm(column_name = "sku_spec_json")]
    pub sku_spec: SkuSpec,
    pub created_at: DateTimeUtc,
    /// Lines other than purchases: the subscription this line acts on
    /// (renewed, upgraded, converted from trial, unsubscribed).
    pub renews_subscription_id: Option<String>,
    /// `domain::orders::LineKind`.
    pub kind: LineKind,
    /// The list price of what the line bought (`domain::channel::pricing`);
    /// `amount_minor` is what is due after the discounts.
    pub list_minor: i64,
    /// What the seller and the platform split: due + what a partner funded.
    pub gross_minor: i64,
    /// Every discount step, in the order applied.
    #[sea_orm(column_name = "discounts_json")]
    pub discounts: Discounts,
    /// The partner the sale is attributed to, and its share of the gross.
    pub partner_id: Option<String>,
    pub partner_share_bp: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
