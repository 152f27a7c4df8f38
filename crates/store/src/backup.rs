//! Online backups of the embedded SQLite database. `VACUUM INTO` copies one
//! read transaction's snapshot, so the copy is consistent while writers go
//! on (WAL mode lets them), and compact. PostgreSQL is backed up with its
//! own tools (`pg_dump`; see docs/operations.md).

use crate::db::{Backend, Db};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use std::path::Path;

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name (a backup never overwrites)")]
    Exists(String),
    #[error("this database is PostgreSQL: back it up with pg_dump (see docs/operations.md)")]
    Postgres,
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Copies the database behind `db` to `dest` (which must not exist) and
/// checks the copy's integrity. The copy is written beside `dest` and
/// renamed into place once complete, so `dest` is never a partial file.
pub async fn sqlite_online(db: &Db, dest: &Path) -> Result<(), BackupError> {
    if db.backend == Backend::Postgres {
        return Err(BackupError::Postgres);
    }
    if dest.exists() {
        return Err(BackupError::Exists(dest.display().to_string()));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let into = Statement::from_sql_and_values(
        db.conn.get_database_backend(),
        "VACUUM INTO ?",
        [partial.display().to_string().into()],
    );
    if let Err(e) = db.conn.execute_raw(into).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    let copy = Db::open_sqlite(&partial).await?;
    let verdict = integrity(&copy).await;
    // Closing the last connection checkpoints the (empty) WAL away.
    copy.conn.close().await?;
    match verdict {
        Ok(()) => {
            std::fs::rename(&partial, dest)
                .map_err(|e| DbErr::Custom(format!("renaming the backup into place: {e}")))?;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn integrity(db: &Db) -> Result<(), BackupError> {
    let rows =
        db.conn.query_all_raw(Statement::from_string(db.conn.get_database_backend(), "PRAGMA integrity_check")).await?;
    let lines: Vec<String> = rows.iter().filter_map(|r| r.try_get_by_index::<String>(0).ok()).collect();
    if lines == ["ok"] { Ok(()) } else { Err(BackupError::Corrupt(lines.join("; "))) }
}
