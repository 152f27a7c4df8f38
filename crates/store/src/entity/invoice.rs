use mercato_domain::ids::InvoiceId;
use mercato_domain::invoicing::{InvoiceIssuer, InvoiceStatus};
use sea_orm::entity::prelude::*;

/// A buyer's invoice of one order (migration 0026).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: InvoiceId,
    pub order_id: String,
    pub buyer_id: String,
    pub issuer: InvoiceIssuer,
    /// `platform`, or the issuing seller's account id.
    pub issuer_id: String,
    pub status: InvoiceStatus,
    /// Steps so far; every step is conditional on it.
    pub steps: i64,
    pub title: String,
    pub tax_id: String,
    pub address: String,
    pub currency: String,
    /// What the order's payment entry debited the buyer.
    pub paid_minor: i64,
    /// What was refunded of the order by the time of the request / issue.
    pub refunded_minor: i64,
    pub total_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
    pub number: Option<String>,
    pub issued_at: Option<DateTimeUtc>,
    pub credit_note_number: Option<String>,
    pub credited_at: Option<DateTimeUtc>,
    pub requested_at: DateTimeUtc,
    pub status_since: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
