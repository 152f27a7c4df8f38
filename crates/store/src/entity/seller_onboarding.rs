use mercato_domain::onboarding::{ApplicationStatus, EntityType};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seller_onboarding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: String,
    pub status: ApplicationStatus,
    pub entity_type: EntityType,
    pub legal_name: String,
    pub registration_number: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    pub address: String,
    pub support_hours: String,
    pub reason: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
