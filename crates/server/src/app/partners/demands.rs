//! Customer demands: a certified partner passes what a bound customer needs
//! of a listed joint-operation product to the product's seller; the seller
//! accepts it (and then answers with a private offer, which moves it to
//! `offered`) or declines it with a note.

use super::{Paging, joint_product, out_of_order, parse_cursor, parse_status};
use crate::app::error::{AppError, AppResult};
use crate::app::page::Page;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::channel::partners::{DemandEvent, DemandStatus, check_demand, check_note};
use mercato_domain::ids::DemandId;
use mercato_store::entity::customer_demand;
use mercato_store::repo::partners::{self as repo, DemandScope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The currency of a demand that names none and whose product shows none.
const DEFAULT_CURRENCY: &str = "CNY";

/// `POST /api/v1/partner/demands`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileDemand {
    /// A buyer bound to you (`acc_...`).
    pub buyer_id: String,
    /// A listed joint-operation product (`prd_...`); its seller gets the demand.
    pub product_id: String,
    /// What the customer needs (1-2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub needs: String,
    /// The price the customer has in mind, in minor units.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub target_price_minor: Option<i64>,
    /// ISO 4217; the product's currency if left out.
    #[serde(default)]
    pub currency: Option<String>,
}

/// A seller declining a demand.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineDemand {
    /// Why (1-500 characters), shown to the partner.
    #[schema(schema_with = super::note_schema)]
    pub note: String,
}

/// A customer demand.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DemandView {
    /// `dmd_...`.
    #[schema(value_type = String)]
    pub id: DemandId,
    pub status: DemandStatus,
    pub partner_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub product_id: String,
    pub needs: String,
    pub target_price_minor: Option<i64>,
    pub currency: String,
    /// The seller's note on a decline.
    pub seller_note: Option<String>,
    /// The private offer made from it (`ofr_...`), once offered.
    pub offer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the seller accepted or declined it.
    pub decided_at: Option<DateTime<Utc>>,
}

/// Filter and paging of demands.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DemandParams {
    /// Only demands in this status (e.g. `submitted`: waiting for an answer).
    #[serde(default)]
    #[param(value_type = Option<DemandStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

fn view(d: customer_demand::Model) -> DemandView {
    DemandView {
        id: d.id,
        status: d.status,
        partner_id: d.partner_id,
        buyer_id: d.buyer_id,
        seller_id: d.seller_id,
        product_id: d.product_id,
        needs: d.needs,
        target_price_minor: d.target_price_minor,
        currency: d.currency,
        seller_note: d.seller_note,
        offer_id: d.offer_id,
        created_at: d.created_at,
        decided_at: d.decided_at,
    }
}

/// A partner files a customer demand with the product's seller.
pub async fn file(state: &AppState, p: &Principal, req: FileDemand) -> AppResult<DemandView> {
    let currency = req.currency.as_deref().map(|c| c.trim().to_uppercase());
    let tx = state.db.write().await?;
    super::ensure_certified(&tx, &p.account_id).await?;
    check_demand(&req.needs, req.target_price_minor, currency.as_deref())?;
    super::ensure_bound(&tx, &p.account_id, &req.buyer_id).await?;
    let product = joint_product(&tx, &req.product_id).await?;
    let currency = currency.or_else(|| product.pub_currency.clone()).unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
    let row = customer_demand::Model {
        id: DemandId::new(),
        partner_id: p.account_id.clone(),
        buyer_id: req.buyer_id.clone(),
        seller_id: product.seller_id.clone(),
        product_id: product.id.clone(),
        needs: req.needs.trim().to_string(),
        target_price_minor: req.target_price_minor,
        currency,
        status: DemandStatus::Submitted,
        seller_note: None,
        offer_id: None,
        created_at: state.now(),
        decided_at: None,
    };
    repo::insert_demand(&tx, row.clone()).await?;
    tx.commit().await?;
    Ok(view(row))
}

async fn list(state: &AppState, scope: DemandScope<'_>, q: DemandParams) -> AppResult<Page<DemandView>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let status = parse_status(q.status, DemandStatus::parse, DemandStatus::allowed)?;
    let before = parse_cursor(&paging, DemandId::parse)?;
    let rows = repo::list_demands(&state.db.conn, scope, status, before.as_ref(), paging.limit + 1).await?;
    Ok(paging.finish(rows, |d| d.id.to_string(), view))
}

/// The partner's demands, newest first.
pub async fn list_for_partner(state: &AppState, p: &Principal, q: DemandParams) -> AppResult<Page<DemandView>> {
    list(state, DemandScope::Partner(&p.account_id), q).await
}

/// The demands passed to the seller, newest first.
pub async fn list_for_seller(state: &AppState, p: &Principal, q: DemandParams) -> AppResult<Page<DemandView>> {
    list(state, DemandScope::Seller(&p.account_id), q).await
}

/// One demand passed to the seller (another seller's is a 404).
pub async fn get_for_seller(state: &AppState, p: &Principal, id: &str) -> AppResult<DemandView> {
    let not_found = || AppError::not_found("demand");
    let id = DemandId::parse(id).ok_or_else(not_found)?;
    let row =
        repo::find_demand(&state.db.conn, DemandScope::Seller(&p.account_id), &id).await?.ok_or_else(not_found)?;
    Ok(view(row))
}

async fn decide(
    state: &AppState,
    p: &Principal,
    id: &str,
    event: DemandEvent,
    note: Option<String>,
) -> AppResult<DemandView> {
    let not_found = || AppError::not_found("demand");
    let id = DemandId::parse(id).ok_or_else(not_found)?;
    let scope = DemandScope::Seller(&p.account_id);
    let now = state.now();
    let tx = state.db.write().await?;
    let d = repo::find_demand(&tx, scope, &id).await?.ok_or_else(not_found)?;
    let to = d.status.next(event).map_err(out_of_order)?;
    if !repo::decide_demand(&tx, &p.account_id, &id, d.status, to, note, now).await? {
        let now = repo::find_demand(&tx, scope, &id).await?.ok_or_else(not_found)?;
        return Err(super::lost_race(now.status.next(event), "demand"));
    }
    let row = repo::find_demand(&tx, scope, &id).await?.ok_or_else(|| AppError::internal("lost demand"))?;
    tx.commit().await?;
    Ok(view(row))
}

/// The seller takes up a submitted demand (its private offer follows).
pub async fn accept(state: &AppState, p: &Principal, id: &str) -> AppResult<DemandView> {
    decide(state, p, id, DemandEvent::Accept, None).await
}

/// The seller declines a submitted demand with a note.
pub async fn decline(state: &AppState, p: &Principal, id: &str, req: DeclineDemand) -> AppResult<DemandView> {
    check_note("note", &req.note)?;
    decide(state, p, id, DemandEvent::Decline, Some(req.note.trim().to_string())).await
}
