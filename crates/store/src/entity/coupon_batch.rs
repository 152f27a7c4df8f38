use mercato_domain::channel::coupons::{CouponBatchStatus, CouponScope};
use mercato_domain::ids::CouponBatchId;
use sea_orm::entity::prelude::*;

/// A seller's batch of threshold coupons (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CouponBatchId,
    pub seller_id: String,
    pub name: String,
    pub threshold_minor: i64,
    pub amount_off_minor: i64,
    pub currency: String,
    #[sea_orm(column_name = "scope_json")]
    pub scope: CouponScope,
    pub valid_from: DateTimeUtc,
    pub valid_until: DateTimeUtc,
    pub total_count: i64,
    /// Coupons given out so far (never above `total_count`).
    pub claimed: i64,
    pub per_buyer_limit: i64,
    pub status: CouponBatchStatus,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
