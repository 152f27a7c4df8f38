//! The review cycle both seller applications share (onboarding and business
//! certification): save a draft, submit it. One body serves both tables
//! through [`Application`].

use super::*;
use mercato_store::error::StoreResult;
use std::future::Future;

/// A seller's application row, whichever table holds it.
pub(super) trait Application: Clone + Send + Sync + Sized {
    const KIND: ApplicationKind;
    /// The conflict detail when there is nothing saved to submit.
    const NOTHING_SAVED: &'static str;

    fn status(&self) -> ApplicationStatus;
    /// Keeps the review fields of `old` (status set by the caller).
    fn carry_review(&mut self, status: ApplicationStatus, old: Self);

    fn find(db: &impl Executor, seller_id: &str) -> impl Future<Output = StoreResult<Option<Self>>> + Send;
    fn insert(db: &impl Executor, row: Self) -> impl Future<Output = StoreResult<()>> + Send;
    fn replace(
        db: &impl Executor,
        row: Self,
        expected: ApplicationStatus,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    fn submit(
        db: &impl Executor,
        seller_id: &str,
        from: ApplicationStatus,
        to: ApplicationStatus,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Whatever else must hold before submitting (checked in the submit
    /// transaction, after the application's own status).
    fn ready(db: &impl Executor, seller_id: &str) -> impl Future<Output = AppResult<()>> + Send;
}

macro_rules! application {
    ($model:ty, $kind:expr, $nothing:literal, $find:path, $insert:path, $replace:path, $submit:path, $ready:path) => {
        impl Application for $model {
            const KIND: ApplicationKind = $kind;
            const NOTHING_SAVED: &'static str = $nothing;

            fn status(&self) -> ApplicationStatus {
                self.status
            }

            fn carry_review(&mut self, status: ApplicationStatus, old: Self) {
                self.status = status;
                self.reason = old.reason;
                self.submitted_at = old.submitted_at;
                self.decided_at = old.decided_at;
            }

            fn find(db: &impl Executor, seller_id: &str) -> impl Future<Output = StoreResult<Option<Self>>> + Send {
                $find(db, seller_id)
            }

            fn insert(db: &impl Executor, row: Self) -> impl Future<Output = StoreResult<()>> + Send {
                $insert(db, row)
            }

            fn replace(
                db: &impl Executor,
                row: Self,
                expected: ApplicationStatus,
            ) -> impl Future<Output = StoreResult<bool>> + Send {
                $replace(db, row, expected)
            }

            fn submit(
                db: &impl Executor,
                seller_id: &str,
                from: ApplicationStatus,
                to: ApplicationStatus,
                at: DateTime<Utc>,
            ) -> impl Future<Output = StoreResult<bool>> + Send {
                $submit(db, seller_id, from, to, at)
            }

            fn ready(db: &impl Executor, seller_id: &str) -> impl Future<Output = AppResult<()>> + Send {
                $ready(db, seller_id)
            }
        }
    };
}

application!(
    seller_onboarding::Model,
    ApplicationKind::Onboarding,
    "save the onboarding application (PUT) before submitting it",
    sellers::find_onboarding,
    sellers::insert_onboarding,
    sellers::replace_onboarding,
    sellers::submit_onboarding,
    always_ready
);
application!(
    seller_certification::Model,
    ApplicationKind::Certification,
    "save the business certification (PUT) before submitting it",
    sellers::find_certification,
    sellers::insert_certification,
    sellers::replace_certification,
    sellers::submit_certification,
    onboarding_approved
);

async fn always_ready(_db: &impl Executor, _seller_id: &str) -> AppResult<()> {
    Ok(())
}

/// The business certification waits for the onboarding approval.
async fn onboarding_approved(db: &impl Executor, seller_id: &str) -> AppResult<()> {
    let onboarded =
        sellers::find_onboarding(db, seller_id).await?.is_some_and(|o| o.status == ApplicationStatus::Approved);
    if onboarded {
        Ok(())
    } else {
        Err(AppError::conflict(
            "onboarding_not_approved",
            "the business certification can be submitted once the onboarding application is approved",
        ))
    }
}

/// Saves `row` (a fresh draft built from the form) as the seller's
/// application: inserted the first time, else overwritten if the review
/// cycle allows editing, keeping the review fields.
pub(super) async fn save<A: Application>(state: &AppState, seller_id: &str, mut row: A) -> AppResult<A> {
    let tx = state.db.write().await?;
    match A::find(&tx, seller_id).await? {
        None => A::insert(&tx, row.clone()).await.map_err(|e| match e {
            StoreError::Conflict(_) => lost_race(A::KIND, None, ApplicationStatus::edit),
            other => other.into(),
        })?,
        Some(old) => {
            let expected = old.status();
            let status = expected.edit().map_err(|e| refused(A::KIND, e))?;
            row.carry_review(status, old);
            if !A::replace(&tx, row.clone(), expected).await? {
                let now = A::find(&tx, seller_id).await?;
                return Err(lost_race(A::KIND, now.map(|r| r.status()), ApplicationStatus::edit));
            }
        }
    }
    tx.commit().await?;
    Ok(row)
}

/// Submits the seller's saved application for review.
pub(super) async fn submit<A: Application>(state: &AppState, seller_id: &str) -> AppResult<A> {
    let now = state.now();
    let tx = state.db.write().await?;
    let row =
        A::find(&tx, seller_id).await?.ok_or_else(|| AppError::conflict("nothing_to_submit", A::NOTHING_SAVED))?;
    let to = row.status().submit().map_err(|e| refused(A::KIND, e))?;
    A::ready(&tx, seller_id).await?;
    if !A::submit(&tx, seller_id, row.status(), to, now).await? {
        let now = A::find(&tx, seller_id).await?;
        return Err(lost_race(A::KIND, now.map(|r| r.status()), ApplicationStatus::submit));
    }
    let row = A::find(&tx, seller_id).await?.ok_or_else(|| AppError::internal("lost row"))?;
    tx.commit().await?;
    Ok(row)
}
