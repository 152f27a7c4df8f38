//! Failed-login counts per scope (see `mercato_domain::login_throttle`).
//! A count changes by compare-and-set on the value it was computed from,
//! so concurrent failures on several nodes each count once.

use crate::entity::login_throttle as row;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::login_throttle::Failures;
use sea_orm::sea_query::{ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

fn failures(m: row::Model) -> Failures {
    Failures { count: m.failures, window_start: m.window_start, locked_until: m.locked_until }
}

/// The stored failures of each of `scopes` that has any.
pub async fn find(db: &impl ConnectionTrait, scopes: &[String]) -> StoreResult<Vec<(String, Failures)>> {
    let rows = row::Entity::find().filter(row::Column::Scope.is_in(scopes.iter().cloned())).all(db).await?;
    Ok(rows.into_iter().map(|m| (m.scope.clone(), failures(m))).collect())
}

/// Writes `next` for `scope` if it still holds `previous` (`None`: no row).
/// False when another failure was counted first; read again and retry.
pub async fn replace(
    db: &impl ConnectionTrait,
    scope: &str,
    previous: Option<Failures>,
    next: Failures,
) -> StoreResult<bool> {
    match previous {
        None => {
            let added = row::Entity::insert(row::ActiveModel {
                scope: Set(scope.to_string()),
                failures: Set(next.count),
                window_start: Set(next.window_start),
                locked_until: Set(next.locked_until),
            })
            .on_conflict(OnConflict::column(row::Column::Scope).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
            Ok(added > 0)
        }
        Some(p) => {
            let updated = row::Entity::update_many()
                .col_expr(row::Column::Failures, next.count.into())
                .col_expr(row::Column::WindowStart, next.window_start.into())
                .col_expr(row::Column::LockedUntil, next.locked_until.into())
                .filter(row::Column::Scope.eq(scope))
                .filter(row::Column::Failures.eq(p.count))
                .filter(row::Column::WindowStart.eq(p.window_start))
                .exec(db)
                .await?
                .rows_affected;
            Ok(updated > 0)
        }
    }
}

/// Forgets `scope`'s failures (a successful login to that account).
pub async fn clear(db: &impl ConnectionTrait, scope: &str) -> StoreResult<()> {
    row::Entity::delete_many().filter(row::Column::Scope.eq(scope)).exec(db).await?;
    Ok(())
}

/// Drops rows whose window and lock both ended before `before` (housekeeping).
pub async fn purge(db: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    let done = row::Entity::delete_many()
        .filter(row::Column::WindowStart.lt(before))
        .filter(row::Column::LockedUntil.is_null().or(row::Column::LockedUntil.lt(before)))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
