//! Migrations written in Rust: rewrites of stored text that SQL cannot
//! express the same way on SQLite and PostgreSQL.

use mercato_domain::redaction::redact;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, Value};

/// Rows read per round, so a large table is not held in memory at once.
const PAGE: u64 = 500;

/// Recorded interface messages lose the secrets they carried (sellers'
/// replies held the buyer's `appInfo.password` in clear): the same
/// redaction the recorder now applies, applied to every older row.
pub async fn redact_interface_messages(tx: &DatabaseTransaction) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    let (select, update) = match backend {
        DbBackend::Postgres => (
            "SELECT id, request_body, response_body FROM interface_messages WHERE id > $1 ORDER BY id LIMIT $2",
            "UPDATE interface_messages SET request_body = $1, response_body = $2 WHERE id = $3",
        ),
        _ => (
            "SELECT id, request_body, response_body FROM interface_messages WHERE id > ? ORDER BY id LIMIT ?",
            "UPDATE interface_messages SET request_body = ?, response_body = ? WHERE id = ?",
        ),
    };
    let mut after = String::new();
    loop {
        let values: [Value; 2] = [after.clone().into(), (PAGE as i64).into()];
        let rows = tx.query_all_raw(Statement::from_sql_and_values(backend, select, values)).await?;
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            let request: String = row.try_get("", "request_body")?;
            let response: Option<String> = row.try_get("", "response_body")?;
            let new_request = redact(&request);
            let new_response = response.as_deref().map(redact);
            let changed = new_request != request.as_str() || new_response.as_deref() != response.as_deref();
            if changed {
                let values: [Value; 3] =
                    [new_request.into_owned().into(), new_response.map(|r| r.into_owned()).into(), id.clone().into()];
                tx.execute_raw(Statement::from_sql_and_values(backend, update, values)).await?;
            }
            after = id;
        }
        if (rows.len() as u64) < PAGE {
            return Ok(());
        }
    }
}
