use mercato_domain::ids::InvoiceId;
use sea_orm::entity::prelude::*;

/// One line of an invoice: an order line, or the refunded part (negative).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: InvoiceId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_no: i64,
    pub description: String,
    /// Empty on the refund line.
    pub sku_code: String,
    pub amount_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
