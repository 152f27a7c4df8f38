use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scheduler_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    pub next_run_at: DateTimeUtc,
    pub last_run_at: Option<DateTimeUtc>,
    pub last_owner: Option<String>,
    pub last_error: Option<String>,
    pub runs: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
