use sea_orm::entity::prelude::*;

/// The term a renewal line bought (migration 0012).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "renewal_terms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: String,
    pub subscription_id: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub amount_minor: i64,
    /// Set when an unsubscribe of renewal periods refunded the term.
    pub refund_order_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
