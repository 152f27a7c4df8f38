//! The public catalog: search over listed products and a listed product's
//! detail. Only what the approved snapshot holds is ever shown (never the
//! seller's endpoint or unreviewed edits).

use crate::app::error::{AppError, AppResult};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{
    CatalogCursor, CatalogSort, ChargingMode, Cooperation, ListedSnapshot, Prices, ProductType, SkuSpec,
    filter_fingerprint, search_terms,
};
use mercato_domain::validation::Checker;
use mercato_store::entity::category;
use mercato_store::repo::catalog::{self as repo, Hit, Search};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page::{Page, Paging};

/// Search parameters. Every one is optional; all given filters apply together.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductSearchParams {
    /// Words (up to 10, each up to 50 characters, 200 in all) that must all occur,
    /// case-insensitively, in the name, summary, description or tags.
    #[serde(default)]
    #[param(
        pattern = r"^\s*([^\s\u0000-\u001F\u007F-\u009F]{1,50}(\s+[^\s\u0000-\u001F\u007F-\u009F]{1,50}){0,9})?\s*$",
        max_length = 200
    )]
    pub q: Option<String>,
    /// A category id or slug; products in its sub-categories are included.
    /// One that names no category matches nothing.
    #[serde(default)]
    pub category: Option<String>,
    /// Product type: saas, license, manual_service, api, image, hardware, ai_asset,
    /// container, data_asset or app_orchestration.
    #[serde(default, rename = "type")]
    #[param(value_type = Option<ProductType>)]
    pub product_type: Option<String>,
    /// Products offering this charging mode: period, one_time, on_demand or on_demand_pkg.
    #[serde(default)]
    #[param(value_type = Option<ChargingMode>)]
    pub charging_mode: Option<String>,
    /// Lowest entry price at least this (minor units). Products without a price are left out.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub min_price_minor: Option<String>,
    /// Lowest entry price at most this (minor units). Products without a price are left out.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub max_price_minor: Option<String>,
    /// relevance (default when `q` is given), newest (default otherwise), price_asc or price_desc.
    #[serde(default)]
    #[param(value_type = Option<CatalogSort>, inline)]
    pub sort: Option<String>,
    /// 1-100, default 20.
    #[serde(default)]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<String>,
    /// `next_cursor` from the previous page (of the same search).
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SellerRef {
    pub id: String,
    pub name: String,
}

/// A listed product as the catalog lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogItem {
    pub id: String,
    pub name: String,
    pub summary: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub category_id: String,
    pub tags: Vec<String>,
    /// `/media/{id}` path of the logo.
    pub logo_url: Option<String>,
    pub seller: SellerRef,
    /// The lowest entry price over the SKUs; null when only pay-per-use.
    pub from_price_minor: Option<i64>,
    pub currency: Option<String>,
    pub charging_modes: Vec<ChargingMode>,
    pub listed_at: DateTime<Utc>,
}

/// A SKU on sale.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogSku {
    pub id: String,
    pub sku_code: String,
    pub name: String,
    pub charging_mode: ChargingMode,
    pub prices: Prices,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metering: Option<mercato_domain::catalog::Metering>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<mercato_domain::catalog::Package>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear: Option<mercato_domain::catalog::Linear>,
}

/// A listed product in full: the approved version with its SKUs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogProduct {
    #[serde(flatten)]
    pub item: CatalogItem,
    pub version: String,
    pub description: String,
    pub usage_guide: String,
    pub support_terms: String,
    /// `/media/{id}` paths of the screenshots.
    pub images: Vec<String>,
    pub skus: Vec<CatalogSku>,
}

fn item(
    id: String,
    snap: &ListedSnapshot,
    listed_at: DateTime<Utc>,
    price: Option<i64>,
    currency: Option<String>,
) -> CatalogItem {
    let c = &snap.content;
    let mut modes: Vec<ChargingMode> = Vec::new();
    for s in &snap.skus {
        if !modes.contains(&s.spec.charging_mode) {
            modes.push(s.spec.charging_mode);
        }
    }
    CatalogItem {
        id,
        name: c.name.clone(),
        summary: c.summary.clone(),
        product_type: snap.product_type,
        cooperation: snap.cooperation,
        category_id: c.category_id.clone(),
        tags: c.tags.clone(),
        logo_url: snap.logo_url.clone(),
        seller: SellerRef { id: snap.seller_id.clone(), name: snap.seller_name.clone() },
        from_price_minor: price,
        currency,
        charging_modes: modes,
        listed_at,
    }
}

fn sku_view(id: String, s: SkuSpec) -> CatalogSku {
    CatalogSku {
        id,
        sku_code: s.sku_code,
        name: s.name,
        charging_mode: s.charging_mode,
        prices: s.prices,
        currency: s.currency,
        trial_days: s.trial_days,
        metering: s.metering,
        package: s.package,
        linear: s.linear,
    }
}

/// `id` and every category below it.
fn with_descendants(all: &[category::Model], id: &str) -> Vec<String> {
    let mut out = vec![id.to_string()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        for c in all {
            if c.parent_id.as_deref() == Some(parent.as_str()) && !out.contains(&c.id) {
                out.push(c.id.clone());
            }
        }
        i += 1;
    }
    out
}

fn encode_cursor(c: &CatalogCursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_cursor(text: &str) -> Option<CatalogCursor> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Parses an optional non-negative integer parameter, recording a problem.
fn non_negative(c: &mut Checker, field: &str, value: &Option<String>) -> Option<i64> {
    let t = given(c, field, value)?;
    match t.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        _ => {
            c.add(field, format!("must be a non-negative integer, got \"{t}\""));
            None
        }
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// A number or a choice: absent is the default, given blank (`?limit=`) is
/// refused rather than read as absent.
fn given<'a>(c: &mut Checker, field: &str, value: &'a Option<String>) -> Option<&'a str> {
    let t = value.as_deref()?.trim();
    if t.is_empty() {
        c.add(field, "must not be empty; leave the parameter out for the default");
        return None;
    }
    Some(t)
}

pub async fn search(state: &AppState, p: ProductSearchParams) -> AppResult<Page<CatalogItem>> {
    let mut c = Checker::new();
    let terms = search_terms(p.q.as_deref().unwrap_or_default()).unwrap_or_else(|message| {
        c.add("q", message);
        Vec::new()
    });
    let mut category_ids: Option<Vec<String>> = None;
    // A category that does not exist is a filter that matches nothing, like
    // any other: an empty page, not an error.
    let mut category_key = String::new();
    let mut matches_nothing = false;
    if let Some(wanted) = non_blank(&p.category) {
        let all = repo::categories(&state.db.conn).await?;
        match all.iter().find(|k| k.id == wanted || k.slug == wanted) {
            Some(k) => {
                category_key = k.id.clone();
                category_ids = Some(with_descendants(&all, &k.id));
            }
            None => {
                category_key = format!("unknown:{wanted}");
                matches_nothing = true;
            }
        }
    }
    let product_type = given(&mut c, "type", &p.product_type).and_then(|t| {
        let parsed = ProductType::parse(t);
        c.check(parsed.is_some(), "type", format!("must be one of {}", ProductType::allowed()));
        parsed
    });
    let charging_mode = given(&mut c, "charging_mode", &p.charging_mode).and_then(|t| {
        let parsed = ChargingMode::parse(t);
        c.check(parsed.is_some(), "charging_mode", format!("must be one of {}", ChargingMode::allowed()));
        parsed
    });
    let min = non_negative(&mut c, "min_price_minor", &p.min_price_minor);
    let max = non_negative(&mut c, "max_price_minor", &p.max_price_minor);
    let sort = match given(&mut c, "sort", &p.sort) {
        None => CatalogSort::default_for(!terms.is_empty()),
        Some(t) => CatalogSort::parse(t).unwrap_or_else(|| {
            c.add("sort", format!("must be one of {}", CatalogSort::allowed()));
            CatalogSort::default_for(!terms.is_empty())
        }),
    };
    let limit = match given(&mut c, "limit", &p.limit) {
        None => None,
        Some(t) => match t.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                c.add("limit", format!("must be an integer between 1 and {}", super::page::MAX_LIMIT));
                Some(super::page::DEFAULT_LIMIT)
            }
        },
    };
    let paging = match Paging::new(limit, p.cursor.clone()) {
        Ok(paging) => paging,
        Err(e) => {
            for fe in e.0 {
                c.add(fe.field, fe.message);
            }
            Paging { limit: super::page::DEFAULT_LIMIT, cursor: None }
        }
    };
    let (min_text, max_text) = (format!("{min:?}"), format!("{max:?}"));
    let fingerprint = filter_fingerprint(&[
        &terms.join(" "),
        &category_key,
        product_type.map_or("", |t| t.as_str()),
        charging_mode.map_or("", |m| m.as_str()),
        &min_text,
        &max_text,
    ]);
    let after = match paging.cursor.as_deref() {
        None => None,
        Some(text) => match decode_cursor(text) {
            Some(cur) if cur.k.sort() != sort => {
                c.add("cursor", format!("was issued for sort={}, not sort={sort}", cur.k.sort()));
                None
            }
            Some(cur) if cur.f != fingerprint => {
                c.add("cursor", "was issued for a search with other parameters");
                None
            }
            Some(cur) => Some(cur),
            None => {
                c.add("cursor", "is not a cursor this API returned");
                None
            }
        },
    };
    c.finish()?;
    if matches_nothing {
        return Ok(Page { items: Vec::new(), next_cursor: None });
    }

    let hits = repo::search(
        &state.db.conn,
        &Search {
            terms: &terms,
            category_ids: category_ids.as_deref(),
            product_type,
            charging_mode,
            min_price_minor: min,
            max_price_minor: max,
            sort,
            after: after.as_ref().map(|cur| (&cur.k, cur.id.as_str())),
            limit: paging.limit + 1,
        },
    )
    .await?;
    let rows = hits
        .into_iter()
        .map(|h| {
            let view = item(h.id.clone(), &h.listed, h.listed_at, h.pub_price_minor, h.pub_currency.clone());
            (h, view)
        })
        .collect::<Vec<(Hit, CatalogItem)>>();
    Ok(paging.finish(
        rows,
        |(h, _)| encode_cursor(&CatalogCursor { k: h.sort_key(sort), id: h.id.clone(), f: fingerprint.clone() }),
        |(_, view)| view,
    ))
}

pub async fn product(state: &AppState, id: &str) -> AppResult<CatalogProduct> {
    let row = repo::find_listed(&state.db.conn, id).await?.ok_or_else(|| AppError::not_found("product"))?;
    let (Some(snap), Some(listed_at)) = (row.listed, row.listed_at) else {
        return Err(AppError::not_found("product"));
    };
    let head = item(row.id.clone(), &snap, listed_at, row.pub_price_minor, row.pub_currency.clone());
    let c = snap.content;
    Ok(CatalogProduct {
        item: head,
        version: c.version,
        description: c.description,
        usage_guide: c.usage_guide,
        support_terms: c.support_terms,
        images: snap.images,
        skus: snap.skus.into_iter().map(|s| sku_view(s.id, s.spec)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mercato_domain::catalog::SortKey;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cur = CatalogCursor { k: SortKey::PriceAsc { price: None }, id: "prd_1".into(), f: "ab".into() };
        let text = encode_cursor(&cur);
        assert!(text.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
        assert_eq!(decode_cursor(&text), Some(cur));
        assert_eq!(decode_cursor("garbage!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(b"{\"k\":1}")), None);
    }

    #[test]
    fn descendants_include_grandchildren() {
        let cat = |id: &str, parent: Option<&str>| category::Model {
            id: id.into(),
            parent_id: parent.map(Into::into),
            slug: id.into(),
            name: id.into(),
            name_zh: id.into(),
            position: 0,
            created_at: Utc::now(),
        };
        let all = [cat("a", None), cat("b", Some("a")), cat("c", Some("b")), cat("d", None)];
        assert_eq!(with_descendants(&all, "a"), ["a", "b", "c"]);
        assert_eq!(with_descendants(&all, "d"), ["d"]);
    }
}
