use mercato_domain::ids::PartnerStatementId;
use mercato_domain::settlement::StatementLineKind;
use sea_orm::entity::prelude::*;

/// One attributed sale or clawback of a partner statement (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_statement_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub statement_id: PartnerStatementId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// `sale` or `clawback`.
    pub kind: StatementLineKind,
    pub order_id: String,
    pub order_line_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub settled_at: DateTimeUtc,
    pub sales_minor: i64,
    pub share_minor: i64,
    pub entry_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
