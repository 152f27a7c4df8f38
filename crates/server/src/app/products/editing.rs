//! Creating, listing and editing products.

use super::*;

pub async fn create(state: &AppState, p: &Principal, req: CreateProduct) -> AppResult<ProductView> {
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
        check_endpoint_of(state, &mut c, e);
    }
    c.finish()?;
    let tx = state.db.write().await?;
    check_category(&tx, content.category_id.trim()).await?;
    let now = state.now();
    let content = trimmed(content);
    let row = product::Model {
        id: String::from(ProductId::new()),
        seller_id: p.account_id.clone(),
        product_type: req.product_type,
        cooperation: req.cooperation,
        status: Lifecycle::NEW.status,
        revision_state: Lifecycle::NEW.revision,
        content,
        logo_media_id: None,
        images_json: "[]".into(),
        endpoint_url: req.endpoint.as_ref().map(|e| e.url.clone()),
        endpoint_key_enc: req.endpoint.as_ref().map(|e| state.crypto.encrypt(ENDPOINT_KEY_FIELD, &e.access_key)),
        listed: None,
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
) -> AppResult<Page<ProductSummary>> {
    let rows =
        products::list_for_seller(&state.db.conn, &p.account_id, status, paging.cursor.as_deref(), paging.limit + 1)
            .await?;
    let page = paging.finish(rows, |r| r.id.clone(), summary);
    Ok(Page { items: page.items.into_iter().collect::<AppResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}

pub async fn get(state: &AppState, p: &Principal, id: &str) -> AppResult<ProductView> {
    let row = load(&state.db.conn, &p.account_id, id).await?;
    view(&state.db.conn, row).await
}

pub async fn update(state: &AppState, p: &Principal, id: &str, req: UpdateProduct) -> AppResult<ProductView> {
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
    let mut content = row.content.clone();
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
        check_endpoint_of(state, &mut c, e);
    }
    c.finish()?;
    if category_changed {
        check_category(&tx, content.category_id.trim()).await?;
    }
    row.content = trimmed(content);
    if let Some(e) = &req.endpoint {
        row.endpoint_url = Some(e.url.clone());
        row.endpoint_key_enc = Some(state.crypto.encrypt(ENDPOINT_KEY_FIELD, &e.access_key));
    }
    let row = save_edit(&tx, state, row).await?;
    let out = view(&tx, row).await?;
    tx.commit().await?;
    Ok(out)
}
