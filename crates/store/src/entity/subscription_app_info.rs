use sea_orm::entity::prelude::*;

/// The seller's appInfo for a provisioned subscription.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_app_info")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub subscription_id: String,
    pub front_end_url: String,
    pub admin_url: Option<String>,
    pub user_name: Option<String>,
    /// Encrypted with the master key (field `subscriptions.app_password`).
    pub password_enc: Option<String>,
    pub memo: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
