use mercato_domain::catalog::{Cooperation, ListedSnapshot, ProductContent, ProductStatus, ProductType, RevisionState};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub seller_id: String,
    pub product_type: ProductType,
    pub cooperation: Cooperation,
    pub status: ProductStatus,
    pub revision_state: RevisionState,
    /// The working copy (compact JSON in `content_json`).
    #[sea_orm(column_name = "content_json")]
    pub content: ProductContent,
    pub logo_media_id: Option<String>,
    pub images_json: String,
    pub endpoint_url: Option<String>,
    pub endpoint_key_enc: Option<String>,
    /// What buyers see, set when a review is approved (`listed_json`).
    #[sea_orm(column_name = "listed_json")]
    pub listed: Option<ListedSnapshot>,
    pub pub_name: Option<String>,
    pub pub_search: Option<String>,
    pub pub_category_id: Option<String>,
    pub pub_price_minor: Option<i64>,
    pub pub_currency: Option<String>,
    pub pub_modes: Option<String>,
    pub listed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
