use mercato_domain::catalog::Billing;
use sea_orm::entity::prelude::*;

/// A buyer's usage charge for one closed period and currency.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_charges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub buyer_id: String,
    pub billing: Billing,
    pub period_start: DateTimeUtc,
    pub currency: String,
    pub amount_minor: i64,
    /// 'paid' or 'arrears'.
    pub status: String,
    pub entry_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
