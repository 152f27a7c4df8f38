use mercato_domain::catalog::Billing;
use sea_orm::entity::prelude::*;

/// Every period of `billing` starting before `rated_until` is rated and charged.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_rating_marks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub billing: Billing,
    pub rated_until: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
