//! Customer bindings: a certified partner invites a buyer by email, the
//! buyer accepts (at most one active partner per buyer) or declines, the
//! partner may withdraw an open invitation, and either side ends an active
//! binding (with an end time and reason). The partner sees the orders its
//! customers placed while bound.

use super::{Paging, out_of_order, parse_cursor, parse_status};
use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::orders::{OrderView, order_cursor, order_views, parse_order_cursor};
use crate::app::page::Page;
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::account::{Role, normalize_email};
use mercato_domain::channel::partners::{BindingEvent, BindingStatus, check_invitation, check_reason};
use mercato_domain::ids::{AccountId, BindingId};
use mercato_store::entity::{account, partner_binding};
use mercato_store::repo::partners::{self as repo, BindingScope, BindingStep};
use mercato_store::repo::{accounts, deals};
use mercato_store::{Executor, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/partner/invitations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteCustomer {
    /// The email of the buyer account to invite.
    pub buyer_email: String,
    /// Shown to the buyer with the invitation (up to 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub message: Option<String>,
}

/// Ending a binding, optionally saying why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndBinding {
    /// Up to 500 characters, shown to both sides.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A partner's binding to a customer (an invitation until accepted).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BindingView {
    /// `pbd_...`.
    #[schema(value_type = String)]
    pub id: BindingId,
    pub status: BindingStatus,
    pub partner_id: String,
    pub partner_name: String,
    pub buyer_id: String,
    pub buyer_name: String,
    pub buyer_email: String,
    /// The partner's message with the invitation.
    pub message: Option<String>,
    pub invited_at: DateTime<Utc>,
    /// When the buyer accepted (the binding's start).
    pub accepted_at: Option<DateTime<Utc>>,
    /// When the binding ended, or the invitation was declined or withdrawn.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the binding was ended, if a reason was given.
    pub end_reason: Option<String>,
}

/// The buyer's partner: the active binding, if any, and open invitations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BuyerPartnerView {
    pub active: Option<BindingView>,
    /// Invitations waiting for an answer, newest first.
    pub invitations: Vec<BindingView>,
}

/// Filter and paging of a partner's customers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerParams {
    /// Only bindings in this status (e.g. `active`: the current customers;
    /// `invited`: open invitations).
    #[serde(default)]
    #[param(value_type = Option<BindingStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

fn view(b: partner_binding::Model, accounts: &HashMap<String, account::Model>) -> BindingView {
    let name = |id: &str| accounts.get(id).map(|a| a.name.clone()).unwrap_or_default();
    BindingView {
        partner_name: name(&b.partner_id),
        buyer_name: name(&b.buyer_id),
        buyer_email: accounts.get(&b.buyer_id).map(|a| a.email.clone()).unwrap_or_default(),
        id: b.id,
        status: b.status,
        partner_id: b.partner_id,
        buyer_id: b.buyer_id,
        message: b.message,
        invited_at: b.invited_at,
        accepted_at: b.accepted_at,
        ended_at: b.ended_at,
        end_reason: b.end_reason,
    }
}

async fn views(db: &impl Executor, rows: Vec<partner_binding::Model>) -> AppResult<Vec<BindingView>> {
    let mut ids: Vec<String> = rows.iter().flat_map(|b| [b.partner_id.clone(), b.buyer_id.clone()]).collect();
    ids.sort();
    ids.dedup();
    let accounts = repo::accounts_by_id(db, ids).await?;
    Ok(rows.into_iter().map(|b| view(b, &accounts)).collect())
}

async fn one_view(db: &impl Executor, row: partner_binding::Model) -> AppResult<BindingView> {
    views(db, vec![row]).await?.pop().ok_or_else(|| AppError::internal("binding view"))
}

/// The buyer is actively bound to the partner; else 409 `not_bound` naming
/// `buyer_id`. Returns the binding.
pub async fn ensure_bound(db: &impl Executor, partner_id: &str, buyer_id: &str) -> AppResult<partner_binding::Model> {
    let not_bound = || {
        AppError::about_field(Refusal::Conflict, "not_bound", "buyer_id", "the buyer is not bound to you as a customer")
    };
    if !AccountId::is_valid(buyer_id) {
        return Err(not_bound());
    }
    repo::bindings_between(db, partner_id, buyer_id, Some(BindingStatus::Active)).await?.pop().ok_or_else(not_bound)
}

/// A partner invites a buyer (by email) to bind to it.
pub async fn invite(state: &AppState, p: &Principal, req: InviteCustomer) -> AppResult<BindingView> {
    check_invitation(&req.buyer_email, req.message.as_deref())?;
    let now = state.now();
    let tx = state.db.write().await?;
    super::ensure_certified(&tx, &p.account_id).await?;
    let buyer = accounts::find_by_email(&tx, &normalize_email(&req.buyer_email))
        .await?
        .filter(|a| a.role == Role::Buyer)
        .ok_or_else(|| {
            AppError::about_field(Refusal::NotFound, "not_found", "buyer_email", "no buyer account has this email")
        })?;
    if !repo::bindings_between(&tx, &p.account_id, &buyer.id, Some(BindingStatus::Active)).await?.is_empty() {
        return Err(already_bound("the buyer is already bound to you"));
    }
    let already_invited = || AppError::conflict("already_invited", "you have an open invitation to this buyer");
    if !repo::bindings_between(&tx, &p.account_id, &buyer.id, Some(BindingStatus::Invited)).await?.is_empty() {
        return Err(already_invited());
    }
    let row = partner_binding::Model {
        id: BindingId::new(),
        partner_id: p.account_id.clone(),
        buyer_id: buyer.id.clone(),
        status: BindingStatus::Invited,
        message: req.message.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()),
        invited_at: now,
        accepted_at: None,
        ended_at: None,
        end_reason: None,
    };
    repo::insert_binding(&tx, row.clone()).await.map_err(|e| match e {
        StoreError::Conflict(_) => already_invited(),
        e => e.into(),
    })?;
    let view = one_view(&tx, row).await?;
    tx.commit().await?;
    Ok(view)
}

fn already_bound(detail: &str) -> AppError {
    AppError::conflict("already_bound", detail.to_string())
}

/// The partner's customers and invitations, newest first.
pub async fn list_customers(state: &AppState, p: &Principal, q: CustomerParams) -> AppResult<Page<BindingView>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let status = parse_status(q.status, BindingStatus::parse, BindingStatus::allowed)?;
    let before = parse_cursor(&paging, BindingId::parse)?;
    let db = &state.db.conn;
    let rows = repo::list_for_partner(db, &p.account_id, status, before.as_ref(), paging.limit + 1).await?;
    let mut accounts: HashMap<String, account::Model> = HashMap::new();
    let rows: Vec<partner_binding::Model> = rows
        .into_iter()
        .map(|(b, a)| {
            if let Some(a) = a {
                accounts.insert(a.id.clone(), a);
            }
            b
        })
        .collect();
    if let Some(me) = accounts::find(db, &p.account_id).await? {
        accounts.insert(me.id.clone(), me);
    }
    Ok(paging.finish(rows, |b| b.id.to_string(), |b| view(b, &accounts)))
}

/// Applies `event` to the binding `id` as seen through `scope`, writing
/// `step`. Another's binding (or a malformed id) is a 404; a status that
/// does not allow the event, 409 `out_of_order`.
async fn transition(
    state: &AppState,
    scope: BindingScope<'_>,
    id: &str,
    event: BindingEvent,
    step: impl FnOnce(&partner_binding::Model) -> BindingStep,
) -> AppResult<BindingView> {
    let id = BindingId::parse(id).ok_or_else(|| AppError::not_found("binding"))?;
    let tx = state.db.write().await?;
    let b = repo::find_binding(&tx, scope, &id).await?.ok_or_else(|| AppError::not_found("binding"))?;
    let to = b.status.next(event).map_err(out_of_order)?;
    if event == BindingEvent::Accept
        && let Some(other) = deals::active_binding(&tx, &b.buyer_id).await?
    {
        let detail = if other.partner_id == b.partner_id {
            "you are already bound to this partner"
        } else {
            "you are bound to another partner; end that binding first"
        };
        return Err(already_bound(detail));
    }
    let done = repo::step_binding(&tx, &id, b.status, to, step(&b)).await.map_err(|e| match e {
        // The one-active-partner index: another acceptance won the race.
        StoreError::Conflict(_) => already_bound("you are bound to another partner; end that binding first"),
        e => e.into(),
    })?;
    if !done {
        let now = repo::find_binding(&tx, scope, &id).await?.ok_or_else(|| AppError::not_found("binding"))?;
        return Err(super::lost_race(now.status.next(event), "binding"));
    }
    let row = repo::find_binding(&tx, scope, &id).await?.ok_or_else(|| AppError::internal("lost binding"))?;
    let view = one_view(&tx, row).await?;
    tx.commit().await?;
    Ok(view)
}

fn closed_at(at: DateTime<Utc>) -> BindingStep {
    BindingStep { ended_at: Some(at), ..Default::default() }
}

fn ended(at: DateTime<Utc>, req: EndBinding) -> BindingStep {
    let reason = req.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    BindingStep { ended_at: Some(at), end_reason: reason, ..Default::default() }
}

/// The partner takes back an open invitation.
pub async fn withdraw(state: &AppState, p: &Principal, id: &str) -> AppResult<BindingView> {
    let now = state.now();
    transition(state, BindingScope::Partner(&p.account_id), id, BindingEvent::Withdraw, |_| closed_at(now)).await
}

/// The partner ends an active binding.
pub async fn end_by_partner(state: &AppState, p: &Principal, id: &str, req: EndBinding) -> AppResult<BindingView> {
    check_reason("reason", req.reason.as_deref())?;
    let now = state.now();
    transition(state, BindingScope::Partner(&p.account_id), id, BindingEvent::End, |_| ended(now, req)).await
}

/// The buyer's partner and open invitations.
pub async fn buyer_view(state: &AppState, p: &Principal) -> AppResult<BuyerPartnerView> {
    let db = &state.db.conn;
    let rows = views(db, repo::for_buyer(db, &p.account_id).await?).await?;
    let (active, invitations): (Vec<_>, Vec<_>) = rows.into_iter().partition(|b| b.status == BindingStatus::Active);
    Ok(BuyerPartnerView { active: active.into_iter().next(), invitations })
}

/// The buyer accepts an invitation: 409 `already_bound` while it has an
/// active partner (the unique index settles two acceptances racing).
pub async fn accept(state: &AppState, p: &Principal, id: &str) -> AppResult<BindingView> {
    let now = state.now();
    transition(state, BindingScope::Buyer(&p.account_id), id, BindingEvent::Accept, |_| BindingStep {
        accepted_at: Some(now),
        ..Default::default()
    })
    .await
}

pub async fn decline(state: &AppState, p: &Principal, id: &str) -> AppResult<BindingView> {
    let now = state.now();
    transition(state, BindingScope::Buyer(&p.account_id), id, BindingEvent::Decline, |_| closed_at(now)).await
}

/// The buyer ends its active binding.
pub async fn end_by_buyer(state: &AppState, p: &Principal, req: EndBinding) -> AppResult<BindingView> {
    check_reason("reason", req.reason.as_deref())?;
    let active = deals::active_binding(&state.db.conn, &p.account_id)
        .await?
        .ok_or_else(|| AppError::conflict("not_bound", "you are not bound to a partner"))?;
    let now = state.now();
    transition(state, BindingScope::Buyer(&p.account_id), active.id.as_str(), BindingEvent::End, |_| ended(now, req))
        .await
}

/// Paging of a customer's orders.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerOrderParams {
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The orders a customer placed while bound to the partner (created in
/// `[accepted_at, ended_at)` of any of their bindings), newest first. A
/// buyer that never was the partner's customer is a 404.
pub async fn customer_orders(
    state: &AppState,
    p: &Principal,
    buyer_id: &str,
    q: CustomerOrderParams,
) -> AppResult<Page<OrderView>> {
    let paging = Paging::new(q.limit, q.cursor)?;
    let before = paging.cursor.as_deref().map(parse_order_cursor).transpose()?;
    if !AccountId::is_valid(buyer_id) {
        return Err(AppError::not_found("customer"));
    }
    let db = &state.db.conn;
    let windows: Vec<_> = repo::bindings_between(db, &p.account_id, buyer_id, None)
        .await?
        .into_iter()
        .filter_map(|b| b.accepted_at.map(|from| (from, b.ended_at)))
        .collect();
    if windows.is_empty() {
        return Err(AppError::not_found("customer"));
    }
    let mut rows = repo::orders_in_windows(db, buyer_id, &windows, before, paging.limit + 1).await?;
    let more = rows.len() as u64 > paging.limit;
    rows.truncate(paging.limit as usize);
    let next_cursor = if more { rows.last().map(order_cursor) } else { None };
    Ok(Page { items: order_views(db, rows, None).await?, next_cursor })
}
