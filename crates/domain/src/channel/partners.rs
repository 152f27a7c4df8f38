//! Partners (客户服务商) and their customers: bindings, exclusive discounts
//! (专属优惠) and customer demands.

string_enum!(
    /// A partner's binding to a customer. `invited` -> `active` (the buyer
    /// accepts) or `declined`; an invitation can be `withdrawn` by the
    /// partner; an active binding is `ended` by either side.
    BindingStatus {
        Invited => "invited",
        Active => "active",
        Declined => "declined",
        Withdrawn => "withdrawn",
        Ended => "ended",
    }
);

string_enum!(
    /// An exclusive discount: `requested` by the partner, then `approved` or
    /// `rejected` by an operator; the partner may `withdraw` it.
    ExclusiveDiscountStatus {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

string_enum!(
    /// A customer demand: `submitted` by the partner; the seller `accepted`
    /// it (and then `offered`: made its private offer) or `declined` it.
    DemandStatus {
        Submitted => "submitted",
        Accepted => "accepted",
        Offered => "offered",
        Declined => "declined",
    }
);

string_enum!(
    /// A partner's statement: `issued` by the settlement run, its invoice
    /// `invoice_received` by an operator, then `paid`.
    PartnerStatementStatus {
        Issued => "issued",
        InvoiceReceived => "invoice_received",
        Paid => "paid",
    }
);

/// The partner's share of an attributed sale when an operator has not set
/// one (basis points of the gross; `channel::pricing`).
pub const DEFAULT_SHARE_BP: i64 = 500;
/// The setting holding the operator's partner share.
pub const SHARE_SETTING: &str = "partner_share_bp";
