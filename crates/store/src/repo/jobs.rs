//! Durable jobs (the outbox). `enqueue` is called inside the transaction of
//! the change that needs the work done; leasing and finishing live here too.

use crate::entity::job;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

/// Job states, as stored.
pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

pub struct NewJob<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    /// What the job is about, e.g. an order line id; unique per kind.
    pub reference: &'a str,
    pub payload_json: &'a str,
    pub run_at: DateTime<Utc>,
}

/// Enqueues a job unless one of the same kind and reference exists; returns
/// whether it was added. Call it in the transaction of the causing change.
pub async fn enqueue(db: &impl ConnectionTrait, j: NewJob<'_>, now: DateTime<Utc>) -> StoreResult<bool> {
    let row = job::ActiveModel {
        id: Set(j.id.to_string()),
        kind: Set(j.kind.to_string()),
        reference: Set(j.reference.to_string()),
        payload_json: Set(j.payload_json.to_string()),
        status: Set(PENDING.to_string()),
        run_at: Set(j.run_at),
        attempts: Set(0),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let added = job::Entity::insert(row)
        .on_conflict(OnConflict::columns([job::Column::Kind, job::Column::Reference]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(added > 0)
}
