use mercato_domain::channel::coupons::CouponStatus;
use mercato_domain::ids::{CouponBatchId, CouponId};
use sea_orm::entity::prelude::*;

/// One coupon a buyer claimed (migration 0028).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CouponId,
    pub batch_id: CouponBatchId,
    pub buyer_id: String,
    /// The buyer's n-th claim of the batch (unique: the per-buyer limit).
    pub claim_no: i64,
    pub status: CouponStatus,
    pub order_id: Option<String>,
    pub claimed_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its batch: an order reads the coupon with its terms in one query.
    #[sea_orm(
        belongs_to = "super::coupon_batch::Entity",
        from = "Column::BatchId",
        to = "super::coupon_batch::Column::Id"
    )]
    Batch,
}

impl Related<super::coupon_batch::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Batch.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
