//! Opening the database. The backend is chosen once, from the URL.

use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, SqlxPostgresConnector,
    SqlxSqliteConnector, TransactionOptions, TransactionTrait,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool to the marketplace database.
#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub backend: Backend,
}

impl Db {
    /// Opens (creating if needed) the SQLite file at `path`, in WAL mode.
    pub async fn open_sqlite(path: &Path) -> Result<Db, DbErr> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Two nodes starting at once on a new file: switching it to WAL takes
        // a lock that SQLite's busy timeout does not wait for, so the second
        // opener is told "database is locked" at once. It tries again.
        let mut tries = 0;
        let pool = loop {
            match SqlitePoolOptions::new().max_connections(8).connect_with(options.clone()).await {
                Ok(pool) => break pool,
                Err(e) if tries < 50 && e.to_string().contains("database is locked") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    return Err(DbErr::Conn(sea_orm::RuntimeErr::Internal(format!("opening {}: {e}", path.display()))));
                }
            }
        };
        Ok(Db { conn: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), backend: Backend::Sqlite })
    }

    /// Connects to PostgreSQL (`postgres://...`) with the default pool.
    pub async fn open_postgres(url: &str) -> Result<Db, DbErr> {
        Self::open_postgres_sized(url, Self::POSTGRES_POOL).await
    }

    /// The PostgreSQL pool size when none is configured.
    pub const POSTGRES_POOL: u32 = 16;

    /// Connects to PostgreSQL keeping at most `max_connections` open.
    pub async fn open_postgres_sized(url: &str, max_connections: u32) -> Result<Db, DbErr> {
        let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(format!("bad database URL: {e}"))))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(format!("connecting to PostgreSQL: {e}"))))?;
        Ok(Db { conn: SqlxPostgresConnector::from_sqlx_postgres_pool(pool), backend: Backend::Postgres })
    }

    /// Opens whatever `url` names: `postgres://` / `postgresql://`, or
    /// `sqlite://PATH` / a plain file path.
    pub async fn open(url: &str) -> Result<Db, DbErr> {
        Self::open_sized(url, Self::POSTGRES_POOL).await
    }

    /// [`Db::open`] with a PostgreSQL pool of at most `max_connections`.
    pub async fn open_sized(url: &str, max_connections: u32) -> Result<Db, DbErr> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_postgres_sized(url, max_connections).await
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            Self::open_sqlite(Path::new(path)).await
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// up front (BEGIN IMMEDIATE), so two writers queue instead of failing
    /// with "database is locked" when a read lock cannot be upgraded.
    pub async fn write(&self) -> Result<DatabaseTransaction, DbErr> {
        let mut options = TransactionOptions::default();
        if self.backend == Backend::Sqlite {
            options.sqlite_transaction_mode = Some(SqliteTransactionMode::Immediate);
        }
        self.begin(options).await
    }

    /// A read-only transaction over one consistent snapshot while writes go
    /// on: REPEATABLE READ, READ ONLY on PostgreSQL; on SQLite (WAL) a
    /// deferred read transaction keeps the snapshot of its first read.
    pub async fn snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        let tx = self.begin(TransactionOptions::default()).await?;
        if self.backend == Backend::Postgres {
            tx.execute_unprepared("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
        }
        Ok(tx)
    }

    /// Begins a transaction in a task of its own, so that BEGIN runs to its
    /// end even when the caller gives up meanwhile (a request cancelled by
    /// its timeout or its client, a lease heartbeat dropped as its job
    /// ends). sqlx counts a PostgreSQL transaction as open only once BEGIN's
    /// answer is read: a BEGIN cancelled in flight left the pooled
    /// connection inside a transaction nothing would roll back, so the
    /// statements run next on it stayed uncommitted, holding their locks
    /// (found by `mercato chaos`). Finished here, a transaction nobody
    /// takes is dropped, which rolls it back.
    async fn begin(&self, options: TransactionOptions) -> Result<DatabaseTransaction, DbErr> {
        let conn = self.conn.clone();
        tokio::spawn(async move { conn.begin_with_options(options).await })
            .await
            .map_err(|e| DbErr::Custom(format!("beginning a transaction: {e}")))?
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// A savepoint inside `tx`: committing it keeps its writes in `tx`;
/// dropping or rolling it back undoes them and leaves `tx` usable.
pub async fn savepoint(tx: &DatabaseTransaction) -> Result<DatabaseTransaction, DbErr> {
    tx.begin().await
}
