//! A seller's onboarding application, business certification, agreement
//! acceptances and the operators' decisions on the applications.
//!
//! Every status change is a conditional update (`WHERE status = <expected>`)
//! that reports whether it happened, so two writers racing on one application
//! cannot both win: the caller turns `false` into a conflict.

use crate::entity::{account, application_decision, seller_agreement, seller_certification, seller_onboarding};
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use mercato_domain::onboarding::{ApplicationKind, ApplicationStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// The review columns both applications share, generated once for each table.
macro_rules! review_cycle {
    ($entity:ident, $find:ident, $insert:ident, $replace:ident, $submit:ident, $decide:ident, $list:ident) => {
        pub async fn $find(db: &impl ConnectionTrait, seller_id: &str) -> StoreResult<Option<$entity::Model>> {
            Ok($entity::Entity::find_by_id(seller_id.to_string()).one(db).await?)
        }

        pub async fn $insert(db: &impl ConnectionTrait, row: $entity::Model) -> StoreResult<()> {
            $entity::Entity::insert(row.into_active_model()).exec_without_returning(db).await?;
            Ok(())
        }

        /// Overwrites the seller's application with `row` if its status is
        /// still `expected`; false when it changed meanwhile.
        pub async fn $replace(
            db: &impl ConnectionTrait,
            row: $entity::Model,
            expected: ApplicationStatus,
        ) -> StoreResult<bool> {
            let seller_id = row.seller_id.clone();
            let mut active = row.into_active_model();
            // The key is the filter, not a value to set.
            active.seller_id = sea_orm::ActiveValue::NotSet;
            set_all(&mut active);
            let done = $entity::Entity::update_many()
                .set(active)
                .filter($entity::Column::SellerId.eq(seller_id))
                .filter($entity::Column::Status.eq(expected))
                .exec(db)
                .await?;
            Ok(done.rows_affected == 1)
        }

        /// Moves the seller's application from `from` to submitted.
        pub async fn $submit(
            db: &impl ConnectionTrait,
            seller_id: &str,
            from: ApplicationStatus,
            submitted: ApplicationStatus,
            at: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done = $entity::Entity::update_many()
                .col_expr($entity::Column::Status, Expr::value(submitted))
                .col_expr($entity::Column::SubmittedAt, Expr::value(at))
                .col_expr($entity::Column::UpdatedAt, Expr::value(at))
                .filter($entity::Column::SellerId.eq(seller_id))
                .filter($entity::Column::Status.eq(from))
                .exec(db)
                .await?;
            Ok(done.rows_affected == 1)
        }

        /// Records an operator's decision if the application is still `from`
        /// (submitted). `reason` replaces the last one (None on approval).
        pub async fn $decide(
            db: &impl ConnectionTrait,
            seller_id: &str,
            from: ApplicationStatus,
            to: ApplicationStatus,
            reason: Option<&str>,
            at: DateTime<Utc>,
        ) -> StoreResult<bool> {
            let done = $entity::Entity::update_many()
                .col_expr($entity::Column::Status, Expr::value(to))
                .col_expr($entity::Column::Reason, Expr::value(reason.map(str::to_string)))
                .col_expr($entity::Column::DecidedAt, Expr::value(at))
                .col_expr($entity::Column::UpdatedAt, Expr::value(at))
                .filter($entity::Column::SellerId.eq(seller_id))
                .filter($entity::Column::Status.eq(from))
                .exec(db)
                .await?;
            Ok(done.rows_affected == 1)
        }

        /// Applications (optionally of one status) with their seller accounts,
        /// by seller id, `limit` at a time after the seller id `after`.
        pub async fn $list(
            db: &impl ConnectionTrait,
            status: Option<ApplicationStatus>,
            after: Option<&str>,
            limit: u64,
        ) -> StoreResult<Vec<($entity::Model, Option<account::Model>)>> {
            let mut q = $entity::Entity::find();
            if let Some(s) = status {
                q = q.filter($entity::Column::Status.eq(s));
            }
            if let Some(a) = after {
                q = q.filter($entity::Column::SellerId.gt(a));
            }
            let rows = q.order_by_asc($entity::Column::SellerId).limit(limit).all(db).await?;
            let ids: Vec<String> = rows.iter().map(|r| r.seller_id.clone()).collect();
            let mut accounts = accounts_by_id(db, ids).await?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let a = accounts.remove(&r.seller_id);
                    (r, a)
                })
                .collect())
        }
    };
}

/// Marks every column of an active model as set (`into_active_model` leaves
/// them `Unchanged`, which `UpdateMany::set` skips), except those NotSet.
fn set_all<A: sea_orm::ActiveModelTrait>(model: &mut A) {
    use sea_orm::Iterable;
    for col in <A::Entity as EntityTrait>::Column::iter() {
        if let sea_orm::ActiveValue::Unchanged(v) = model.get(col) {
            model.set(col, v);
        }
    }
}

review_cycle!(
    seller_onboarding,
    find_onboarding,
    insert_onboarding,
    replace_onboarding,
    submit_onboarding,
    decide_onboarding,
    list_onboarding
);

review_cycle!(
    seller_certification,
    find_certification,
    insert_certification,
    replace_certification,
    submit_certification,
    decide_certification,
    list_certification
);

/// The accounts with these ids, by id.
pub async fn accounts_by_id(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> StoreResult<HashMap<String, account::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = account::Entity::find().filter(account::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows.into_iter().map(|a| (a.id.clone(), a)).collect())
}

/// The onboarding rows of these sellers, by seller id (names for lists).
pub async fn onboarding_by_seller(
    db: &impl ConnectionTrait,
    seller_ids: Vec<String>,
) -> StoreResult<HashMap<String, seller_onboarding::Model>> {
    if seller_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows =
        seller_onboarding::Entity::find().filter(seller_onboarding::Column::SellerId.is_in(seller_ids)).all(db).await?;
    Ok(rows.into_iter().map(|o| (o.seller_id.clone(), o)).collect())
}

pub async fn insert_decision(db: &impl ConnectionTrait, row: application_decision::Model) -> StoreResult<()> {
    application_decision::Entity::insert(row.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// The decisions on one of the seller's applications, oldest first.
pub async fn decisions(
    db: &impl ConnectionTrait,
    seller_id: &str,
    application: ApplicationKind,
) -> StoreResult<Vec<application_decision::Model>> {
    Ok(application_decision::Entity::find()
        .filter(application_decision::Column::SellerId.eq(seller_id))
        .filter(application_decision::Column::Application.eq(application))
        .order_by_asc(application_decision::Column::DecidedAt)
        .order_by_asc(application_decision::Column::Id)
        .all(db)
        .await?)
}

pub async fn find_agreement(
    db: &impl ConnectionTrait,
    seller_id: &str,
    version: &str,
) -> StoreResult<Option<seller_agreement::Model>> {
    Ok(seller_agreement::Entity::find_by_id((seller_id.to_string(), version.to_string())).one(db).await?)
}

/// Records that the seller accepted `version` at `at`, unless already
/// accepted; returns the acceptance that stands (the first one).
pub async fn accept_agreement(
    db: &impl ConnectionTrait,
    seller_id: &str,
    version: &str,
    at: DateTime<Utc>,
) -> StoreResult<seller_agreement::Model> {
    let row = seller_agreement::ActiveModel {
        seller_id: Set(seller_id.to_string()),
        version: Set(version.to_string()),
        accepted_at: Set(at),
    };
    seller_agreement::Entity::insert(row)
        .on_conflict_do_nothing_on([seller_agreement::Column::SellerId, seller_agreement::Column::Version])
        .exec_without_returning(db)
        .await?;
    Ok(find_agreement(db, seller_id, version).await?.expect("the acceptance was just recorded or already there"))
}

/// What a seller has done of what selling requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub onboarding_approved: bool,
    pub certification_approved: bool,
    /// Accepted the agreement version asked about.
    pub agreed: bool,
}

/// Whether `seller_id`'s onboarding and certification are approved and it
/// accepted `agreement_version`.
pub async fn readiness(db: &impl ConnectionTrait, seller_id: &str, agreement_version: &str) -> StoreResult<Readiness> {
    let approved = ApplicationStatus::Approved;
    let onboarding_approved = seller_onboarding::Entity::find_by_id(seller_id.to_string())
        .one(db)
        .await?
        .is_some_and(|o| o.status == approved);
    let certification_approved = seller_certification::Entity::find_by_id(seller_id.to_string())
        .one(db)
        .await?
        .is_some_and(|c| c.status == approved);
    let agreed = seller_agreement::Entity::find()
        .filter(seller_agreement::Column::SellerId.eq(seller_id))
        .filter(seller_agreement::Column::Version.eq(agreement_version))
        .one(db)
        .await?
        .is_some();
    Ok(Readiness { onboarding_approved, certification_approved, agreed })
}
