//! The scheduler: periodic tasks run once per slot on whichever node takes
//! the task's lease in `scheduler_leases`.

use super::registry::Registry;
use super::runner::lease_until;
use crate::app::outbox::to_chrono;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_store::StoreError;
use mercato_store::repo::jobs as repo;
use std::time::Duration;

/// Periodic tasks: for each task registered on `registry` whose slot is
/// due, take its lease (a conditional UPDATE that one node wins), run it,
/// and move it to the first slot after now. Returns how many tasks ran.
pub async fn run_scheduled(state: &AppState, registry: &Registry, owner: &str) -> Result<usize, StoreError> {
    let mut ran = 0;
    for task in registry.tasks() {
        let at = state.moment();
        let now = at.now;
        let row = match repo::find_task(&state.db.conn, &task.name).await? {
            Some(row) => row,
            None => {
                repo::ensure_task(&state.db.conn, &task.name, now).await?;
                match repo::find_task(&state.db.conn, &task.name).await? {
                    Some(row) => row,
                    None => continue,
                }
            }
        };
        let held = row.owner.is_some() && row.lease_expires_at.is_some_and(|t| t > at.real);
        if row.next_run_at > now || held {
            continue;
        }
        let slot = {
            let tx = state.db.write().await?;
            let slot = repo::take_task(&tx, &task.name, owner, at, lease_until(state, at.real)).await?;
            tx.commit().await?;
            match slot {
                Some(slot) => slot,
                None => continue,
            }
        };
        let result = {
            let (run, state) = (task.run.clone(), state.clone());
            tokio::spawn(async move { run(state).await }).await
        };
        let error = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.report()),
            Err(e) => Some(format!("the task panicked: {e}")),
        };
        if let Some(e) = &error {
            tracing::error!(task = %task.name, error = %e, "periodic task failed");
        }
        let finished_at = state.now();
        let next = next_slot(slot, task.every, finished_at);
        if !repo::finish_task(&state.db.conn, &task.name, owner, finished_at, next, error.as_deref()).await? {
            tracing::warn!(task = %task.name, owner, "lost a periodic task's lease while running it");
        }
        ran += 1;
    }
    Ok(ran)
}

/// The first slot `slot + k·every` (k >= 1) after `now`: missed slots are
/// skipped, the phase is kept.
pub fn next_slot(slot: DateTime<Utc>, every: Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let step = to_chrono(every).max(chrono::Duration::seconds(1));
    if now < slot {
        return slot + step;
    }
    let behind = (now - slot).num_microseconds().unwrap_or(i64::MAX);
    let step_us = step.num_microseconds().unwrap_or(i64::MAX).max(1);
    let k = behind / step_us + 1;
    slot + chrono::Duration::microseconds(step_us.saturating_mul(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_slot_keeps_the_phase_and_skips_missed_slots() {
        let slot = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let hour = Duration::from_secs(3600);
        assert_eq!(next_slot(slot, hour, slot), slot + chrono::Duration::hours(1));
        assert_eq!(next_slot(slot, hour, slot + chrono::Duration::minutes(10)), slot + chrono::Duration::hours(1));
        assert_eq!(
            next_slot(slot, hour, slot + chrono::Duration::hours(5) + chrono::Duration::minutes(1)),
            slot + chrono::Duration::hours(6)
        );
        assert_eq!(next_slot(slot, hour, slot + chrono::Duration::hours(2)), slot + chrono::Duration::hours(3));
    }
}
