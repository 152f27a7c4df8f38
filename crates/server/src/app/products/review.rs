//! Submitting for review, delisting, relisting, and the review history.

use super::*;
use crate::app::debug_runs;
use mercato_domain::catalog::DebugCaseSet;
use mercato_domain::ids::ReviewId;

/// Builds what the operator will review from the working copy.
async fn review_snapshot(db: &impl Executor, row: &product::Model) -> AppResult<ReviewSnapshot> {
    let skus = products::skus(db, &row.id)
        .await?
        .into_iter()
        .filter(|s| s.status != SkuStatus::Retired)
        .map(|s| ReviewSku { spec: s.spec, status: s.status, id: s.id })
        .collect();
    Ok(ReviewSnapshot {
        product_type: row.product_type,
        cooperation: row.cooperation,
        content: row.content.clone(),
        logo_media_id: row.logo_media_id.clone(),
        image_media_ids: images_of(row)?,
        skus,
        endpoint_url: row.endpoint_url.clone(),
    })
}

pub async fn submit(state: &AppState, p: &Principal, id: &str) -> AppResult<ProductView> {
    let tx = state.db.write().await?;
    let mut row = load(&tx, &p.account_id, id).await?;
    ensure_can_sell(&tx, &p.account_id).await?;
    let before = lifecycle_of(&row)?;
    let after = before.apply(ProductAction::Submit).map_err(lifecycle_error)?;
    let snapshot = review_snapshot(&tx, &row).await?;
    if snapshot.skus.is_empty() {
        return Err(AppError::conflict("no_skus", "add at least one SKU before submitting the product"));
    }
    if snapshot.product_type == ProductType::Saas && (row.endpoint_url.is_none() || row.endpoint_key_enc.is_none()) {
        return Err(AppError::conflict(
            "endpoint_required",
            "a SaaS product needs its production endpoint (url and access_key) before review",
        ));
    }
    if snapshot.product_type == ProductType::Saas {
        let required = DebugCaseSet::for_modes(snapshot.skus.iter().map(|s| s.spec.charging_mode));
        debug_runs::ensure_submittable(&tx, state, &row, required).await?;
    }
    // A license server issues codes online only after passing its cases; a
    // license without one is delivered under supervision.
    if snapshot.product_type == ProductType::License && row.endpoint_url.is_some() {
        debug_runs::ensure_submittable(&tx, state, &row, DebugCaseSet::LicenseProduct).await?;
    }
    let kind = if before.has_listed_version() { ReviewKind::Revision } else { ReviewKind::Listing };
    set_lifecycle(&mut row, after);
    let now = state.now();
    row.updated_at = now;
    if !products::save_if(&tx, row.clone(), before.status, before.revision).await? {
        return Err(AppError::conflict("under_review", "the product was submitted meanwhile"));
    }
    let review = product_review::Model {
        id: String::from(ReviewId::new()),
        product_id: row.id.clone(),
        seller_id: row.seller_id.clone(),
        kind,
        status: ReviewStatus::Pending,
        snapshot,
        reason: None,
        decided_by: None,
        submitted_at: now,
        decided_at: None,
    };
    reviews::insert(&tx, review).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::conflict("under_review", "the product already has a pending review"),
        other => other.into(),
    })?;
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

async fn transition(state: &AppState, p: &Principal, id: &str, action: ProductAction) -> AppResult<ProductView> {
    let tx = state.db.write().await?;
    let mut row = load(&tx, &p.account_id, id).await?;
    let before = lifecycle_of(&row)?;
    let after = before.apply(action).map_err(lifecycle_error)?;
    set_lifecycle(&mut row, after);
    row.updated_at = state.now();
    if !products::save_if(&tx, row.clone(), before.status, before.revision).await? {
        return Err(AppError::conflict("invalid_state", "the product changed state meanwhile"));
    }
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

/// Takes a listed product off sale (it leaves the public catalog).
pub async fn delist(state: &AppState, p: &Principal, id: &str) -> AppResult<ProductView> {
    transition(state, p, id, ProductAction::Delist).await
}

/// Puts a delisted product back on sale, with its last approved version.
pub async fn relist(state: &AppState, p: &Principal, id: &str) -> AppResult<ProductView> {
    transition(state, p, id, ProductAction::Relist).await
}

pub async fn reviews_of(
    state: &AppState,
    p: &Principal,
    id: &str,
    paging: Paging,
) -> AppResult<Page<ProductReviewView>> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    let rows = reviews::list_for_product(&state.db.conn, &row.id, paging.cursor.as_deref(), paging.limit + 1).await?;
    let page = paging.finish(rows, |r| r.id.clone(), review_view);
    Ok(Page { items: page.items.into_iter().collect::<AppResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}
