//! Sellers' products: drafts, edits (revisions of listed products), SKUs,
//! submission for review, delisting and relisting.
//!
//! Every query is scoped by the calling seller; another seller's product is a
//! 404. Every state change goes through `Lifecycle::apply` and is written
//! conditionally on the state it was decided from, inside one write
//! transaction, so two concurrent requests cannot both succeed.

use crate::app::categories;
use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::onboarding::ensure_can_sell;
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{
    Cooperation, Endpoint, Lifecycle, LifecycleError, ProductAction, ProductContent, ProductStatus, ProductType,
    ReviewKind, ReviewSku, ReviewSnapshot, ReviewStatus, RevisionState, SkuSpec, SkuStatus, check_endpoint,
    check_product, check_sku, check_sku_currency, content_schemas, entry_price_minor, media_url, normalize_tags,
};
use mercato_domain::ids::ProductId;
use mercato_domain::validation::Checker;
use mercato_store::Executor;
use mercato_store::StoreError;
use mercato_store::entity::{product, product_review, sku};
use mercato_store::repo::{products, reviews};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Field name the endpoint access key is encrypted under.
pub const ENDPOINT_KEY_FIELD: &str = "products.endpoint_key";
/// At most this many SKUs per product.
pub const SKUS_MAX: u64 = 50;

// ---------------------------------------------------------------- helpers

/// The endpoint's form (domain rule) and, when its host is an IP literal,
/// whether this marketplace may call it at all: an address that would be
/// refused at every call is refused when saved. Names are checked when
/// calls resolve them (the answer may change).
fn check_endpoint_of(state: &AppState, c: &mut Checker, e: &Endpoint) {
    if let Some(url) = check_endpoint(c, e, state.config.allow_insecure_endpoints)
        && state.config.outbound_allow.check_url(&url).is_err()
    {
        c.add("endpoint.url", "address not allowed: the marketplace does not call private or internal addresses");
    }
}

pub fn lifecycle_of(p: &product::Model) -> AppResult<Lifecycle> {
    let status = p.status;
    let revision = p.revision_state;
    Ok(Lifecycle { status, revision })
}

pub fn set_lifecycle(p: &mut product::Model, l: Lifecycle) {
    p.status = l.status;
    p.revision_state = l.revision;
}

pub fn lifecycle_error(e: LifecycleError) -> AppError {
    let code = match e {
        LifecycleError::UnderReview => "under_review",
        LifecycleError::NothingToSubmit => "nothing_to_submit",
        LifecycleError::NotInReview | LifecycleError::NotListed | LifecycleError::NotDelisted => "invalid_state",
    };
    AppError::conflict(code, e.to_string())
}

/// The conflict answered when the product changed state under a request.
fn moved_on() -> AppError {
    AppError::conflict("under_review", "the product changed state meanwhile; reload it and try again")
}

pub fn images_of(p: &product::Model) -> AppResult<Vec<String>> {
    serde_json::from_str(&p.images_json).map_err(AppError::inconsistent)
}

fn sku_view(s: sku::Model) -> AppResult<SkuView> {
    Ok(SkuView {
        status: s.status,
        id: s.id,
        product_id: s.product_id,
        entry_price_minor: s.entry_price_minor,
        spec: s.spec,
        created_at: s.created_at,
    })
}

fn summary(p: product::Model) -> AppResult<ProductSummary> {
    let l = lifecycle_of(&p)?;
    let content = p.content;
    Ok(ProductSummary {
        product_type: p.product_type,
        cooperation: p.cooperation,
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

pub fn review_view(r: product_review::Model) -> AppResult<ProductReviewView> {
    Ok(ProductReviewView {
        kind: r.kind,
        status: r.status,
        id: r.id,
        product_id: r.product_id,
        reason: r.reason,
        submitted_at: r.submitted_at,
        decided_at: r.decided_at,
    })
}

/// The full seller view of a product, read through `db`.
pub async fn view(db: &impl Executor, p: product::Model) -> AppResult<ProductView> {
    let content = p.content.clone();
    let l = lifecycle_of(&p)?;
    let skus = products::skus(db, &p.id).await?.into_iter().map(sku_view).collect::<AppResult<Vec<_>>>()?;
    let pending = reviews::find_pending_for_product(db, &p.id).await?;
    // The view shows the snapshot as the free-form document it is on the wire.
    let listed = p.listed.as_ref().map(serde_json::to_value).transpose().map_err(AppError::internal)?;
    let images = images_of(&p)?.into_iter().map(|id| ImageView { url: media_url(&id), id }).collect();
    Ok(ProductView {
        product_type: p.product_type,
        cooperation: p.cooperation,
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
pub async fn load(db: &impl Executor, seller_id: &str, id: &str) -> AppResult<product::Model> {
    if !ProductId::is_valid(id) {
        return Err(AppError::not_found("product"));
    }
    products::find_for_seller(db, seller_id, id).await?.ok_or_else(|| AppError::not_found("product"))
}

/// Applies a lifecycle Edit to `p` (after the caller changed it) and writes it,
/// conditional on the state it was loaded in.
pub async fn save_edit(db: &impl Executor, state: &AppState, mut p: product::Model) -> AppResult<product::Model> {
    let before = lifecycle_of(&p)?;
    let after = before.apply(ProductAction::Edit).map_err(lifecycle_error)?;
    set_lifecycle(&mut p, after);
    p.updated_at = state.now();
    if !products::save_if(db, p.clone(), before.status, before.revision).await? {
        return Err(moved_on());
    }
    Ok(p)
}

/// Refuses an edit before anything is validated or written.
pub fn ensure_editable(p: &product::Model) -> AppResult<()> {
    lifecycle_of(p)?.apply(ProductAction::Edit).map(|_| ()).map_err(lifecycle_error)
}

/// The category a product names must exist: 404 `category_not_found`
/// naming `category_id` (a reference to nothing, like an unknown SKU in an
/// order), once the fields themselves are valid.
async fn check_category(db: &impl Executor, category_id: &str) -> AppResult<()> {
    if !categories::exists(db, category_id).await? {
        return Err(AppError::about_field(
            Refusal::NotFound,
            "category_not_found",
            "category_id",
            "no such category; see GET /api/v1/catalog/categories",
        ));
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
        tags: normalize_tags(content.tags),
    }
}

mod editing;
mod review;
mod skus;
mod views;

pub use editing::*;
pub use review::*;
pub use skus::*;
pub use views::*;
