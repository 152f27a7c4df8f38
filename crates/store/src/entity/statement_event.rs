use mercato_domain::delivery::Actor;
use mercato_domain::settlement::{StatementAction, StatementStatus};
use sea_orm::entity::prelude::*;

/// One step of a statement's lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub statement_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub action: StatementAction,
    pub actor: Actor,
    pub actor_id: Option<String>,
    /// The status the step led to.
    pub status: StatementStatus,
    pub note: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
