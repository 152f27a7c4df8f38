//! What rating wrote, read whole so `bench rating` can check every line and
//! charge against the formula it seeded from.

use crate::Db;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

/// A usage line: one instance's rated records of one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedLine {
    pub instance_id: String,
    pub period_start: DateTime<Utc>,
    pub records: i64,
    pub quantity_e4: i64,
    pub amount_minor: i64,
}

/// Every row of usage_lines.
pub async fn usage_lines(db: &Db) -> StoreResult<Vec<RatedLine>> {
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT instance_id, period_start, records, quantity_e4, amount_minor FROM usage_lines",
        ))
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        lines.push(RatedLine {
            instance_id: row.try_get("", "instance_id")?,
            period_start: row.try_get("", "period_start")?,
            records: row.try_get("", "records")?,
            quantity_e4: row.try_get("", "quantity_e4")?,
            amount_minor: row.try_get("", "amount_minor")?,
        });
    }
    Ok(lines)
}

/// A usage charge: one buyer's lines of one period, paid or in arrears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatedCharge {
    pub buyer_id: String,
    pub period_start: DateTime<Utc>,
    pub amount_minor: i64,
    /// `repo::usage_rating::CHARGE_PAID` or `CHARGE_ARREARS`.
    pub status: String,
}

/// Every row of usage_charges.
pub async fn usage_charges(db: &Db) -> StoreResult<Vec<RatedCharge>> {
    let rows = db
        .conn
        .query_all_raw(Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT buyer_id, period_start, amount_minor, status FROM usage_charges",
        ))
        .await?;
    let mut charges = Vec::with_capacity(rows.len());
    for row in rows {
        charges.push(RatedCharge {
            buyer_id: row.try_get("", "buyer_id")?,
            period_start: row.try_get("", "period_start")?,
            amount_minor: row.try_get("", "amount_minor")?,
            status: row.try_get("", "status")?,
        });
    }
    Ok(charges)
}
