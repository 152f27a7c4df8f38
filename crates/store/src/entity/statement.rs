use mercato_domain::settlement::StatementStatus;
use sea_orm::entity::prelude::*;

/// A seller's statement for one period and currency.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub seller_id: String,
    pub period: String,
    pub currency: String,
    pub status: StatementStatus,
    pub gross_minor: i64,
    pub commission_minor: i64,
    pub net_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
    pub lines: i64,
    pub issued_at: DateTimeUtc,
    /// The operator whose run issued it (None: the scheduler).
    pub issued_by: Option<String>,
    /// Lifecycle steps so far; every step is conditional on it.
    pub steps: i64,
    /// When the current status began (None on rows from before it was kept: issued_at).
    pub status_since: Option<DateTimeUtc>,
    pub payout_reference: Option<String>,
    pub payout_entry_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
