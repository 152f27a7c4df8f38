//! Usage push (seller interface spec §6-§7): a seller sends up to 1000 usage
//! records (话单) per signed open-API call; Mercato checks their shape in
//! memory ([`mercato_domain::usage`]) and stores the whole batch durably in one
//! write transaction before answering.
//!
//! Rules of this increment:
//! - authentication is the open API's AK/SK signature over the exact body
//!   bytes (checked in `http/signed_api.rs` before the push is read);
//! - shape errors reject the whole call and store nothing: MKT.0100 (missing or
//!   empty `usage_records`, malformed JSON, a bad or missing value, a
//!   metering_sn repeated inside the batch; the message names
//!   `usage_records[i].field`), MKT.0101 (unknown fields, named), MKT.9003
//!   (more than 1000 records); all with HTTP 400, like the order query's
//!   input errors;
//! - accepted records are inserted with `ON CONFLICT (seller_id, metering_sn)
//!   DO UPDATE ... WHERE status = 'error'`, so a retried push changes
//!   nothing: the answer counts the new (or replaced) records (`accepted`)
//!   and those already stored under the same metering_sn
//!   (`already_received`); `received_at` is the marketplace clock;
//!
//! - re-pushing a record stored as 'error' under the same metering_sn
//!   replaces it (corrected and resent): its fields are updated, it is
//!   'received' again with the error cleared, and it counts as `accepted`.
//!   'received', 'valid' and 'duplicate' records are never changed by a push.
//!
//! Validation (task [`VALIDATE_TASK`], also [`validate_all`]): takes
//! 'received' rows oldest first in chunks of [`CHUNK`], one write
//! transaction per chunk, and applies [`mercato_domain::usage::validate`]
//! with `received_at` (the marketplace clock when pushed) as the time of
//! reporting. The instance is a subscription's `instance_id`; a released
//! subscription's close time is its `updated_at` (set when it is released).
//! Failures become 'error' rows with error_code / error_reason; a valid
//! record with the same (instance, begin_time, end_time) as one pushed
//! before it (records are taken in push order: received_at, push, place in
//! the push) becomes 'duplicate' ([`DUPLICATE`], `duplicate_of` naming the first
//! metering_sn). Codes: MKT.9001 instance not found, MKT.0150 another
//! seller's instance, MKT.9002 not a pay-per-use instance or a time outside
//! the instance's life or after the time of reporting, MKT.9004 begin_time
//! older than 21 days, MKT.9005 period closed (the instance's billing period
//! holding end_time closed: by default :15 of the next hour, 01:00 of the
//! next day; `Config::close_rule`), and a `relate_pkg_instance` that is not a
//! quota package of the same buyer and product MKT.9002. A valid record is
//! stamped with its instance's billing, the period kind it is rated in.
//! Updates are conditional on the row still being 'received', and on
//! PostgreSQL chunks are serialised by a transaction-scoped advisory lock
//! (SQLite write transactions already are), so two nodes never decide a
//! record twice and duplicates see every earlier valid record.
//! Valid rows are rated and charged per closed period by
//! [`crate::app::usage::rating`].

use crate::app::signed_api::{OpenApiError, OpenApiResult};
use crate::state::AppState;
use koo::gateway::GatewayCode;
use mercato_domain::ids::UsageBatchId;
use mercato_domain::usage::{self, BatchError};
use mercato_store::StoreError;
use mercato_store::repo::usage as usage_repo;
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Records stored by this call: new ones, and error records replaced by a
    /// corrected record under the same `metering_sn` (validated again).
    pub accepted: u64,
    /// Records of the batch already stored earlier under the same
    /// `metering_sn` and not in error (a retried push); they are left unchanged.
    pub already_received: u64,
}

fn refusal(e: &BatchError) -> OpenApiError {
    let code = match e {
        BatchError::TooMany(_) => GatewayCode::TooManyRecords,
        BatchError::UnknownFields(_) => GatewayCode::InvalidParameter,
        BatchError::Malformed(_) | BatchError::Empty | BatchError::Invalid(_) => GatewayCode::InvalidInput,
    };
    OpenApiError::new(code, e.message())
}

/// Shape-checks the batch and stores it for the (authenticated) seller.
pub async fn push(state: &AppState, seller_id: &str, body: &[u8]) -> OpenApiResult<UsagePushResponse> {
    let mut records = usage::parse_batch(body).map_err(|e| refusal(&e))?;
    // One key order for every transaction: overlapping concurrent pushes
    // then wait on each other instead of deadlocking.
    records.sort_unstable_by(|a, b| a.metering_sn.cmp(&b.metering_sn));
    let total = records.len() as u64;
    let _turn = sqlite_turn(state).await;
    let tx = state.db.write().await.map_err(StoreError::from)?;
    let batch = UsageBatchId::new();
    let accepted = usage_repo::insert_received(&tx, seller_id, state.now(), batch.as_str(), &records).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(UsagePushResponse {
        error_code: GatewayCode::Success.as_str().into(),
        error_msg: "success".into(),
        accepted,
        already_received: total.saturating_sub(accepted),
    })
}

/// The periodic task that validates received records.
pub const VALIDATE_TASK: &str = "usage_validate";
/// Records decided per write transaction.
pub const CHUNK: u64 = 5000;

/// What a validation pass decided.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Validated {
    pub valid: u64,
    pub error: u64,
    pub duplicate: u64,
}

impl Validated {
    pub fn total(&self) -> u64 {
        self.valid + self.error + self.duplicate
    }
}

/// On SQLite, usage writers (pushes and validator chunks) take turns in
/// arrival order through an in-process queue before asking for the database
/// write lock: SQLite's busy handler is not fair, and under a stream of
/// 1000-record pushes a waiting writer could otherwise starve past the busy
/// timeout. PostgreSQL needs no turn (row locks).
async fn sqlite_turn(state: &AppState) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    if state.db.backend == mercato_store::Backend::Sqlite { Some(state.usage_writers.lock().await) } else { None }
}

/// Validates chunks until no 'received' record is left.
pub async fn validate_all(state: &AppState) -> Result<Validated, StoreError> {
    let mut all = Validated::default();
    loop {
        let (n, taken) = validate_chunk(state, CHUNK).await?;
        all.valid += n.valid;
        all.error += n.error;
        all.duplicate += n.duplicate;
        if taken < CHUNK {
            return Ok(all);
        }
    }
}

/// Decides the oldest `limit` received records in one write transaction:
/// a few statements whatever the chunk size (load, instances, earlier valid
/// windows, one update per outcome). Returns the outcome counts and how many
/// records were taken.
pub async fn validate_chunk(state: &AppState, limit: u64) -> Result<(Validated, u64), StoreError> {
    use mercato_store::repo::usage::{Outcome, STATUS_ERROR, STATUS_VALID};
    use std::collections::{BTreeMap, HashMap};
    let _turn = sqlite_turn(state).await;
    let tx = state.db.write().await?;
    usage_repo::lock_validator(&tx).await?;
    let rows = usage_repo::received_chunk(&tx, limit).await?;
    let taken = rows.len() as u64;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok((Validated::default(), 0));
    }
    // The instances named, and the packages records relate to.
    let mut ids: Vec<String> =
        rows.iter().flat_map(|r| std::iter::once(r.instance_id.clone()).chain(r.relate_pkg_instance.clone())).collect();
    ids.sort_unstable();
    ids.dedup();
    let instances = crate::app::usage::rating::instance_facts(&tx, &ids).await?;
    let close = state.config.close_rule();
    let mut asked: Vec<usage_repo::Window> =
        rows.iter().map(|r| (r.instance_id.clone(), r.begin_time, r.end_time)).collect();
    asked.sort_unstable();
    asked.dedup();
    // (instance, begin, end) -> the first valid metering_sn.
    let mut windows: HashMap<(String, i64, i64), String> = HashMap::new();
    for v in usage_repo::valid_windows(&tx, &asked).await? {
        let key = (v.instance_id, v.begin_time.timestamp(), v.end_time.timestamp());
        let first = windows.entry(key).or_insert_with(|| v.metering_sn.clone());
        if v.metering_sn < *first {
            *first = v.metering_sn;
        }
    }
    let mut groups: BTreeMap<Outcome, Vec<(String, String)>> = BTreeMap::new();
    let mut duplicates: Vec<(String, String, String)> = Vec::new();
    let mut counts = Validated::default();
    for r in rows {
        let facts = usage::RecordFacts {
            seller_id: &r.seller_id,
            begin_time: r.begin_time,
            end_time: r.end_time,
            received_at: r.received_at,
            package: r.relate_pkg_instance.as_ref().map(|p| instances.get(p)),
        };
        let instance = instances.get(&r.instance_id);
        let outcome = match usage::validate(&facts, instance, &close) {
            Err((code, reason)) => {
                counts.error += 1;
                Outcome {
                    status: STATUS_ERROR,
                    error_code: Some(code.into()),
                    error_reason: Some(reason),
                    duplicate_of: None,
                    billing: None,
                }
            }
            Ok(()) => {
                let key = (r.instance_id.clone(), r.begin_time.timestamp(), r.end_time.timestamp());
                match windows.get(&key) {
                    Some(first) => {
                        // Each names its own first record: one statement for
                        // all of them, not one per distinct outcome.
                        counts.duplicate += 1;
                        duplicates.push((r.seller_id, r.metering_sn, first.clone()));
                        continue;
                    }
                    None => {
                        counts.valid += 1;
                        windows.insert(key, r.metering_sn.clone());
                        Outcome {
                            status: STATUS_VALID,
                            error_code: None,
                            error_reason: None,
                            duplicate_of: None,
                            billing: instance.map(|i| i.billing.as_str()),
                        }
                    }
                }
            }
        };
        groups.entry(outcome).or_default().push((r.seller_id, r.metering_sn));
    }
    for (outcome, keys) in &groups {
        usage_repo::set_outcome(&tx, outcome, keys).await?;
    }
    usage_repo::set_duplicates(&tx, DUPLICATE, &duplicates).await?;
    tx.commit().await?;
    Ok((counts, taken))
}

/// The code of a duplicate record (Mercato's; the spec names none).
pub const DUPLICATE: &str = "MKT.9006";

/// A record the seller must look at: an error or a duplicate.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageErrorView {
    pub metering_sn: String,
    pub instance_id: String,
    /// `yyyyMMdd'T'HHmmss'Z'`.
    pub record_time: Option<String>,
    pub begin_time: String,
    pub end_time: String,
    /// Decimal text, at most 4 decimals.
    #[schema(example = "12.3456")]
    pub usage_value: String,
    pub relate_pkg_instance: Option<String>,
    /// `error` or `duplicate`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_reason: Option<String>,
    /// For a duplicate: the metering_sn of the record it repeats.
    pub duplicate_of: Option<String>,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// Which records to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorFilter {
    Error,
    Duplicate,
}

/// The seller's error and duplicate records by metering_sn (the cursor is
/// the last metering_sn of the page before).
pub async fn list_errors(
    state: &AppState,
    seller_id: &str,
    instance_id: Option<&str>,
    status: Option<ErrorFilter>,
    paging: crate::app::page::Paging,
) -> crate::app::error::AppResult<crate::app::page::Page<UsageErrorView>> {
    use mercato_store::repo::usage::{STATUS_DUPLICATE, STATUS_ERROR};
    let statuses: &[&str] = match status {
        Some(ErrorFilter::Error) => &[STATUS_ERROR],
        Some(ErrorFilter::Duplicate) => &[STATUS_DUPLICATE],
        None => &[STATUS_ERROR, STATUS_DUPLICATE],
    };
    let rows = usage_repo::list_errors(
        &state.db.conn,
        seller_id,
        instance_id,
        statuses,
        paging.cursor.as_deref(),
        paging.limit + 1,
    )
    .await?;
    Ok(paging.finish(
        rows,
        |r| r.metering_sn.clone(),
        |r| UsageErrorView {
            metering_sn: r.metering_sn,
            instance_id: r.instance_id,
            record_time: r.record_time.map(usage::format_time),
            begin_time: usage::format_time(r.begin_time),
            end_time: usage::format_time(r.end_time),
            usage_value: usage::format_usage_e4(r.usage_e4),
            relate_pkg_instance: r.relate_pkg_instance,
            status: r.status,
            error_code: r.error_code,
            error_reason: r.error_reason,
            duplicate_of: r.duplicate_of,
            received_at: r.received_at,
        },
    ))
}
