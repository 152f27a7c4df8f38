//! The double-entry ledger's pure rules: account codes, journal entries that
//! must balance, and the commission split.
//!
//! # Accounts
//!
//! An account is named by a code and holds one balance per currency:
//!
//! | code                         | what it is                                     | normal side |
//! |------------------------------|------------------------------------------------|-------------|
//! | `buyer_wallet:<buyer_id>`    | what the platform owes a buyer (prepaid money) | credit      |
//! | `seller_payable:<seller_id>` | what the platform owes a seller (not paid out) | credit      |
//! | `platform_commission`        | the platform's commission revenue              | credit      |
//! | `platform_cash:<provider>`   | money that came in or went out through a payment provider (`platform_cash:manual` for operator credits) | debit |
//! | `refunds_clearing`           | refunds decided but not yet returned through a provider (refunds to the wallet do not use it) | credit |
//! | `partner_payable:<partner_id>` | what the platform owes a partner (its shares of sales, `channel::pricing`) | credit |
//!
//! Every stored balance is `debit - credit` (api.md's `balance_minor`), so the
//! signed sum over all accounts of one currency is always zero. A credit-normal
//! account's useful figure is the opposite sign: a buyer's available wallet
//! money is `credit - debit`.
//!
//! # Entries
//!
//! A journal entry has a kind, a reference (the payment, order or refund it
//! records), a memo and at least two lines; each line debits or credits one
//! account in one currency by a positive amount. Per currency, debits equal
//! credits. [`Entry::new`] is the only way to build one, so holding an `Entry`
//! means it balances. Typical entries:
//!
//! - top-up: debit `platform_cash:manual`, credit `buyer_wallet:B`
//! - payment (with commission): debit `buyer_wallet:B`, credit
//!   `seller_payable:S` (seller part), credit `platform_commission` (see
//!   [`sale_lines`])
//! - refund to the wallet: the payment's lines reversed ([`Entry::reversal`])
//! - payout: debit `seller_payable:S`, credit `platform_cash:<provider>`

use crate::money::{MAX_PRICE_MINOR, is_currency};
use std::collections::BTreeMap;

string_enum!(
    /// Where a payment stands at its provider.
    PaymentStatus {
        Pending => "pending",
        Succeeded => "succeeded",
        Failed => "failed",
    }
);

string_enum!(
    /// Why money moved.
    EntryKind {
        TopUp => "top_up",
        Payment => "payment",
        Refund => "refund",
        Commission => "commission",
        UsageCharge => "usage_charge",
        Payout => "payout",
        Adjustment => "adjustment",
    }
);

string_enum!(
    /// The kinds of ledger account (see the module documentation).
    AccountKind {
        BuyerWallet => "buyer_wallet",
        SellerPayable => "seller_payable",
        PlatformCommission => "platform_commission",
        PlatformCash => "platform_cash",
        RefundsClearing => "refunds_clearing",
        PartnerPayable => "partner_payable",
    }
);

string_enum!(
    /// The side on which an account normally carries its balance.
    NormalSide {
        Debit => "debit",
        Credit => "credit",
    }
);

impl AccountKind {
    /// Assets are debit-normal; what the platform owes and its revenue are credit-normal.
    pub const fn normal_side(self) -> NormalSide {
        match self {
            AccountKind::PlatformCash => NormalSide::Debit,
            AccountKind::BuyerWallet
            | AccountKind::SellerPayable
            | AccountKind::PlatformCommission
            | AccountKind::RefundsClearing
            | AccountKind::PartnerPayable => NormalSide::Credit,
        }
    }

    /// Whether the code carries an owner (`kind:owner`).
    const fn has_owner(self) -> bool {
        matches!(
            self,
            AccountKind::BuyerWallet
                | AccountKind::SellerPayable
                | AccountKind::PlatformCash
                | AccountKind::PartnerPayable
        )
    }
}

/// The commission revenue account.
pub const PLATFORM_COMMISSION: &str = "platform_commission";
/// Refunds on their way back through a payment provider.
pub const REFUNDS_CLEARING: &str = "refunds_clearing";
/// Longest account code accepted (owner ids are far shorter).
pub const ACCOUNT_MAX: usize = 200;

/// What the platform owes buyer `buyer_id`.
pub fn buyer_wallet(buyer_id: &str) -> String {
    format!("buyer_wallet:{buyer_id}")
}

/// What the platform owes seller `seller_id`.
pub fn seller_payable(seller_id: &str) -> String {
    format!("seller_payable:{seller_id}")
}

/// What the platform owes partner `partner_id`.
pub fn partner_payable(partner_id: &str) -> String {
    format!("partner_payable:{partner_id}")
}

/// Money held through payment provider `provider` (e.g. `manual`).
pub fn platform_cash(provider: &str) -> String {
    format!("platform_cash:{provider}")
}

/// The kind of a well-formed account code, None when it is not one. Owners
/// are 1-100 characters of `[A-Za-z0-9_-]`, so codes never need escaping.
pub fn account_kind(code: &str) -> Option<AccountKind> {
    if code.len() > ACCOUNT_MAX {
        return None;
    }
    let (head, owner) = match code.split_once(':') {
        Some((h, o)) => (h, Some(o)),
        None => (code, None),
    };
    let kind = AccountKind::parse(head)?;
    match (kind.has_owner(), owner) {
        (true, Some(o)) if is_owner(o) => Some(kind),
        (false, None) => Some(kind),
        _ => None,
    }
}

/// The account codes [`account_kind`] accepts, as a regex: `kind:owner`
/// for the kinds with an owner, the bare kind for the others (an empty text
/// too, which a filter reads as absent).
pub fn account_filter_pattern() -> String {
    let owned: Vec<&str> = AccountKind::ALL.iter().filter(|k| k.has_owner()).map(|k| k.as_str()).collect();
    let bare: Vec<&str> = AccountKind::ALL.iter().filter(|k| !k.has_owner()).map(|k| k.as_str()).collect();
    format!("^(?:(?:{}):[A-Za-z0-9_-]{{1,100}}|{})?$", owned.join("|"), bare.join("|"))
}

fn is_owner(owner: &str) -> bool {
    (1..=100).contains(&owner.len()) && owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The buyer whose wallet `code` is, if it is a wallet.
pub fn wallet_owner(code: &str) -> Option<&str> {
    code.strip_prefix("buyer_wallet:").filter(|o| is_owner(o))
}

/// One side of one account in one currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Line {
    pub account: String,
    pub currency: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

impl Line {
    pub fn debit(account: impl Into<String>, currency: &str, amount_minor: i64) -> Line {
        Line { account: account.into(), currency: currency.to_string(), debit_minor: amount_minor, credit_minor: 0 }
    }

    pub fn credit(account: impl Into<String>, currency: &str, amount_minor: i64) -> Line {
        Line { account: account.into(), currency: currency.to_string(), debit_minor: 0, credit_minor: amount_minor }
    }

    /// The same amount on the other side.
    pub fn reversed(&self) -> Line {
        Line {
            account: self.account.clone(),
            currency: self.currency.clone(),
            debit_minor: self.credit_minor,
            credit_minor: self.debit_minor,
        }
    }

    /// Signed effect on `debit - credit`.
    pub fn signed_minor(&self) -> i64 {
        self.debit_minor - self.credit_minor
    }
}

/// Why an entry cannot be posted. These are programming errors in the caller
/// (user input is validated before an entry is built), reported, not panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("an entry needs at least two lines")]
    TooFewLines,
    #[error("line {0}: exactly one of debit and credit must be positive, at most {MAX_PRICE_MINOR}")]
    BadAmount(usize),
    #[error("line {0}: `{1}` is not a ledger account")]
    BadAccount(usize, String),
    #[error("line {0}: `{1}` is not a supported currency")]
    BadCurrency(usize, String),
    #[error("the reference must be 1-200 characters")]
    BadReference,
    #[error("the memo must be at most 500 characters")]
    BadMemo,
    #[error("debits and credits differ in {currency}: {debit_minor} vs {credit_minor}")]
    Unbalanced { currency: String, debit_minor: i64, credit_minor: i64 },
    #[error("amounts overflow")]
    Overflow,
    #[error("the commission rate must be 0-10000 basis points")]
    BadRate,
}

/// A balanced journal entry, ready to post (id and time are given when posting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    kind: EntryKind,
    reference: String,
    memo: String,
    lines: Vec<Line>,
}

pub const REFERENCE_MAX: usize = 200;
pub const MEMO_MAX: usize = 500;

impl Entry {
    /// Checks every rule: two or more lines, each with exactly one positive
    /// side no larger than [`MAX_PRICE_MINOR`], known accounts and currencies,
    /// and per currency Σdebit = Σcredit (checked arithmetic).
    pub fn new(
        kind: EntryKind,
        reference: impl Into<String>,
        memo: impl Into<String>,
        lines: Vec<Line>,
    ) -> Result<Entry, LedgerError> {
        let reference = reference.into();
        let memo = memo.into();
        if reference.is_empty() || reference.chars().count() > REFERENCE_MAX {
            return Err(LedgerError::BadReference);
        }
        if memo.chars().count() > MEMO_MAX {
            return Err(LedgerError::BadMemo);
        }
        if lines.len() < 2 {
            return Err(LedgerError::TooFewLines);
        }
        for (i, l) in lines.iter().enumerate() {
            let one_side = (l.debit_minor > 0 && l.credit_minor == 0) || (l.debit_minor == 0 && l.credit_minor > 0);
            if !one_side || l.debit_minor > MAX_PRICE_MINOR || l.credit_minor > MAX_PRICE_MINOR {
                return Err(LedgerError::BadAmount(i));
            }
            if account_kind(&l.account).is_none() {
                return Err(LedgerError::BadAccount(i, l.account.clone()));
            }
            if !is_currency(&l.currency) {
                return Err(LedgerError::BadCurrency(i, l.currency.clone()));
            }
        }
        for (currency, (debit_minor, credit_minor)) in totals(&lines)? {
            if debit_minor != credit_minor {
                return Err(LedgerError::Unbalanced { currency, debit_minor, credit_minor });
            }
        }
        Ok(Entry { kind, reference, memo, lines })
    }

    /// The entry that undoes this one (every line on the other side).
    pub fn reversal(
        &self,
        kind: EntryKind,
        reference: impl Into<String>,
        memo: impl Into<String>,
    ) -> Result<Entry, LedgerError> {
        Entry::new(kind, reference, memo, self.lines.iter().map(Line::reversed).collect())
    }

    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }

    pub fn memo(&self) -> &str {
        &self.memo
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The entry's net effect per (account, currency) as (debit, credit)
    /// sums: what posting adds to the stored balances.
    pub fn deltas(&self) -> Result<Deltas, LedgerError> {
        let mut out = Deltas::new();
        for l in &self.lines {
            let e = out.entry((l.account.clone(), l.currency.clone())).or_default();
            e.0 = e.0.checked_add(l.debit_minor).ok_or(LedgerError::Overflow)?;
            e.1 = e.1.checked_add(l.credit_minor).ok_or(LedgerError::Overflow)?;
        }
        Ok(out)
    }
}

/// (Σdebit, Σcredit) per (account, currency).
pub type Deltas = BTreeMap<(String, String), (i64, i64)>;

/// Σdebit and Σcredit per currency, with checked arithmetic.
pub fn totals(lines: &[Line]) -> Result<BTreeMap<String, (i64, i64)>, LedgerError> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for l in lines {
        let e = out.entry(l.currency.clone()).or_default();
        e.0 = e.0.checked_add(l.debit_minor).ok_or(LedgerError::Overflow)?;
        e.1 = e.1.checked_add(l.credit_minor).ok_or(LedgerError::Overflow)?;
    }
    Ok(out)
}

/// Basis points in a whole (100%).
pub const BP_WHOLE: i64 = 10_000;

/// Default commission: joint operation (the marketplace sells, settles and
/// supports) 20%, general cooperation 10%, for every product type. Operators
/// change them per product type and cooperation model.
pub const DEFAULT_JOINT_RATE_BP: i64 = 2_000;
pub const DEFAULT_GENERAL_RATE_BP: i64 = 1_000;

/// Splits a sale of `amount_minor` at `rate_bp` into (seller part, commission).
/// The commission is rounded down to the minor unit and the seller gets the
/// rest, so rounding never costs the seller and the parts always add up.
pub fn split_commission(amount_minor: i64, rate_bp: i64) -> Result<(i64, i64), LedgerError> {
    if !(0..=BP_WHOLE).contains(&rate_bp) {
        return Err(LedgerError::BadRate);
    }
    if amount_minor < 0 {
        return Err(LedgerError::BadAmount(0));
    }
    // i128: amount (< 2^63) x rate (<= 10^4) cannot overflow.
    let commission = i64::try_from(i128::from(amount_minor) * i128::from(rate_bp) / i128::from(BP_WHOLE))
        .map_err(|_| LedgerError::Overflow)?;
    Ok((amount_minor - commission, commission))
}

/// The lines of a buyer paying `amount_minor` from the wallet for a seller's
/// product at `rate_bp` commission: debit the wallet, credit the seller's
/// payable with its part and the platform's commission with the rest (a zero
/// part gets no line).
pub fn sale_lines(
    buyer_id: &str,
    seller_id: &str,
    currency: &str,
    amount_minor: i64,
    rate_bp: i64,
) -> Result<Vec<Line>, LedgerError> {
    let (seller_part, commission) = split_commission(amount_minor, rate_bp)?;
    let mut lines = vec![Line::debit(buyer_wallet(buyer_id), currency, amount_minor)];
    if seller_part > 0 {
        lines.push(Line::credit(seller_payable(seller_id), currency, seller_part));
    }
    if commission > 0 {
        lines.push(Line::credit(PLATFORM_COMMISSION, currency, commission));
    }
    Ok(lines)
}

#[cfg(test)]
mod account_pattern_tests {
    use super::*;

    #[test]
    fn the_account_pattern_is_account_kind() {
        let re = regex::Regex::new(&account_filter_pattern()).unwrap();
        for code in [
            "buyer_wallet:acc_1",
            "seller_payable:acc-X_9",
            "platform_cash:manual",
            "platform_commission",
            "refunds_clearing",
            "buyer_wallet",
            "buyer_wallet:",
            "platform_commission:x",
            "nope",
            "buyer_wallet:a b",
            "x:y",
        ] {
            assert_eq!(re.is_match(code), account_kind(code).is_some(), "{code}");
        }
        let long = format!("buyer_wallet:{}", "a".repeat(101));
        assert!(!re.is_match(&long) && account_kind(&long).is_none());
        assert!(re.is_match(""), "empty: no filter");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const B: &str = "acc_0193aaaa";

    fn top_up(amount: i64) -> Result<Entry, LedgerError> {
        Entry::new(
            EntryKind::TopUp,
            "pay_1",
            "credit",
            vec![Line::debit(platform_cash("manual"), "CNY", amount), Line::credit(buyer_wallet(B), "CNY", amount)],
        )
    }

    #[test]
    fn account_codes() {
        assert_eq!(account_kind(&buyer_wallet(B)), Some(AccountKind::BuyerWallet));
        assert_eq!(account_kind(&seller_payable(B)), Some(AccountKind::SellerPayable));
        assert_eq!(account_kind("platform_cash:manual"), Some(AccountKind::PlatformCash));
        assert_eq!(account_kind(PLATFORM_COMMISSION), Some(AccountKind::PlatformCommission));
        assert_eq!(account_kind(REFUNDS_CLEARING), Some(AccountKind::RefundsClearing));
        for bad in ["", "buyer_wallet", "buyer_wallet:", "buyer_wallet:a b", "platform_commission:x", "nope:x"] {
            assert_eq!(account_kind(bad), None, "{bad}");
        }
        assert_eq!(wallet_owner(&buyer_wallet(B)), Some(B));
        assert_eq!(wallet_owner(&seller_payable(B)), None);
        assert_eq!(AccountKind::BuyerWallet.normal_side(), NormalSide::Credit);
        assert_eq!(AccountKind::PlatformCash.normal_side(), NormalSide::Debit);
    }

    #[test]
    fn entries_must_balance() {
        assert!(top_up(100).is_ok());
        assert_eq!(top_up(0), Err(LedgerError::BadAmount(0)));
        assert_eq!(top_up(-5), Err(LedgerError::BadAmount(0)));
        assert_eq!(top_up(MAX_PRICE_MINOR + 1), Err(LedgerError::BadAmount(0)));
        let lopsided = Entry::new(
            EntryKind::TopUp,
            "r",
            "",
            vec![Line::debit(platform_cash("manual"), "CNY", 100), Line::credit(buyer_wallet(B), "CNY", 99)],
        );
        assert!(matches!(lopsided, Err(LedgerError::Unbalanced { .. })));
        // Balanced in total but not per currency.
        let mixed = Entry::new(
            EntryKind::TopUp,
            "r",
            "",
            vec![Line::debit(platform_cash("manual"), "CNY", 100), Line::credit(buyer_wallet(B), "USD", 100)],
        );
        assert!(matches!(mixed, Err(LedgerError::Unbalanced { .. })));
        assert_eq!(Entry::new(EntryKind::TopUp, "r", "", vec![]), Err(LedgerError::TooFewLines));
        let both = Line { account: buyer_wallet(B), currency: "CNY".into(), debit_minor: 1, credit_minor: 1 };
        assert_eq!(Entry::new(EntryKind::TopUp, "r", "", vec![both.clone(), both]), Err(LedgerError::BadAmount(0)));
        let bad_account = Entry::new(
            EntryKind::TopUp,
            "r",
            "",
            vec![Line::debit("cash", "CNY", 1), Line::credit(buyer_wallet(B), "CNY", 1)],
        );
        assert!(matches!(bad_account, Err(LedgerError::BadAccount(0, _))));
        let bad_currency = Entry::new(
            EntryKind::TopUp,
            "r",
            "",
            vec![Line::debit(platform_cash("manual"), "XXX", 1), Line::credit(buyer_wallet(B), "XXX", 1)],
        );
        assert!(matches!(bad_currency, Err(LedgerError::BadCurrency(0, _))));
        assert!(matches!(
            Entry::new(EntryKind::TopUp, "", "", top_up(1).unwrap().lines().to_vec()),
            Err(LedgerError::BadReference)
        ));
    }

    #[test]
    fn reversal_undoes_and_deltas_net() {
        let e = top_up(250).unwrap();
        let r = e.reversal(EntryKind::Refund, "ref_1", "undo").unwrap();
        let mut net: BTreeMap<(String, String), i64> = BTreeMap::new();
        for l in e.lines().iter().chain(r.lines()) {
            *net.entry((l.account.clone(), l.currency.clone())).or_default() += l.signed_minor();
        }
        assert!(net.values().all(|v| *v == 0));
        let d = e.deltas().unwrap();
        assert_eq!(d[&(buyer_wallet(B), "CNY".to_string())], (0, 250));
    }

    #[test]
    fn commission_split_rounds_down_for_the_platform() {
        assert_eq!(split_commission(9900, 2000), Ok((7920, 1980)));
        assert_eq!(split_commission(1, 2000), Ok((1, 0)));
        assert_eq!(split_commission(99, 1000), Ok((90, 9)));
        assert_eq!(split_commission(100, 0), Ok((100, 0)));
        assert_eq!(split_commission(100, 10_000), Ok((0, 100)));
        assert_eq!(split_commission(100, 10_001), Err(LedgerError::BadRate));
        assert_eq!(split_commission(100, -1), Err(LedgerError::BadRate));
        assert!(split_commission(-1, 100).is_err());
    }

    #[test]
    fn sale_lines_balance() {
        let lines = sale_lines(B, "acc_s", "CNY", 9900, 2000).unwrap();
        assert_eq!(lines.len(), 3);
        assert!(Entry::new(EntryKind::Payment, "ord_1", "", lines).is_ok());
        // A 0% commission has no commission line.
        assert_eq!(sale_lines(B, "acc_s", "CNY", 9900, 0).unwrap().len(), 2);
    }

    fn arb_line() -> impl Strategy<Value = Line> {
        (
            prop_oneof![Just(buyer_wallet(B)), Just(seller_payable("s1")), Just(PLATFORM_COMMISSION.to_string())],
            prop_oneof![Just("CNY"), Just("USD")],
            1..=MAX_PRICE_MINOR,
            any::<bool>(),
        )
            .prop_map(|(a, c, n, debit)| if debit { Line::debit(a, c, n) } else { Line::credit(a, c, n) })
    }

    proptest! {
        #[test]
        fn split_parts_sum_to_the_amount(amount in 0..=MAX_PRICE_MINOR, rate in 0..=BP_WHOLE) {
            let (seller, commission) = split_commission(amount, rate).unwrap();
            prop_assert_eq!(seller + commission, amount);
            prop_assert!(seller >= 0 && commission >= 0);
            // Rounded down: never more than the exact share, less than one unit below it.
            let exact = i128::from(amount) * i128::from(rate);
            prop_assert!(i128::from(commission) * 10_000 <= exact);
            prop_assert!(exact - i128::from(commission) * 10_000 < 10_000);
        }

        /// Any set of lines, completed by one balancing line per currency,
        /// is accepted; tampering with one amount is refused.
        #[test]
        fn balanced_lines_are_accepted_and_tampering_is_refused(
            mut lines in proptest::collection::vec(arb_line(), 1..8),
            bump in 1..1000i64,
        ) {
            let sums = totals(&lines).unwrap();
            for (currency, (d, c)) in &sums {
                let diff = d - c;
                // Split big differences so every line stays within the limit.
                let mut rest = diff.abs();
                while rest > 0 {
                    let part = rest.min(MAX_PRICE_MINOR);
                    let acct = platform_cash("manual");
                    lines.push(if diff > 0 { Line::credit(acct, currency, part) } else { Line::debit(acct, currency, part) });
                    rest -= part;
                }
            }
            if lines.len() < 2 {
                return Ok(());
            }
            let entry = Entry::new(EntryKind::Adjustment, "r", "", lines.clone());
            prop_assert!(entry.is_ok(), "{:?}", entry);
            let entry = entry.unwrap();
            let net: i64 = entry.deltas().unwrap().values().map(|(d, c)| d - c).sum();
            prop_assert_eq!(net, 0);
            let reversed = entry.reversal(EntryKind::Refund, "r2", "");
            prop_assert!(reversed.is_ok());

            let mut tampered = lines;
            let l = &mut tampered[0];
            let side = if l.debit_minor > 0 { &mut l.debit_minor } else { &mut l.credit_minor };
            // Stays within 1..=MAX_PRICE_MINOR either way.
            *side = if *side > bump { *side - bump } else { *side + bump };
            let refused = Entry::new(EntryKind::Adjustment, "r", "", tampered);
            prop_assert!(matches!(refused, Err(LedgerError::Unbalanced { .. })), "{:?}", refused);
        }
    }
}
