use sea_orm::entity::prelude::*;

/// A usage record (话单) as pushed by a seller, keyed by the seller's own
/// record id. `status` is 'received' until the asynchronous validator rates
/// it or marks it 'error' / 'duplicate'.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub metering_sn: String,
    pub instance_id: String,
    pub record_time: Option<DateTimeUtc>,
    pub begin_time: DateTimeUtc,
    pub end_time: DateTimeUtc,
    /// The usage value x 10,000.
    pub usage_e4: i64,
    pub relate_pkg_instance: Option<String>,
    pub received_at: DateTimeUtc,
    pub status: String,
    pub error_code: Option<String>,
    pub error_reason: Option<String>,
    /// For a 'duplicate': the metering_sn of the earlier valid record with
    /// the same (instance, begin_time, end_time).
    pub duplicate_of: Option<String>,
    /// For a 'valid' record: its instance's billing ('hourly' or 'daily'),
    /// the period kind it is rated in.
    pub billing: Option<String>,
    /// The push it came in (a time-ordered `UsageBatchId`; '' before
    /// migration 0019) and its index there: the validator's order.
    pub batch_id: String,
    pub batch_position: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
