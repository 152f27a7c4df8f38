//! Conditional changes to a subscription's term and specification: each
//! update names the row as the caller read it ([`Seen`]) and changes nothing
//! when any of it moved, so two renewals, upgrades or conversions racing on
//! one subscription cannot both win (the loser gets false).

use crate::entity::subscription::{self, Column};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::orders::{Period, SubscriptionStatus};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany};

/// A subscription as the caller read it.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub id: &'a str,
    pub status: SubscriptionStatus,
    /// The current specification line (None: the purchase line).
    pub spec_line_id: Option<&'a str>,
}

/// The specification a change moves to: the SKU and the order line that
/// bought it.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    pub sku_id: &'a str,
    pub line_id: &'a str,
}

fn guarded(update: UpdateMany<subscription::Entity>, seen: &Seen<'_>) -> UpdateMany<subscription::Entity> {
    let spec: SimpleExpr = match seen.spec_line_id {
        Some(l) => Column::SpecLineId.eq(l),
        None => Column::SpecLineId.is_null(),
    };
    update.filter(Column::Id.eq(seen.id)).filter(Column::Status.eq(seen.status)).filter(spec)
}

fn with_spec(update: UpdateMany<subscription::Entity>, spec: Spec<'_>) -> UpdateMany<subscription::Entity> {
    update
        .col_expr(Column::SkuId, Expr::value(spec.sku_id))
        .col_expr(Column::SpecLineId, Expr::value(Some(spec.line_id.to_string())))
}

/// Upgrade: the new specification at once, if the subscription still
/// expires at `expires_at`.
pub async fn switch_spec(
    db: &impl ConnectionTrait,
    seen: &Seen<'_>,
    expires_at: DateTime<Utc>,
    to: Spec<'_>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = with_spec(subscription::Entity::update_many(), to).col_expr(Column::UpdatedAt, Expr::value(now));
    let res = guarded(update, seen).filter(Column::ExpiresAt.eq(expires_at)).exec(db).await?;
    Ok(res.rows_affected == 1)
}

/// Renewal: moves the expiry from `current_expiry` to `new_expiry`, and the
/// specification to `spec` when the renewal changes it.
pub async fn extend_term(
    db: &impl ConnectionTrait,
    seen: &Seen<'_>,
    current_expiry: DateTime<Utc>,
    new_expiry: DateTime<Utc>,
    spec: Option<Spec<'_>>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut update = subscription::Entity::update_many()
        .col_expr(Column::ExpiresAt, Expr::value(Some(new_expiry)))
        .col_expr(Column::UpdatedAt, Expr::value(now));
    if let Some(spec) = spec {
        update = with_spec(update, spec);
    }
    let res = guarded(update, seen).filter(Column::ExpiresAt.eq(current_expiry)).exec(db).await?;
    Ok(res.rows_affected == 1)
}

/// What a trial becomes when converted to a paid subscription.
#[derive(Debug, Clone, Copy)]
pub struct Conversion<'a> {
    pub period: Period,
    pub auto_renew: bool,
    pub expires_at: DateTime<Utc>,
    pub spec: Spec<'a>,
}

/// Trial conversion: an active paid subscription with the bought period,
/// if it is still a trial.
pub async fn convert_trial(
    db: &impl ConnectionTrait,
    seen: &Seen<'_>,
    to: Conversion<'_>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = with_spec(subscription::Entity::update_many(), to.spec)
        .col_expr(Column::Trial, Expr::value(false))
        .col_expr(Column::Period, Expr::value(Some(to.period)))
        .col_expr(Column::AutoRenew, Expr::value(to.auto_renew))
        .col_expr(Column::ExpiresAt, Expr::value(Some(to.expires_at)))
        .col_expr(Column::Status, Expr::value(SubscriptionStatus::Active))
        .col_expr(Column::UpdatedAt, Expr::value(now));
    let res = guarded(update, seen).filter(Column::Trial.eq(true)).exec(db).await?;
    Ok(res.rows_affected == 1)
}

/// Subscriptions in `status` whose term ends by `expiring_by`.
pub async fn expiring(
    db: &impl ConnectionTrait,
    status: SubscriptionStatus,
    expiring_by: DateTime<Utc>,
) -> StoreResult<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(Column::Status.eq(status))
        .filter(Column::ExpiresAt.lte(expiring_by))
        .all(db)
        .await?)
}
