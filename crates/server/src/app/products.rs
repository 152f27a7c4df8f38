//! Sellers' products: drafts, edits (revisions of listed products), SKUs,
//! submission for review, delisting and relisting.
//!
//! Every query is scoped by the calling seller; another seller's product is a
//! 404. Every state change goes through `Lifecycle::apply` and is written
//! conditionally on the state it was decided from, inside one write
//! transaction, so two concurrent requests cannot both succeed.

use crate::app::categories;
use crate::app::onboarding::ensure_can_sell;
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{
    Cooperation, Endpoint, Lifecycle, LifecycleError, ProductAction, ProductContent, ProductStatus, ProductType,
    ReviewKind, ReviewSku, ReviewSnapshot, ReviewStatus, RevisionState, SkuSpec, SkuStatus, check_endpoint,
    check_product, check_sku, check_sku_currency, entry_price_minor, media_url,
};
use mercato_domain::ids::{IdKind, is_id_of, new_id};
use mercato_domain::validation::Checker;
use mercato_store::StoreError;
use mercato_store::entity::{product, product_review, sku};
use mercato_store::repo::{products, reviews};
use mercato_store::sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Field name the endpoint access key is encrypted under.
pub const ENDPOINT_KEY_FIELD: &str = "products.endpoint_key";
/// At most this many SKUs per product.
pub const SKUS_MAX: u64 = 50;

// ---------------------------------------------------------------- requests

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub name: String,
    pub version: String,
    pub category_id: String,
    pub summary: String,
    pub description: String,
    #[serde(default)]
    pub usage_guide: String,
    #[serde(default)]
    pub support_terms: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The seller's production interface (required before a SaaS product is submitted).
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
}

/// A partial update: only the fields present change. `type` and
/// `cooperation` are fixed at creation.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<String>)]
    pub product_type: Option<serde_json::Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub cooperation: Option<serde_json::Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub usage_guide: Option<String>,
    #[serde(default)]
    pub support_terms: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
}

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    pub url: String,
    /// The access key is stored encrypted and never shown again.
    pub access_key_set: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: String,
    /// `/media/{id}`
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuView {
    pub id: String,
    pub product_id: String,
    /// pending until the review that introduced it is approved.
    pub status: SkuStatus,
    #[serde(flatten)]
    pub spec: SkuSpec,
    /// The lowest amount a buyer pays to start (None for pay-per-use).
    pub entry_price_minor: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// The seller's view of a product: the working copy, its lifecycle state
/// and, once approved, the listed version buyers see.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub status: ProductStatus,
    /// State of pending edits of a listed product.
    pub revision_state: RevisionState,
    pub name: String,
    pub version: String,
    pub category_id: String,
    pub summary: String,
    pub description: String,
    pub usage_guide: String,
    pub support_terms: String,
    pub tags: Vec<String>,
    pub endpoint: Option<EndpointView>,
    pub logo_url: Option<String>,
    pub images: Vec<ImageView>,
    pub skus: Vec<SkuView>,
    /// The approved version on sale (the listed snapshot), if any.
    #[schema(value_type = Option<Object>)]
    pub listed: Option<serde_json::Value>,
    pub listed_at: Option<DateTime<Utc>>,
    /// The review waiting for an operator, if any.
    pub pending_review_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub status: ProductStatus,
    pub revision_state: RevisionState,
    pub name: String,
    pub category_id: String,
    pub listed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A review as its seller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductReviewView {
    pub id: String,
    pub product_id: String,
    pub kind: ReviewKind,
    pub status: ReviewStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------- helpers

fn corrupt(what: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored product data is corrupt: {what}"))
}

pub fn lifecycle_of(p: &product::Model) -> ApiResult<Lifecycle> {
    let status = ProductStatus::parse(&p.status).ok_or_else(|| corrupt(&p.status))?;
    let revision = RevisionState::parse(&p.revision_state).ok_or_else(|| corrupt(&p.revision_state))?;
    Ok(Lifecycle { status, revision })
}

pub fn set_lifecycle(p: &mut product::Model, l: Lifecycle) {
    p.status = l.status.as_str().to_string();
    p.revision_state = l.revision.as_str().to_string();
}

pub fn lifecycle_error(e: LifecycleError) -> ApiError {
    let code = match e {
        LifecycleError::UnderReview => "under_review",
        LifecycleError::NothingToSubmit => "nothing_to_submit",
        LifecycleError::NotInReview | LifecycleError::NotListed | LifecycleError::NotDelisted => "invalid_state",
    };
    ApiError::conflict(code, e.to_string())
}

/// The conflict answered when the product changed state under a request.
fn moved_on() -> ApiError {
    ApiError::conflict("under_review", "the product changed state meanwhile; reload it and try again")
}

pub fn content_of(p: &product::Model) -> ApiResult<ProductContent> {
    serde_json::from_str(&p.content_json).map_err(corrupt)
}

pub fn images_of(p: &product::Model) -> ApiResult<Vec<String>> {
    serde_json::from_str(&p.images_json).map_err(corrupt)
}

pub fn spec_of(s: &sku::Model) -> ApiResult<SkuSpec> {
    serde_json::from_str(&s.spec_json).map_err(corrupt)
}

fn sku_view(s: sku::Model) -> ApiResult<SkuView> {
    let spec = spec_of(&s)?;
    Ok(SkuView {
        status: SkuStatus::parse(&s.status).ok_or_else(|| corrupt(&s.status))?,
        id: s.id,
        product_id: s.product_id,
        entry_price_minor: s.entry_price_minor,
        spec,
        created_at: s.created_at,
    })
}

fn summary(p: product::Model) -> ApiResult<ProductSummary> {
    let content = content_of(&p)?;
    let l = lifecycle_of(&p)?;
    Ok(ProductSummary {
        product_type: ProductType::parse(&p.product_type).ok_or_else(|| corrupt(&p.product_type))?,
        cooperation: Cooperation::parse(&p.cooperation).ok_or_else(|| corrupt(&p.cooperation))?,
        id: p.id,
        status: l.status,
        revision_state: l.revision,
        name: content.name,
        category_id: content.category_id,
        listed_at: p.listed_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

pub fn review_view(r: product_review::Model) -> ApiResult<ProductReviewView> {
    Ok(ProductReviewView {
        kind: ReviewKind::parse(&r.kind).ok_or_else(|| corrupt(&r.kind))?,
        status: ReviewStatus::parse(&r.status).ok_or_else(|| corrupt(&r.status))?,
        id: r.id,
        product_id: r.product_id,
        reason: r.reason,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
    })
}

/// The full seller view of a product, read through `db`.
pub async fn view(db: &impl ConnectionTrait, p: product::Model) -> ApiResult<ProductView> {
    let content = content_of(&p)?;
    let l = lifecycle_of(&p)?;
    let skus = products::skus(db, &p.id).await?.into_iter().map(sku_view).collect::<ApiResult<Vec<_>>>()?;
    let pending = reviews::find_pending_for_product(db, &p.id).await?;
    let listed = match &p.listed_json {
        Some(j) => Some(serde_json::from_str(j).map_err(corrupt)?),
        None => None,
    };
    let images = images_of(&p)?.into_iter().map(|id| ImageView { url: media_url(&id), id }).collect();
    Ok(ProductView {
        product_type: ProductType::parse(&p.product_type).ok_or_else(|| corrupt(&p.product_type))?,
        cooperation: Cooperation::parse(&p.cooperation).ok_or_else(|| corrupt(&p.cooperation))?,
        status: l.status,
        revision_state: l.revision,
        name: content.name,
        version: content.version,
        category_id: content.category_id,
        summary: content.summary,
        description: content.description,
        usage_guide: content.usage_guide,
        support_terms: content.support_terms,
        tags: content.tags,
        endpoint: p.endpoint_url.clone().map(|url| EndpointView { url, access_key_set: p.endpoint_key_enc.is_some() }),
        logo_url: p.logo_media_id.as_deref().map(media_url),
        images,
        skus,
        listed,
        listed_at: p.listed_at,
        pending_review_id: pending.map(|r| r.id),
        id: p.id,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

/// One of the seller's products, or 404 (also for another seller's id).
pub async fn load(db: &impl ConnectionTrait, seller_id: &str, id: &str) -> ApiResult<product::Model> {
    if !is_id_of(IdKind::Product, id) {
        return Err(ApiError::not_found("product"));
    }
    products::find_for_seller(db, seller_id, id).await?.ok_or_else(|| ApiError::not_found("product"))
}

/// Applies a lifecycle Edit to `p` (after the caller changed it) and writes it,
/// conditional on the state it was loaded in.
pub async fn save_edit(
    db: &impl ConnectionTrait,
    state: &AppState,
    mut p: product::Model,
) -> ApiResult<product::Model> {
    let before = lifecycle_of(&p)?;
    let after = before.apply(ProductAction::Edit).map_err(lifecycle_error)?;
    set_lifecycle(&mut p, after);
    p.updated_at = state.now();
    if !products::save_if(db, p.clone(), before.status.as_str(), before.revision.as_str()).await? {
        return Err(moved_on());
    }
    Ok(p)
}

/// Refuses an edit before anything is validated or written.
pub fn ensure_editable(p: &product::Model) -> ApiResult<()> {
    lifecycle_of(p)?.apply(ProductAction::Edit).map(|_| ()).map_err(lifecycle_error)
}

async fn check_category(db: &impl ConnectionTrait, c: &mut Checker, category_id: &str) -> ApiResult<()> {
    if c.is_ok() && !categories::exists(db, category_id).await? {
        c.add("category_id", "no such category; see GET /api/v1/catalog/categories");
    }
    Ok(())
}

fn trimmed(content: ProductContent) -> ProductContent {
    ProductContent {
        name: content.name.trim().to_string(),
        version: content.version.trim().to_string(),
        category_id: content.category_id.trim().to_string(),
        summary: content.summary.trim().to_string(),
        description: content.description.trim().to_string(),
        usage_guide: content.usage_guide.trim().to_string(),
        support_terms: content.support_terms.trim().to_string(),
        tags: content.tags.into_iter().map(|t| t.trim().to_string()).collect(),
    }
}

// ---------------------------------------------------------------- use cases

pub async fn create(state: &AppState, p: &Principal, req: CreateProduct) -> ApiResult<ProductView> {
    let content = ProductContent {
        name: req.name,
        version: req.version,
        category_id: req.category_id,
        summary: req.summary,
        description: req.description,
        usage_guide: req.usage_guide,
        support_terms: req.support_terms,
        tags: req.tags,
    };
    let mut c = Checker::new();
    if let Err(e) = check_product(&content) {
        c.merge(e);
    }
    if let Some(e) = &req.endpoint {
        check_endpoint(&mut c, e, state.config.allow_insecure_endpoints);
    }
    let tx = state.db.write().await?;
    check_category(&tx, &mut c, content.category_id.trim()).await?;
    c.finish()?;
    let now = state.now();
    let content = trimmed(content);
    let row = product::Model {
        id: new_id(IdKind::Product),
        seller_id: p.account_id.clone(),
        product_type: req.product_type.as_str().to_string(),
        cooperation: req.cooperation.as_str().to_string(),
        status: Lifecycle::NEW.status.as_str().to_string(),
        revision_state: Lifecycle::NEW.revision.as_str().to_string(),
        content_json: serde_json::to_string(&content).map_err(ApiError::internal)?,
        logo_media_id: None,
        images_json: "[]".into(),
        endpoint_url: req.endpoint.as_ref().map(|e| e.url.clone()),
        endpoint_key_enc: req.endpoint.as_ref().map(|e| state.crypto.encrypt(ENDPOINT_KEY_FIELD, &e.access_key)),
        listed_json: None,
        pub_name: None,
        pub_search: None,
        pub_category_id: None,
        pub_price_minor: None,
        pub_currency: None,
        pub_modes: None,
        listed_at: None,
        created_at: now,
        updated_at: now,
    };
    products::insert(&tx, row.clone()).await?;
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn list(
    state: &AppState,
    p: &Principal,
    status: Option<ProductStatus>,
    paging: Paging,
) -> ApiResult<Page<ProductSummary>> {
    let rows = products::list_for_seller(
        &state.db.conn,
        &p.account_id,
        status.map(|s| s.as_str()),
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    let page = paging.finish(rows, |r| r.id.clone(), summary);
    Ok(Page { items: page.items.into_iter().collect::<ApiResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}

pub async fn get(state: &AppState, p: &Principal, id: &str) -> ApiResult<ProductView> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    view(&state.db.conn, row).await
}

pub async fn update(state: &AppState, p: &Principal, id: &str, req: UpdateProduct) -> ApiResult<ProductView> {
    let tx = state.db.write().await?;
    let mut row = load(&tx, &p.account_id, id).await?;
    let mut c = Checker::new();
    if req.product_type.is_some() {
        c.add("type", "is fixed when the product is created");
    }
    if req.cooperation.is_some() {
        c.add("cooperation", "is fixed when the product is created");
    }
    let changes_something = [
        req.name.is_some(),
        req.version.is_some(),
        req.category_id.is_some(),
        req.summary.is_some(),
        req.description.is_some(),
        req.usage_guide.is_some(),
        req.support_terms.is_some(),
        req.tags.is_some(),
        req.endpoint.is_some(),
    ]
    .into_iter()
    .any(|b| b);
    if !changes_something && c.is_ok() {
        c.add("body", "name at least one field to change");
    }
    c.finish()?;
    ensure_editable(&row)?;
    let mut content = content_of(&row)?;
    let category_changed = req.category_id.is_some();
    macro_rules! take {
        ($f:ident) => {
            if let Some(v) = req.$f {
                content.$f = v;
            }
        };
    }
    take!(name);
    take!(version);
    take!(category_id);
    take!(summary);
    take!(description);
    take!(usage_guide);
    take!(support_terms);
    take!(tags);
    let mut c = Checker::new();
    if let Err(e) = check_product(&content) {
        c.merge(e);
    }
    if let Some(e) = &req.endpoint {
        check_endpoint(&mut c, e, state.config.allow_insecure_endpoints);
    }
    if category_changed {
        check_category(&tx, &mut c, content.category_id.trim()).await?;
    }
    c.finish()?;
    row.content_json = serde_json::to_string(&trimmed(content)).map_err(ApiError::internal)?;
    if let Some(e) = &req.endpoint {
        row.endpoint_url = Some(e.url.clone());
        row.endpoint_key_enc = Some(state.crypto.encrypt(ENDPOINT_KEY_FIELD, &e.access_key));
    }
    let row = save_edit(&tx, state, row).await?;
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn add_sku(state: &AppState, p: &Principal, id: &str, spec: SkuSpec) -> ApiResult<SkuView> {
    let tx = state.db.write().await?;
    let row = load(&tx, &p.account_id, id).await?;
    check_sku(&spec)?;
    ensure_editable(&row)?;
    let existing = products::skus(&tx, &row.id).await?;
    let currency = existing.iter().find(|s| s.status != SkuStatus::Retired.as_str()).map(|s| s.currency.clone());
    check_sku_currency(&spec, currency.as_deref())?;
    if existing.iter().any(|s| s.sku_code == spec.sku_code) {
        return Err(sku_code_taken());
    }
    if existing.len() as u64 >= SKUS_MAX {
        return Err(ApiError::conflict("too_many_skus", format!("a product has at most {SKUS_MAX} SKUs")));
    }
    let model = sku::Model {
        id: new_id(IdKind::Sku),
        product_id: row.id.clone(),
        sku_code: spec.sku_code.clone(),
        status: SkuStatus::Pending.as_str().to_string(),
        charging_mode: spec.charging_mode.as_str().to_string(),
        currency: spec.currency.clone(),
        spec_json: serde_json::to_string(&spec).map_err(ApiError::internal)?,
        entry_price_minor: entry_price_minor(&spec),
        created_at: state.now(),
    };
    products::insert_sku(&tx, model.clone()).await.map_err(|e| match e {
        StoreError::Conflict(_) => sku_code_taken(),
        other => other.into(),
    })?;
    save_edit(&tx, state, row).await?;
    tx.commit().await?;
    sku_view(model)
}

fn sku_code_taken() -> ApiError {
    ApiError::conflict("sku_code_taken", "another SKU of this product already uses this sku_code")
}

pub async fn list_skus(state: &AppState, p: &Principal, id: &str) -> ApiResult<Vec<SkuView>> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    products::skus(&state.db.conn, &row.id).await?.into_iter().map(sku_view).collect()
}

pub async fn delete_sku(state: &AppState, p: &Principal, id: &str, sku_id: &str) -> ApiResult<()> {
    let tx = state.db.write().await?;
    let row = load(&tx, &p.account_id, id).await?;
    let sku = products::find_sku(&tx, &row.id, sku_id).await?.ok_or_else(|| ApiError::not_found("SKU"))?;
    if sku.status != SkuStatus::Pending.as_str() {
        return Err(ApiError::conflict("sku_active", "only a SKU that has not been approved yet can be deleted"));
    }
    ensure_editable(&row)?;
    if !products::delete_sku_if(&tx, &row.id, sku_id, SkuStatus::Pending.as_str()).await? {
        return Err(ApiError::conflict("sku_active", "the SKU changed meanwhile"));
    }
    save_edit(&tx, state, row).await?;
    tx.commit().await?;
    Ok(())
}

/// Builds what the operator will review from the working copy.
async fn review_snapshot(db: &impl ConnectionTrait, row: &product::Model) -> ApiResult<ReviewSnapshot> {
    let skus = products::skus(db, &row.id)
        .await?
        .into_iter()
        .filter(|s| s.status != SkuStatus::Retired.as_str())
        .map(|s| {
            Ok(ReviewSku {
                spec: spec_of(&s)?,
                status: SkuStatus::parse(&s.status).ok_or_else(|| corrupt(&s.status))?,
                id: s.id,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ReviewSnapshot {
        product_type: ProductType::parse(&row.product_type).ok_or_else(|| corrupt(&row.product_type))?,
        cooperation: Cooperation::parse(&row.cooperation).ok_or_else(|| corrupt(&row.cooperation))?,
        content: content_of(row)?,
        logo_media_id: row.logo_media_id.clone(),
        image_media_ids: images_of(row)?,
        skus,
        endpoint_url: row.endpoint_url.clone(),
    })
}

pub async fn submit(state: &AppState, p: &Principal, id: &str) -> ApiResult<ProductView> {
    let tx = state.db.write().await?;
    let mut row = load(&tx, &p.account_id, id).await?;
    ensure_can_sell(&tx, &p.account_id).await?;
    let before = lifecycle_of(&row)?;
    let after = before.apply(ProductAction::Submit).map_err(lifecycle_error)?;
    let snapshot = review_snapshot(&tx, &row).await?;
    if snapshot.skus.is_empty() {
        return Err(ApiError::conflict("no_skus", "add at least one SKU before submitting the product"));
    }
    if snapshot.product_type == ProductType::Saas && (row.endpoint_url.is_none() || row.endpoint_key_enc.is_none()) {
        return Err(ApiError::conflict(
            "endpoint_required",
            "a SaaS product needs its production endpoint (url and access_key) before review",
        ));
    }
    let kind = if before.has_listed_version() { ReviewKind::Revision } else { ReviewKind::Listing };
    set_lifecycle(&mut row, after);
    let now = state.now();
    row.updated_at = now;
    if !products::save_if(&tx, row.clone(), before.status.as_str(), before.revision.as_str()).await? {
        return Err(ApiError::conflict("under_review", "the product was submitted meanwhile"));
    }
    let review = product_review::Model {
        id: new_id(IdKind::Review),
        product_id: row.id.clone(),
        seller_id: row.seller_id.clone(),
        kind: kind.as_str().to_string(),
        status: ReviewStatus::Pending.as_str().to_string(),
        snapshot_json: serde_json::to_string(&snapshot).map_err(ApiError::internal)?,
        reason: None,
        decided_by: None,
        submitted_at: now,
        decided_at: None,
    };
    reviews::insert(&tx, review).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::conflict("under_review", "the product already has a pending review"),
        other => other.into(),
    })?;
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

async fn transition(state: &AppState, p: &Principal, id: &str, action: ProductAction) -> ApiResult<ProductView> {
    let tx = state.db.write().await?;
    let mut row = load(&tx, &p.account_id, id).await?;
    let before = lifecycle_of(&row)?;
    let after = before.apply(action).map_err(lifecycle_error)?;
    set_lifecycle(&mut row, after);
    row.updated_at = state.now();
    if !products::save_if(&tx, row.clone(), before.status.as_str(), before.revision.as_str()).await? {
        return Err(ApiError::conflict("invalid_state", "the product changed state meanwhile"));
    }
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

/// Takes a listed product off sale (it leaves the public catalog).
pub async fn delist(state: &AppState, p: &Principal, id: &str) -> ApiResult<ProductView> {
    transition(state, p, id, ProductAction::Delist).await
}

/// Puts a delisted product back on sale, with its last approved version.
pub async fn relist(state: &AppState, p: &Principal, id: &str) -> ApiResult<ProductView> {
    transition(state, p, id, ProductAction::Relist).await
}

pub async fn reviews_of(
    state: &AppState,
    p: &Principal,
    id: &str,
    paging: Paging,
) -> ApiResult<Page<ProductReviewView>> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    let rows = reviews::list_for_product(&state.db.conn, &row.id, paging.cursor.as_deref(), paging.limit + 1).await?;
    let page = paging.finish(rows, |r| r.id.clone(), review_view);
    Ok(Page { items: page.items.into_iter().collect::<ApiResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}
