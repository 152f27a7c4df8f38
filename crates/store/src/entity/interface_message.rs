use sea_orm::entity::prelude::*;

/// One production-interface call attempt to a seller's server.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "interface_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub seller_id: String,
    pub product_id: String,
    pub order_id: String,
    pub order_line_id: String,
    /// `newInstance`, `queryInstance`...
    pub activity: String,
    pub url: String,
    pub request_body: String,
    /// HTTP status, when an answer came back.
    pub response_status: Option<i64>,
    /// The answer (truncated), or the transport error.
    pub response_body: Option<String>,
    pub result_code: Option<String>,
    /// `success`, `in_progress`, `refused`, `retryable` or `rejected`.
    pub outcome: String,
    pub duration_ms: i64,
    pub attempt: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
