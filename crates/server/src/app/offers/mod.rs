//! Private offers (商家优惠 / Private Offer),
//! `mercato_domain::channel::offers`.
//!
//! A seller offers one buyer its own prices for SKUs of one of its listed
//! **joint-operation** products (Private Offers exist only for 联营
//! products): a percentage off the list price or a unit price, for the
//! terms the offer states (a period and count for period SKUs), valid in
//! `[valid_from, valid_until)`. The buyer names the offer when ordering
//! (the lead's order path takes it: `store::repo::deals::take_offer`).
//!
//! An offer is made **directly** to a buyer (by email) or **in answer to a
//! partner's customer demand** passed to this seller and accepted by it:
//! the offer then goes to the demand's buyer for the demand's product,
//! records the demand and its partner, and fixes the partner's share of
//! the sale (the operator's `partner_share_bp` at that moment). The demand
//! moves accepted -> offered in the same transaction, by a conditional
//! update, and the unique index on `private_offers.demand_id` backs it: a
//! demand gets one offer (409 `demand_already_offered`), also when two
//! requests race.
//!
//! The seller may withdraw an offer while it is active (not yet used by an
//! order). An offer past its `valid_until` stays `active` in status but is
//! no longer usable (`usable_now`).

use crate::app::coupons::on_sale_product;
use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::page::{Page, Paging};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::account::Role;
use mercato_domain::catalog::{ChargingMode, Cooperation, ListedSnapshot, SkuSpec, SkuStatus};
use mercato_domain::channel::offers::{self as rules, OfferStatus, OfferTerms};
use mercato_domain::channel::partners::DemandStatus;
use mercato_domain::channel::pricing::OfferPrice;
use mercato_domain::ids::{DemandId, NotificationId, OfferId};
use mercato_domain::validation::Invalid;
use mercato_store::entity::{notification, private_offer};
use mercato_store::repo::offers::{self as repo, Scope};
use mercato_store::repo::{accounts, notifications as notification_repo, products as product_repo, settings};
use mercato_store::{Executor, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/seller/private-offers`: to a buyer named by email, or in
/// answer to an accepted customer demand (exactly one of the two).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOffer {
    /// The buyer's account email (a direct offer).
    #[serde(default)]
    #[schema(schema_with = buyer_email_schema)]
    pub buyer_email: Option<String>,
    /// A customer demand passed to you and accepted (`dmd_...`): the offer
    /// goes to its buyer, for its product, and its partner earns a share.
    #[serde(default)]
    pub demand_id: Option<String>,
    /// A listed joint-operation product of yours (the demand's, if any).
    pub product_id: String,
    pub terms: OfferTerms,
    /// When the offer becomes usable; now when left out.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// When it ends (exclusive): in the future, after `valid_from`.
    pub valid_until: DateTime<Utc>,
    /// A note to the buyer, up to 1000 characters.
    #[serde(default)]
    #[schema(schema_with = message_schema)]
    pub message: Option<String>,
}

fn buyer_email_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use mercato_domain::schema::{email, nullable, to_schema};
    to_schema(nullable(email()))
}

fn message_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use mercato_domain::schema::{nullable, text, to_schema};
    to_schema(nullable(text(0, rules::MESSAGE_MAX)))
}

/// The offer fields whose rules the request schema states (a complaint
/// about any of them is a 422; the rest, which depend on the SKUs named,
/// on now or on each other, are 409 `terms_refused`).
const OFFER_STATED: &[&str] = &["message", "terms.skus"];

/// One SKU of an offer, priced for its terms (quantity 1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfferSkuView {
    pub sku_id: String,
    /// None when the SKU is no longer in the product's listing.
    pub sku_code: Option<String>,
    pub sku_name: Option<String>,
    pub charging_mode: Option<ChargingMode>,
    pub currency: Option<String>,
    pub price: OfferPrice,
    /// The list price on the offer's terms (unit price x periods).
    pub list_minor: Option<i64>,
    /// What the offer makes of it (as the order prices it).
    pub offered_minor: Option<i64>,
}

/// A private offer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfferView {
    /// `ofr_...`: name it when ordering.
    #[schema(value_type = String)]
    pub id: OfferId,
    pub seller_id: String,
    pub buyer_id: String,
    pub product_id: String,
    /// The product's listed name.
    pub product_name: Option<String>,
    /// `active` (usable while valid), `accepted` (an order used it),
    /// `withdrawn`.
    pub status: OfferStatus,
    /// Active and within its validity now.
    pub usable_now: bool,
    pub terms: OfferTerms,
    pub skus: Vec<OfferSkuView>,
    pub message: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// The customer demand it answers (seller's view only).
    pub demand_id: Option<String>,
    /// The partner earning a share of the sale, and that share in basis
    /// points (seller's view only).
    pub partner_id: Option<String>,
    pub share_bp: Option<i64>,
    /// The order that used it.
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
}

/// Offer list filters and the page.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferParams {
    /// Only offers in this status.
    #[serde(default)]
    #[param(value_type = Option<OfferStatus>)]
    pub status: Option<String>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "crate::extract::query_num::opt_u64")]
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Whose view: the seller that made the offer, or the buyer it is for.
#[derive(Debug, Clone, Copy)]
pub enum Party<'a> {
    Seller(&'a Principal),
    Buyer(&'a Principal),
}

impl<'a> Party<'a> {
    fn scope(self) -> Scope<'a> {
        match self {
            Party::Seller(p) => Scope::Seller(&p.account_id),
            Party::Buyer(p) => Scope::Buyer(&p.account_id),
        }
    }
}

fn not_found() -> AppError {
    AppError::not_found("private offer")
}

fn view(o: private_offer::Model, snap: Option<&ListedSnapshot>, party: Party<'_>, now: DateTime<Utc>) -> OfferView {
    let skus = o
        .terms
        .skus
        .iter()
        .map(|s| {
            let spec = snap.and_then(|snap| snap.skus.iter().find(|l| l.id == s.sku_id)).map(|l| &l.spec);
            let priced = spec.and_then(|spec| rules::offered_price(spec, &o.terms, s.price));
            OfferSkuView {
                sku_id: s.sku_id.clone(),
                sku_code: spec.map(|x| x.sku_code.clone()),
                sku_name: spec.map(|x| x.name.clone()),
                charging_mode: spec.map(|x| x.charging_mode),
                currency: spec.map(|x| x.currency.clone()),
                price: s.price,
                list_minor: priced.map(|p| p.0),
                offered_minor: priced.map(|p| p.1),
            }
        })
        .collect();
    let seller_view = matches!(party, Party::Seller(_));
    OfferView {
        usable_now: o.status == OfferStatus::Active && o.valid_from <= now && now < o.valid_until,
        id: o.id,
        seller_id: o.seller_id,
        buyer_id: o.buyer_id,
        product_id: o.product_id,
        product_name: snap.map(|s| s.content.name.clone()),
        status: o.status,
        terms: o.terms,
        skus,
        message: o.message,
        valid_from: o.valid_from,
        valid_until: o.valid_until,
        demand_id: o.demand_id.filter(|_| seller_view),
        partner_id: o.partner_id.filter(|_| seller_view),
        share_bp: o.share_bp.filter(|_| seller_view),
        order_id: o.order_id,
        created_at: o.created_at,
        status_since: o.status_since,
    }
}

/// Views of `rows`, reading each product's listing once.
async fn views(
    db: &impl Executor,
    rows: Vec<private_offer::Model>,
    party: Party<'_>,
    now: DateTime<Utc>,
) -> AppResult<Vec<OfferView>> {
    let mut listings: HashMap<String, Option<ListedSnapshot>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for o in rows {
        if !listings.contains_key(&o.product_id) {
            let snap = product_repo::find(db, &o.product_id).await?.and_then(|p| p.listed);
            listings.insert(o.product_id.clone(), snap);
        }
        let snap = listings.get(&o.product_id).and_then(Option::as_ref);
        out.push(view(o, snap, party, now));
    }
    Ok(out)
}

async fn one_view(
    db: &impl Executor,
    o: private_offer::Model,
    party: Party<'_>,
    now: DateTime<Utc>,
) -> AppResult<OfferView> {
    Ok(views(db, vec![o], party, now).await?.pop().expect("one offer, one view"))
}

/// Who an offer is for, and what it answers.
struct Addressee {
    buyer_id: String,
    demand: Option<(DemandId, String)>,
}

/// The seller makes an offer, in `tx` (the caller commits). Refusals, in
/// this order: 422 naming `buyer_email` / `demand_id` when not exactly one
/// is sent; 404 for an unknown demand or one passed to another seller
/// (naming `demand_id`), or no buyer account with that email (naming
/// `buyer_email`); 409 `demand_not_accepted` (submitted or declined),
/// `demand_already_offered`; 422 naming `product_id` when it is not the
/// demand's; 404 naming `product_id` for a product that is not yours; 409
/// `not_on_sale` (not listed), `not_joint_operation` (general
/// cooperation); 422 listing every bad term ([`rules::check_offer`]).
pub async fn create(
    state: &AppState,
    tx: &impl Executor,
    seller: &Principal,
    req: CreateOffer,
) -> AppResult<OfferView> {
    let now = state.now();
    let to = addressee(tx, seller, &req).await?;
    // The product: the seller's own, listed, joint operation.
    let unknown =
        || AppError::about_field(Refusal::NotFound, "not_found", "product_id", "no product of yours has this id");
    let p = product_repo::find(tx, &req.product_id).await?.ok_or_else(unknown)?;
    if p.seller_id != seller.account_id {
        return Err(unknown());
    }
    let Some((p, snap)) = on_sale_product(tx, &seller.account_id, &p.id).await? else {
        return Err(AppError::about_field(
            Refusal::Conflict,
            "not_on_sale",
            "product_id",
            "this product is not listed; offers are for products on sale",
        ));
    };
    if snap.cooperation != Cooperation::Joint {
        return Err(AppError::about_field(
            Refusal::Conflict,
            "not_joint_operation",
            "product_id",
            "private offers are only for joint-operation (联营) products",
        ));
    }
    // Each SKU: active and in the listing.
    let mut found: Vec<Option<&SkuSpec>> = Vec::with_capacity(req.terms.skus.len());
    for s in req.terms.skus.iter().take(rules::SKUS_MAX) {
        let listed = snap.skus.iter().find(|l| l.id == s.sku_id);
        let active = match listed {
            None => false,
            Some(_) => {
                product_repo::find_sku(tx, &p.id, &s.sku_id).await?.is_some_and(|k| k.status == SkuStatus::Active)
            }
        };
        found.push(listed.filter(|_| active).map(|l| &l.spec));
    }
    let valid_from = req.valid_from.unwrap_or(now);
    let message = req.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    rules::check_offer(&req.terms, &found, valid_from, req.valid_until, message, now)
        .map_err(|e| AppError::terms(e, OFFER_STATED))?;

    let id = OfferId::new();
    let (demand_id, partner_id, share_bp) = match &to.demand {
        None => (None, None, None),
        Some((demand_id, partner_id)) => {
            if !repo::mark_demand_offered(tx, demand_id, &id).await? {
                return Err(already_offered(demand_id));
            }
            let share = settings::partner_share_bp(tx).await?;
            (Some(demand_id.to_string()), Some(partner_id.clone()), Some(share))
        }
    };
    let row = private_offer::Model {
        id: id.clone(),
        seller_id: seller.account_id.clone(),
        buyer_id: to.buyer_id,
        product_id: p.id.clone(),
        demand_id,
        partner_id,
        share_bp,
        terms: req.terms,
        message: message.map(str::to_string),
        status: OfferStatus::Active,
        valid_from,
        valid_until: req.valid_until,
        order_id: None,
        created_at: now,
        status_since: now,
    };
    match repo::insert(tx, row.clone()).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) if to.demand.is_some() => {
            return Err(already_offered(&to.demand.expect("checked").0));
        }
        Err(e) => return Err(e.into()),
    }
    notify(tx, &row, &snap.content.name, now).await?;
    Ok(view(row, Some(&snap), Party::Seller(seller), now))
}

/// Notification kinds of offers.
pub const KIND_OFFER_RECEIVED: &str = "private_offer_received";
pub const KIND_DEMAND_OFFERED: &str = "demand_offered";

/// Tells the buyer an offer was made to them, and the partner whose demand
/// it answers.
async fn notify(tx: &impl Executor, o: &private_offer::Model, product: &str, now: DateTime<Utc>) -> AppResult<()> {
    let until = o.valid_until.to_rfc3339();
    let mut notes = vec![(
        o.buyer_id.clone(),
        KIND_OFFER_RECEIVED,
        format!("A private offer for {product}"),
        format!("Offer {} is yours until {until}: see it and buy with it under your private offers.", o.id),
    )];
    if let (Some(partner), Some(demand)) = (&o.partner_id, &o.demand_id) {
        notes.push((
            partner.clone(),
            KIND_DEMAND_OFFERED,
            format!("Your demand for {product} was answered"),
            format!("The seller made offer {} from your demand {demand}; the sale earns your share.", o.id),
        ));
    }
    for (account_id, kind, title, body) in notes {
        let n = notification::Model {
            id: NotificationId::new().into(),
            account_id,
            kind: kind.into(),
            title,
            body,
            reference: Some(o.id.to_string()),
            created_at: now,
            read_at: None,
        };
        notification_repo::insert(tx, n).await?;
    }
    Ok(())
}

fn already_offered(demand_id: &DemandId) -> AppError {
    AppError::about_field(
        Refusal::Conflict,
        "demand_already_offered",
        "demand_id",
        &format!("demand {demand_id} has already been answered with an offer"),
    )
}

async fn addressee(tx: &impl Executor, seller: &Principal, req: &CreateOffer) -> AppResult<Addressee> {
    let email = req.buyer_email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let demand = req.demand_id.as_deref().filter(|d| !d.is_empty());
    match (email, demand) {
        // Exactly one of the two: fields that contradict each other (409).
        (Some(_), Some(_)) => {
            Err(AppError::terms(Invalid::one("demand_id", "send buyer_email or demand_id, not both"), &[]))
        }
        (None, None) => {
            Err(AppError::terms(Invalid::one("buyer_email", "required: the buyer's email, or send demand_id"), &[]))
        }
        (Some(email), None) => {
            let unknown = || {
                AppError::about_field(Refusal::NotFound, "not_found", "buyer_email", "no buyer account has this email")
            };
            let account = accounts::find_by_email(tx, email).await?.ok_or_else(unknown)?;
            if account.role != Role::Buyer {
                return Err(unknown());
            }
            Ok(Addressee { buyer_id: account.id, demand: None })
        }
        (None, Some(demand)) => {
            let unknown = || {
                AppError::about_field(
                    Refusal::NotFound,
                    "not_found",
                    "demand_id",
                    "no demand passed to you has this id",
                )
            };
            let id = DemandId::parse(demand).ok_or_else(unknown)?;
            let d = repo::demand_for_seller(tx, &seller.account_id, &id).await?.ok_or_else(unknown)?;
            match d.status {
                DemandStatus::Accepted => {}
                DemandStatus::Offered => return Err(already_offered(&d.id)),
                s => {
                    return Err(AppError::about_field(
                        Refusal::Conflict,
                        "demand_not_accepted",
                        "demand_id",
                        &format!("the demand is {s}: accept it before making its offer"),
                    ));
                }
            }
            if d.product_id != req.product_id {
                let why = format!("must be the demand's product ({})", d.product_id);
                return Err(AppError::terms(Invalid::one("product_id", why), &[]));
            }
            Ok(Addressee { buyer_id: d.buyer_id, demand: Some((d.id, d.partner_id)) })
        }
    }
}

/// One offer as `party` sees it (404 for a malformed id or another's).
pub async fn get(state: &AppState, party: Party<'_>, id: &str) -> AppResult<OfferView> {
    let db = &state.db.conn;
    let id = OfferId::parse(id).ok_or_else(not_found)?;
    let o = repo::find(db, party.scope(), &id).await?.ok_or_else(not_found)?;
    one_view(db, o, party, state.now()).await
}

/// The offers `party` made or received, newest first.
pub async fn list(state: &AppState, party: Party<'_>, params: OfferParams) -> AppResult<Page<OfferView>> {
    let paging = Paging::new(params.limit, params.cursor)?;
    let status = crate::app::page::word_filter("status", params.status, OfferStatus::parse, OfferStatus::allowed)?;
    let before = crate::app::page::id_cursor(&paging, OfferId::parse)?;
    let db = &state.db.conn;
    let mut rows = repo::list(db, party.scope(), status, before.as_ref(), paging.limit + 1).await?;
    let more = rows.len() as u64 > paging.limit;
    rows.truncate(paging.limit as usize);
    let next_cursor = if more { rows.last().map(|o| o.id.to_string()) } else { None };
    Ok(Page { items: views(db, rows, party, state.now()).await?, next_cursor })
}

/// The seller withdraws an active offer; 409 `offer_not_active` when it
/// was used by an order or already withdrawn.
pub async fn withdraw(state: &AppState, seller: &Principal, id: &str) -> AppResult<OfferView> {
    let tx = state.db.write().await?;
    let view = withdraw_in(state, &tx, seller, id).await?;
    tx.commit().await?;
    Ok(view)
}

async fn withdraw_in(state: &AppState, tx: &impl Executor, seller: &Principal, id: &str) -> AppResult<OfferView> {
    let id = OfferId::parse(id).ok_or_else(not_found)?;
    let o = repo::find(tx, Scope::Seller(&seller.account_id), &id).await?.ok_or_else(not_found)?;
    let now = state.now();
    let refuse = |s: OfferStatus| {
        AppError::conflict("offer_not_active", format!("offer {id} is {s}: only an active offer can be withdrawn"))
    };
    o.status.next(rules::OfferEvent::Withdraw).map_err(|_| refuse(o.status))?;
    if !repo::withdraw(tx, &seller.account_id, &id, now).await? {
        let current = repo::find(tx, Scope::Seller(&seller.account_id), &id).await?.ok_or_else(not_found)?;
        return Err(refuse(current.status));
    }
    let o = repo::find(tx, Scope::Seller(&seller.account_id), &id).await?.ok_or_else(not_found)?;
    one_view(tx, o, Party::Seller(seller), now).await
}
