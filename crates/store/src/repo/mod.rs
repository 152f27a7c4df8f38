//! Repositories: the queries the application runs. Functions take any
//! connection or transaction (`&impl ConnectionTrait`), and every query on a
//! seller's data takes the seller's id, so tenant scoping is structural.

pub mod accounts;
pub mod api_keys;
pub mod catalog;
pub mod categories;
pub mod coupons;
pub mod credentials;
pub mod deals;
pub mod debug_runs;
pub mod idempotency;
pub mod interface_messages;
pub mod invoices;
pub mod jobs;
pub mod ledger;
pub mod licenses;
pub mod login_throttle;
pub mod media;
pub mod notifications;
pub mod offers;
pub mod orders;
pub mod partner_settlement;
pub mod partners;
pub mod products;
pub mod refunds;
pub mod reviews;
pub mod sellers;
pub mod settings;
pub mod settlement;
pub mod subscription_terms;
pub mod supervisions;
pub mod usage;
pub mod usage_rating;
pub mod usage_views;

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
