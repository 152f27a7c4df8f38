use sea_orm::entity::prelude::*;

/// A billing period's settlement, once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settlement_runs")]
pub struct Model {
    /// `YYYY-MM`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    pub period_start: DateTimeUtc,
    pub period_end: DateTimeUtc,
    pub statements: i64,
    pub lines: i64,
    /// The operator who started it (None: the scheduler).
    pub started_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
