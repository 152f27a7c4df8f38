use mercato_domain::channel::partners::PartnerStatementStatus;
use mercato_domain::ids::PartnerStatementId;
use sea_orm::entity::prelude::*;

/// A partner's statement of shares for a period and currency (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PartnerStatementId,
    pub partner_id: String,
    /// `YYYY-MM`.
    pub period: String,
    pub currency: String,
    /// What the partner's customers paid for the attributed sales (net of refunds).
    pub sales_minor: i64,
    /// The partner's shares (net of clawbacks): what it is paid.
    pub share_minor: i64,
    pub lines: i64,
    pub status: PartnerStatementStatus,
    pub invoice_number: Option<String>,
    pub invoice_received_at: Option<DateTimeUtc>,
    pub invoice_received_by: Option<String>,
    pub payout_entry_id: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
