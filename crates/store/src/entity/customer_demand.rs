use mercato_domain::channel::partners::DemandStatus;
use mercato_domain::ids::DemandId;
use sea_orm::entity::prelude::*;

/// A customer demand a partner passed to a seller (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_demands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DemandId,
    pub partner_id: String,
    pub buyer_id: String,
    pub seller_id: String,
    pub product_id: String,
    pub needs: String,
    pub target_price_minor: Option<i64>,
    pub currency: String,
    pub status: DemandStatus,
    pub seller_note: Option<String>,
    pub offer_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
