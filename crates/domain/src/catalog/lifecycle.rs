//! The listing lifecycle: draft -> in_review -> listed / rejected ->
//! delisted / relisted, plus the revision that an edit of a listed product
//! opens while the listed version stays on sale.

string_enum!(
    ProductStatus {
        Draft => "draft",
        InReview => "in_review",
        Listed => "listed",
        Rejected => "rejected",
        Delisted => "delisted",
    }
);

string_enum!(
    /// Pending edits of a product that has been listed before.
    RevisionState {
        None => "none",
        Draft => "draft",
        InReview => "in_review",
        Rejected => "rejected",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductAction {
    /// The seller changes content or SKUs.
    Edit,
    /// The seller asks for review (of the product or of its revision).
    Submit,
    /// An operator approves the pending review.
    Approve,
    /// An operator rejects the pending review.
    Reject,
    Delist,
    Relist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("the product is under review; wait for the decision before changing it")]
    UnderReview,
    #[error("there are no changes to submit")]
    NothingToSubmit,
    #[error("the product has no pending review")]
    NotInReview,
    #[error("only a listed product can be delisted")]
    NotListed,
    #[error("only a delisted product can be relisted")]
    NotDelisted,
}

/// A product's position in the lifecycle: its status and, once it has been
/// listed, the state of its pending revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: ProductStatus,
    pub revision: RevisionState,
}

impl Lifecycle {
    pub const NEW: Lifecycle = Lifecycle { status: ProductStatus::Draft, revision: RevisionState::None };

    /// True when the product has been approved at least once, so its edits
    /// become revisions and the approved content stays public.
    pub fn has_listed_version(self) -> bool {
        matches!(self.status, ProductStatus::Listed | ProductStatus::Delisted)
    }

    pub fn apply(self, action: ProductAction) -> Result<Lifecycle, LifecycleError> {
        use ProductAction as A;
        use ProductStatus as S;
        use RevisionState as R;
        let Lifecycle { status, revision } = self;
        let with = |status, revision| Ok(Lifecycle { status, revision });
        match (status, action) {
            (S::Draft | S::Rejected, A::Edit) => with(status, R::None),
            (S::Draft | S::Rejected, A::Submit) => with(S::InReview, R::None),
            (S::InReview, A::Edit | A::Submit) => Err(LifecycleError::UnderReview),
            (S::InReview, A::Approve) => with(S::Listed, R::None),
            (S::InReview, A::Reject) => with(S::Rejected, R::None),
            (S::Listed | S::Delisted, A::Edit) => match revision {
                R::InReview => Err(LifecycleError::UnderReview),
                _ => with(status, R::Draft),
            },
            (S::Listed | S::Delisted, A::Submit) => match revision {
                R::Draft | R::Rejected => with(status, R::InReview),
                R::InReview => Err(LifecycleError::UnderReview),
                R::None => Err(LifecycleError::NothingToSubmit),
            },
            (S::Listed | S::Delisted, A::Approve) => match revision {
                R::InReview => with(status, R::None),
                _ => Err(LifecycleError::NotInReview),
            },
            (S::Listed | S::Delisted, A::Reject) => match revision {
                R::InReview => with(status, R::Rejected),
                _ => Err(LifecycleError::NotInReview),
            },
            (S::Draft | S::Rejected, A::Approve | A::Reject) => Err(LifecycleError::NotInReview),
            (S::Listed, A::Delist) => with(S::Delisted, revision),
            (_, A::Delist) => Err(LifecycleError::NotListed),
            (S::Delisted, A::Relist) => with(S::Listed, revision),
            (_, A::Relist) => Err(LifecycleError::NotDelisted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProductAction as A;
    use ProductStatus as S;
    use RevisionState as R;

    fn at(status: ProductStatus, revision: RevisionState) -> Lifecycle {
        Lifecycle { status, revision }
    }

    #[test]
    fn first_listing_path() {
        let l = Lifecycle::NEW.apply(A::Edit).unwrap();
        let l = l.apply(A::Submit).unwrap();
        assert_eq!(l, at(S::InReview, R::None));
        assert_eq!(l.apply(A::Edit), Err(LifecycleError::UnderReview));
        assert_eq!(l.apply(A::Submit), Err(LifecycleError::UnderReview));
        let rejected = l.apply(A::Reject).unwrap();
        assert_eq!(rejected.status, S::Rejected);
        let listed = rejected.apply(A::Submit).unwrap().apply(A::Approve).unwrap();
        assert_eq!(listed, at(S::Listed, R::None));
    }

    #[test]
    fn revisions_keep_the_listed_version_on_sale() {
        let l = at(S::Listed, R::None);
        assert_eq!(l.apply(A::Submit), Err(LifecycleError::NothingToSubmit));
        let edited = l.apply(A::Edit).unwrap();
        assert_eq!(edited, at(S::Listed, R::Draft));
        let reviewing = edited.apply(A::Submit).unwrap();
        assert_eq!(reviewing, at(S::Listed, R::InReview));
        assert_eq!(reviewing.apply(A::Edit), Err(LifecycleError::UnderReview));
        assert_eq!(reviewing.apply(A::Reject).unwrap(), at(S::Listed, R::Rejected));
        assert_eq!(reviewing.apply(A::Approve).unwrap(), at(S::Listed, R::None));
        // Delisting does not lose a pending revision.
        assert_eq!(reviewing.apply(A::Delist).unwrap(), at(S::Delisted, R::InReview));
    }

    #[test]
    fn every_state_and_action_has_a_defined_outcome() {
        // Exhaustive walk: no combination panics, and the invariants hold.
        let actions = [A::Edit, A::Submit, A::Approve, A::Reject, A::Delist, A::Relist];
        for s in ProductStatus::ALL {
            for r in RevisionState::ALL {
                let l = at(*s, *r);
                for a in actions {
                    if let Ok(next) = l.apply(a) {
                        if !next.has_listed_version() {
                            assert_eq!(next.revision, R::None, "{l:?} {a:?}");
                        }
                        if matches!(a, A::Approve | A::Reject) {
                            assert!(l.status == S::InReview || l.revision == R::InReview);
                        }
                    }
                }
                assert_eq!(l.apply(A::Relist).is_ok(), *s == S::Delisted);
                assert_eq!(l.apply(A::Delist).is_ok(), *s == S::Listed);
            }
        }
    }
}
