//! The payment-provider seam. Money enters the marketplace through a
//! provider; orders only ever see wallet balances, so adding a real gateway
//! means implementing [`PaymentProvider`] and registering it in [`provider`],
//! nothing in orders changes.
//!
//! The built-in `manual` provider is an operator's credit: it always succeeds
//! at once and its reference is the operator's reason. A gateway whose
//! collection finishes later (redirect, webhook) returns
//! [`PaymentStatus::Pending`]: the payment is recorded without a ledger entry,
//! and completing it later posts the top-up.

use crate::app::error::{AppError, AppResult};
use crate::app::ledger;
use chrono::{DateTime, Utc};
use mercato_domain::ids::PaymentId;
use mercato_domain::ledger::{Entry, EntryKind, Line, PaymentStatus, buyer_wallet, platform_cash};
use mercato_store::Executor;
use mercato_store::entity::payment;
use mercato_store::repo::ledger::payments;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use utoipa::ToSchema;

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectRequest<'a> {
    pub payment_id: &'a str,
    pub buyer_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reason: &'a str,
}

/// The provider's answer: its own reference and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    pub provider_ref: String,
    pub status: PaymentStatus,
}

pub type ProviderFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Collected>> + Send + 'a>>;

/// A way of collecting money from a buyer.
pub trait PaymentProvider: Send + Sync {
    /// Stored with each payment, and names the provider's cash account
    /// (`platform_cash:<name>`).
    fn name(&self) -> &'static str;

    /// Collects a top-up. Errors are the provider being unreachable or
    /// broken; a refusal is `Ok` with [`PaymentStatus::Failed`].
    fn collect<'a>(&'a self, req: CollectRequest<'a>) -> ProviderFuture<'a>;
}

/// An operator's credit: succeeds at once; the reference is the reason.
pub struct ManualProvider;

impl PaymentProvider for ManualProvider {
    fn name(&self) -> &'static str {
        "manual"
    }

    fn collect<'a>(&'a self, req: CollectRequest<'a>) -> ProviderFuture<'a> {
        Box::pin(
            async move { Ok(Collected { provider_ref: req.reason.to_string(), status: PaymentStatus::Succeeded }) },
        )
    }
}

static MANUAL: ManualProvider = ManualProvider;

/// The provider called `name`, if this build has it.
pub fn provider(name: &str) -> Option<&'static dyn PaymentProvider> {
    match name {
        "manual" => Some(&MANUAL),
        _ => None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub provider: String,
    pub buyer_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub provider_ref: String,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A validated top-up, collected by `provider` on behalf of `created_by`.
pub struct TopUp<'a> {
    pub buyer_id: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reason: &'a str,
    pub created_by: &'a str,
}

/// Collects a top-up through `provider` and records it in `tx`: the payment
/// row and, when it succeeded, the entry debit `platform_cash:<provider>` /
/// credit `buyer_wallet:<buyer>` (returned as the entry id).
pub async fn top_up(
    tx: &impl Executor,
    provider: &dyn PaymentProvider,
    t: TopUp<'_>,
    now: DateTime<Utc>,
) -> AppResult<(PaymentView, Option<String>)> {
    let id = String::from(PaymentId::new());
    let collected = provider
        .collect(CollectRequest {
            payment_id: &id,
            buyer_id: t.buyer_id,
            amount_minor: t.amount_minor,
            currency: t.currency,
            reason: t.reason,
        })
        .await
        .map_err(|e| AppError::internal(format!("payment provider {}: {e:#}", provider.name())))?;
    let row = payment::Model {
        id: id.clone(),
        provider: provider.name().to_string(),
        buyer_id: t.buyer_id.to_string(),
        amount_minor: t.amount_minor,
        currency: t.currency.to_string(),
        status: collected.status,
        provider_ref: collected.provider_ref.clone(),
        reason: t.reason.to_string(),
        created_by: t.created_by.to_string(),
        created_at: now,
    };
    payments::insert(tx, row).await?;
    let entry_id = if collected.status == PaymentStatus::Succeeded {
        let entry = Entry::new(
            EntryKind::TopUp,
            id.clone(),
            t.reason.chars().take(mercato_domain::ledger::MEMO_MAX).collect::<String>(),
            vec![
                Line::debit(platform_cash(provider.name()), t.currency, t.amount_minor),
                Line::credit(buyer_wallet(t.buyer_id), t.currency, t.amount_minor),
            ],
        )
        .map_err(AppError::internal)?;
        Some(ledger::post_entry(tx, &entry, now).await?)
    } else {
        None
    };
    let view = PaymentView {
        id,
        provider: provider.name().to_string(),
        buyer_id: t.buyer_id.to_string(),
        amount_minor: t.amount_minor,
        currency: t.currency.to_string(),
        status: collected.status,
        provider_ref: collected.provider_ref,
        reason: t.reason.to_string(),
        created_by: t.created_by.to_string(),
        created_at: now,
    };
    Ok((view, entry_id))
}
