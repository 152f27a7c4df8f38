use mercato_domain::catalog::{DebugCaseSet, DebugRunStatus};
use sea_orm::entity::prelude::*;

/// One debug run of a SaaS product against its seller endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "debug_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub product_id: String,
    pub seller_id: String,
    pub endpoint_url: String,
    /// Keyed hash of the endpoint URL and access key at run time.
    pub endpoint_fingerprint: String,
    /// `period_product` or `one_time_product`.
    pub case_set: DebugCaseSet,
    /// `running`, `passed`, `failed` or `abandoned`.
    pub status: DebugRunStatus,
    /// The checker's case results (JSON array).
    pub cases_json: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
