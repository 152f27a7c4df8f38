use mercato_domain::catalog::ProductType;
use mercato_domain::settlement::StatementLineKind;
use sea_orm::entity::prelude::*;

/// One settled source of a statement.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub statement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub kind: StatementLineKind,
    /// The order line (sale), `instance@period start` (usage) or the refund
    /// order (clawback).
    pub source_id: String,
    pub order_id: Option<String>,
    pub buyer_id: String,
    pub product_id: String,
    /// When it became settleable (delivery completed, usage paid, refund).
    pub settled_at: DateTimeUtc,
    pub gross_minor: i64,
    pub commission_minor: i64,
    /// The ledger entry its money moved in (the order's payment, the usage
    /// charge's, the refund's): what reconciliation sums.
    pub entry_id: Option<String>,
    pub product_type: ProductType,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
