//! A partner's statement of shares (客户服务商账单), written by the
//! settlement run for each partner and currency with attributed sales or
//! clawbacks in the period.
//!
//! Lines: each attributed order line whose delivery completed in the
//! period (what the customer paid, the share its payment entry credited
//! the partner) and each unsubscribe refund of such a line (negative: what
//! it took back). The statement sums them.
//!
//! Steps, as the seeds require (the partner must invoice the platform for
//! its shares, and the invoice must be received before anything is paid):
//!
//! | from               | action            | to                 |
//! |--------------------|-------------------|--------------------|
//! | `issued`           | `receive_invoice` | `invoice_received` |
//! | `invoice_received` | `pay`             | `paid`             |
//!
//! Paying posts one balanced `payout` entry: debit the partner's payable,
//! credit the platform's cash at the provider. A statement whose share is
//! not positive is never paid (409).

use super::partners::PartnerStatementStatus;

/// What happens to a partner statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStatementAction {
    /// An operator records the partner's invoice as received.
    ReceiveInvoice,
    /// An operator records the payout.
    Pay,
}

impl PartnerStatementAction {
    pub const ALL: &'static [PartnerStatementAction] =
        &[PartnerStatementAction::ReceiveInvoice, PartnerStatementAction::Pay];
}

impl PartnerStatementStatus {
    /// The status after `action`, or why it does not apply.
    pub fn next(self, action: PartnerStatementAction) -> Result<PartnerStatementStatus, String> {
        use PartnerStatementAction as A;
        use PartnerStatementStatus as S;
        match (self, action) {
            (S::Issued, A::ReceiveInvoice) => Ok(S::InvoiceReceived),
            (S::InvoiceReceived, A::Pay) => Ok(S::Paid),
            (S::Issued, A::Pay) => Err("the partner's invoice must be received before the payout".into()),
            _ => Err(format!("a statement that is {self} cannot {action:?}")),
        }
    }
}

/// Longest partner invoice number accepted.
pub const INVOICE_NUMBER_MAX: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_exactly_the_documented_ones() {
        use PartnerStatementAction as A;
        use PartnerStatementStatus as S;
        let allowed = [(S::Issued, A::ReceiveInvoice, S::InvoiceReceived), (S::InvoiceReceived, A::Pay, S::Paid)];
        for from in S::ALL {
            for action in A::ALL {
                let expected = allowed.iter().find(|(f, a, _)| f == from && a == action).map(|(_, _, to)| *to);
                assert_eq!(from.next(*action).ok(), expected, "{from} {action:?}");
            }
        }
        assert!(S::Issued.next(A::Pay).unwrap_err().contains("invoice"));
    }
}
