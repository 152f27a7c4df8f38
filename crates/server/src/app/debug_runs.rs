//! Debug runs: before a SaaS product (first listing or revision) may be
//! submitted, the seller's production interface must pass the debug cases of
//! seller-interface spec §8 (newInstance, refreshInstance,
//! updateInstanceStatus, releaseInstance for period products; newInstance
//! and releaseInstance for one-time products), all with testFlag 1. A
//! license product with an endpoint (its license interface: codes are
//! issued online) must pass the license cases: getLicenseAsync twice (the
//! same code), refreshLicenseCode, updateLicenseCodeStatus,
//! releaseLicenseCode twice.
//!
//! A run is recorded in three steps, none of which holds a transaction open
//! across the seller calls: a short write inserts the run as `running` (a
//! partial unique index allows one per product, so a second concurrent run
//! is refused); the cases run through the checker of `mercato_conformance`; a short
//! write records the outcome. The cases run in their own task, so a client
//! that hangs up (or a request timeout) does not leave the run unfinished. A
//! run still `running` after [`STALE_AFTER_SECS`] (its node died) is marked
//! `abandoned` by the next run of the product.
//!
//! Each run keeps the endpoint URL and a keyed fingerprint of URL + access
//! key, so submission can tell whether the latest run tested the endpoint the
//! product has now.

use crate::app::error::{AppError, AppResult};
use crate::app::page::{Page, Paging};
use crate::app::products::{ENDPOINT_KEY_FIELD, load};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use koo::outbound::AddressPolicy;
use mercato_conformance::{self as check, CaseResult, CaseSet, CheckConfig, CheckError, HttpTransport};
use mercato_domain::catalog::{DebugCaseSet, DebugRunStatus, ProductType, SkuStatus};
use mercato_domain::ids::DebugRunId;
use mercato_store::Executor;
use mercato_store::StoreError;
use mercato_store::entity::{debug_run, product, sku};
use mercato_store::repo::{debug_runs, products};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A run still `running` this long after it started is taken as abandoned.
/// A period run is at most 5 calls of 5 s plus 30 s of polling.
pub const STALE_AFTER_SECS: i64 = 300;

/// The conformance checker's cases for a case set.
fn checker_cases(set: DebugCaseSet) -> CaseSet {
    match set {
        DebugCaseSet::PeriodProduct => CaseSet::PeriodProduct,
        DebugCaseSet::OneTimeProduct => CaseSet::OneTimeProduct,
        DebugCaseSet::LicenseProduct => CaseSet::LicenseProduct,
    }
}

/// Products whose interface has debug cases: SaaS (production interface)
/// and licenses (license interface).
fn has_debug_cases(t: ProductType) -> bool {
    matches!(t, ProductType::Saas | ProductType::License)
}

/// The cases a product must pass: a license interface's, or the SaaS ones
/// its SKUs need.
pub fn required_cases(t: ProductType, skus: &[sku::Model]) -> DebugCaseSet {
    if t == ProductType::License { DebugCaseSet::LicenseProduct } else { case_set_for(skus) }
}

/// The case set for a product's SKUs that are not retired.
fn case_set_for(skus: &[sku::Model]) -> DebugCaseSet {
    DebugCaseSet::for_modes(skus.iter().filter(|s| s.status != SkuStatus::Retired).map(|s| s.charging_mode))
}

/// One debug case's result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DebugCaseView {
    /// Stable case name, e.g. `newInstance`, `refreshInstance RENEWAL`.
    pub name: String,
    /// What a conforming seller answers (e.g. `000000`).
    pub expected: String,
    /// What the seller answered, in the same terms.
    pub got: String,
    pub pass: bool,
    /// Why it failed, or a note when it passed (empty if nothing).
    pub detail: String,
}

impl From<CaseResult> for DebugCaseView {
    fn from(c: CaseResult) -> Self {
        DebugCaseView { name: c.name, expected: c.expected, got: c.got, pass: c.pass, detail: c.detail }
    }
}

/// A debug run and its case results.
#[derive(Debug, Serialize, ToSchema)]
pub struct DebugRunView {
    pub id: String,
    pub product_id: String,
    /// True when every case passed.
    pub passed: bool,
    pub status: DebugRunStatus,
    pub case_set: DebugCaseSet,
    /// The endpoint URL the cases ran against.
    pub endpoint_url: String,
    /// Whether the run tested the product's current endpoint (same URL and
    /// access key); only such a passing run allows submission.
    pub current_endpoint: bool,
    pub cases: Vec<DebugCaseView>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A keyed fingerprint of the endpoint (URL and access key): equal for the
/// same endpoint, revealing neither.
pub fn fingerprint(state: &AppState, url: &str, key: &str) -> String {
    state.crypto.key_hash(&format!("debug-run-endpoint\n{url}\n{key}"))
}

/// The fingerprint of the product's current endpoint, if it has one.
fn current_fingerprint(state: &AppState, p: &product::Model) -> AppResult<Option<String>> {
    let (Some(url), Some(enc)) = (&p.endpoint_url, &p.endpoint_key_enc) else { return Ok(None) };
    let key = state.crypto.decrypt(ENDPOINT_KEY_FIELD, enc).map_err(|_| AppError::inconsistent("endpoint key"))?;
    Ok(Some(fingerprint(state, url, &key)))
}

fn view(r: debug_run::Model, current: Option<&str>) -> AppResult<DebugRunView> {
    let status = r.status;
    Ok(DebugRunView {
        passed: status == DebugRunStatus::Passed,
        status,
        case_set: r.case_set,
        current_endpoint: current == Some(r.endpoint_fingerprint.as_str()),
        cases: serde_json::from_str(&r.cases_json).map_err(AppError::inconsistent)?,
        id: r.id,
        product_id: r.product_id,
        endpoint_url: r.endpoint_url,
        started_at: r.started_at,
        finished_at: r.finished_at,
    })
}

/// Runs the product's debug cases against its endpoint and stores the run.
pub async fn run(state: &AppState, p: &Principal, product_id: &str) -> AppResult<DebugRunView> {
    let row = load(&state.db.conn, &p.account_id, product_id).await?;
    if !has_debug_cases(row.product_type) {
        return Err(AppError::conflict(
            "not_applicable",
            "debug runs test a SaaS product's production interface or a license product's license interface",
        ));
    }
    let (Some(url), Some(enc)) = (row.endpoint_url.clone(), row.endpoint_key_enc.clone()) else {
        return Err(AppError::conflict(
            "endpoint_required",
            "set the product's endpoint (url and access_key) before running its debug cases",
        ));
    };
    let key = state.crypto.decrypt(ENDPOINT_KEY_FIELD, &enc).map_err(|_| AppError::inconsistent("endpoint key"))?;
    let case_set = required_cases(row.product_type, &products::skus(&state.db.conn, &row.id).await?);
    let now = state.now();
    let record = debug_run::Model {
        id: DebugRunId::new().into(),
        product_id: row.id.clone(),
        seller_id: row.seller_id.clone(),
        endpoint_url: url.clone(),
        endpoint_fingerprint: fingerprint(state, &url, &key),
        case_set,
        status: DebugRunStatus::Running,
        cases_json: "[]".to_string(),
        started_at: now,
        finished_at: None,
    };
    let tx = state.db.write().await?;
    debug_runs::abandon_stale(&tx, &row.id, now - chrono::Duration::seconds(STALE_AFTER_SECS), now).await?;
    debug_runs::insert(&tx, record.clone()).await.map_err(|e| match e {
        StoreError::Conflict(_) => AppError::conflict(
            "debug_run_in_progress",
            "a debug run of this product is in progress; wait for it to finish and look at GET .../debug-runs",
        ),
        other => other.into(),
    })?;
    tx.commit().await?;

    // The seller calls run with no transaction open, in their own task so the
    // run is finished and recorded even if this request goes away.
    let mut config = CheckConfig::new(url, key.into_bytes());
    config.cases = checker_cases(case_set);
    config.allow_insecure = state.config.allow_insecure_endpoints;
    let task_state = state.clone();
    let run_id = record.id.clone();
    let addresses = state.config.outbound_allow.clone();
    let finished = tokio::spawn(async move {
        let cases = execute(&config, addresses).await;
        let passed = !cases.is_empty() && cases.iter().all(|c| c.pass);
        let status = if passed { DebugRunStatus::Passed } else { DebugRunStatus::Failed };
        let cases_json = serde_json::to_string(&cases).map_err(AppError::internal)?;
        let tx = task_state.db.write().await?;
        debug_runs::finish(&tx, &run_id, status, &cases_json, task_state.now()).await?;
        let stored = debug_runs::find(&tx, &run_id).await?.ok_or_else(|| AppError::inconsistent("run missing"))?;
        tx.commit().await?;
        Ok::<_, AppError>(stored)
    })
    .await
    .map_err(|e| AppError::internal(format!("the debug run task failed: {e}")))??;
    let current = Some(record.endpoint_fingerprint.as_str());
    view(finished, current)
}

/// The checker's results; a run that could not send anything (the stored URL
/// is not allowed any more, an empty key) is one failing case saying why.
async fn execute(config: &CheckConfig, addresses: AddressPolicy) -> Vec<DebugCaseView> {
    let transport = match HttpTransport::guarded(concat!("mercato-debug-run/", env!("CARGO_PKG_VERSION")), addresses) {
        Ok(t) => t,
        Err(e) => return vec![refused("an HTTP client", format!("cannot build the HTTP client: {e}"))],
    };
    match check::run(config, &transport).await {
        Ok(report) => report.cases.into_iter().map(DebugCaseView::from).collect(),
        Err(CheckError::Url(e)) => vec![refused("an HTTPS endpoint URL", format!("the endpoint URL is refused: {e}"))],
        Err(CheckError::EmptyKey) => {
            vec![refused("a non-empty access key", "the endpoint's access key is empty; set it again".to_string())]
        }
    }
}

fn refused(expected: &str, detail: String) -> DebugCaseView {
    DebugCaseView {
        name: "endpoint".to_string(),
        expected: expected.to_string(),
        got: "refused".to_string(),
        pass: false,
        detail,
    }
}

/// The product's runs, newest first.
pub async fn list(state: &AppState, p: &Principal, product_id: &str, paging: Paging) -> AppResult<Page<DebugRunView>> {
    let row = load(&state.db.conn, &p.account_id, product_id).await?;
    let current = current_fingerprint(state, &row)?;
    let rows =
        debug_runs::list_for_product(&state.db.conn, &row.id, paging.cursor.as_deref(), paging.limit + 1).await?;
    let page = paging.finish(rows, |r| r.id.clone(), |r| view(r, current.as_deref()));
    Ok(Page { items: page.items.into_iter().collect::<AppResult<Vec<_>>>()?, next_cursor: page.next_cursor })
}

/// The product's latest finished run (for the seller's product view).
pub async fn latest(db: &impl Executor, state: &AppState, p: &product::Model) -> AppResult<Option<DebugRunView>> {
    if !has_debug_cases(p.product_type) {
        return Ok(None);
    }
    let Some(r) = debug_runs::latest_finished(db, &p.id, None).await? else { return Ok(None) };
    let current = current_fingerprint(state, p)?;
    Ok(Some(view(r, current.as_deref())?))
}

/// The run a review's submission relied on: the product's latest run that
/// had finished when the review was submitted.
pub async fn for_review(
    db: &impl Executor,
    state: &AppState,
    p: &product::Model,
    submitted_at: DateTime<Utc>,
) -> AppResult<Option<DebugRunView>> {
    if !has_debug_cases(p.product_type) {
        return Ok(None);
    }
    let Some(r) = debug_runs::latest_finished(db, &p.id, Some(submitted_at)).await? else { return Ok(None) };
    let current = current_fingerprint(state, p)?;
    Ok(Some(view(r, current.as_deref())?))
}

/// The submission rule: a SaaS product may be submitted only when its latest
/// finished debug run passed, ran against its current endpoint, and covered
/// the cases its SKUs need. Read through `db` (the submit transaction).
pub async fn ensure_submittable(
    db: &impl Executor,
    state: &AppState,
    p: &product::Model,
    required: DebugCaseSet,
) -> AppResult<()> {
    if !has_debug_cases(p.product_type) {
        return Ok(());
    }
    let path = format!("POST /api/v1/seller/products/{}/debug-run", p.id);
    let Some(latest) = debug_runs::latest_finished(db, &p.id, None).await? else {
        return Err(required_problem(format!(
            "the product's debug cases must pass before review; run them with {path}"
        )));
    };
    if latest.status != DebugRunStatus::Passed {
        return Err(required_problem(format!(
            "the latest debug run ({}) failed; fix the seller endpoint and run the cases again with {path}",
            latest.id
        )));
    }
    if current_fingerprint(state, p)?.as_deref() != Some(latest.endpoint_fingerprint.as_str()) {
        return Err(required_problem(format!(
            "the endpoint changed since the latest debug run ({}); run the cases again with {path}",
            latest.id
        )));
    }
    let ran = latest.case_set;
    if !ran.covers(required) {
        return Err(required_problem(format!(
            "the latest run ({}) did not cover the cases the product needs now ({required}); run them with {path}",
            latest.id
        )));
    }
    Ok(())
}

fn required_problem(detail: String) -> AppError {
    AppError::conflict("debug_run_required", detail)
}
