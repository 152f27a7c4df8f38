//! The payout-provider seam, like the wallet's payment seam
//! (`app::payments`): money leaves the marketplace to a seller through a
//! provider, and adding a real one (a bank's API, a payment platform's
//! transfers) means implementing [`PayoutProvider`] and registering it in
//! [`provider`]; the statement lifecycle does not change.
//!
//! The built-in `manual` provider records a transfer the operator made
//! (one by one, or in a batch from the bank file `bank_file` exports): it
//! succeeds at once with the operator's bank reference. Paying posts the
//! payout entry debit `seller_payable:<seller>`, credit
//! `platform_cash:<provider>`.

use mercato_domain::settlement::PayoutMethod;
use std::future::Future;
use std::pin::Pin;

/// What to pay.
#[derive(Debug, Clone)]
pub struct PayoutRequest<'a> {
    pub statement_id: &'a str,
    pub seller_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    /// The operator's reference (for `manual`: the bank's).
    pub reference: &'a str,
}

/// The provider's answer: its reference for the transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub reference: String,
}

pub type PayoutFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Sent>> + Send + 'a>>;

/// A way of paying a seller.
pub trait PayoutProvider: Send + Sync {
    /// Names the provider's cash account (`platform_cash:<name>`).
    fn method(&self) -> PayoutMethod;

    /// Sends the payout. Errors are the provider refusing or unreachable:
    /// nothing is recorded and the statement stays approved.
    fn send<'a>(&'a self, req: PayoutRequest<'a>) -> PayoutFuture<'a>;
}

/// A transfer the operator made: succeeds at once with their reference.
pub struct ManualPayout;

impl PayoutProvider for ManualPayout {
    fn method(&self) -> PayoutMethod {
        PayoutMethod::Manual
    }

    fn send<'a>(&'a self, req: PayoutRequest<'a>) -> PayoutFuture<'a> {
        Box::pin(async move { Ok(Sent { reference: req.reference.to_string() }) })
    }
}

static MANUAL: ManualPayout = ManualPayout;

/// Sends `req` through the provider for `method`: its reference, or 502
/// `payout_failed` (nothing recorded) when it refused or was unreachable.
pub async fn send(method: PayoutMethod, req: PayoutRequest<'_>) -> crate::app::error::AppResult<Sent> {
    provider(method).send(req).await.map_err(|e| {
        crate::app::error::AppError::new(
            crate::app::error::Refusal::BadGateway,
            "payout_failed",
            format!("the {method} payout was not made: {e:#}"),
        )
    })
}

/// The provider for `method`.
pub fn provider(method: PayoutMethod) -> &'static dyn PayoutProvider {
    match method {
        PayoutMethod::Manual => &MANUAL,
    }
}
