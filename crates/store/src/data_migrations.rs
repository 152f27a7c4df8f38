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

/// Linear attributes were `{min, max, step}` and are now `{min, step,
/// count}` (a range JSON Schema can state: never empty nor uneven). Every
/// stored SKU specification is rewritten: the SKUs, the listed and reviewed
/// snapshots, and the specifications order lines were bought at. The older
/// rule kept `max - min` a multiple of `step`, so `count` is exact.
pub async fn linear_counts(tx: &DatabaseTransaction) -> Result<(), DbErr> {
    for (table, column) in [
        ("skus", "spec_json"),
        ("products", "listed_json"),
        ("product_reviews", "snapshot_json"),
        ("order_lines", "sku_spec_json"),
    ] {
        rewrite_json_column(tx, table, column, linear_to_count).await?;
    }
    Ok(())
}

/// Rewrites every `linear` object below `value`; true if one changed.
fn linear_to_count(value: &mut serde_json::Value) -> bool {
    use serde_json::Value as J;
    let mut changed = false;
    match value {
        J::Object(map) => {
            if let Some(J::Object(linear)) = map.get_mut("linear")
                && !linear.contains_key("count")
                && let (Some(min), Some(max), Some(step)) = (
                    linear.get("min").and_then(J::as_i64),
                    linear.get("max").and_then(J::as_i64),
                    linear.get("step").and_then(J::as_i64),
                )
                && step >= 1
            {
                linear.remove("max");
                linear.insert("count".into(), J::from((max - min).max(0) / step + 1));
                changed = true;
            }
            for child in map.values_mut() {
                changed |= linear_to_count(child);
            }
        }
        J::Array(items) => {
            for child in items {
                changed |= linear_to_count(child);
            }
        }
        _ => {}
    }
    changed
}

/// Applies `rewrite` to the JSON text in `table.column` of every row (keyed
/// by `id`) mentioning `"linear"`, writing back the rows it changed.
async fn rewrite_json_column(
    tx: &DatabaseTransaction,
    table: &str,
    column: &str,
    rewrite: fn(&mut serde_json::Value) -> bool,
) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    let (select, update) = match backend {
        DbBackend::Postgres => (
            format!(
                "SELECT id, {column} AS body FROM {table} WHERE id > $1 AND {column} LIKE '%\"linear\"%' ORDER BY id LIMIT $2"
            ),
            format!("UPDATE {table} SET {column} = $1 WHERE id = $2"),
        ),
        _ => (
            format!(
                "SELECT id, {column} AS body FROM {table} WHERE id > ? AND {column} LIKE '%\"linear\"%' ORDER BY id LIMIT ?"
            ),
            format!("UPDATE {table} SET {column} = ? WHERE id = ?"),
        ),
    };
    let mut after = String::new();
    loop {
        let values: [Value; 2] = [after.clone().into(), (PAGE as i64).into()];
        let rows = tx.query_all_raw(Statement::from_sql_and_values(backend, &select, values)).await?;
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            let body: String = row.try_get("", "body")?;
            let mut json: serde_json::Value = serde_json::from_str(&body)
                .map_err(|e| DbErr::Custom(format!("{table}.{column} of {id} is not JSON: {e}")))?;
            if rewrite(&mut json) {
                let values: [Value; 2] = [json.to_string().into(), id.clone().into()];
                tx.execute_raw(Statement::from_sql_and_values(backend, &update, values)).await?;
            }
            after = id;
        }
        if (rows.len() as u64) < PAGE {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::linear_to_count;
    use serde_json::json;

    #[test]
    fn linear_ranges_become_counts() {
        let mut snapshot = json!({"skus": [
            {"id": "sku_1", "spec": {"linear": {"name": "u", "unit": "u", "min": 5, "max": 1000, "step": 5}}},
            {"id": "sku_2", "spec": {"linear": null}},
        ]});
        assert!(linear_to_count(&mut snapshot));
        assert_eq!(
            snapshot["skus"][0]["spec"]["linear"],
            json!({"name": "u", "unit": "u", "min": 5, "step": 5, "count": 200})
        );
        assert!(!linear_to_count(&mut snapshot), "a second run changes nothing");
    }
}
