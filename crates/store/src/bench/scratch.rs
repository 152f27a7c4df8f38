//! Scratch databases on a PostgreSQL server, created for one benchmark run
//! and dropped after it. `admin` is a connection to any database of that
//! server other than the scratch ones.

use crate::Db;
use crate::error::{StoreError, StoreResult};
use sea_orm::{ConnectionTrait, DbErr, Statement};

/// Creates the empty database `name`. Fails if it exists or if `name` is
/// not a plain identifier (see [`plain_identifier`]).
pub async fn create_database(admin: &Db, name: &str) -> StoreResult<()> {
    let name = plain_identifier(name)?;
    admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    Ok(())
}

/// Drops the database `name` if it exists, ending the sessions still
/// connected to it (a run that failed midway may have left some).
pub async fn drop_database(admin: &Db, name: &str) -> StoreResult<()> {
    let name = plain_identifier(name)?;
    admin.conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    Ok(())
}

/// The names of the server's databases that start with `prefix`.
pub async fn databases_starting_with(admin: &Db, prefix: &str) -> StoreResult<Vec<String>> {
    let rows = admin
        .conn
        .query_all_raw(Statement::from_sql_and_values(
            admin.conn.get_database_backend(),
            "SELECT datname::text AS datname FROM pg_database WHERE starts_with(datname::text, $1)",
            [prefix.into()],
        ))
        .await?;
    Ok(rows.iter().map(|r| r.try_get::<String>("", "datname")).collect::<Result<_, _>>()?)
}

/// `name` when it can be spliced into DDL as is (database names cannot be
/// bound): lowercase ASCII letters, digits and `_`, not starting with a
/// digit, at most 63 bytes (PostgreSQL's limit).
fn plain_identifier(name: &str) -> StoreResult<&str> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain { Ok(name) } else { Err(StoreError::Db(DbErr::Custom(format!("not a plain database name: {name:?}")))) }
}

#[cfg(test)]
mod tests {
    use super::plain_identifier;

    #[test]
    fn only_plain_identifiers_reach_the_ddl() {
        assert!(plain_identifier("mercato_bench_1a2b_pgbench").is_ok());
        for bad in ["", "1abc", "Upper", "a b", "x; DROP DATABASE test", "a-b", &"a".repeat(64)] {
            assert!(plain_identifier(bad).is_err(), "{bad:?}");
        }
    }
}
