use mercato_domain::settlement::StatementStatus;
use sea_orm::entity::prelude::*;

/// A seller's statement for one period and currency.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub seller_id: String,
    pub period: String,
    pub currency: String,
    pub status: StatementStatus,
    pub gross_minor: i64,
    pub commission_minor: i64,
    pub net_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
    pub lines: i64,
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
