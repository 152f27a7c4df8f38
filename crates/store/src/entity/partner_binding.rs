use mercato_domain::channel::partners::BindingStatus;
use mercato_domain::ids::BindingId;
use sea_orm::entity::prelude::*;

/// A partner's binding to a customer (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_bindings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BindingId,
    pub partner_id: String,
    pub buyer_id: String,
    pub status: BindingStatus,
    pub message: Option<String>,
    pub invited_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
