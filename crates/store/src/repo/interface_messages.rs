//! The production-interface call log (interface messages) and the appInfo
//! sellers return for provisioned subscriptions.

use crate::entity::{interface_message, subscription_app_info};
use crate::error::StoreResult;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// Outcomes, as stored.
pub const SUCCESS: &str = "success";
pub const IN_PROGRESS: &str = "in_progress";
pub const REFUSED: &str = "refused";
pub const RETRYABLE: &str = "retryable";
pub const REJECTED: &str = "rejected";

pub async fn insert(db: &impl ConnectionTrait, m: interface_message::Model) -> StoreResult<()> {
    let model: interface_message::ActiveModel = m.into();
    interface_message::Entity::insert(model.reset_all()).exec_without_returning(db).await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<interface_message::Model>> {
    Ok(interface_message::Entity::find_by_id(id.to_string()).one(db).await?)
}

/// The seller's messages, newest first (ids sort by creation), `limit` at a
/// time after `before` (an id); only the failed ones (refused, retryable,
/// rejected) when `failed_only`.
pub async fn list_for_seller(
    db: &impl ConnectionTrait,
    seller_id: &str,
    failed_only: bool,
    before: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<interface_message::Model>> {
    let mut q = interface_message::Entity::find().filter(interface_message::Column::SellerId.eq(seller_id));
    if failed_only {
        q = q.filter(interface_message::Column::Outcome.is_in([REFUSED, RETRYABLE, REJECTED]));
    }
    if let Some(b) = before {
        q = q.filter(interface_message::Column::Id.lt(b));
    }
    Ok(q.order_by_desc(interface_message::Column::Id).limit(limit).all(db).await?)
}

/// The messages about one order line, oldest first.
pub async fn list_for_line(db: &impl ConnectionTrait, line_id: &str) -> StoreResult<Vec<interface_message::Model>> {
    Ok(interface_message::Entity::find()
        .filter(interface_message::Column::OrderLineId.eq(line_id))
        .order_by_asc(interface_message::Column::Id)
        .all(db)
        .await?)
}

/// Stores (or replaces) a subscription's appInfo.
pub async fn upsert_app_info(db: &impl ConnectionTrait, a: subscription_app_info::Model) -> StoreResult<()> {
    let model: subscription_app_info::ActiveModel = a.into();
    subscription_app_info::Entity::insert(model.reset_all())
        .on_conflict(
            OnConflict::column(subscription_app_info::Column::SubscriptionId)
                .update_columns([
                    subscription_app_info::Column::FrontEndUrl,
                    subscription_app_info::Column::AdminUrl,
                    subscription_app_info::Column::UserName,
                    subscription_app_info::Column::PasswordEnc,
                    subscription_app_info::Column::Memo,
                    subscription_app_info::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The appInfo of the given subscriptions (those that have one).
pub async fn app_info_of(
    db: &impl ConnectionTrait,
    subscription_ids: &[String],
) -> StoreResult<Vec<subscription_app_info::Model>> {
    if subscription_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(subscription_app_info::Entity::find()
        .filter(subscription_app_info::Column::SubscriptionId.is_in(subscription_ids.iter().cloned()))
        .all(db)
        .await?)
}
