use mercato_domain::delivery::Actor;
use mercato_domain::ids::InvoiceId;
use mercato_domain::invoicing::{InvoiceAction, InvoiceStatus};
use sea_orm::entity::prelude::*;

/// One step of an invoice's lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: InvoiceId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub action: InvoiceAction,
    pub actor: Actor,
    pub actor_id: Option<String>,
    /// The status the step led to.
    pub status: InvoiceStatus,
    pub note: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
