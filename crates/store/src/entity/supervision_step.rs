use mercato_domain::delivery::{Actor, SupervisionAction, SupervisionStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supervision_steps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supervision_id: String,
    /// 1-based position in the timeline.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub action: SupervisionAction,
    pub actor: Actor,
    /// The account that acted (None: the marketplace itself).
    pub actor_id: Option<String>,
    /// The status the step led to.
    pub status: SupervisionStatus,
    pub note: String,
    /// Media ids, a JSON array.
    pub attachments_json: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
