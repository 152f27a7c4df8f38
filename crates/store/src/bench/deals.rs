//! What `bench orders --deals` stocks before its second phase: for each
//! buyer, private offers and claimed coupons on the bench SKU, one of each
//! per order it may place (both are single-use), written in bulk.

use crate::Db;
use crate::entity::{coupon, coupon_batch, private_offer};
use crate::error::StoreResult;
use chrono::{DateTime, Duration, Utc};
use mercato_domain::channel::coupons::{CouponBatchStatus, CouponScope, CouponStatus};
use mercato_domain::channel::offers::{OfferSku, OfferStatus, OfferTerms};
use mercato_domain::channel::pricing::OfferPrice;
use mercato_domain::ids::{CouponBatchId, CouponId, OfferId};
use sea_orm::{ActiveModelTrait, EntityTrait};

/// The deal every bench order uses: 10% off, then 1 off a total of at least 1.
pub const PERCENT_OFF_BP: i64 = 1_000;

/// One buyer's stock: (offer id, coupon id) pairs.
pub type Stock = Vec<(String, String)>;

/// The bench product's deal terms for `buyers` (account ids), `per_buyer`
/// offers and coupons each; returns each buyer's stock, in the order given.
pub async fn stock(
    db: &Db,
    seller_id: &str,
    product_id: &str,
    sku_id: &str,
    buyers: &[String],
    per_buyer: usize,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Stock>> {
    let until = now + Duration::days(30);
    let batch = coupon_batch::Model {
        id: CouponBatchId::new(),
        seller_id: seller_id.to_string(),
        name: "bench".into(),
        threshold_minor: 1,
        amount_off_minor: 1,
        currency: "CNY".into(),
        scope: CouponScope { product_ids: vec![product_id.to_string()], sku_ids: Vec::new() },
        valid_from: now - Duration::hours(1),
        valid_until: until,
        total_count: (buyers.len() * per_buyer) as i64,
        claimed: (buyers.len() * per_buyer) as i64,
        per_buyer_limit: per_buyer as i64,
        status: CouponBatchStatus::Active,
        created_at: now,
    };
    let terms = OfferTerms {
        skus: vec![OfferSku {
            sku_id: sku_id.to_string(),
            price: OfferPrice::PercentOff { percent_off_bp: PERCENT_OFF_BP },
        }],
        period: None,
        period_count: None,
    };
    let tx = db.write().await?;
    coupon_batch::Entity::insert(coupon_batch::ActiveModel::from(batch.clone()).reset_all())
        .exec_without_returning(&tx)
        .await?;
    let mut stocks = Vec::with_capacity(buyers.len());
    let (mut offers, mut coupons) = (Vec::new(), Vec::new());
    for buyer in buyers {
        let mut stock = Vec::with_capacity(per_buyer);
        for n in 0..per_buyer {
            let (offer_id, coupon_id) = (OfferId::new(), CouponId::new());
            stock.push((offer_id.to_string(), coupon_id.to_string()));
            offers.push(private_offer::Model {
                id: offer_id,
                seller_id: seller_id.to_string(),
                buyer_id: buyer.clone(),
                product_id: product_id.to_string(),
                demand_id: None,
                partner_id: None,
                share_bp: None,
                terms: terms.clone(),
                message: None,
                status: OfferStatus::Active,
                valid_from: now - Duration::hours(1),
                valid_until: until,
                order_id: None,
                created_at: now,
                status_since: now,
            });
            coupons.push(coupon::Model {
                id: coupon_id,
                batch_id: batch.id.clone(),
                buyer_id: buyer.clone(),
                claim_no: n as i64 + 1,
                status: CouponStatus::Available,
                order_id: None,
                claimed_at: now,
                used_at: None,
            });
        }
        stocks.push(stock);
    }
    for chunk in offers.chunks(500) {
        let models = chunk.iter().cloned().map(|o| private_offer::ActiveModel::from(o).reset_all());
        private_offer::Entity::insert_many(models).exec_without_returning(&tx).await?;
    }
    for chunk in coupons.chunks(500) {
        let models = chunk.iter().cloned().map(|c| coupon::ActiveModel::from(c).reset_all());
        coupon::Entity::insert_many(models).exec_without_returning(&tx).await?;
    }
    tx.commit().await?;
    if db.backend == crate::db::Backend::Postgres {
        // Fresh statistics, as autovacuum keeps them on a live marketplace:
        // the planner otherwise takes the just-filled tables for empty and
        // scans them on every order's lookup.
        use sea_orm::ConnectionTrait;
        db.conn.execute_unprepared("ANALYZE private_offers, coupons, coupon_batches").await?;
    }
    Ok(stocks)
}

/// Purchase lines that recorded both an offer and a coupon step.
pub async fn discounted_orders(db: &Db) -> StoreResult<u64> {
    use crate::entity::order_line;
    use mercato_domain::channel::pricing::DiscountKind;
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let lists: Vec<mercato_domain::channel::pricing::Discounts> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::Discounts)
        .filter(order_line::Column::Discounts.ne("[]"))
        .into_tuple()
        .all(&db.conn)
        .await?;
    Ok(lists
        .iter()
        .filter(|d| d.of_kind(DiscountKind::PrivateOffer).is_some() && d.of_kind(DiscountKind::Coupon).is_some())
        .count() as u64)
}
