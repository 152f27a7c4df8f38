//! Usage push (seller interface spec §6-§7): a seller sends up to 1000 usage
//! records (话单) per signed open-API call; Mercato checks their shape in
//! memory ([`mercato_domain::usage`]) and stores the whole batch durably in one
//! write transaction before answering.
//!
//! Rules of this increment:
//! - authentication is the open API's AK/SK signature over the exact body
//!   bytes ([`open_api::authenticate`]);
//! - shape errors reject the whole call and store nothing: MKT.0100 (missing or
//!   empty `usage_records`, malformed JSON, a bad or missing value, a
//!   metering_sn repeated inside the batch; the message names
//!   `usage_records[i].field`), MKT.0101 (unknown fields, named), MKT.9003
//!   (more than 1000 records); all with HTTP 400, like the order query's
//!   input errors;
//! - accepted records are inserted with `ON CONFLICT (seller_id, metering_sn)
//!   DO NOTHING`, so a retried push changes nothing: the answer counts the
//!   new records (`accepted`) and those already stored under the same
//!   metering_sn (`already_received`); `received_at` is the marketplace clock.
//!
//! Next increment: a job (see `app::jobs`) takes `status = 'received'` rows in
//! `received_at` order and applies spec §7's business rules with the
//! marketplace clock: the instance exists, is on-demand and belongs to the
//! seller (else an error record, MKT.0150 / MKT.9001 style), begin_time >=
//! instance start, end_time <= reporting time and <= close time for closed
//! instances, begin_time within 21 days (MKT.9004), the billing period not yet
//! closed, and the same (instance, begin, end) as an earlier record ->
//! 'duplicate'. Failures become 'error' rows with error_code / error_reason
//! that the seller lists and resends; good rows are rated per hour/day and
//! charged.

use crate::app::open_api::{self, OpenApiError, OpenApiResult};
use crate::state::AppState;
use axum::http::StatusCode;
use mercato_domain::usage::{self, BatchError};
use mercato_store::StoreError;
use mercato_store::repo::usage as usage_repo;
use serde::Serialize;
use utoipa::ToSchema;

pub const INVALID_PARAMETER: &str = "MKT.0101";
pub const TOO_MANY_RECORDS: &str = "MKT.9003";

/// A usage record as pushed (the wire shape, for the API document; parsing and
/// the rules are in [`mercato_domain::usage`]).
#[derive(Debug, ToSchema)]
pub struct UsageRecordInput {
    /// The on-demand instance (1-64 characters).
    pub instance_id: String,
    /// The seller's unique record id (1-64 characters); a record is stored once per seller and metering_sn.
    pub metering_sn: String,
    /// `yyyyMMdd'T'HHmmss'Z'` UTC.
    #[schema(example = "20261122T130500Z")]
    pub record_time: Option<String>,
    /// `yyyyMMdd'T'HHmmss'Z'` UTC.
    #[schema(example = "20261122T120000Z")]
    pub begin_time: String,
    /// `yyyyMMdd'T'HHmmss'Z'` UTC, not before begin_time.
    #[schema(example = "20261122T125959Z")]
    pub end_time: String,
    /// A JSON number or decimal string greater than 0 with at most 4 decimals, in the SKU's metering unit.
    #[schema(example = "12.3456")]
    pub usage_value: String,
    /// The quota-package instance the usage draws on, if any.
    pub relate_pkg_instance: Option<String>,
}

/// A usage push: 1 to 1000 records.
#[derive(Debug, ToSchema)]
pub struct UsagePushRequest {
    pub usage_records: Vec<UsageRecordInput>,
}

/// The answer to an accepted push.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsagePushResponse {
    /// `MKT.0000`.
    pub error_code: String,
    pub error_msg: String,
    /// Records stored by this call.
    pub accepted: u64,
    /// Records of the batch already stored earlier under the same
    /// `metering_sn` (a retried push); they are left unchanged.
    pub already_received: u64,
}

fn refusal(e: &BatchError) -> OpenApiError {
    let code = match e {
        BatchError::TooMany(_) => TOO_MANY_RECORDS,
        BatchError::UnknownFields(_) => INVALID_PARAMETER,
        BatchError::Malformed(_) | BatchError::Empty | BatchError::Invalid(_) => open_api::INVALID_INPUT,
    };
    OpenApiError::new(StatusCode::BAD_REQUEST, code, e.message())
}

/// Shape-checks the batch and stores it for the (authenticated) seller.
pub async fn push(state: &AppState, seller_id: &str, body: &[u8]) -> OpenApiResult<UsagePushResponse> {
    let mut records = usage::parse_batch(body).map_err(|e| refusal(&e))?;
    // One key order for every transaction: overlapping concurrent pushes
    // then wait on each other instead of deadlocking.
    records.sort_unstable_by(|a, b| a.metering_sn.cmp(&b.metering_sn));
    let total = records.len() as u64;
    let tx = state.db.write().await.map_err(StoreError::from)?;
    let accepted = usage_repo::insert_received(&tx, seller_id, state.now(), &records).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(UsagePushResponse {
        error_code: open_api::SUCCESS.into(),
        error_msg: "success".into(),
        accepted,
        already_received: total.saturating_sub(accepted),
    })
}
