//! Settlement's CSV files: the transaction details (交易明细) streamed page
//! by page as they are read (never the whole file in memory, whatever the
//! number of lines), and the bank file of approved payouts for a batch
//! transfer.

use super::{TransactionParams, line_filter, transaction_view};
use crate::app::csv;
use crate::app::error::{AppError, AppResult};
use crate::state::AppState;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use mercato_domain::money::exponent;
use mercato_store::repo::settlement as repo;

/// Lines read per page of the export (one chunk of the response each).
const EXPORT_PAGE: u64 = 1_000;

pub const TRANSACTION_COLUMNS: &[&str] = &[
    "statement_id",
    "seller_id",
    "period",
    "currency",
    "seq",
    "kind",
    "source_id",
    "order_id",
    "customer",
    "product_id",
    "product_type",
    "settled_at",
    "gross_minor",
    "commission_minor",
    "net_minor",
];

/// The response body: CSV chunks; an error after the first chunk ends the
/// body early (the client sees a broken transfer, never a short file
/// passing as whole).
pub type CsvBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The transaction details matching `params` (its `limit` and `cursor` are
/// ignored) as CSV, in statement and settled order: a header, then one row
/// per settled line. Bad filters are refused (422) before anything is sent.
pub fn transactions_csv(state: &AppState, seller_id: Option<String>, params: TransactionParams) -> AppResult<CsvBody> {
    transactions_csv_paged(state, seller_id, params, EXPORT_PAGE)
}

/// [`transactions_csv`] reading `page` lines at a time.
pub fn transactions_csv_paged(
    state: &AppState,
    seller_id: Option<String>,
    params: TransactionParams,
    page: u64,
) -> AppResult<CsvBody> {
    let filter = line_filter(params)?;
    let header = stream::once(async { Ok(Bytes::from(csv::header(TRANSACTION_COLUMNS))) });
    let state = state.clone();
    // State: the last line sent (statement id, seq); None once done.
    let pages = stream::unfold(Some(None::<(String, i64)>), move |cursor| {
        let (state, filter, seller_id) = (state.clone(), filter.clone(), seller_id.clone());
        async move {
            let after = cursor?;
            let rows = repo::settled_lines(
                &state.db.conn,
                seller_id.as_deref(),
                &filter,
                after.as_ref().map(|(id, seq)| (id.as_str(), *seq)),
                page,
            )
            .await;
            let rows = match rows {
                Ok(rows) if rows.is_empty() => return None,
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "transaction export stopped");
                    return Some((Err(std::io::Error::other("the export could not be read")), None));
                }
            };
            // A full page may have more after it; a short one is the last.
            let next =
                (rows.len() as u64 == page).then(|| rows.last().map(|(s, l)| Some((s.id.clone(), l.seq)))).flatten();
            let mut chunk = String::with_capacity(rows.len() * 200);
            for row in rows {
                let t = transaction_view(row);
                let l = t.line;
                csv::push_row(
                    &mut chunk,
                    [
                        csv::text(&t.statement_id),
                        csv::text(&t.seller_id),
                        csv::text(&t.period),
                        csv::text(&t.currency),
                        csv::number(l.seq),
                        csv::text(l.kind.as_str()),
                        csv::text(&l.source_id),
                        csv::text(l.order_id.as_deref().unwrap_or("")),
                        csv::text(&l.buyer_id),
                        csv::text(&l.product_id),
                        csv::text(l.product_type.as_str()),
                        csv::text(&l.settled_at.to_rfc3339()),
                        csv::number(l.gross_minor),
                        csv::number(l.commission_minor),
                        csv::number(l.net_minor),
                    ],
                );
            }
            Some((Ok(Bytes::from(chunk)), next))
        }
    });
    Ok(header.chain(pages).boxed())
}

pub const BANK_FILE_COLUMNS: &[&str] = &[
    "statement_id",
    "period",
    "seller_id",
    "account_holder",
    "bank_name",
    "bank_account",
    "currency",
    "amount_minor",
    "amount",
    "payment_reference",
];

/// The bank file: one transfer per approved statement with a positive net
/// (optionally of one period), to the bank account of the seller's approved
/// business certification, the statement id as the payment reference.
/// Statements whose seller has no certified bank account are left out and
/// counted. After the bank has made the transfers, each is recorded with
/// `POST .../statements/{id}/payout` and the bank's reference.
pub struct BankFile {
    pub csv: String,
    pub rows: usize,
    pub without_bank_account: usize,
}

pub async fn bank_file(state: &AppState, period: Option<String>) -> AppResult<BankFile> {
    let period = super::checked_period(period)?;
    let due = repo::payable_statements(&state.db.conn, period.as_deref()).await?;
    let mut out = csv::header(BANK_FILE_COLUMNS);
    let (mut rows, mut without_bank_account) = (0, 0);
    for (s, bank) in due {
        let Some(bank) = bank else {
            without_bank_account += 1;
            continue;
        };
        let account = state
            .crypto
            .decrypt(crate::app::onboarding::BANK_ACCOUNT_FIELD, &bank.bank_account_enc)
            .map_err(|e| AppError::internal(format!("seller {}'s bank account cannot be read: {e}", s.seller_id)))?;
        let digits = exponent(&s.currency).unwrap_or(2);
        csv::push_row(
            &mut out,
            [
                csv::text(&s.id),
                csv::text(&s.period),
                csv::text(&s.seller_id),
                csv::text(&bank.account_holder),
                csv::text(&bank.bank_name),
                csv::text(&account),
                csv::text(&s.currency),
                csv::number(s.net_minor),
                csv::major(s.net_minor, digits),
                csv::text(&s.id),
            ],
        );
        rows += 1;
    }
    Ok(BankFile { csv: out, rows, without_bank_account })
}
