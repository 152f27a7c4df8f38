//! A product's SKUs.

use super::*;
use mercato_domain::ids::SkuId;

pub async fn add_sku(state: &AppState, p: &Principal, id: &str, spec: SkuSpec) -> AppResult<SkuView> {
    let tx = state.db.write().await?;
    let row = load(&tx, &p.account_id, id).await?;
    check_sku(&spec)?;
    ensure_editable(&row)?;
    let existing = products::skus(&tx, &row.id).await?;
    let currency = existing.iter().find(|s| s.status != SkuStatus::Retired).map(|s| s.currency.clone());
    // The product's other SKUs decide: a conflict with them, like a taken code.
    check_sku_currency(&spec, currency.as_deref()).map_err(|e| {
        let message = e.0.first().map_or_else(String::new, |f| f.message.clone());
        AppError::about_field(Refusal::Conflict, "currency_mismatch", "currency", &message)
    })?;
    if existing.iter().any(|s| s.sku_code == spec.sku_code) {
        return Err(sku_code_taken());
    }
    if existing.len() as u64 >= SKUS_MAX {
        return Err(AppError::conflict("too_many_skus", format!("a product has at most {SKUS_MAX} SKUs")));
    }
    let model = sku::Model {
        id: String::from(SkuId::new()),
        product_id: row.id.clone(),
        sku_code: spec.sku_code.clone(),
        status: SkuStatus::Pending,
        charging_mode: spec.charging_mode,
        currency: spec.currency.clone(),
        entry_price_minor: entry_price_minor(&spec),
        spec,
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

fn sku_code_taken() -> AppError {
    AppError::conflict("sku_code_taken", "another SKU of this product already uses this sku_code")
}

pub async fn list_skus(state: &AppState, p: &Principal, id: &str) -> AppResult<Vec<SkuView>> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    products::skus(&state.db.conn, &row.id).await?.into_iter().map(sku_view).collect()
}

pub async fn delete_sku(state: &AppState, p: &Principal, id: &str, sku_id: &str) -> AppResult<()> {
    let tx = state.db.write().await?;
    let row = load(&tx, &p.account_id, id).await?;
    let sku = products::find_sku(&tx, &row.id, sku_id).await?.ok_or_else(|| AppError::not_found("SKU"))?;
    if sku.status != SkuStatus::Pending {
        return Err(AppError::conflict("sku_active", "only a SKU that has not been approved yet can be deleted"));
    }
    ensure_editable(&row)?;
    if !products::delete_sku_if(&tx, &row.id, sku_id, SkuStatus::Pending).await? {
        return Err(AppError::conflict("sku_active", "the SKU changed meanwhile"));
    }
    save_edit(&tx, state, row).await?;
    tx.commit().await?;
    Ok(())
}
