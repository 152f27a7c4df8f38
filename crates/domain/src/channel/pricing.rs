//! The pricing pipeline every order line goes through, and how a discounted
//! sale is split in the ledger.
//!
//! # Steps ([`price_line`])
//!
//! 1. **List price**: the SKU's price for the terms bought
//!    (`orders::price`).
//! 2. **A deal**, at most one:
//!    - a *private offer* (the seller's): a percentage off the list price,
//!      or a unit price replacing the SKU's (x periods x quantity);
//!    - an *exclusive discount* (专属优惠, the partner's, approved by an
//!      operator): a percentage off the list price. 0% is allowed: it only
//!      attributes the sale to the partner (KooGallery's "100% discount").
//!
//!    A percentage discount is rounded **down** to the minor unit, so no
//!    discount is ever above the percentage stated.
//! 3. **A coupon** (满减): when the price after step 2 is at least the
//!    coupon's threshold, its amount comes off (a threshold is never below
//!    the amount, so nothing goes negative).
//! 4. **Amount due**: what the buyer pays.
//!
//! Every step that took something off is kept on the order line as a
//! [`Discount`]: what granted it, who granted it, who bears it, how much.
//!
//! # Who bears what ([`split_sale`])
//!
//! | step               | borne by | in the ledger                                                  |
//! |--------------------|----------|----------------------------------------------------------------|
//! | private offer      | seller   | the sale is smaller: seller part and commission both shrink     |
//! | coupon             | seller   | likewise (the seller issued it)                                 |
//! | exclusive discount | partner  | the seller and the platform split the price *before* it; the partner's share pays for it |
//! | partner share      | platform | carved out of the platform's commission on that sale           |
//!
//! The **gross** of a line is what the seller and the platform split: the
//! amount due plus any discount the partner funded. The commission is the
//! operator's rate on the gross, rounded down (`ledger::split_commission`).
//! A sale attributed to a partner (through its exclusive discount, or a
//! private offer made from its demand) earns the partner `share_bp` of the
//! gross, rounded down and never more than the commission. The partner's
//! own discount comes out of that share: the partner is credited `share -
//! discount`. An exclusive discount above the partner's share of the sale
//! is refused when the order is placed ([`PricingError::Unfunded`]).
//!
//! The payment entry is then: debit the buyer's wallet by the amount due;
//! credit the seller's payable by its part, the platform's commission by
//! what is left of it after the partner's share, and the partner's payable
//! by its share net of its discount. Debits equal credits by construction:
//! `seller + (commission - share) + (share - discount) = gross - discount =
//! due`.

use crate::ledger::{self, BP_WHOLE, LedgerError, Line};
use crate::money::MAX_PRICE_MINOR;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// What granted a discount step.
    DiscountKind {
        PrivateOffer => "private_offer",
        ExclusiveDiscount => "exclusive_discount",
        Coupon => "coupon",
    }
);

string_enum!(
    /// Who pays for a discount (see the module documentation).
    Bearer {
        Seller => "seller",
        Platform => "platform",
        Partner => "partner",
    }
);

/// One step of a line's price: what granted it, who, who bears it, how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Discount {
    pub kind: DiscountKind,
    /// The offer, exclusive discount or coupon (`ofr_...`, `xdc_...`, `cpn_...`).
    pub source_id: String,
    /// The account that granted it (the seller, or the partner).
    pub granted_by: String,
    pub borne_by: Bearer,
    /// How much this step took off, in minor units (>= 0).
    pub amount_minor: i64,
}

/// Every discount step of a line, in the order applied (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Discounts(pub Vec<Discount>);

crate::stored_as_json!(Discounts);

impl Discounts {
    /// What the partner funded (its exclusive discounts).
    pub fn partner_borne(&self) -> i64 {
        self.0.iter().filter(|d| d.borne_by == Bearer::Partner).map(|d| d.amount_minor).sum()
    }

    pub fn total(&self) -> i64 {
        self.0.iter().map(|d| d.amount_minor).sum()
    }

    pub fn of_kind(&self, kind: DiscountKind) -> Option<&Discount> {
        self.0.iter().find(|d| d.kind == kind)
    }
}

/// How a private offer prices a SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OfferPrice {
    /// Basis points off the list price (1-10000; 10000 = free).
    PercentOff {
        #[schema(minimum = 1, maximum = 10_000)]
        percent_off_bp: i64,
    },
    /// A unit price replacing the SKU's (per month or year bought, or the
    /// one-time price; x periods x quantity), at most the list price.
    UnitPrice {
        #[schema(minimum = 0)]
        unit_price_minor: i64,
    },
}

/// A sale attributed to a partner, and its share of the gross.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCut {
    pub partner_id: String,
    /// Basis points of the gross (0-10000).
    pub share_bp: i64,
}

/// Step 2: the one deal an order line may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deal {
    Offer { id: String, seller_id: String, price: OfferPrice, partner: Option<PartnerCut> },
    Exclusive { id: String, partner_id: String, percent_off_bp: i64, share_bp: i64 },
}

/// Step 3: a coupon the buyer applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponUse {
    pub id: String,
    pub seller_id: String,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: String,
}

/// What an order line costs and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    pub list_minor: i64,
    pub discounts: Discounts,
    /// What the buyer pays.
    pub due_minor: i64,
    /// What the seller and the platform split: due + what the partner funded.
    pub gross_minor: i64,
    pub partner: Option<PartnerCut>,
}

impl Breakdown {
    /// A line at list price (renewals, upgrades, anything without a deal).
    pub fn list(amount_minor: i64) -> Breakdown {
        Breakdown {
            list_minor: amount_minor,
            discounts: Discounts::default(),
            due_minor: amount_minor,
            gross_minor: amount_minor,
            partner: None,
        }
    }
}

/// Why a line cannot be priced with the deal or coupon named. Each is a
/// refusal of the deal as it stands (409), with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("a discount must be 0% to 100% (0 to 10000 basis points)")]
    BadPercent,
    #[error("the offer's price is above the list price or negative")]
    BadOfferPrice,
    #[error("the order is below the coupon's threshold")]
    BelowThreshold,
    #[error("the coupon is in another currency than the order")]
    CurrencyMismatch,
    #[error("a coupon's amount must be positive and at most its threshold")]
    BadCoupon,
    #[error("the discount exceeds the partner's share of this sale")]
    Unfunded,
    #[error("the price overflows")]
    Overflow,
}

impl PricingError {
    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        match self {
            PricingError::BadPercent => "bad_discount",
            PricingError::BadOfferPrice => "bad_offer_price",
            PricingError::BelowThreshold => "coupon_below_threshold",
            PricingError::CurrencyMismatch => "coupon_currency",
            PricingError::BadCoupon => "bad_coupon",
            PricingError::Unfunded => "discount_unfunded",
            PricingError::Overflow => "price_overflow",
        }
    }
}

/// `amount x bp / 10000`, rounded down.
pub fn percent_of(amount_minor: i64, bp: i64) -> Result<i64, PricingError> {
    if !(0..=BP_WHOLE).contains(&bp) {
        return Err(PricingError::BadPercent);
    }
    if !(0..=MAX_PRICE_MINOR).contains(&amount_minor) {
        return Err(PricingError::Overflow);
    }
    i64::try_from(i128::from(amount_minor) * i128::from(bp) / i128::from(BP_WHOLE)).map_err(|_| PricingError::Overflow)
}

/// Prices a line of `list_minor` (the list price of `units` units: periods x
/// quantity, or the quantity) through the pipeline of the module
/// documentation.
pub fn price_line(
    list_minor: i64,
    units: i64,
    deal: Option<&Deal>,
    coupon: Option<&CouponUse>,
    currency: &str,
) -> Result<Breakdown, PricingError> {
    if !(0..=MAX_PRICE_MINOR).contains(&list_minor) || units < 1 {
        return Err(PricingError::Overflow);
    }
    let mut b = Breakdown::list(list_minor);
    let mut price = list_minor;
    match deal {
        None => {}
        Some(Deal::Offer { id, seller_id, price: offer_price, partner }) => {
            let off = match *offer_price {
                OfferPrice::PercentOff { percent_off_bp } => {
                    if !(1..=BP_WHOLE).contains(&percent_off_bp) {
                        return Err(PricingError::BadPercent);
                    }
                    percent_of(list_minor, percent_off_bp)?
                }
                OfferPrice::UnitPrice { unit_price_minor } => {
                    let offered = unit_price_minor.checked_mul(units).ok_or(PricingError::BadOfferPrice)?;
                    if unit_price_minor < 0 || offered > list_minor {
                        return Err(PricingError::BadOfferPrice);
                    }
                    list_minor - offered
                }
            };
            b.discounts.0.push(Discount {
                kind: DiscountKind::PrivateOffer,
                source_id: id.clone(),
                granted_by: seller_id.clone(),
                borne_by: Bearer::Seller,
                amount_minor: off,
            });
            b.partner = partner.clone();
            price -= off;
        }
        Some(Deal::Exclusive { id, partner_id, percent_off_bp, share_bp }) => {
            if !(0..=BP_WHOLE).contains(share_bp) {
                return Err(PricingError::BadPercent);
            }
            let off = percent_of(list_minor, *percent_off_bp)?;
            b.discounts.0.push(Discount {
                kind: DiscountKind::ExclusiveDiscount,
                source_id: id.clone(),
                granted_by: partner_id.clone(),
                borne_by: Bearer::Partner,
                amount_minor: off,
            });
            b.partner = Some(PartnerCut { partner_id: partner_id.clone(), share_bp: *share_bp });
            price -= off;
        }
    }
    if let Some(c) = coupon {
        if c.amount_off_minor <= 0 || c.amount_off_minor > c.threshold_minor {
            return Err(PricingError::BadCoupon);
        }
        if c.currency != currency {
            return Err(PricingError::CurrencyMismatch);
        }
        if price < c.threshold_minor {
            return Err(PricingError::BelowThreshold);
        }
        b.discounts.0.push(Discount {
            kind: DiscountKind::Coupon,
            source_id: c.id.clone(),
            granted_by: c.seller_id.clone(),
            borne_by: Bearer::Seller,
            amount_minor: c.amount_off_minor,
        });
        price -= c.amount_off_minor;
    }
    b.due_minor = price;
    b.gross_minor = price + b.discounts.partner_borne();
    Ok(b)
}

/// How the money of one sale is split (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaleSplit {
    pub seller_minor: i64,
    /// The platform's commission after the partner's share.
    pub commission_minor: i64,
    /// Credited to the partner: its share net of its own discount.
    pub partner_minor: i64,
}

/// Splits a line of `gross_minor` (of which `partner_borne_minor` was a
/// partner's discount) at the commission rate `rate_bp`, giving `partner`
/// its share. [`PricingError::Unfunded`] when the partner's discount
/// exceeds its share.
pub fn split_sale(
    gross_minor: i64,
    partner_borne_minor: i64,
    rate_bp: i64,
    partner_share_bp: Option<i64>,
) -> Result<SaleSplit, PricingError> {
    let (seller, commission) = ledger::split_commission(gross_minor, rate_bp).map_err(|e| match e {
        LedgerError::BadRate => PricingError::BadPercent,
        _ => PricingError::Overflow,
    })?;
    let share = match partner_share_bp {
        None => 0,
        Some(bp) => percent_of(gross_minor, bp)?.min(commission),
    };
    if partner_borne_minor < 0 || partner_borne_minor > share {
        return Err(PricingError::Unfunded);
    }
    Ok(SaleSplit {
        seller_minor: seller,
        commission_minor: commission - share,
        partner_minor: share - partner_borne_minor,
    })
}

/// The payment lines of one sale: debit the buyer's wallet by the amount
/// due, credit the seller, the platform and the partner their parts (a
/// zero part gets no line).
pub fn sale_lines(
    buyer_id: &str,
    seller_id: &str,
    partner_id: Option<&str>,
    currency: &str,
    due_minor: i64,
    split: SaleSplit,
) -> Vec<Line> {
    let mut lines = vec![Line::debit(ledger::buyer_wallet(buyer_id), currency, due_minor)];
    if split.seller_minor > 0 {
        lines.push(Line::credit(ledger::seller_payable(seller_id), currency, split.seller_minor));
    }
    if split.commission_minor > 0 {
        lines.push(Line::credit(ledger::PLATFORM_COMMISSION, currency, split.commission_minor));
    }
    if let (Some(p), true) = (partner_id, split.partner_minor > 0) {
        lines.push(Line::credit(ledger::partner_payable(p), currency, split.partner_minor));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Entry;
    use crate::ledger::EntryKind;
    use proptest::prelude::*;

    fn offer(price: OfferPrice, partner: Option<i64>) -> Deal {
        Deal::Offer {
            id: "ofr_1".into(),
            seller_id: "acc_s".into(),
            price,
            partner: partner.map(|bp| PartnerCut { partner_id: "acc_p".into(), share_bp: bp }),
        }
    }

    fn coupon(threshold: i64, off: i64) -> CouponUse {
        CouponUse {
            id: "cpn_1".into(),
            seller_id: "acc_s".into(),
            threshold_minor: threshold,
            amount_off_minor: off,
            currency: "CNY".into(),
        }
    }

    #[test]
    fn offer_then_coupon() {
        // 3 months at 10 000: 30 000 list, 15% off = 4 500, coupon 2 000 off 20 000.
        let deal = offer(OfferPrice::PercentOff { percent_off_bp: 1_500 }, Some(500));
        let b = price_line(30_000, 3, Some(&deal), Some(&coupon(20_000, 2_000)), "CNY").unwrap();
        assert_eq!((b.list_minor, b.due_minor, b.gross_minor), (30_000, 23_500, 23_500));
        let steps: Vec<(DiscountKind, Bearer, i64)> =
            b.discounts.0.iter().map(|d| (d.kind, d.borne_by, d.amount_minor)).collect();
        assert_eq!(
            steps,
            [(DiscountKind::PrivateOffer, Bearer::Seller, 4_500), (DiscountKind::Coupon, Bearer::Seller, 2_000)]
        );
        // 20% commission on 23 500 = 4 700, partner 5% = 1 175 out of it.
        let s = split_sale(b.gross_minor, b.discounts.partner_borne(), 2_000, Some(500)).unwrap();
        assert_eq!(s, SaleSplit { seller_minor: 18_800, commission_minor: 3_525, partner_minor: 1_175 });
    }

    #[test]
    fn unit_price_offers_multiply_and_stay_below_list() {
        let deal = offer(OfferPrice::UnitPrice { unit_price_minor: 8_000 }, None);
        let b = price_line(30_000, 3, Some(&deal), None, "CNY").unwrap();
        assert_eq!((b.due_minor, b.discounts.total()), (24_000, 6_000));
        let dear = offer(OfferPrice::UnitPrice { unit_price_minor: 10_001 }, None);
        assert_eq!(price_line(30_000, 3, Some(&dear), None, "CNY"), Err(PricingError::BadOfferPrice));
        let neg = offer(OfferPrice::UnitPrice { unit_price_minor: -1 }, None);
        assert_eq!(price_line(30_000, 3, Some(&neg), None, "CNY"), Err(PricingError::BadOfferPrice));
        for bp in [0, 10_001, -5] {
            let d = offer(OfferPrice::PercentOff { percent_off_bp: bp }, None);
            assert_eq!(price_line(30_000, 3, Some(&d), None, "CNY"), Err(PricingError::BadPercent), "{bp}");
        }
    }

    #[test]
    fn exclusive_discounts_are_funded_by_the_partner() {
        let deal =
            Deal::Exclusive { id: "xdc_1".into(), partner_id: "acc_p".into(), percent_off_bp: 300, share_bp: 800 };
        let b = price_line(10_000, 1, Some(&deal), None, "CNY").unwrap();
        assert_eq!((b.due_minor, b.gross_minor), (9_700, 10_000));
        assert_eq!(b.discounts.0[0].borne_by, Bearer::Partner);
        // Seller and platform split 10 000 as if undiscounted; the partner's
        // 800 share pays the 300 discount.
        let s = split_sale(b.gross_minor, b.discounts.partner_borne(), 2_000, Some(800)).unwrap();
        assert_eq!(s, SaleSplit { seller_minor: 8_000, commission_minor: 1_200, partner_minor: 500 });
        // A discount beyond the share is refused.
        assert_eq!(split_sale(10_000, 900, 2_000, Some(800)), Err(PricingError::Unfunded));
        // The share never exceeds the commission.
        assert_eq!(split_sale(10_000, 0, 500, Some(800)).unwrap().partner_minor, 500);
        // 0% attributes only.
        let zero = Deal::Exclusive { id: "xdc_1".into(), partner_id: "acc_p".into(), percent_off_bp: 0, share_bp: 800 };
        let b = price_line(10_000, 1, Some(&zero), None, "CNY").unwrap();
        assert_eq!((b.due_minor, b.discounts.total()), (10_000, 0));
    }

    #[test]
    fn coupons_need_their_threshold_and_currency() {
        assert_eq!(price_line(9_999, 1, None, Some(&coupon(10_000, 1_000)), "CNY"), Err(PricingError::BelowThreshold));
        let b = price_line(10_000, 1, None, Some(&coupon(10_000, 10_000)), "CNY").unwrap();
        assert_eq!(b.due_minor, 0);
        assert_eq!(
            price_line(10_000, 1, None, Some(&coupon(10_000, 1_000)), "USD"),
            Err(PricingError::CurrencyMismatch)
        );
        assert_eq!(price_line(10_000, 1, None, Some(&coupon(100, 1_000)), "CNY"), Err(PricingError::BadCoupon));
        // The threshold applies to the price after the deal.
        let deal = offer(OfferPrice::PercentOff { percent_off_bp: 1_000 }, None);
        assert_eq!(
            price_line(10_000, 1, Some(&deal), Some(&coupon(10_000, 1_000)), "CNY"),
            Err(PricingError::BelowThreshold)
        );
    }

    proptest! {
        #[test]
        fn every_split_balances(
            list in 0i64..1_000_000_000,
            pct in 0i64..=10_000,
            share in 0i64..=10_000,
            rate in 0i64..=10_000,
            coupon_off in 0i64..1_000_000,
            exclusive in any::<bool>(),
        ) {
            let deal = if exclusive {
                Deal::Exclusive { id: "x".into(), partner_id: "acc_p".into(), percent_off_bp: pct, share_bp: share }
            } else {
                offer(OfferPrice::PercentOff { percent_off_bp: pct.max(1) }, Some(share))
            };
            let c = (coupon_off > 0).then(|| coupon(coupon_off, coupon_off));
            let Ok(b) = price_line(list, 1, Some(&deal), c.as_ref(), "CNY") else { return Ok(()) };
            prop_assert!(b.due_minor >= 0 && b.due_minor <= b.list_minor);
            prop_assert_eq!(b.list_minor - b.discounts.total(), b.due_minor);
            let Ok(s) = split_sale(b.gross_minor, b.discounts.partner_borne(), rate, b.partner.as_ref().map(|p| p.share_bp))
            else { return Ok(()) };
            prop_assert!(s.seller_minor >= 0 && s.commission_minor >= 0 && s.partner_minor >= 0);
            prop_assert_eq!(s.seller_minor + s.commission_minor + s.partner_minor, b.due_minor);
            if b.due_minor > 0 {
                let lines = sale_lines("acc_b", "acc_s", Some("acc_p"), "CNY", b.due_minor, s);
                prop_assert!(Entry::new(EntryKind::Payment, "CS1", "sale", lines).is_ok());
            }
        }
    }
}
