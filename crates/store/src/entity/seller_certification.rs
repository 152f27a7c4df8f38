use mercato_domain::onboarding::ApplicationStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seller_certification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: String,
    pub status: ApplicationStatus,
    pub bank_name: String,
    pub bank_account_enc: String,
    pub bank_account_masked: String,
    pub account_holder: String,
    pub tax_rate_bp: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
