//! What a purchase line is granted: the private offer, exclusive discount
//! and coupon the buyer named, checked against the line and taken for the
//! order, priced through `domain::channel::pricing`.
//!
//! - At most one deal: a private offer (`offer_id`) or an exclusive
//!   discount (`exclusive_discount_id`). Without one, a buyer bound to a
//!   partner buying a joint-operation product is attributed to that partner
//!   at 0% off (KooGallery generates this "100%" exclusive discount when the
//!   customer pays), so the partner earns its share.
//! - Deals and coupons apply to paid purchases: not to trials nor to
//!   pay-per-use SKUs (priced by their usage).
//! - An offer and a coupon are taken when the order is placed (conditional
//!   updates: of two orders racing for one, one wins, the other is a 409
//!   and writes nothing) and given back when the order is cancelled unpaid
//!   or its payment is returned because the delivery failed or was
//!   withdrawn. Unsubscribe refunds keep them used.
//!
//! Another buyer's offer, discount or coupon is a 404, like an unknown one.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::ledger::commission_rate;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{ChargingMode, Cooperation, ProductType};
use mercato_domain::channel::coupons::CouponStatus;
use mercato_domain::channel::offers::OfferStatus;
use mercato_domain::channel::partners::ExclusiveDiscountStatus;
use mercato_domain::channel::pricing::{self, Breakdown, CouponUse, Deal, PartnerCut, PricingError};
use mercato_domain::ids::{CouponId, ExclusiveDiscountId, OfferId};
use mercato_domain::orders::Priced;
use mercato_store::Executor;
use mercato_store::repo::{deals as repo, settings};

/// What the buyer named for a purchase.
#[derive(Debug, Clone, Default)]
pub struct Choice<'a> {
    pub offer_id: Option<&'a str>,
    pub exclusive_discount_id: Option<&'a str>,
    pub coupon_id: Option<&'a str>,
}

/// The product line being bought.
#[derive(Debug, Clone)]
pub struct Bought<'a> {
    pub buyer_id: &'a str,
    pub product_id: &'a str,
    pub seller_id: &'a str,
    pub sku_id: &'a str,
    pub product_type: ProductType,
    pub cooperation: Cooperation,
}

/// A priced line and what it took.
#[derive(Debug, Clone)]
pub struct Granted {
    pub breakdown: Breakdown,
    offer: Option<OfferId>,
    coupon: Option<CouponId>,
}

fn refused(code: &'static str, field: &str, message: &str) -> AppError {
    AppError::about_field(Refusal::Conflict, code, field, message)
}

fn unknown(field: &str) -> AppError {
    AppError::about_field(Refusal::NotFound, "not_found", field, "none of yours has this id")
}

fn pricing_error(e: PricingError) -> AppError {
    let field = match e {
        PricingError::BelowThreshold | PricingError::CurrencyMismatch | PricingError::BadCoupon => "coupon_id",
        PricingError::Unfunded => "exclusive_discount_id",
        _ => "offer_id",
    };
    AppError::about_field(Refusal::Conflict, e.code(), field, &e.to_string())
}

/// Checks `[from, until)` holds `now` (`what` names the field).
fn in_window(field: &str, what: &str, from: DateTime<Utc>, until: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    let (code_early, code_late) = match what {
        "offer" => ("offer_not_started", "offer_expired"),
        "coupon" => ("coupon_not_started", "coupon_expired"),
        _ => ("discount_not_started", "discount_expired"),
    };
    if now < from {
        return Err(refused(code_early, field, &format!("this {what} is not valid yet")));
    }
    if now >= until {
        return Err(refused(code_late, field, &format!("this {what} has expired")));
    }
    Ok(())
}

/// Resolves and prices what the buyer named (see the module documentation),
/// without taking anything yet.
pub async fn price(
    db: &impl Executor,
    line: &Bought<'_>,
    priced: &Priced,
    choice: &Choice<'_>,
    now: DateTime<Utc>,
) -> AppResult<Granted> {
    let named = choice.offer_id.is_some() || choice.exclusive_discount_id.is_some() || choice.coupon_id.is_some();
    if named && (priced.trial || priced.charging_mode == ChargingMode::OnDemand) {
        let field = if choice.coupon_id.is_some() { "coupon_id" } else { "offer_id" };
        return Err(refused(
            "deal_not_applicable",
            field,
            "offers, discounts and coupons apply to paid purchases, not to trials or pay-per-use",
        ));
    }
    let joint = line.cooperation == Cooperation::Joint;
    let mut offer_taken = None;
    let deal = match (choice.offer_id, choice.exclusive_discount_id) {
        (Some(_), Some(_)) => {
            return Err(AppError::field(
                "exclusive_discount_id",
                "use a private offer or an exclusive discount, not both",
            ));
        }
        (Some(id), None) => {
            let (deal, id) = offer_deal(db, line, priced, id, now).await?;
            offer_taken = Some(id);
            Some(deal)
        }
        (None, Some(id)) => Some(exclusive_deal(db, line, id, now).await?),
        (None, None) if joint => match repo::active_binding(db, line.buyer_id).await? {
            Some(b) => Some(Deal::Exclusive {
                id: String::new(),
                partner_id: b.partner_id,
                percent_off_bp: 0,
                share_bp: settings::partner_share_bp(db).await?,
            }),
            None => None,
        },
        (None, None) => None,
    };
    let (coupon, coupon_id) = match choice.coupon_id {
        None => (None, None),
        Some(id) => {
            let (c, id) = coupon_use(db, line, id, now).await?;
            (Some(c), Some(id))
        }
    };
    let units = match priced.charging_mode {
        ChargingMode::Period => priced.period_count.unwrap_or(1) * priced.quantity,
        ChargingMode::OneTime => priced.quantity,
        ChargingMode::OnDemand | ChargingMode::OnDemandPkg => 1,
    };
    let mut breakdown =
        pricing::price_line(priced.amount_minor, units, deal.as_ref(), coupon.as_ref(), &priced.currency)
            .map_err(pricing_error)?;
    // The automatic attribution grants nothing: no discount step to show.
    breakdown.discounts.0.retain(|d| !d.source_id.is_empty());
    // A partner must be able to fund its discount at today's rate (nothing
    // else can keep a sale from splitting).
    let funded = breakdown.discounts.partner_borne();
    if funded > 0 {
        let rate = commission_rate(db, line.product_type, line.cooperation).await?;
        let share = breakdown.partner.as_ref().map(|p| p.share_bp);
        pricing::split_sale(breakdown.gross_minor, funded, rate, share).map_err(pricing_error)?;
    }
    Ok(Granted { breakdown, offer: offer_taken, coupon: coupon_id })
}

async fn offer_deal(
    db: &impl Executor,
    line: &Bought<'_>,
    priced: &Priced,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<(Deal, OfferId)> {
    let field = "offer_id";
    let id = OfferId::parse(id).ok_or_else(|| unknown(field))?;
    let o = repo::offer_for_buyer(db, line.buyer_id, &id).await?.ok_or_else(|| unknown(field))?;
    match o.status {
        OfferStatus::Active => {}
        OfferStatus::Accepted => return Err(refused("offer_used", field, "this offer was used by another order")),
        OfferStatus::Withdrawn => return Err(refused("offer_withdrawn", field, "the seller withdrew this offer")),
    }
    in_window(field, "offer", o.valid_from, o.valid_until, now)?;
    if line.cooperation != Cooperation::Joint {
        return Err(refused("not_joint_operation", field, "private offers are for joint-operation products only"));
    }
    let sku = o.terms.skus.iter().find(|s| o.product_id == line.product_id && s.sku_id == line.sku_id);
    let Some(sku) = sku else {
        return Err(refused("offer_not_applicable", "sku_id", "the offer does not price this SKU"));
    };
    if o.terms.period.is_some_and(|p| Some(p) != priced.period)
        || o.terms.period_count.is_some_and(|n| Some(n) != priced.period_count)
    {
        return Err(refused("offer_terms", "period", "buy the period and count the offer names"));
    }
    let partner = match (o.partner_id, o.share_bp) {
        (Some(partner_id), Some(share_bp)) => Some(PartnerCut { partner_id, share_bp }),
        _ => None,
    };
    Ok((Deal::Offer { id: o.id.to_string(), seller_id: o.seller_id, price: sku.price, partner }, id))
}

async fn exclusive_deal(db: &impl Executor, line: &Bought<'_>, id: &str, now: DateTime<Utc>) -> AppResult<Deal> {
    let field = "exclusive_discount_id";
    let id = ExclusiveDiscountId::parse(id).ok_or_else(|| unknown(field))?;
    let d = repo::exclusive_discount_for_buyer(db, line.buyer_id, &id).await?.ok_or_else(|| unknown(field))?;
    if d.status != ExclusiveDiscountStatus::Approved {
        return Err(refused("discount_not_approved", field, "this discount is not approved"));
    }
    in_window(field, "discount", d.valid_from, d.valid_until, now)?;
    if d.product_id != line.product_id {
        return Err(refused("discount_not_applicable", field, "this discount is for another product"));
    }
    let bound = repo::active_binding(db, line.buyer_id).await?;
    if bound.is_none_or(|b| b.partner_id != d.partner_id) {
        return Err(refused("not_bound", field, "the partner who asked for this discount is no longer your partner"));
    }
    let share_bp = d.share_bp.ok_or_else(|| AppError::inconsistent("approved discount without share"))?;
    Ok(Deal::Exclusive { id: d.id.to_string(), partner_id: d.partner_id, percent_off_bp: d.percent_off_bp, share_bp })
}

async fn coupon_use(
    db: &impl Executor,
    line: &Bought<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> AppResult<(CouponUse, CouponId)> {
    let field = "coupon_id";
    let id = CouponId::parse(id).ok_or_else(|| unknown(field))?;
    let (c, batch) = repo::coupon_for_buyer(db, line.buyer_id, &id).await?.ok_or_else(|| unknown(field))?;
    if c.status != CouponStatus::Available {
        return Err(refused("coupon_used", field, "this coupon was used by another order"));
    }
    // A stopped batch stops claims only: claimed coupons stay usable.
    in_window(field, "coupon", batch.valid_from, batch.valid_until, now)?;
    if batch.seller_id != line.seller_id || !batch.scope.covers(line.product_id, line.sku_id) {
        return Err(refused("coupon_not_applicable", field, "this coupon is not for this product or SKU"));
    }
    let use_ = CouponUse {
        id: c.id.to_string(),
        seller_id: batch.seller_id,
        threshold_minor: batch.threshold_minor,
        amount_off_minor: batch.amount_off_minor,
        currency: batch.currency,
    };
    Ok((use_, id))
}

/// Takes the offer and coupon `g` used for `order_id`, in the order's
/// transaction: 409 when another order took one first.
pub async fn take(db: &impl Executor, g: &Granted, order_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    if let Some(id) = &g.offer
        && !repo::take_offer(db, id, order_id, now).await?
    {
        return Err(refused("offer_used", "offer_id", "this offer was used by another order"));
    }
    if let Some(id) = &g.coupon
        && !repo::use_coupon(db, id, order_id, now).await?
    {
        return Err(refused("coupon_used", "coupon_id", "this coupon was used by another order"));
    }
    Ok(())
}
