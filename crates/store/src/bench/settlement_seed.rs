//! `bench settlement`'s seeding: sellers, their certifications, and one
//! billing period's delivered sales and paid usage charges, written straight
//! into the tables by set-based SQL as orders, payment, delivery and rating
//! would have left them (with balanced ledger entries), so the run settles
//! what a busy month would give it.
//!
//! The formula, for source `k` from 0 to N - 1 and S sellers: it is seller
//! `k % S`'s (seller 0 is the one seeded over the API, the others
//! `acc_bs<i>`); a usage charge when `k % 5 == 4`, else a sale; its amount
//! is `100 + (k * 7919) % 100000` minor units of CNY and its commission a
//! fifth of it, rounded down (20 %, as the ledger rounds); it is settled at
//! the period's start plus `(k * 7919) % span` seconds. Seller `i`'s tax
//! rate is `(i % 3) * 300` basis points. A sale is order `ord_bs<k>`
//! (line `orl_bs<k>`, delivered, paid by entry `ent_bs<k>`) of the seeded
//! buyer; a usage charge is `chg_bs<k>` of buyer `acc_bb<k>` (instance
//! `ins_bs<k>`, one line, paid by entry `ent_bs<k>`).

use crate::Db;
use crate::error::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend};

/// What the formula needs from the seeded marketplace.
#[derive(Debug, Clone)]
pub struct SettlementFormula {
    pub sources: u64,
    pub sellers: u64,
    /// The period's first instant and the spread of settling times (s).
    pub start: DateTime<Utc>,
    pub span_secs: i64,
    pub seller_id: String,
    pub buyer_id: String,
    pub product_id: String,
    pub sku_id: String,
}

impl SettlementFormula {
    pub fn seller(&self, k: u64) -> u64 {
        k % self.sellers
    }

    pub fn is_usage(k: u64) -> bool {
        k % 5 == 4
    }

    pub fn amount(k: u64) -> i64 {
        100 + ((k * 7919) % 100_000) as i64
    }

    pub fn commission(k: u64) -> i64 {
        Self::amount(k) / 5
    }

    pub fn tax_rate_bp(seller: u64) -> i64 {
        (seller % 3) as i64 * 300
    }
}

/// Writes the sellers and sources, one table per statement and
/// transaction; returns the rows written.
pub async fn seed(db: &Db, f: &SettlementFormula) -> StoreResult<u64> {
    let backend = db.conn.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let ts = |secs: &str| {
        if pg {
            format!("(TIMESTAMPTZ '{}' + ({secs}) * INTERVAL '1 second')", f.start.to_rfc3339())
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%S+00:00', {} + ({secs}), 'unixepoch')", f.start.timestamp())
        }
    };
    let at = ts(&format!("(k * 7919) % {}", f.span_secs));
    let amount = "(100 + (k * 7919) % 100000)";
    let commission = format!("({amount} / 5)");
    let (n, s) = (f.sources, f.sellers);
    let (seller, buyer, product, sku) = (&f.seller_id, &f.buyer_id, &f.product_id, &f.sku_id);
    let usage = "k % 5 = 4";
    let sale = "k % 5 <> 4";
    let numbers = if pg {
        format!("INSERT INTO bench_n (k) SELECT generate_series(0, {})", n.max(s) - 1)
    } else {
        format!(
            "WITH RECURSIVE g(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM g WHERE k < {}) INSERT INTO bench_n (k) SELECT k FROM g",
            n.max(s) - 1
        )
    };
    let seller_of = format!("JOIN bench_settle_sellers s ON s.idx = bench_n.k % {s}");
    let steps: Vec<String> = vec![
        "CREATE TABLE bench_n (k BIGINT PRIMARY KEY)".into(),
        numbers,
        "CREATE TABLE bench_settle_sellers (idx BIGINT PRIMARY KEY, seller_id TEXT NOT NULL)".into(),
        format!(
            "INSERT INTO bench_settle_sellers (idx, seller_id) SELECT k, CASE WHEN k = 0 THEN '{seller}' \
             ELSE 'acc_bs' || k END FROM bench_n WHERE k < {s}"
        ),
        format!(
            "INSERT INTO accounts (id, role, name, email, password_hash, created_at) SELECT seller_id, 'seller', \
             'Bench Seller ' || idx, 'seller-' || idx || '@settle.bench.mercato.test', NULL, {} \
             FROM bench_settle_sellers WHERE idx > 0",
            ts("0")
        ),
        format!(
            "INSERT INTO seller_certification (seller_id, status, bank_name, bank_account_enc, bank_account_masked, \
             account_holder, tax_rate_bp, currency, reason, submitted_at, decided_at, updated_at) \
             SELECT s.seller_id, c.status, c.bank_name, c.bank_account_enc, c.bank_account_masked, \
             'Bench Seller ' || s.idx, (s.idx % 3) * 300, c.currency, NULL, c.submitted_at, c.decided_at, c.updated_at \
             FROM bench_settle_sellers s CROSS JOIN seller_certification c WHERE c.seller_id = '{seller}' AND s.idx > 0"
        ),
        format!("UPDATE seller_certification SET tax_rate_bp = 0 WHERE seller_id = '{seller}'"),
        format!(
            "INSERT INTO orders (id, buyer_id, status, amount_minor, currency, payment_entry_id, created_at, \
             updated_at, paid_at, cancelled_at) SELECT 'ord_bs' || k, '{buyer}', 'completed', {amount}, 'CNY', \
             'ent_bs' || k, {at}, {at}, {at}, NULL FROM bench_n WHERE k < {n} AND {sale}"
        ),
        format!(
            "INSERT INTO order_lines (id, order_id, line_no, product_id, seller_id, product_name, product_type, \
             cooperation, sku_id, sku_code, charging_mode, period, period_count, quantity, trial, trial_days, \
             auto_renew, amount_minor, currency, sku_spec_json, created_at, renews_subscription_id, kind, \
             list_minor, gross_minor) \
             SELECT 'orl_bs' || k, 'ord_bs' || k, 1, '{product}', s.seller_id, 'Bench Product', 'saas', 'joint', \
             '{sku}', 'bench', 'one_time', NULL, NULL, 1, false, NULL, false, {amount}, 'CNY', '{{}}', {at}, NULL, \
             'purchase', {amount}, {amount} FROM bench_n {seller_of} WHERE k < {n} AND {sale}"
        ),
        format!(
            "INSERT INTO line_deliveries (order_line_id, order_id, seller_id, delivered_by, delivered_at) \
             SELECT 'orl_bs' || k, 'ord_bs' || k, s.seller_id, 'instance_provisioned', {at} \
             FROM bench_n {seller_of} WHERE k < {n} AND {sale}"
        ),
        format!(
            "INSERT INTO usage_charges (id, buyer_id, billing, period_start, currency, amount_minor, status, \
             entry_id, created_at, paid_at) SELECT 'chg_bs' || k, 'acc_bb' || k, 'hourly', {at}, 'CNY', {amount}, \
             'paid', 'ent_bs' || k, {at}, {at} FROM bench_n WHERE k < {n} AND {usage}"
        ),
        format!(
            "INSERT INTO usage_lines (instance_id, period_start, billing, subscription_id, buyer_id, seller_id, \
             product_id, records, quantity_e4, package_e4, overage_e4, unit_price, amount_minor, commission_minor, \
             currency, charge_id, rated_at) SELECT 'ins_bs' || k, {at}, 'hourly', 'sub_bs' || k, 'acc_bb' || k, \
             s.seller_id, '{product}', 1, 10000, 0, 10000, NULL, {amount}, {commission}, 'CNY', 'chg_bs' || k, {at} \
             FROM bench_n {seller_of} WHERE k < {n} AND {usage}"
        ),
        format!(
            "INSERT INTO ledger_entries (id, kind, reference, memo, created_at) SELECT 'ent_bs' || k, \
             CASE WHEN {usage} THEN 'usage_charge' ELSE 'payment' END, \
             CASE WHEN {usage} THEN 'chg_bs' || k ELSE 'ord_bs' || k END, 'bench settlement', {at} \
             FROM bench_n WHERE k < {n}"
        ),
        format!(
            "INSERT INTO ledger_lines (entry_id, line_no, account, currency, debit_minor, credit_minor) \
             SELECT 'ent_bs' || k, 1, CASE WHEN {usage} THEN 'buyer_wallet:acc_bb' || k ELSE 'buyer_wallet:{buyer}' END, \
             'CNY', {amount}, 0 FROM bench_n WHERE k < {n}"
        ),
        format!(
            "INSERT INTO ledger_lines (entry_id, line_no, account, currency, debit_minor, credit_minor) \
             SELECT 'ent_bs' || k, 2, 'seller_payable:' || s.seller_id, 'CNY', 0, {amount} - {commission} \
             FROM bench_n {seller_of} WHERE k < {n}"
        ),
        format!(
            "INSERT INTO ledger_lines (entry_id, line_no, account, currency, debit_minor, credit_minor) \
             SELECT 'ent_bs' || k, 3, 'platform_commission', 'CNY', 0, {commission} FROM bench_n WHERE k < {n}"
        ),
        "DROP TABLE bench_settle_sellers".into(),
        "DROP TABLE bench_n".into(),
    ];
    let mut rows = 0;
    for sql in steps {
        let tx = db.write().await?;
        rows += tx.execute_unprepared(&sql).await?.rows_affected();
        tx.commit().await?;
    }
    if pg {
        db.conn.execute_unprepared("VACUUM (ANALYZE)").await?;
    }
    Ok(rows)
}

/// One statement as the run wrote it.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct WrittenStatement {
    pub seller_id: String,
    pub gross_minor: i64,
    pub commission_minor: i64,
    pub net_minor: i64,
    pub tax_rate_bp: i64,
    pub tax_minor: i64,
    pub lines: i64,
}

/// The period's statements, and its statement lines counted.
pub async fn written(db: &Db, period: &str) -> StoreResult<(Vec<WrittenStatement>, u64)> {
    use sea_orm::{FromQueryResult, Statement};
    let backend = db.conn.get_database_backend();
    let statements = WrittenStatement::find_by_statement(Statement::from_string(
        backend,
        format!(
            "SELECT seller_id, gross_minor, commission_minor, net_minor, tax_rate_bp, tax_minor, lines \
             FROM statements WHERE period = '{}' ORDER BY seller_id",
            period.replace('\'', "")
        ),
    ))
    .all(&db.conn)
    .await?;
    let lines = super::usage_records::count_rows(
        &db.conn,
        &format!(
            "SELECT COUNT(*) AS n FROM statement_lines WHERE statement_id IN \
             (SELECT id FROM statements WHERE period = '{}')",
            period.replace('\'', "")
        ),
    )
    .await?;
    Ok((statements, lines))
}
