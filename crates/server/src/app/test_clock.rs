//! The operator test clock (`mercato serve --test-clock`, config
//! `test_clock = true`, env `MERCATO_TEST_CLOCK=1`), like Stripe's test
//! clocks: the marketplace's time is a frozen instant that moves only when an
//! operator says so, and every node, worker, retry and periodic task lives in
//! it, so a tester can walk a subscription through a year in seconds.
//!
//! The instant is the `test_clock_now` row in `settings`, shared by all
//! nodes; the first node to start on the test clock sets it to the real time.
//! Each node keeps a cached copy (`clock::TestClock`) that code reads through
//! `state.now()`: a background task refreshes it from the database every
//! [`REFRESH`] (250 ms), and the node that handles a change sets it at once.
//! **Bound:** once a change is committed, every node shows it within
//! `REFRESH` plus one database round trip; a cached clock never moves back.
//!
//! A database that has run on the test clock refuses to start without it
//! (time would jump to the real clock, possibly backwards), see
//! [`refuse_if_frozen`]. Moving the clock backwards is refused (409
//! `clock_backwards`: the clock's state decides); one change moves it at
//! most [`MAX_JUMP_SECS`] (`advance_secs` out of range: 422; a `now` further
//! ahead: 409 `clock_jump_too_large`).

use crate::app::error::{AppError, AppResult, Refusal};
use crate::clock::TestClock;
use crate::state::AppState;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use mercato_store::repo::settings;
use mercato_store::{Db, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::Duration;
use utoipa::ToSchema;

/// The settings row holding the frozen instant (RFC 3339, microseconds, UTC).
pub const SETTING: &str = "test_clock_now";
/// How often each node re-reads the shared instant.
pub const REFRESH: Duration = Duration::from_millis(250);
/// The largest single move: 10 years (3653 days, leap days included).
pub const MAX_JUMP_SECS: i64 = 3653 * 86_400;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TestClockView {
    /// The marketplace's current (frozen) time.
    pub now: DateTime<Utc>,
    /// Always true: the endpoints answer 404 when the test clock is off.
    pub enabled: bool,
}

/// Move the clock: send exactly one of `advance_secs` or `now`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestClockChange {
    /// Seconds to move forward, 1 to 315 619 200 (10 years).
    #[serde(default)]
    pub advance_secs: Option<i64>,
    /// The new time (RFC 3339); not earlier than the current one, at most 10 years later.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
}

/// Exactly one of the two, as `oneOf`. Where `now` stands against the
/// current time is the clock's state, so a conflict (409), not a schema rule.
fn test_clock_change_schema() -> serde_json::Value {
    use mercato_domain::schema::{Fields, described, integer, null, nullable};
    use serde_json::json;
    let advance = || integer(1, MAX_JUMP_SECS);
    let instant = || json!({"type": "string", "format": "date-time"});
    let base = Fields::new()
        .optional(
            "advance_secs",
            described(nullable(advance()), "Seconds to move forward, 1 to 315 619 200 (10 years)."),
        )
        .optional(
            "now",
            described(
                nullable(instant()),
                "The new time (RFC 3339): not earlier than the current one (409 `clock_backwards`), at most 10 years later (409 `clock_jump_too_large`).",
            ),
        )
        .closed();
    let by = Fields::new().required("advance_secs", advance()).optional("now", null());
    let to = Fields::new().required("now", instant()).optional("advance_secs", null());
    let open = |f: Fields| {
        let mut o = f.closed();
        o.as_object_mut().map(|m| m.remove("additionalProperties"));
        o
    };
    json!({
        "allOf": [base, {"oneOf": [open(by), open(to)]}],
        "description": "Move the clock: send exactly one of `advance_secs` or `now`.",
    })
}

mercato_domain::schema_from_fragment!(TestClockChange, test_clock_change_schema());

fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("setting {SETTING}: {e}")))
}

/// The shared instant, if this database runs on the test clock.
pub async fn read(db: &Db) -> Result<Option<DateTime<Utc>>, StoreError> {
    settings::get(&db.conn, SETTING).await?.map(|s| parse(&s)).transpose()
}

/// Starts this node's test clock: reads the shared instant, creating it at
/// the real time if no node has yet; spawns the refresher.
pub async fn start(db: &Db) -> anyhow::Result<Arc<TestClock>> {
    let real = Utc::now().trunc_subsecs(6);
    let stored = settings::get_or_insert(&db.conn, SETTING, &format(real)).await?;
    let clock = Arc::new(TestClock::starting_at(parse(&stored)?));
    spawn_refresher(db.clone(), Arc::downgrade(&clock));
    tracing::warn!(now = %clock_now(&clock), "running on the operator TEST CLOCK: time moves only through /api/v1/operator/test-clock");
    Ok(clock)
}

fn clock_now(clock: &TestClock) -> DateTime<Utc> {
    use crate::clock::Clock;
    clock.now()
}

/// Refuses a node without the test clock on a database that has run on it.
pub async fn refuse_if_frozen(db: &Db) -> anyhow::Result<()> {
    if let Some(t) = read(db).await? {
        anyhow::bail!(
            "this database runs on the test clock (now {}); start with --test-clock (MERCATO_TEST_CLOCK=1), or use a fresh database",
            format(t)
        );
    }
    Ok(())
}

/// Re-reads the shared instant every `REFRESH` until the clock is dropped.
fn spawn_refresher(db: Db, clock: Weak<TestClock>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let Some(clock) = clock.upgrade() else { break };
            match read(&db).await {
                Ok(Some(t)) => clock.observe(t),
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "could not refresh the test clock"),
            }
        }
    });
}

fn enabled(state: &AppState) -> AppResult<&Arc<TestClock>> {
    state.test_clock.as_ref().ok_or_else(|| {
        AppError::new(
            Refusal::NotFound,
            "test_clock_disabled",
            "the test clock is not enabled on this marketplace (start the server with --test-clock)",
        )
    })
}

/// Brings this node's cached clock up to the shared instant now.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    if let (Some(clock), Some(t)) = (state.test_clock.as_ref(), read(&state.db).await?) {
        clock.observe(t);
    }
    Ok(())
}

/// `GET /api/v1/operator/test-clock`.
pub async fn current(state: &AppState) -> AppResult<TestClockView> {
    enabled(state)?;
    refresh(state).await?;
    Ok(TestClockView { now: state.now(), enabled: true })
}

/// `POST /api/v1/operator/test-clock`: moves the shared instant forward.
pub async fn change(state: &AppState, req: TestClockChange) -> AppResult<TestClockView> {
    let clock = enabled(state)?;
    enum Move {
        By(i64),
        To(DateTime<Utc>),
    }
    let how = match (req.advance_secs, req.now) {
        (Some(secs), None) => {
            if !(1..=MAX_JUMP_SECS).contains(&secs) {
                return Err(AppError::field("advance_secs", format!("must be 1 to {MAX_JUMP_SECS} (10 years)")));
            }
            Move::By(secs)
        }
        (None, Some(to)) => Move::To(to.trunc_subsecs(6)),
        _ => return Err(AppError::field("body", "send exactly one of advance_secs or now")),
    };
    // Compare-and-set, so concurrent changes on several nodes all apply.
    for _ in 0..20 {
        let stored = settings::get(&state.db.conn, SETTING)
            .await?
            .ok_or_else(|| AppError::internal("the test clock row is missing"))?;
        let current = parse(&stored)?;
        let next = match how {
            Move::By(secs) => current + chrono::Duration::seconds(secs),
            // Where `now` stands against the current time is the clock's
            // state: a conflict, naming the current time.
            Move::To(to) => {
                if to < current {
                    return Err(AppError::new(
                        Refusal::Conflict,
                        "clock_backwards",
                        format!("the test clock only moves forward; it is {}", format(current)),
                    ));
                }
                if to > current + chrono::Duration::seconds(MAX_JUMP_SECS) {
                    return Err(AppError::new(
                        Refusal::Conflict,
                        "clock_jump_too_large",
                        format!("at most 10 years after the current test-clock time, {}", format(current)),
                    ));
                }
                to
            }
        };
        let swapped = settings::swap(&state.db.conn, SETTING, &stored, &format(next)).await?;
        if swapped {
            clock.observe(next);
            tracing::info!(from = %format(current), to = %format(next), "test clock moved");
            crate::app::outbox::wake(state);
            return Ok(TestClockView { now: state.now(), enabled: true });
        }
    }
    Err(AppError::conflict("test_clock_busy", "the test clock is being moved concurrently; try again"))
}
