use mercato_domain::catalog::{Cooperation, ProductStatus, ProductType, RevisionState};
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
    pub content_json: String,
    pub logo_media_id: Option<String>,
    pub images_json: String,
    pub endpoint_url: Option<String>,
    pub endpoint_key_enc: Option<String>,
    pub listed_json: Option<String>,
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
