//! Invoices (开票) and their return (退票): who issues one, what a buyer may
//! ask for, the lifecycle, the numbering and the amounts. No IO.
//!
//! # Who issues ([`InvoiceIssuer::for_cooperation`])
//!
//! As the marketplace's seeds split it: a joint-operation product (联营) is
//! sold by the marketplace, so the platform invoices it; a
//! general-cooperation product (通用) is sold by its seller under its own
//! terms, so the seller does.
//!
//! # The lifecycle ([`InvoiceStatus::next`])
//!
//! ```text
//! requested --issue (issuer: number assigned)--> issued --return (buyer: reason; credit note)--> returned
//! requested --reject (issuer: reason)--> rejected
//! ```
//!
//! A returned or rejected invoice is closed: the order may be invoiced
//! again ([`InvoiceStatus::is_open`]).
//!
//! # Numbers ([`document_number`])
//!
//! Each issuer numbers its invoices and its credit notes in two sequences
//! of its own, restarting every calendar year: `INV-2026-000001`,
//! `CN-2026-000001`.
//!
//! # Amounts ([`amounts`])
//!
//! What the buyer paid for the order (its payment entry's debit of the
//! buyer's wallet) minus what was refunded of it; amounts are
//! tax-inclusive and the invoice shows the tax contained at the issuer's
//! rate, `total - round(total x 10000 / (10000 + rate))` half away from zero
//! ([`crate::settlement::tax_contained`]).

use crate::catalog::Cooperation;
use crate::settlement::tax_contained;
use crate::validation::{Checker, Invalid};

string_enum!(
    /// Where an invoice stands ([`InvoiceStatus::next`]).
    InvoiceStatus {
        Requested => "requested",
        Issued => "issued",
        Returned => "returned",
        Rejected => "rejected",
    }
);

string_enum!(
    /// A step of an invoice's lifecycle: the buyer requests it; its issuer
    /// issues it (or rejects the request with a reason); the buyer returns
    /// an issued one with a reason, which makes the credit note.
    InvoiceAction {
        Request => "request",
        Issue => "issue",
        Reject => "reject",
        Return => "return",
    }
);

string_enum!(
    /// Who issues an invoice: the platform (joint-operation products) or
    /// the seller (general-cooperation products).
    InvoiceIssuer {
        Platform => "platform",
        Seller => "seller",
    }
);

string_enum!(
    /// The documents of an invoice: the invoice itself and, once it is
    /// returned, the credit note that cancels it.
    InvoiceDocument {
        Invoice => "invoice",
        CreditNote => "credit_note",
    }
);

/// The issuer id of invoices the platform issues (a seller's is its
/// account id).
pub const PLATFORM_ISSUER_ID: &str = "platform";
/// Longest invoice title (the buyer's name as invoiced), in characters.
pub const TITLE_MAX: usize = 200;
/// Longest invoice address, in characters.
pub const ADDRESS_MAX: usize = 500;
/// Longest reason for returning or rejecting an invoice, in characters.
pub const REASON_MAX: usize = 500;

impl InvoiceIssuer {
    /// Joint operation: the platform; general cooperation: the seller.
    pub const fn for_cooperation(c: Cooperation) -> InvoiceIssuer {
        match c {
            Cooperation::Joint => InvoiceIssuer::Platform,
            Cooperation::General => InvoiceIssuer::Seller,
        }
    }
}

impl InvoiceDocument {
    /// The number prefix of its sequence.
    pub const fn series(self) -> &'static str {
        match self {
            InvoiceDocument::Invoice => "INV",
            InvoiceDocument::CreditNote => "CN",
        }
    }
}

/// An invoice step that does not apply where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an invoice that is {status}")]
pub struct InvoiceOutOfOrder {
    pub status: InvoiceStatus,
    pub action: InvoiceAction,
}

impl InvoiceStatus {
    /// The lifecycle (see the module documentation). `request` only starts
    /// one, so it applies to no status.
    pub fn next(self, action: InvoiceAction) -> Result<InvoiceStatus, InvoiceOutOfOrder> {
        use InvoiceAction as A;
        use InvoiceStatus as S;
        match (self, action) {
            (S::Requested, A::Issue) => Ok(S::Issued),
            (S::Requested, A::Reject) => Ok(S::Rejected),
            (S::Issued, A::Return) => Ok(S::Returned),
            _ => Err(InvoiceOutOfOrder { status: self, action }),
        }
    }

    /// Requested or issued: the order has this invoice and no other.
    pub const fn is_open(self) -> bool {
        matches!(self, InvoiceStatus::Requested | InvoiceStatus::Issued)
    }
}

/// `INV-2026-000001`: the document's series, the year, the sequence number
/// (at least six digits).
pub fn document_number(doc: InvoiceDocument, year: i32, seq: i64) -> String {
    format!("{}-{year:04}-{seq:06}", doc.series())
}

/// The characters of a unified social credit code, in the order of their
/// values (GB 32100-2015: digits and capitals without I, O, Z, S, V).
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters: 3^i mod 31.
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Longest tax id accepted as sent (spaces included).
pub const TAX_ID_MAX: usize = 64;
/// Length of a unified social credit code.
pub const USCC_LEN: usize = 18;

fn uscc_value(c: u8) -> Option<u32> {
    USCC_ALPHABET.iter().position(|&a| a == c).map(|v| v as u32)
}

/// The check character (the 18th) of a unified social credit code whose
/// first 17 characters are `body`: `31 - (sum of value x weight) mod 31`,
/// 31 read as 0. None when `body` is not 17 characters of the alphabet.
pub fn uscc_check_char(body: &str) -> Option<char> {
    let bytes = body.as_bytes();
    if bytes.len() != USCC_LEN - 1 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in bytes.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_ALPHABET[check as usize] as char)
}

/// The kinds of tax id an invoice takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxIdKind {
    /// 统一社会信用代码 (China, GB 32100-2015).
    UnifiedSocialCreditCode,
    /// A VAT number in the EU style: a two-letter country prefix and 2-12
    /// letters or digits.
    Vat,
}

/// A buyer's tax id, as it is printed: spaces removed, letters in capitals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxId {
    text: String,
    kind: TaxIdKind,
}

/// What a tax id must look like, for error messages.
pub const TAX_ID_RULE: &str = "must be a unified social credit code (统一社会信用代码: 18 characters of digits and capitals without I, O, Z, S, V, the last a check character) or a VAT number (a two-letter country prefix and 2-12 letters or digits, e.g. DE123456789)";

impl TaxId {
    /// Reads `text` (spaces ignored, other white space refused, letters in
    /// any case); the message says what is wrong.
    pub fn parse(text: &str) -> Result<TaxId, String> {
        if text.chars().count() > TAX_ID_MAX {
            return Err(format!("must be at most {TAX_ID_MAX} characters"));
        }
        let t: String = text.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
        if t.is_empty() {
            return Err("must not be empty".into());
        }
        if !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("{TAX_ID_RULE}; only letters and digits are allowed"));
        }
        let b = t.as_bytes();
        // A VAT number is at most 14 characters: an 18-character id is a
        // credit code or nothing.
        if b.len() == USCC_LEN {
            if let Some(bad) = b.iter().find(|c| uscc_value(**c).is_none()) {
                return Err(format!(
                    "is not a unified social credit code: {:?} is not one of its characters (digits and capitals without I, O, Z, S, V)",
                    *bad as char
                ));
            }
            let expected = uscc_check_char(&t[..USCC_LEN - 1]).expect("17 characters of the alphabet");
            if b[USCC_LEN - 1] as char != expected {
                return Err("is not a valid unified social credit code: its check character (the 18th) does not match the first 17".into());
            }
            return Ok(TaxId { text: t, kind: TaxIdKind::UnifiedSocialCreditCode });
        }
        let vat = (4..=14).contains(&b.len()) && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic();
        if vat {
            return Ok(TaxId { text: t, kind: TaxIdKind::Vat });
        }
        Err(TAX_ID_RULE.into())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> TaxIdKind {
        self.kind
    }
}

/// What a buyer asks to be invoiced as, checked: every invalid field is
/// named at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    /// The buyer's name as invoiced (trimmed, 1-200 characters).
    pub title: String,
    pub tax_id: TaxId,
    /// Trimmed, 1-500 characters.
    pub address: String,
}

impl Addressee {
    pub fn parse(title: &str, tax_id: &str, address: &str) -> Result<Addressee, Invalid> {
        let mut check = Checker::new();
        check.text("title", title, 1, TITLE_MAX);
        check.check(!title.contains(['\n', '\r']), "title", "must be one line");
        check.text("address", address, 1, ADDRESS_MAX);
        let tax = TaxId::parse(tax_id);
        if let Err(message) = &tax {
            check.add("tax_id", message.clone());
        }
        check.finish()?;
        Ok(Addressee {
            title: title.trim().to_string(),
            tax_id: tax.expect("checked above"),
            address: address.trim().to_string(),
        })
    }
}

/// The JSON Schema of a title: as `Checker::text(1, TITLE_MAX)` checks it,
/// and on one line.
pub fn title_schema() -> serde_json::Value {
    use crate::schema::{BLANK, CONTROL};
    let pattern = format!("^[^{CONTROL}\\n\\r]*[^{BLANK}][^{CONTROL}\\n\\r]*$");
    crate::schema::matching(&pattern, 1, TITLE_MAX)
}

/// The shape of a tax id as a regex (spaces anywhere, letters in either
/// case): 18 characters of the credit-code alphabet, or two letters and
/// 2-12 letters or digits. The credit code's check character is not a
/// shape: it is checked beyond the schema ([`TaxId::parse`]).
pub const TAX_ID_PATTERN: &str = "^ *(?:[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy](?: *[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]){17}|[A-Za-z] *[A-Za-z](?: *[A-Za-z0-9]){2,12}) *$";

/// The JSON Schema of a tax id ([`TAX_ID_PATTERN`], at most 64 characters).
pub fn tax_id_schema() -> serde_json::Value {
    crate::schema::matching(TAX_ID_PATTERN, 4, TAX_ID_MAX)
}

/// A reason for returning or rejecting: trimmed, 1-500 characters.
pub fn checked_reason(reason: &str) -> Result<String, Invalid> {
    let mut check = Checker::new();
    check.text("reason", reason, 1, REASON_MAX);
    check.finish()?;
    Ok(reason.trim().to_string())
}

/// An invoice's money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceAmounts {
    /// Paid minus refunded, tax included.
    pub total_minor: i64,
    pub tax_rate_bp: i64,
    /// The tax contained in the total.
    pub tax_minor: i64,
}

/// Why an order's money cannot be invoiced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceAmountError {
    #[error("nothing is left to invoice: {paid_minor} paid, {refunded_minor} refunded")]
    NothingLeft { paid_minor: i64, refunded_minor: i64 },
    #[error("a tax rate must be 0-10000 basis points")]
    BadRate,
    #[error("the invoice's amounts overflow")]
    Overflow,
}

/// The invoice of `paid_minor` less `refunded_minor` at `rate_bp`.
pub fn amounts(paid_minor: i64, refunded_minor: i64, rate_bp: i64) -> Result<InvoiceAmounts, InvoiceAmountError> {
    if !(0..=10_000).contains(&rate_bp) {
        return Err(InvoiceAmountError::BadRate);
    }
    let total = paid_minor.checked_sub(refunded_minor).ok_or(InvoiceAmountError::Overflow)?;
    if total <= 0 {
        return Err(InvoiceAmountError::NothingLeft { paid_minor, refunded_minor });
    }
    let tax = tax_contained(total, rate_bp).map_err(|_| InvoiceAmountError::Overflow)?;
    Ok(InvoiceAmounts { total_minor: total, tax_rate_bp: rate_bp, tax_minor: tax })
}

/// Spreads `refunded` over lines that paid `paid` (oldest first), newest
/// first: a refund gives back the time bought last. Each line takes at most
/// what it paid; what is left over (more refunded than paid) is dropped.
pub fn allocate_newest_first(paid: &[i64], refunded: i64) -> Vec<i64> {
    let mut left = refunded.max(0);
    let mut out = vec![0; paid.len()];
    for (slot, &p) in out.iter_mut().zip(paid).rev() {
        let take = left.min(p.max(0));
        *slot = take;
        left -= take;
    }
    out
}

/// A tax rate setting in basis points, 0-10000 (600 = 6 %); refused when
/// the configuration is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct TaxRateBp(i64);

impl TaxRateBp {
    pub fn new(bp: i64) -> Option<TaxRateBp> {
        (0..=10_000).contains(&bp).then_some(TaxRateBp(bp))
    }

    pub const fn bp(self) -> i64 {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for TaxRateBp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bp = i64::deserialize(d)?;
        TaxRateBp::new(bp)
            .ok_or_else(|| serde::de::Error::custom(format!("{bp} is not a tax rate of 0-10000 basis points")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invoice_steps_are_exactly_the_documented_ones() {
        use InvoiceAction as A;
        use InvoiceStatus as S;
        let allowed = [
            (S::Requested, A::Issue, S::Issued),
            (S::Requested, A::Reject, S::Rejected),
            (S::Issued, A::Return, S::Returned),
        ];
        for &from in S::ALL {
            for &action in A::ALL {
                let expected = allowed.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                assert_eq!(from.next(action).ok(), expected, "{from} {action}");
            }
        }
        assert_eq!(S::Requested.next(A::Return).unwrap_err().to_string(), "cannot return an invoice that is requested");
        let open: Vec<S> = S::ALL.iter().copied().filter(|s| s.is_open()).collect();
        assert_eq!(open, [S::Requested, S::Issued]);
    }

    #[test]
    fn the_cooperation_decides_the_issuer() {
        assert_eq!(InvoiceIssuer::for_cooperation(Cooperation::Joint), InvoiceIssuer::Platform);
        assert_eq!(InvoiceIssuer::for_cooperation(Cooperation::General), InvoiceIssuer::Seller);
    }

    #[test]
    fn numbers_have_series_year_and_six_digits() {
        assert_eq!(document_number(InvoiceDocument::Invoice, 2026, 1), "INV-2026-000001");
        assert_eq!(document_number(InvoiceDocument::CreditNote, 2027, 42), "CN-2027-000042");
        assert_eq!(document_number(InvoiceDocument::Invoice, 2026, 1_234_567), "INV-2026-1234567");
    }

    #[test]
    fn known_credit_codes_check() {
        // Codes as issued; worked by hand for the first: its 17 characters
        // weigh 1,640 = 52 x 31 + 28, and 31 - 28 = 3.
        for ok in ["91350100M000100Y43", "911100001000079554", "91110000600037341L"] {
            let id = TaxId::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!((id.as_str(), id.kind()), (ok, TaxIdKind::UnifiedSocialCreditCode));
        }
        assert_eq!(uscc_check_char("91350100M000100Y4"), Some('3'));
        // Lower case and spaces are read as written on paper.
        assert_eq!(TaxId::parse(" 91350100m000100y43 ").unwrap().as_str(), "91350100M000100Y43");
        let wrong = TaxId::parse("91350100M000100Y44").unwrap_err();
        assert!(wrong.contains("check character"), "{wrong}");
        // O is not in the alphabet (it reads as 0).
        let letter = TaxId::parse("91350100MO00100Y43").unwrap_err();
        assert!(letter.contains("'O'"), "{letter}");
    }

    #[test]
    fn vat_numbers_and_garbage() {
        for ok in ["DE123456789", "FR40303265045", "ATU12345678", " nl 805612b01", "IE12"] {
            assert_eq!(TaxId::parse(ok).map(|t| t.kind()), Ok(TaxIdKind::Vat), "{ok}");
        }
        for bad in
            ["", "   ", "12345678", "D1234", "DE1", "DE1234567890123", "DE-123456789", "税号123", "123456789012345679"]
        {
            assert!(TaxId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TaxId::parse("12345").unwrap_err().contains("unified social credit code"));
        assert!(TaxId::parse(&format!("{}DE123456789", " ".repeat(60))).unwrap_err().contains("at most 64"));
    }

    #[test]
    fn an_addressee_names_every_bad_field() {
        let a = Addressee::parse(" ACME GmbH ", "DE123456789", "Berlin").unwrap();
        assert_eq!((a.title.as_str(), a.tax_id.as_str(), a.address.as_str()), ("ACME GmbH", "DE123456789", "Berlin"));
        let e = Addressee::parse("", "12-34", &"x".repeat(ADDRESS_MAX + 1)).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["title", "address", "tax_id"]);
        assert!(Addressee::parse(&"标".repeat(TITLE_MAX), "DE123456789", "x").is_ok());
        assert!(Addressee::parse(&"标".repeat(TITLE_MAX + 1), "DE123456789", "x").is_err());
        assert!(Addressee::parse("two\nlines", "DE123456789", "x").is_err());
        assert_eq!(checked_reason("  wrong title ").unwrap(), "wrong title");
        assert!(checked_reason(" ").is_err());
    }

    #[test]
    fn amounts_are_paid_less_refunded_with_the_tax_contained() {
        // 50,000 at 6 %: 50,000 - round(47,169.81) = 2,830.
        assert_eq!(
            amounts(50_000, 0, 600),
            Ok(InvoiceAmounts { total_minor: 50_000, tax_rate_bp: 600, tax_minor: 2_830 })
        );
        assert_eq!(amounts(19_800, 9_900, 600).unwrap().total_minor, 9_900);
        assert_eq!(amounts(100, 0, 0).unwrap().tax_minor, 0);
        assert!(matches!(amounts(9_900, 9_900, 600), Err(InvoiceAmountError::NothingLeft { .. })));
        assert_eq!(amounts(100, 0, 10_001), Err(InvoiceAmountError::BadRate));
        assert_eq!(allocate_newest_first(&[100, 50, 30], 60), [0, 30, 30]);
        assert_eq!(allocate_newest_first(&[100, 50], 1_000), [100, 50]);
        assert_eq!(allocate_newest_first(&[], 10), Vec::<i64>::new());
    }

    #[test]
    fn tax_rate_settings_are_checked() {
        let ok: TaxRateBp = serde_json::from_str("600").unwrap();
        assert_eq!(ok.bp(), 600);
        assert!(serde_json::from_str::<TaxRateBp>("10001").is_err());
        assert!(serde_json::from_str::<TaxRateBp>("-1").is_err());
    }

    #[test]
    fn the_published_shapes_are_what_is_checked() {
        let tax = regex::Regex::new(TAX_ID_PATTERN).unwrap();
        for ok in ["91350100M000100Y43", "9135 0100 m000 100y 43", "DE123456789", "de 12", " ATU12345678 "] {
            assert!(tax.is_match(ok) && TaxId::parse(ok).is_ok(), "{ok}");
        }
        // The shape holds, the check character does not: refused beyond the schema.
        assert!(tax.is_match("91350100M000100Y44") && TaxId::parse("91350100M000100Y44").is_err());
        for bad in ["0", "12345", "DE1", "DE-123", "91350100MI00100Y43", "DE1234567890123", "税号", "D\u{3000}E12"] {
            assert!(!tax.is_match(bad) && TaxId::parse(bad).is_err(), "{bad}");
        }
        let title = regex::Regex::new(title_schema()["pattern"].as_str().unwrap()).unwrap();
        for (text, ok) in
            [("Acme GmbH", true), ("云数据科技有限公司", true), ("  ", false), ("two\nlines", false), ("tab\tok", true)]
        {
            assert_eq!(title.is_match(text), ok, "{text:?}");
            assert_eq!(Addressee::parse(text, "DE123456789", "x").is_ok(), ok, "{text:?}");
        }
    }

    fn body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 17)
            .prop_map(|v| v.into_iter().map(|i| USCC_ALPHABET[i] as char).collect())
    }

    proptest! {
        /// Any 17 characters with their check character make a code, and
        /// changing any one character of it (check character included) to
        /// another of the alphabet is caught: the weights are non-zero
        /// modulo the prime 31.
        #[test]
        fn every_single_substitution_is_caught(b in body(), pos in 0usize..18, to in 1usize..31) {
            let code = format!("{b}{}", uscc_check_char(&b).unwrap());
            prop_assert!(TaxId::parse(&code).is_ok());
            let mut bytes = code.clone().into_bytes();
            let old = uscc_value(bytes[pos]).unwrap() as usize;
            bytes[pos] = USCC_ALPHABET[(old + to) % 31];
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(TaxId::parse(&changed).is_err(), "{} accepted", changed);
        }

        #[test]
        fn refunds_go_to_the_newest_lines_first(
            paid in proptest::collection::vec(0i64..100_000, 0..6),
            refunded in 0i64..400_000,
        ) {
            let a = allocate_newest_first(&paid, refunded);
            let sum: i64 = paid.iter().sum();
            prop_assert_eq!(a.iter().sum::<i64>(), refunded.min(sum));
            for (i, (&took, &p)) in a.iter().zip(&paid).enumerate() {
                prop_assert!(0 <= took && took <= p);
                if took > 0 {
                    prop_assert!(a[i + 1..].iter().zip(&paid[i + 1..]).all(|(t, p)| t == p), "newer lines first");
                }
            }
        }

        #[test]
        fn the_tax_stays_inside_the_total(total in 1i64..1_000_000_000_000, rate in 0i64..=10_000) {
            let a = amounts(total, 0, rate).unwrap();
            prop_assert!(0 <= a.tax_minor && a.tax_minor <= a.total_minor / 2 + 1);
        }
    }
}
