//! Prerequisite rows (accounts, products, subscriptions), written through the
//! repositories the way the server writes them.

use crate::common::time;
use chrono::{DateTime, Utc};
use mercato_domain::account::Role;
use mercato_domain::catalog::{
    ChargingMode, Cooperation, ListedSnapshot, Prices, ProductContent, ProductStatus, ProductType, RevisionState,
    SkuSpec, SkuStatus,
};
use mercato_domain::orders::{LineKind, OrderStatus, SubscriptionStatus};
use mercato_store::entity::{order, order_line, product, sku, subscription};
use mercato_store::repo::{accounts, orders, products};
use mercato_store::sea_orm::ConnectionTrait;

/// When fixture rows are created.
pub fn created() -> DateTime<Utc> {
    time("2026-01-01T00:00:00Z")
}

/// Inserts an account of `role` with id `id`.
pub async fn account(db: &impl ConnectionTrait, id: &str, role: Role) {
    let email = format!("{id}@example.com");
    let a = accounts::NewAccount { id, role, name: id, email: &email, password_hash: None, created_at: created() };
    accounts::insert(db, a).await.expect("account");
}

/// A product's working copy.
pub fn content() -> ProductContent {
    ProductContent {
        name: "Product".into(),
        version: "1".into(),
        category_id: "cat_40e17c0b45e75b4f852f7bdaba236472".into(),
        summary: "summary".into(),
        description: "description".into(),
        usage_guide: String::new(),
        support_terms: String::new(),
        tags: vec![],
    }
}

/// A SKU specification charged by `mode`.
pub fn spec(mode: ChargingMode) -> SkuSpec {
    SkuSpec {
        sku_code: "std".into(),
        name: "Standard".into(),
        charging_mode: mode,
        prices: Prices::default(),
        currency: "CNY".into(),
        trial_days: None,
        metering: None,
        package: None,
        linear: None,
    }
}

/// A listed snapshot of `seller_id`'s product.
pub fn listed(seller_id: &str) -> ListedSnapshot {
    ListedSnapshot {
        product_type: ProductType::Saas,
        cooperation: Cooperation::General,
        content: content(),
        seller_id: seller_id.into(),
        seller_name: "Seller".into(),
        logo_url: None,
        images: vec![],
        skus: vec![],
    }
}

/// A product row of `seller_id`, in `status`, with the given public
/// (catalog) columns.
pub fn product(id: &str, seller_id: &str, status: ProductStatus, pub_search: Option<&str>) -> product::Model {
    product::Model {
        id: id.into(),
        seller_id: seller_id.into(),
        product_type: ProductType::Saas,
        cooperation: Cooperation::General,
        status,
        revision_state: RevisionState::None,
        content: content(),
        logo_media_id: None,
        images_json: "[]".into(),
        endpoint_url: None,
        endpoint_key_enc: None,
        listed: pub_search.map(|_| listed(seller_id)),
        pub_name: pub_search.map(|s| s.lines().next().unwrap_or_default().to_string()),
        pub_search: pub_search.map(str::to_string),
        pub_category_id: None,
        pub_price_minor: None,
        pub_currency: None,
        pub_modes: None,
        listed_at: pub_search.map(|_| created()),
        created_at: created(),
        updated_at: created(),
    }
}

/// A seller, a buyer and one product with one SKU, ready to be subscribed to.
pub struct Market {
    pub seller: String,
    pub buyer: String,
    pub product: String,
    pub sku: String,
}

impl Market {
    /// Creates the rows; `tag` keeps ids apart when a test needs two markets.
    pub async fn new(db: &impl ConnectionTrait, tag: &str) -> Market {
        let m = Market {
            seller: format!("acc_seller_{tag}"),
            buyer: format!("acc_buyer_{tag}"),
            product: format!("prd_{tag}"),
            sku: format!("sku_{tag}"),
        };
        account(db, &m.seller, Role::Seller).await;
        account(db, &m.buyer, Role::Buyer).await;
        products::insert(db, product(&m.product, &m.seller, ProductStatus::Listed, None)).await.expect("product");
        let s = sku::Model {
            id: m.sku.clone(),
            product_id: m.product.clone(),
            sku_code: "std".into(),
            status: SkuStatus::Active,
            charging_mode: ChargingMode::OnDemand,
            currency: "CNY".into(),
            spec: spec(ChargingMode::OnDemand),
            entry_price_minor: None,
            created_at: created(),
        };
        products::insert_sku(db, s).await.expect("sku");
        m
    }

    /// Subscribes the buyer: an order `ord_<id>`, its line `oln_<id>` and the
    /// subscription `sub`.
    pub async fn subscribe(&self, db: &impl ConnectionTrait, sub: Sub<'_>) -> subscription::Model {
        let order_id = format!("ord_{}", sub.id);
        let line_id = format!("oln_{}", sub.id);
        let o = order::Model {
            id: order_id.clone(),
            buyer_id: self.buyer.clone(),
            status: OrderStatus::Paid,
            amount_minor: 0,
            currency: "CNY".into(),
            payment_entry_id: None,
            created_at: created(),
            updated_at: created(),
            paid_at: Some(created()),
            cancelled_at: None,
        };
        assert!(orders::insert_order(db, o).await.unwrap(), "order id is new");
        let line = order_line::Model {
            id: line_id.clone(),
            order_id: order_id.clone(),
            line_no: 1,
            product_id: self.product.clone(),
            seller_id: self.seller.clone(),
            product_name: "Product".into(),
            product_type: ProductType::Saas,
            cooperation: Cooperation::General,
            sku_id: self.sku.clone(),
            sku_code: "std".into(),
            charging_mode: sub.mode,
            period: None,
            period_count: None,
            quantity: 1,
            trial: false,
            trial_days: None,
            auto_renew: false,
            amount_minor: 0,
            currency: "CNY".into(),
            sku_spec: spec(sub.mode),
            created_at: created(),
            renews_subscription_id: None,
            kind: LineKind::Purchase,
            list_minor: 0,
            gross_minor: 0,
            discounts: Default::default(),
            partner_id: None,
            partner_share_bp: None,
        };
        orders::insert_line(db, line).await.expect("order line");
        let s = subscription::Model {
            id: sub.id.into(),
            buyer_id: self.buyer.clone(),
            order_id,
            order_line_id: line_id,
            product_id: self.product.clone(),
            seller_id: self.seller.clone(),
            product_name: "Product".into(),
            sku_id: self.sku.clone(),
            status: sub.status,
            instance_id: sub.instance.map(str::to_string),
            charging_mode: sub.mode,
            period: None,
            trial: false,
            auto_renew: false,
            starts_at: sub.starts_at,
            expires_at: sub.expires_at,
            created_at: created(),
            updated_at: created(),
            spec_line_id: None,
            frozen_for: None,
            delivery_mode: mercato_domain::delivery::DeliveryMode::Saas,
        };
        orders::insert_subscription(db, s.clone()).await.expect("subscription");
        s
    }
}

/// What a fixture subscription is.
#[derive(Clone, Copy)]
pub struct Sub<'a> {
    pub id: &'a str,
    pub instance: Option<&'a str>,
    pub mode: ChargingMode,
    pub status: SubscriptionStatus,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl<'a> Sub<'a> {
    /// An active on-demand subscription holding `instance`, from the
    /// fixture creation time, without an end.
    pub fn on_demand(id: &'a str, instance: &'a str) -> Sub<'a> {
        Sub {
            id,
            instance: Some(instance),
            mode: ChargingMode::OnDemand,
            status: SubscriptionStatus::Active,
            starts_at: created(),
            expires_at: None,
        }
    }
}
