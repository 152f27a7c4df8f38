//! How a purchase is delivered, decided in one place per product type, and
//! the service supervision (服务监管) that tracks every delivery other than a
//! SaaS instance.
//!
//! # Delivery modes ([`DeliveryMode::of`])
//!
//! | product type | mode | what paying starts |
//! |---|---|---|
//! | `saas`; `api` with a registered endpoint | `saas` | `newInstance` on the seller's production interface (an API's instance carries its credentials and meters usage) |
//! | `license` with a registered endpoint (its license interface) | `license_code` | `getLicense` on that interface; the seller's software activates the code |
//! | `license` without an endpoint | `supervised_package` | a supervision: the seller deploys or hands over the software package, the buyer accepts |
//! | `manual_service` | `supervised_manual` | a supervision that starts with the buyer's requirements |
//! | `api` without an endpoint, `image`, `container`, `hardware`, `ai_asset`, `data_asset`, `app_orchestration` | `supervised_offline` | a supervision: the seller delivers offline, the buyer accepts |
//!
//! Supervised modes send `orderNotify` when the product registered an
//! endpoint, and nothing otherwise: paying never enqueues a call a product
//! cannot answer.
//!
//! # Supervision ([`SupervisionStatus::next`])
//!
//! ```text
//! awaiting_requirements --submit_requirements (buyer)--> awaiting_delivery      (manual services)
//! awaiting_delivery --start_delivery (seller)--> delivering                       (supervised modes)
//! delivering --complete_delivery (seller, report)--> awaiting_acceptance
//! awaiting_acceptance --accept (buyer)--> completed
//! awaiting_acceptance --reject (buyer, reason)--> delivering
//! awaiting_acceptance --appeal (seller, evidence; after the wait)--> appealed
//! appealed --uphold_appeal (operator)--> completed
//! appealed --dismiss_appeal (operator)--> awaiting_acceptance
//! appealed --accept (buyer)--> completed
//! delivering --license_issued (marketplace)--> awaiting_activation            (license codes)
//! awaiting_activation --license_activated (seller's software)--> completed
//! any open state --refund (see [`refund_right`])--> closed
//! ```
//!
//! # Refunds ([`refund_right`])
//!
//! | mode | the buyer withdraws with a full refund | after that |
//! |---|---|---|
//! | supervised (manual, package, offline) | until the seller starts delivery | an operator decides (full refund, supervision closed) until completion |
//! | `license_code` | until the code is activated | an operator decides until completion |
//! | `saas` | the unsubscribe rules (`refunds`) | |
//!
//! A completed delivery is not refunded through the supervision.

use crate::catalog::ProductType;
use chrono::{DateTime, Duration, Utc};

string_enum!(
    DeliveryMode {
        Saas => "saas",
        LicenseCode => "license_code",
        SupervisedManual => "supervised_manual",
        SupervisedPackage => "supervised_package",
        SupervisedOffline => "supervised_offline",
    }
);

string_enum!(
    /// Where a supervision stands.
    SupervisionStatus {
        AwaitingRequirements => "awaiting_requirements",
        AwaitingDelivery => "awaiting_delivery",
        Delivering => "delivering",
        AwaitingAcceptance => "awaiting_acceptance",
        Appealed => "appealed",
        AwaitingActivation => "awaiting_activation",
        Completed => "completed",
        Closed => "closed",
    }
);

string_enum!(
    /// A step of a supervision's timeline. `opened` is the paid order that
    /// started it; the others are [`SupervisionStatus::next`]'s events.
    SupervisionAction {
        Opened => "opened",
        SubmitRequirements => "submit_requirements",
        StartDelivery => "start_delivery",
        CompleteDelivery => "complete_delivery",
        Accept => "accept",
        Reject => "reject",
        Appeal => "appeal",
        UpholdAppeal => "uphold_appeal",
        DismissAppeal => "dismiss_appeal",
        LicenseIssued => "license_issued",
        LicenseActivated => "license_activated",
        Refund => "refund",
    }
);

string_enum!(
    /// Who took a step.
    Actor {
        Buyer => "buyer",
        Seller => "seller",
        Operator => "operator",
        Marketplace => "marketplace",
    }
);

string_enum!(
    /// What completed an order line's delivery (its settleable time): the
    /// seller's newInstance (SaaS), a renewal, upgrade or trial conversion in
    /// force, the buyer's acceptance, an operator's decision on an appeal, or
    /// the activation of a license code.
    DeliveredBy {
        InstanceProvisioned => "instance_provisioned",
        ChangeInForce => "change_in_force",
        BuyerAcceptance => "buyer_acceptance",
        OperatorDecision => "operator_decision",
        LicenseActivation => "license_activation",
    }
);

impl DeliveryMode {
    /// The mode of a product of `product_type`; `has_endpoint`: the seller
    /// registered a production (or license) interface for it.
    pub fn of(product_type: ProductType, has_endpoint: bool) -> DeliveryMode {
        use ProductType as T;
        match product_type {
            T::Saas => DeliveryMode::Saas,
            T::Api if has_endpoint => DeliveryMode::Saas,
            T::License if has_endpoint => DeliveryMode::LicenseCode,
            T::License => DeliveryMode::SupervisedPackage,
            T::ManualService => DeliveryMode::SupervisedManual,
            T::Api | T::Image | T::Container | T::Hardware | T::AiAsset | T::DataAsset | T::AppOrchestration => {
                DeliveryMode::SupervisedOffline
            }
        }
    }

    /// Delivered under a supervision (everything but a SaaS instance).
    pub fn is_supervised(self) -> bool {
        self != DeliveryMode::Saas
    }

    /// The seller holds something to keep in step with the subscription (a
    /// SaaS instance or a license code): renewals, freezes and releases are
    /// told to its server.
    pub fn has_seller_instance(self) -> bool {
        matches!(self, DeliveryMode::Saas | DeliveryMode::LicenseCode)
    }

    /// A seller delivers by hand and a buyer accepts (not a license code).
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            DeliveryMode::SupervisedManual | DeliveryMode::SupervisedPackage | DeliveryMode::SupervisedOffline
        )
    }

    /// Where a new supervision starts; None for SaaS.
    pub fn first_status(self) -> Option<SupervisionStatus> {
        match self {
            DeliveryMode::Saas => None,
            DeliveryMode::SupervisedManual => Some(SupervisionStatus::AwaitingRequirements),
            DeliveryMode::SupervisedPackage | DeliveryMode::SupervisedOffline => {
                Some(SupervisionStatus::AwaitingDelivery)
            }
            DeliveryMode::LicenseCode => Some(SupervisionStatus::Delivering),
        }
    }

    /// The actor allowed to take `action` in this mode (None: never).
    pub fn actor_of(self, action: SupervisionAction) -> Option<Actor> {
        use SupervisionAction as A;
        let manual = self.is_manual();
        let license = self == DeliveryMode::LicenseCode;
        if !self.is_supervised() {
            return None;
        }
        match action {
            A::Opened | A::Refund => Some(Actor::Marketplace),
            A::SubmitRequirements if self == DeliveryMode::SupervisedManual => Some(Actor::Buyer),
            A::StartDelivery | A::CompleteDelivery | A::Appeal if manual => Some(Actor::Seller),
            A::Accept | A::Reject if manual => Some(Actor::Buyer),
            A::UpholdAppeal | A::DismissAppeal if manual => Some(Actor::Operator),
            A::LicenseIssued if license => Some(Actor::Marketplace),
            A::LicenseActivated if license => Some(Actor::Seller),
            _ => None,
        }
    }
}

/// An action that does not apply where the supervision stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} while the supervision is {status}")]
pub struct OutOfOrder {
    pub status: SupervisionStatus,
    pub action: SupervisionAction,
}

impl SupervisionStatus {
    /// Completed or closed: nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, SupervisionStatus::Completed | SupervisionStatus::Closed)
    }

    /// The buyer's turn: requirements or acceptance.
    pub fn waits_for_buyer(self) -> bool {
        matches!(self, SupervisionStatus::AwaitingRequirements | SupervisionStatus::AwaitingAcceptance)
    }

    /// The state after `action` in `mode`, or why it does not apply. Who may
    /// act is [`DeliveryMode::actor_of`]; refunds go through
    /// [`refund_right`] first.
    pub fn next(self, mode: DeliveryMode, action: SupervisionAction) -> Result<SupervisionStatus, OutOfOrder> {
        use SupervisionAction as A;
        use SupervisionStatus as S;
        let out_of_order = OutOfOrder { status: self, action };
        if mode.actor_of(action).is_none() {
            return Err(out_of_order);
        }
        match (self, action) {
            (S::AwaitingRequirements, A::SubmitRequirements) => Ok(S::AwaitingDelivery),
            (S::AwaitingDelivery, A::StartDelivery) => Ok(S::Delivering),
            (S::Delivering, A::CompleteDelivery) => Ok(S::AwaitingAcceptance),
            (S::AwaitingAcceptance | S::Appealed, A::Accept) => Ok(S::Completed),
            (S::AwaitingAcceptance, A::Reject) => Ok(S::Delivering),
            (S::AwaitingAcceptance, A::Appeal) => Ok(S::Appealed),
            (S::Appealed, A::UpholdAppeal) => Ok(S::Completed),
            (S::Appealed, A::DismissAppeal) => Ok(S::AwaitingAcceptance),
            (S::Delivering, A::LicenseIssued) => Ok(S::AwaitingActivation),
            (S::AwaitingActivation, A::LicenseActivated) => Ok(S::Completed),
            (s, A::Refund) if !s.is_final() => Ok(S::Closed),
            _ => Err(out_of_order),
        }
    }
}

string_enum!(
    /// Who may refund a supervised purchase where it stands: the buyer
    /// (withdraws; the whole line is refunded), only an operator deciding a
    /// dispute, or nobody (delivered, or already refunded).
    RefundRight {
        Buyer => "buyer",
        Operator => "operator",
        Nobody => "nobody",
    }
);

string_enum!(
    /// An operator's answer to an appeal: complete the supervision (the
    /// delivery is accepted on the buyer's behalf) or send it back to the
    /// buyer's acceptance.
    AppealDecision {
        Complete => "complete",
        SendBack => "send_back",
    }
);

/// The refund rule of a supervised purchase (the module's table).
pub fn refund_right(mode: DeliveryMode, status: SupervisionStatus) -> RefundRight {
    use SupervisionStatus as S;
    if status.is_final() {
        return RefundRight::Nobody;
    }
    let before_delivery = match mode {
        DeliveryMode::Saas => return RefundRight::Nobody,
        DeliveryMode::LicenseCode => matches!(status, S::Delivering | S::AwaitingActivation),
        _ => matches!(status, S::AwaitingRequirements | S::AwaitingDelivery),
    };
    if before_delivery { RefundRight::Buyer } else { RefundRight::Operator }
}

/// Days the buyer may leave an acceptance without answer before the seller
/// may appeal, unless configured otherwise.
pub const APPEAL_AFTER_DAYS: i64 = 7;

/// When the seller may appeal a supervision awaiting acceptance since
/// `waiting_since`.
pub fn appeal_opens_at(waiting_since: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    waiting_since + wait
}

/// The longest text of a step (requirements, report, reason, evidence).
pub const NOTE_MAX: usize = 5_000;
/// At most this many attachments per step.
pub const ATTACHMENTS_PER_STEP: usize = 10;

string_enum!(
    /// Files a supervision step may carry: documents, images, archives and
    /// plain text. The declared type must agree with the file's signature.
    AttachmentType {
        Pdf => "application/pdf",
        Png => "image/png",
        Jpeg => "image/jpeg",
        Zip => "application/zip",
        Text => "text/plain",
    }
);

impl AttachmentType {
    pub const fn extension(self) -> &'static str {
        match self {
            AttachmentType::Pdf => "pdf",
            AttachmentType::Png => "png",
            AttachmentType::Jpeg => "jpg",
            AttachmentType::Zip => "zip",
            AttachmentType::Text => "txt",
        }
    }

    /// The type a `Content-Type` header declares (parameters ignored).
    pub fn from_content_type(header: &str) -> Option<AttachmentType> {
        let essence = header.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        AttachmentType::parse(&essence)
    }

    /// Whether `bytes` really are of this type: the signature of binary
    /// formats (Office documents are zip files), UTF-8 without NUL for text.
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            AttachmentType::Pdf => bytes.starts_with(b"%PDF-"),
            AttachmentType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            AttachmentType::Jpeg => bytes.starts_with(&[0xff, 0xd8, 0xff]),
            AttachmentType::Zip => bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06"),
            AttachmentType::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SupervisionAction as A;
    use SupervisionStatus as S;

    /// Every allowed (mode, from, action) -> to; everything else is refused.
    fn allowed(mode: DeliveryMode, from: S, action: A) -> Option<S> {
        let manual = mode.is_manual();
        let license = mode == DeliveryMode::LicenseCode;
        let open = !from.is_final();
        let to = match (from, action) {
            (S::AwaitingRequirements, A::SubmitRequirements) if mode == DeliveryMode::SupervisedManual => {
                S::AwaitingDelivery
            }
            (S::AwaitingDelivery, A::StartDelivery) if manual => S::Delivering,
            (S::Delivering, A::CompleteDelivery) if manual => S::AwaitingAcceptance,
            (S::AwaitingAcceptance, A::Accept) if manual => S::Completed,
            (S::Appealed, A::Accept) if manual => S::Completed,
            (S::AwaitingAcceptance, A::Reject) if manual => S::Delivering,
            (S::AwaitingAcceptance, A::Appeal) if manual => S::Appealed,
            (S::Appealed, A::UpholdAppeal) if manual => S::Completed,
            (S::Appealed, A::DismissAppeal) if manual => S::AwaitingAcceptance,
            (S::Delivering, A::LicenseIssued) if license => S::AwaitingActivation,
            (S::AwaitingActivation, A::LicenseActivated) if license => S::Completed,
            (_, A::Refund) if open && mode.is_supervised() => S::Closed,
            _ => return None,
        };
        Some(to)
    }

    #[test]
    fn every_transition_of_every_mode_is_the_table() {
        let mut checked = 0;
        for &mode in DeliveryMode::ALL {
            for &from in S::ALL {
                for &action in A::ALL {
                    let got = from.next(mode, action);
                    match allowed(mode, from, action) {
                        Some(to) => assert_eq!(got, Ok(to), "{mode} {from} {action}"),
                        None => assert_eq!(got, Err(OutOfOrder { status: from, action }), "{mode} {from} {action}"),
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, DeliveryMode::ALL.len() * S::ALL.len() * A::ALL.len());
    }

    #[test]
    fn final_states_take_nothing_and_saas_has_no_supervision() {
        for &mode in DeliveryMode::ALL {
            for &action in A::ALL {
                assert!(S::Completed.next(mode, action).is_err());
                assert!(S::Closed.next(mode, action).is_err());
            }
        }
        assert_eq!(DeliveryMode::Saas.first_status(), None);
        for &s in S::ALL {
            for &a in A::ALL {
                assert!(s.next(DeliveryMode::Saas, a).is_err(), "{s} {a}");
            }
        }
    }

    /// From where each mode starts, the happy path reaches completed, and
    /// every open state of the mode can reach completed.
    #[test]
    fn every_reachable_state_can_still_complete() {
        for &mode in DeliveryMode::ALL.iter().filter(|m| m.is_supervised()) {
            let start = mode.first_status().unwrap();
            let mut reachable = vec![start];
            let mut i = 0;
            while i < reachable.len() {
                for &a in A::ALL {
                    if let Ok(to) = reachable[i].next(mode, a)
                        && !reachable.contains(&to)
                    {
                        reachable.push(to);
                    }
                }
                i += 1;
            }
            assert!(reachable.contains(&S::Completed), "{mode}: {reachable:?}");
            for &s in reachable.iter().filter(|s| !s.is_final()) {
                let mut seen = vec![s];
                let mut j = 0;
                while j < seen.len() {
                    for &a in A::ALL.iter().filter(|&&a| a != A::Refund) {
                        if let Ok(to) = seen[j].next(mode, a)
                            && !seen.contains(&to)
                        {
                            seen.push(to);
                        }
                    }
                    j += 1;
                }
                assert!(seen.contains(&S::Completed), "{mode}: {s} cannot complete");
            }
        }
    }

    #[test]
    fn the_mode_table() {
        use ProductType as T;
        assert_eq!(DeliveryMode::of(T::Saas, true), DeliveryMode::Saas);
        assert_eq!(DeliveryMode::of(T::Saas, false), DeliveryMode::Saas);
        assert_eq!(DeliveryMode::of(T::License, true), DeliveryMode::LicenseCode);
        assert_eq!(DeliveryMode::of(T::License, false), DeliveryMode::SupervisedPackage);
        assert_eq!(DeliveryMode::of(T::ManualService, true), DeliveryMode::SupervisedManual);
        assert_eq!(DeliveryMode::of(T::Api, true), DeliveryMode::Saas);
        assert_eq!(DeliveryMode::of(T::Api, false), DeliveryMode::SupervisedOffline);
        for t in [T::Image, T::Container, T::Hardware, T::AiAsset, T::DataAsset, T::AppOrchestration] {
            assert_eq!(DeliveryMode::of(t, false), DeliveryMode::SupervisedOffline, "{t}");
            assert_eq!(DeliveryMode::of(t, true), DeliveryMode::SupervisedOffline, "{t}");
        }
        // Every type has a mode (the match is exhaustive; this lists them).
        assert_eq!(ProductType::ALL.len(), 10);
    }

    #[test]
    fn refunds_follow_delivery() {
        use RefundRight::*;
        let m = DeliveryMode::SupervisedManual;
        assert_eq!(refund_right(m, S::AwaitingRequirements), Buyer);
        assert_eq!(refund_right(m, S::AwaitingDelivery), Buyer);
        for s in [S::Delivering, S::AwaitingAcceptance, S::Appealed] {
            assert_eq!(refund_right(m, s), Operator, "{s}");
        }
        for s in [S::Completed, S::Closed] {
            assert_eq!(refund_right(m, s), Nobody, "{s}");
        }
        let l = DeliveryMode::LicenseCode;
        assert_eq!(refund_right(l, S::Delivering), Buyer);
        assert_eq!(refund_right(l, S::AwaitingActivation), Buyer);
        assert_eq!(refund_right(l, S::Completed), Nobody);
        assert_eq!(refund_right(DeliveryMode::Saas, S::AwaitingDelivery), Nobody);
    }

    #[test]
    fn attachments_are_what_they_claim() {
        assert!(AttachmentType::Pdf.matches(b"%PDF-1.7\n..."));
        assert!(!AttachmentType::Pdf.matches(b"<html>"));
        assert!(AttachmentType::Zip.matches(b"PK\x03\x04rest"));
        assert!(AttachmentType::Text.matches("验收报告 ok".as_bytes()));
        assert!(!AttachmentType::Text.matches(b"bin\0ary"));
        assert!(!AttachmentType::Text.matches(&[0xff, 0xfe]));
        assert_eq!(AttachmentType::from_content_type("Application/PDF; x=1"), Some(AttachmentType::Pdf));
        assert_eq!(AttachmentType::from_content_type("text/html"), None);
    }

    #[test]
    fn appeals_open_after_the_wait() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(appeal_opens_at(t, Duration::days(APPEAL_AFTER_DAYS)), t + Duration::days(7));
    }
}
