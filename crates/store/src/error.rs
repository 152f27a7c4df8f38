use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (names the constraint or column).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value the domain does not know (a status no enum has, JSON
    /// that does not parse): the row is reported, not guessed at.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(what)) => StoreError::Conflict(what),
            // Raised by the domain's column mappings (`mercato_domain::stored`)
            // for a value outside the type's names.
            _ => match e {
                DbErr::Type(what) => StoreError::Corrupt(what),
                e => StoreError::Db(e),
            },
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
