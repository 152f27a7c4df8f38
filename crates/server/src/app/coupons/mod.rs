//! Coupons (满减代金券), `mercato_domain::channel::coupons`.
//!
//! A seller issues a batch of threshold coupons for named products or SKUs
//! of its on-sale products: `amount_off` comes off an order of at least
//! `threshold` (the lead's order path applies it, `store::repo::deals`).
//! A batch holds `total_count` coupons, at most `per_buyer_limit` per
//! buyer, claimable in `[valid_from, valid_until)` until the seller stops
//! it; claimed coupons stay usable after a stop, until the batch's end.
//!
//! **Scope.** Each product named must be the seller's and listed; each SKU
//! active, of such a product and in its listed snapshot; all priced in the
//! batch's currency. Anything else (unknown, another seller's, unlisted) is
//! the same 422 naming `scope.product_ids[i]` / `scope.sku_ids[i]`, so a
//! scope never tells a seller whether another seller's id exists.
//!
//! **Claims** ([`claim`]) run in one transaction: the batch's `claimed` is
//! raised by a conditional update (`claimed < total_count`, active, valid
//! now), so it never passes the total however many buyers race; the
//! buyer's claims are then counted and the coupon inserted with `claim_no`
//! = that count + 1. On PostgreSQL the increment locks the batch row, so a
//! batch's claims queue and each counts the ones committed before it; on
//! SQLite write transactions are serial. Should two claims of one buyer
//! still count alike, the unique `(batch_id, buyer_id, claim_no)` refuses
//! the second: 409 `coupon_limit_reached`, and its transaction (the
//! increment included) rolls back. A refused claim changes nothing.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{ListedSnapshot, ProductStatus, SkuStatus};
use mercato_domain::channel::coupons::{
    self as rules, BatchState, BatchTerms, ClaimRefusal, CouponBatchStatus, CouponScope, CouponState, CouponStatus,
    ScopeTarget,
};
use mercato_domain::ids::{CouponBatchId, CouponId};
use mercato_domain::money::Currency;
use mercato_store::entity::{coupon, coupon_batch, product};
use mercato_store::repo::coupons as repo;
use mercato_store::repo::{orders as order_repo, products as product_repo};
use mercato_store::{Executor, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/seller/coupons`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatch {
    /// 1-100 characters, shown to buyers.
    #[schema(schema_with = batch_name_schema)]
    pub name: String,
    /// The least an order must come to (after any private offer) for the
    /// coupon to apply; at least `amount_off_minor`.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub threshold_minor: i64,
    /// What comes off (> 0).
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount_off_minor: i64,
    /// The currency of both amounts; every product and SKU of the scope
    /// must be priced in it.
    #[schema(value_type = Currency)]
    pub currency: String,
    /// Products (any of their SKUs) and SKUs the coupons apply to: at least
    /// one, each an on-sale product of yours or an active SKU of one.
    #[schema(schema_with = scope_schema)]
    pub scope: CouponScope,
    /// When claims and use begin; now when left out.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// When the batch ends (exclusive): in the future, after `valid_from`.
    pub valid_until: DateTime<Utc>,
    /// Coupons the batch gives out, 1 to 1 000 000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub total_count: i64,
    /// Coupons one buyer may claim, 1 to `total_count`.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub per_buyer_limit: i64,
}

fn batch_name_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    mercato_domain::schema::to_schema(mercato_domain::schema::text(1, rules::NAME_MAX))
}

/// At least one product or SKU, none named twice, at most 100 of each.
fn scope_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let ids = |min: usize| {
        serde_json::json!({"type": "array", "items": {"type": "string"}, "minItems": min,
            "maxItems": rules::SCOPE_MAX, "uniqueItems": true})
    };
    let base = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {"product_ids": ids(0), "sku_ids": ids(0)},
    });
    let one = |field: &str| serde_json::json!({"type": "object", "required": [field], "properties": {field: ids(1)}});
    mercato_domain::schema::to_schema(serde_json::json!({
        "allOf": [base, {"anyOf": [one("product_ids"), one("sku_ids")]}],
        "description": "Products (any of their SKUs) and SKUs the coupons apply to: at least one, each an on-sale product of yours or an active SKU of one.",
    }))
}

/// The batch fields whose rules the request schema states (a complaint
/// about any of them is a 422; the rest are 409 `terms_refused`).
const BATCH_STATED: &[&str] = &["name", "amount_off_minor", "currency", "scope", "total_count"];

/// A seller's coupon batch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchView {
    /// `cpb_...`.
    #[schema(value_type = String)]
    pub id: CouponBatchId,
    pub seller_id: String,
    pub name: String,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: String,
    pub scope: CouponScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub total_count: i64,
    pub per_buyer_limit: i64,
    /// Coupons given out so far (never above `total_count`).
    pub claimed: i64,
    /// Coupons an order has used (and not given back).
    pub used: i64,
    /// `active` or `stopped`.
    pub status: CouponBatchStatus,
    /// Whether a buyer could claim a coupon now (active, within validity,
    /// not exhausted).
    pub claimable_now: bool,
    pub created_at: DateTime<Utc>,
}

/// A batch a buyer can claim from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimableBatchView {
    /// `cpb_...`: claim with `POST /api/v1/buyer/coupons`.
    #[schema(value_type = String)]
    pub id: CouponBatchId,
    pub seller_id: String,
    pub name: String,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: String,
    pub scope: CouponScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// Coupons still to be claimed.
    pub remaining: i64,
    pub per_buyer_limit: i64,
    /// How many you hold; you may claim while below `per_buyer_limit`.
    pub your_claims: i64,
}

/// The claimable batches of a product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimableBatches {
    /// Newest first (at most 100).
    pub items: Vec<ClaimableBatchView>,
}

/// `POST /api/v1/buyer/coupons`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimCoupon {
    /// The batch (`cpb_...`).
    pub batch_id: String,
}

/// A coupon you hold, with its batch's terms.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CouponView {
    /// `cpn_...`: name it when ordering.
    #[schema(value_type = String)]
    pub id: CouponId,
    #[schema(value_type = String)]
    pub batch_id: CouponBatchId,
    pub name: String,
    pub seller_id: String,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: String,
    pub scope: CouponScope,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// `available` or `used`.
    pub status: CouponStatus,
    /// As of now: `usable`, `not_started`, `expired` or `used`.
    pub state: CouponState,
    /// The order that used it.
    pub order_id: Option<String>,
    /// Your n-th coupon of this batch.
    pub claim_no: i64,
    pub claimed_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Seller batch list filters and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchParams {
    /// Only batches in this status.
    #[serde(default)]
    #[param(value_type = Option<CouponBatchStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /api/v1/buyer/coupon-batches`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimableParams {
    /// A listed product: the batches whose scope covers it or one of its SKUs.
    #[serde(default)]
    #[param(required = true, min_length = 1)]
    pub product_id: Option<String>,
}

/// The buyer's coupon list filters and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CouponParams {
    /// Only coupons in this state as of now.
    #[serde(default)]
    #[param(value_type = Option<CouponState>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

fn batch_state(b: &coupon_batch::Model) -> BatchState {
    BatchState {
        status: b.status,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        claimed: b.claimed,
        total_count: b.total_count,
        per_buyer_limit: b.per_buyer_limit,
    }
}

fn batch_view(b: coupon_batch::Model, used: i64, now: DateTime<Utc>) -> BatchView {
    let claimable_now = batch_state(&b).claimable(now);
    BatchView {
        id: b.id,
        seller_id: b.seller_id,
        name: b.name,
        threshold_minor: b.threshold_minor,
        amount_off_minor: b.amount_off_minor,
        currency: b.currency,
        scope: b.scope,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        total_count: b.total_count,
        per_buyer_limit: b.per_buyer_limit,
        claimed: b.claimed,
        used,
        status: b.status,
        claimable_now,
        created_at: b.created_at,
    }
}

fn coupon_view(c: coupon::Model, b: coupon_batch::Model, now: DateTime<Utc>) -> CouponView {
    CouponView {
        state: CouponState::of(c.status, b.valid_from, b.valid_until, now),
        id: c.id,
        batch_id: c.batch_id,
        name: b.name,
        seller_id: b.seller_id,
        threshold_minor: b.threshold_minor,
        amount_off_minor: b.amount_off_minor,
        currency: b.currency,
        scope: b.scope,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        status: c.status,
        order_id: c.order_id,
        claim_no: c.claim_no,
        claimed_at: c.claimed_at,
        used_at: c.used_at,
    }
}

fn not_found() -> AppError {
    AppError::not_found("coupon batch")
}

/// The seller's product `id` with its listed snapshot, when it is on sale
/// (listed); None for an unknown product, another seller's, or one not
/// listed.
pub(crate) async fn on_sale_product(
    db: &impl Executor,
    seller_id: &str,
    id: &str,
) -> AppResult<Option<(product::Model, ListedSnapshot)>> {
    let Some(p) = product_repo::find(db, id).await? else { return Ok(None) };
    if p.seller_id != seller_id || p.status != ProductStatus::Listed {
        return Ok(None);
    }
    Ok(p.listed.clone().map(|snap| (p, snap)))
}

/// What the store holds for each product and SKU of `scope`, as the
/// domain's rules take it.
async fn scope_targets(
    db: &impl Executor,
    seller_id: &str,
    scope: &CouponScope,
) -> AppResult<(Vec<ScopeTarget>, Vec<ScopeTarget>)> {
    let mut products = Vec::with_capacity(scope.product_ids.len());
    for id in scope.product_ids.iter().take(rules::SCOPE_MAX) {
        products.push(match on_sale_product(db, seller_id, id).await? {
            None => ScopeTarget::NotOnSale,
            Some((_, snap)) => {
                let mut currencies: Vec<String> = snap.skus.iter().map(|s| s.spec.currency.clone()).collect();
                currencies.sort();
                currencies.dedup();
                ScopeTarget::OnSale { currencies }
            }
        });
    }
    let mut skus = Vec::with_capacity(scope.sku_ids.len());
    for id in scope.sku_ids.iter().take(rules::SCOPE_MAX) {
        skus.push(sku_target(db, seller_id, id).await?);
    }
    Ok((products, skus))
}

async fn sku_target(db: &impl Executor, seller_id: &str, id: &str) -> AppResult<ScopeTarget> {
    let Some(sku) = order_repo::find_sku(db, id).await? else { return Ok(ScopeTarget::NotOnSale) };
    if sku.status != SkuStatus::Active {
        return Ok(ScopeTarget::NotOnSale);
    }
    let Some((_, snap)) = on_sale_product(db, seller_id, &sku.product_id).await? else {
        return Ok(ScopeTarget::NotOnSale);
    };
    Ok(match snap.skus.iter().find(|s| s.id == sku.id) {
        None => ScopeTarget::NotOnSale,
        Some(listed) => ScopeTarget::OnSale { currencies: vec![listed.spec.currency.clone()] },
    })
}

/// The seller issues a batch, in `tx` (the caller commits): 422 listing
/// every bad field ([`rules::check_batch`]).
pub async fn create_batch(
    state: &AppState,
    tx: &impl Executor,
    seller: &Principal,
    req: CreateBatch,
) -> AppResult<BatchView> {
    let now = state.now();
    let valid_from = req.valid_from.unwrap_or(now);
    let (products, skus) = scope_targets(tx, &seller.account_id, &req.scope).await?;
    let terms = BatchTerms {
        name: &req.name,
        threshold_minor: req.threshold_minor,
        amount_off_minor: req.amount_off_minor,
        currency: &req.currency,
        scope: &req.scope,
        valid_from,
        valid_until: req.valid_until,
        total_count: req.total_count,
        per_buyer_limit: req.per_buyer_limit,
    };
    rules::check_batch(&terms, &products, &skus, now).map_err(|e| AppError::terms(e, BATCH_STATED))?;
    let row = coupon_batch::Model {
        id: CouponBatchId::new(),
        seller_id: seller.account_id.clone(),
        name: req.name.trim().to_string(),
        threshold_minor: req.threshold_minor,
        amount_off_minor: req.amount_off_minor,
        currency: req.currency,
        scope: req.scope,
        valid_from,
        valid_until: req.valid_until,
        total_count: req.total_count,
        claimed: 0,
        per_buyer_limit: req.per_buyer_limit,
        status: CouponBatchStatus::Active,
        created_at: now,
    };
    repo::insert_batch(tx, row.clone()).await?;
    Ok(batch_view(row, 0, now))
}

/// The seller's batch `id` (404 for a malformed id or another seller's).
async fn find_for_seller(db: &impl Executor, seller: &Principal, id: &str) -> AppResult<coupon_batch::Model> {
    let id = CouponBatchId::parse(id).ok_or_else(not_found)?;
    repo::find_batch_for_seller(db, &seller.account_id, &id).await?.ok_or_else(not_found)
}

/// One of the seller's batches with its claimed and used counts.
pub async fn get_batch(state: &AppState, seller: &Principal, id: &str) -> AppResult<BatchView> {
    let db = &state.db.conn;
    let b = find_for_seller(db, seller, id).await?;
    let used = repo::used_counts(db, std::slice::from_ref(&b.id)).await?.get(&b.id).copied().unwrap_or(0);
    Ok(batch_view(b, used, state.now()))
}

/// The seller's batches, newest first.
pub async fn list_batches(state: &AppState, seller: &Principal, params: BatchParams) -> AppResult<Page<BatchView>> {
    let paging = Paging::new(params.limit, params.cursor)?;
    let status =
        crate::app::page::word_filter("status", params.status, CouponBatchStatus::parse, CouponBatchStatus::allowed)?;
    let before = match paging.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            CouponBatchId::parse(c).ok_or_else(|| AppError::field("cursor", "is not a cursor this API returned"))?,
        ),
    };
    let db = &state.db.conn;
    let rows = repo::list_batches_for_seller(db, &seller.account_id, status, before.as_ref(), paging.limit + 1).await?;
    let ids: Vec<CouponBatchId> = rows.iter().map(|b| b.id.clone()).collect();
    let used = repo::used_counts(db, &ids).await?;
    let now = state.now();
    Ok(paging.finish(
        rows,
        |b| b.id.to_string(),
        |b| {
            let n = used.get(&b.id).copied().unwrap_or(0);
            batch_view(b, n, now)
        },
    ))
}

/// Stops an active batch: no more claims; claimed coupons stay usable.
/// 409 `coupon_batch_stopped` when already stopped.
pub async fn stop_batch(state: &AppState, seller: &Principal, id: &str) -> AppResult<BatchView> {
    let tx = state.db.write().await?;
    let view = stop_in(state, &tx, seller, id).await?;
    tx.commit().await?;
    Ok(view)
}

async fn stop_in(state: &AppState, tx: &impl Executor, seller: &Principal, id: &str) -> AppResult<BatchView> {
    let b = find_for_seller(tx, seller, id).await?;
    let stopped = || AppError::conflict("coupon_batch_stopped", format!("coupon batch {} is already stopped", b.id));
    b.status.next(rules::BatchEvent::Stop).map_err(|_| stopped())?;
    if !repo::stop_batch(tx, &seller.account_id, &b.id).await? {
        return Err(stopped());
    }
    let b = repo::find_batch_for_seller(tx, &seller.account_id, &b.id).await?.ok_or_else(not_found)?;
    let used = repo::used_counts(tx, std::slice::from_ref(&b.id)).await?.get(&b.id).copied().unwrap_or(0);
    Ok(batch_view(b, used, state.now()))
}

/// The batches a buyer may claim from for a listed product: active, within
/// their validity, not exhausted, whose scope covers the product or one of
/// its listed SKUs. 404 for a product not on sale; 422 without `product_id`.
pub async fn claimable_for_product(
    state: &AppState,
    buyer: &Principal,
    params: ClaimableParams,
) -> AppResult<ClaimableBatches> {
    let Some(product_id) = params.product_id.filter(|p| !p.is_empty()) else {
        return Err(AppError::field("product_id", "required: the product whose coupons to list"));
    };
    let db = &state.db.conn;
    let now = state.now();
    let unknown =
        || AppError::about_field(Refusal::NotFound, "not_found", "product_id", "no product on sale has this id");
    let p = product_repo::find(db, &product_id).await?.ok_or_else(unknown)?;
    let Some(snap) = p.listed.as_ref().filter(|_| p.status == ProductStatus::Listed) else { return Err(unknown()) };
    let batches: Vec<coupon_batch::Model> = repo::claimable_batches_of_seller(db, &p.seller_id, now, 500)
        .await?
        .into_iter()
        .filter(|b| snap.skus.iter().any(|s| b.scope.covers(&p.id, &s.id)) || b.scope.product_ids.contains(&p.id))
        .take(100)
        .collect();
    let ids: Vec<CouponBatchId> = batches.iter().map(|b| b.id.clone()).collect();
    let mine = repo::claims_by_buyer_in(db, &buyer.account_id, &ids).await?;
    let items = batches
        .into_iter()
        .map(|b| ClaimableBatchView {
            your_claims: mine.get(&b.id).copied().unwrap_or(0),
            remaining: b.total_count - b.claimed,
            id: b.id,
            seller_id: b.seller_id,
            name: b.name,
            threshold_minor: b.threshold_minor,
            amount_off_minor: b.amount_off_minor,
            currency: b.currency,
            scope: b.scope,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            per_buyer_limit: b.per_buyer_limit,
        })
        .collect();
    Ok(ClaimableBatches { items })
}

fn refused(r: ClaimRefusal) -> AppError {
    AppError::conflict(r.code(), r.to_string())
}

/// The buyer claims one coupon of a batch, in `tx` (see the module
/// documentation): 404 for an unknown batch (naming `batch_id`); 409
/// `coupon_batch_stopped`, `coupon_not_started`, `coupon_expired`,
/// `coupons_exhausted`, `coupon_limit_reached`.
pub async fn claim(state: &AppState, tx: &impl Executor, buyer: &Principal, req: ClaimCoupon) -> AppResult<CouponView> {
    let unknown = || AppError::about_field(Refusal::NotFound, "not_found", "batch_id", "no coupon batch has this id");
    let id = CouponBatchId::parse(&req.batch_id).ok_or_else(unknown)?;
    let batch = repo::find_batch(tx, &id).await?.ok_or_else(unknown)?;
    let now = state.now();
    // The refusals a client can act on, from what was read.
    let mine = repo::claims_by_buyer(tx, &id, &buyer.account_id).await?;
    batch_state(&batch).claim(mine, now).map_err(refused)?;
    if !repo::take_claim(tx, &id, now).await? {
        // Changed since it was read: stopped or exhausted meanwhile.
        let current = repo::find_batch(tx, &id).await?.ok_or_else(unknown)?;
        let why = batch_state(&current).claim(0, now).err().unwrap_or(ClaimRefusal::Exhausted);
        return Err(refused(why));
    }
    // Counted again after the increment (which waits for a concurrent
    // claim of this batch on PostgreSQL): the buyer's claims committed so far.
    let mine = repo::claims_by_buyer(tx, &id, &buyer.account_id).await?;
    if mine >= batch.per_buyer_limit {
        return Err(refused(ClaimRefusal::LimitReached));
    }
    let row = coupon::Model {
        id: CouponId::new(),
        batch_id: id.clone(),
        buyer_id: buyer.account_id.clone(),
        claim_no: mine + 1,
        status: CouponStatus::Available,
        order_id: None,
        claimed_at: now,
        used_at: None,
    };
    match repo::insert_coupon(tx, row.clone()).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(refused(ClaimRefusal::LimitReached)),
        Err(e) => return Err(e.into()),
    }
    let batch = repo::find_batch(tx, &id).await?.ok_or_else(unknown)?;
    Ok(coupon_view(row, batch, now))
}

/// The buyer's coupons, newest first, optionally in one state as of now.
pub async fn list_coupons(state: &AppState, buyer: &Principal, params: CouponParams) -> AppResult<Page<CouponView>> {
    let paging = Paging::new(params.limit, params.cursor)?;
    let filter = crate::app::page::word_filter("status", params.status, CouponState::parse, CouponState::allowed)?;
    let before = crate::app::page::id_cursor(&paging, CouponId::parse)?;
    let now = state.now();
    let rows =
        repo::list_for_buyer(&state.db.conn, &buyer.account_id, filter, now, before.as_ref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |(c, _)| c.id.to_string(), |(c, b)| coupon_view(c, b, now)))
}
