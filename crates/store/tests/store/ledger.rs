//! The ledger: running balances kept by `INSERT ... ON CONFLICT` increments
//! over slots, the wallet overdraft guard under concurrent spenders, the raw
//! SQL sums `mercato ledger check` compares, and commission upserts.

use crate::common::{TestDb, time};
use mercato_domain::catalog::{Cooperation, ProductType};
use mercato_domain::ledger::{
    Entry, EntryKind, Line, PLATFORM_COMMISSION, buyer_wallet, platform_cash, seller_payable,
};
use mercato_store::Db;
use mercato_store::entity::{commission_rate, ledger_entry, ledger_line};
use mercato_store::repo::ledger::{self, Balance, Posted, Sums, commission};
use mercato_store::sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, TransactionTrait};

const BUYER: &str = "acc_buyer";
const SELLER: &str = "acc_seller";

fn top_up(buyer: &str, currency: &str, amount: i64) -> Entry {
    let lines = vec![
        Line::debit(platform_cash("manual"), currency, amount),
        Line::credit(buyer_wallet(buyer), currency, amount),
    ];
    Entry::new(EntryKind::TopUp, "pay_1", "top-up", lines).unwrap()
}

/// The buyer pays `amount`, `commission` of it to the platform.
fn payment(amount: i64, commission: i64) -> Entry {
    let mut lines = vec![
        Line::debit(buyer_wallet(BUYER), "CNY", amount),
        Line::credit(seller_payable(SELLER), "CNY", amount - commission),
    ];
    if commission > 0 {
        lines.push(Line::credit(PLATFORM_COMMISSION, "CNY", commission));
    }
    Entry::new(EntryKind::Payment, "ord_1", "payment", lines).unwrap()
}

/// Posts `e` in its own write transaction, keeping it only when it posted
/// (the callers' contract: an overdrawn posting is rolled back).
async fn post(db: &Db, id: &str, e: &Entry) -> Posted {
    let tx = db.write().await.unwrap();
    let posted = ledger::post(&tx, id, time("2026-03-01T10:00:00Z"), e).await.unwrap();
    if posted == Posted::Done {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    posted
}

fn balance(account: &str, currency: &str, debit_minor: i64, credit_minor: i64) -> Balance {
    Balance { account: account.into(), currency: currency.into(), debit_minor, credit_minor }
}

async fn balance_of(db: &impl ConnectionTrait, account: &str, currency: &str) -> Option<Balance> {
    ledger::balance(db, account, currency).await.unwrap()
}

/// The running balances as the sums of the lines (what `ledger check` does).
async fn assert_balances_match_lines(db: &impl ConnectionTrait) {
    let from_lines: Vec<Balance> = ledger::sums_by_account(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| balance(&s.key, &s.currency, s.debit_minor, s.credit_minor))
        .collect();
    assert_eq!(ledger::balances(db).await.unwrap(), from_lines);
}

#[tokio::test]
async fn postings_keep_every_balance_exact() {
    let t = TestDb::new().await;
    let wallet = buyer_wallet(BUYER);
    assert_eq!(post(&t, "jnl_000", &top_up(BUYER, "CNY", 10_000)).await, Posted::Done);
    assert_eq!(post(&t, "jnl_001", &top_up(BUYER, "USD", 500)).await, Posted::Done);
    // Enough payments that the seller's and platform's slots all fill.
    for i in 0..40 {
        assert_eq!(post(&t, &format!("jnl_1{i:02}"), &payment(100, 10)).await, Posted::Done);
    }

    assert_eq!(balance_of(&t.conn, &wallet, "CNY").await, Some(balance(&wallet, "CNY", 4_000, 10_000)));
    let payable = seller_payable(SELLER);
    assert_eq!(balance_of(&t.conn, &payable, "CNY").await, Some(balance(&payable, "CNY", 0, 3_600)));
    assert_eq!(
        balance_of(&t.conn, PLATFORM_COMMISSION, "CNY").await,
        Some(balance(PLATFORM_COMMISSION, "CNY", 0, 400))
    );
    let cash = platform_cash("manual");
    assert_eq!(
        ledger::account_balances(&t.conn, &cash).await.unwrap(),
        [balance(&cash, "CNY", 10_000, 0), balance(&cash, "USD", 500, 0)]
    );
    assert_eq!(balance_of(&t.conn, &wallet, "EUR").await, None);
    assert_balances_match_lines(&t.conn).await;

    // The entries and their lines, as posted.
    let touching = ledger::list_entries(&t.conn, Some(&wallet), None, None, 100).await.unwrap();
    assert_eq!(touching.len(), 42);
    assert_eq!(touching[0].id, "jnl_139", "newest first");
    let lines = ledger::lines_of(&t.conn, &["jnl_100".into()]).await.unwrap();
    let shape: Vec<(i64, &str, i64, i64)> =
        lines.iter().map(|l| (l.line_no, l.account.as_str(), l.debit_minor, l.credit_minor)).collect();
    assert_eq!(shape, [(1, wallet.as_str(), 100, 0), (2, payable.as_str(), 0, 90), (3, PLATFORM_COMMISSION, 0, 10)]);
}

#[tokio::test]
async fn a_wallet_never_pays_more_than_it_holds() {
    let t = TestDb::new().await;
    let wallet = buyer_wallet(BUYER);
    let overdrawn = Posted::Overdrawn { account: wallet.clone(), currency: "CNY".into() };
    assert_eq!(post(&t, "jnl_0", &payment(10, 0)).await, overdrawn, "no balance yet");
    assert_eq!(post(&t, "jnl_1", &top_up(BUYER, "CNY", 100)).await, Posted::Done);
    assert_eq!(post(&t, "jnl_2", &payment(60, 6)).await, Posted::Done);
    assert_eq!(post(&t, "jnl_3", &payment(60, 6)).await, overdrawn);
    assert_eq!(post(&t, "jnl_4", &payment(40, 4)).await, Posted::Done, "exactly what is left");
    assert_eq!(post(&t, "jnl_5", &payment(1, 0)).await, overdrawn);
    assert_eq!(balance_of(&t.conn, &wallet, "CNY").await, Some(balance(&wallet, "CNY", 100, 100)));
    let ids: Vec<String> =
        ledger::list_entries(&t.conn, None, None, None, 10).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["jnl_4", "jnl_2", "jnl_1"]);
    assert_balances_match_lines(&t.conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spenders_cannot_overdraw_a_wallet() {
    let t = TestDb::new().await;
    assert_eq!(post(&t, "jnl_top", &top_up(BUYER, "CNY", 100)).await, Posted::Done);
    let mut spenders = Vec::new();
    for i in 0..10 {
        let db: Db = (*t).clone();
        spenders.push(tokio::spawn(async move { post(&db, &format!("jnl_{i}"), &payment(30, 0)).await }));
    }
    let mut paid = 0;
    for s in spenders {
        paid += usize::from(s.await.unwrap() == Posted::Done);
    }
    assert_eq!(paid, 3, "100 pays three times 30");
    let wallet = buyer_wallet(BUYER);
    assert_eq!(balance_of(&t.conn, &wallet, "CNY").await, Some(balance(&wallet, "CNY", 90, 100)));
    let payable = seller_payable(SELLER);
    assert_eq!(balance_of(&t.conn, &payable, "CNY").await, Some(balance(&payable, "CNY", 0, 90)));
    assert_balances_match_lines(&t.conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_postings_to_one_balance_all_add_up() {
    let t = TestDb::new().await;
    let mut top_ups = Vec::new();
    for i in 1..=20 {
        let db: Db = (*t).clone();
        top_ups.push(tokio::spawn(async move { post(&db, &format!("jnl_{i:02}"), &top_up(BUYER, "CNY", i)).await }));
    }
    for p in top_ups {
        assert_eq!(p.await.unwrap(), Posted::Done);
    }
    let (wallet, cash) = (buyer_wallet(BUYER), platform_cash("manual"));
    assert_eq!(balance_of(&t.conn, &wallet, "CNY").await, Some(balance(&wallet, "CNY", 0, 210)));
    assert_eq!(balance_of(&t.conn, &cash, "CNY").await, Some(balance(&cash, "CNY", 210, 0)));
    assert_balances_match_lines(&t.conn).await;
}

fn raw_line(
    entry_id: &str,
    line_no: i64,
    account: &str,
    debit_minor: i64,
    credit_minor: i64,
) -> ledger_line::ActiveModel {
    let l = ledger_line::Model {
        entry_id: entry_id.into(),
        line_no,
        account: account.into(),
        currency: "CNY".into(),
        debit_minor,
        credit_minor,
    };
    ledger_line::ActiveModel::from(l).reset_all()
}

/// Writes an entry and its lines directly, as no posting would.
async fn raw_entry(db: &impl ConnectionTrait, id: &str, lines: Vec<ledger_line::ActiveModel>) {
    let e = ledger_entry::Model {
        id: id.into(),
        kind: EntryKind::Adjustment,
        reference: "test".into(),
        memo: String::new(),
        created_at: time("2026-03-01T10:00:00Z"),
    };
    ledger_entry::Entity::insert(ledger_entry::ActiveModel::from(e).reset_all())
        .exec_without_returning(db)
        .await
        .unwrap();
    ledger_line::Entity::insert_many(lines).exec_without_returning(db).await.unwrap();
}

#[tokio::test]
async fn the_check_queries_find_what_is_broken() {
    let t = TestDb::new().await;
    assert_eq!(post(&t, "jnl_1", &top_up(BUYER, "CNY", 100)).await, Posted::Done);
    assert_eq!(post(&t, "jnl_2", &payment(50, 5)).await, Posted::Done);
    assert_eq!(ledger::unbalanced_entries(&t.conn).await.unwrap(), vec![]);
    assert_eq!(ledger::short_entries(&t.conn).await.unwrap(), Vec::<String>::new());
    assert_eq!(ledger::entries_with_bad_lines(&t.conn).await.unwrap(), Vec::<String>::new());

    // Sums above 2^53 come back exact (no floating point on the way).
    let big = 4_503_599_627_370_497;
    let (a, b) = (buyer_wallet("acc_big"), seller_payable("acc_big"));
    raw_entry(
        &t.conn,
        "jnl_big",
        vec![
            raw_line("jnl_big", 1, &a, big, 0),
            raw_line("jnl_big", 2, &a, big, 0),
            raw_line("jnl_big", 3, &b, 0, 2 * big),
        ],
    )
    .await;
    raw_entry(&t.conn, "jnl_big2", vec![raw_line("jnl_big2", 1, &a, big, 0), raw_line("jnl_big2", 2, &b, 0, big)])
        .await;
    let sums = ledger::sums_by_account(&t.conn).await.unwrap();
    let of_a = sums.iter().find(|s| s.key == a).unwrap();
    assert_eq!((of_a.debit_minor, of_a.credit_minor), (3 * big, 0));

    raw_entry(&t.conn, "jnl_short", vec![raw_line("jnl_short", 1, &a, 5, 0)]).await;
    raw_entry(
        &t.conn,
        "jnl_lopsided",
        vec![raw_line("jnl_lopsided", 1, &a, 7, 0), raw_line("jnl_lopsided", 2, &b, 0, 6)],
    )
    .await;
    assert_eq!(ledger::short_entries(&t.conn).await.unwrap(), ["jnl_short"]);
    let unbalanced =
        |key: &str, d, c| Sums { key: key.into(), currency: "CNY".into(), debit_minor: d, credit_minor: c };
    assert_eq!(
        ledger::unbalanced_entries(&t.conn).await.unwrap(),
        [unbalanced("jnl_lopsided", 7, 6), unbalanced("jnl_short", 5, 0)]
    );

    // A line with both sides set: the table's CHECK refuses it, so lift the
    // check for this one write to see that the query would catch it.
    let tx = t.conn.begin().await.unwrap();
    if t.is_postgres() {
        tx.execute_unprepared("ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_check").await.unwrap();
    } else {
        tx.execute_unprepared("PRAGMA ignore_check_constraints = ON").await.unwrap();
    }
    let bad =
        vec![raw_line("jnl_bad", 1, &a, 5, 5), raw_line("jnl_bad", 2, &a, 3, 0), raw_line("jnl_bad", 3, &b, 0, 3)];
    raw_entry(&tx, "jnl_bad", bad).await;
    if !t.is_postgres() {
        tx.execute_unprepared("PRAGMA ignore_check_constraints = OFF").await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(ledger::entries_with_bad_lines(&t.conn).await.unwrap(), ["jnl_bad"]);
}

#[tokio::test]
async fn a_commission_rate_is_updated_or_created() {
    let t = TestDb::new().await;
    let rate = |product_type, cooperation, rate_bp| commission_rate::Model {
        product_type,
        cooperation,
        rate_bp,
        updated_at: time("2026-03-01T10:00:00Z"),
    };
    use Cooperation::{General, Joint};
    use ProductType::{Hardware, Saas};
    // One seeded rate is missing, so the second upsert below creates it.
    t.conn
        .execute_unprepared("DELETE FROM commission_rates WHERE product_type = 'hardware' AND cooperation = 'joint'")
        .await
        .unwrap();
    assert_eq!(commission::find(&t.conn, Hardware, Joint).await.unwrap(), None);
    commission::upsert(&t.conn, rate(Saas, General, 1500)).await.unwrap();
    commission::upsert(&t.conn, rate(Saas, General, 1200)).await.unwrap();
    commission::upsert(&t.conn, rate(Hardware, Joint, 2500)).await.unwrap();
    assert_eq!(commission::find(&t.conn, Saas, General).await.unwrap(), Some(rate(Saas, General, 1200)));
    assert_eq!(commission::find(&t.conn, Hardware, Joint).await.unwrap(), Some(rate(Hardware, Joint, 2500)));
    assert_eq!(commission::find(&t.conn, Saas, Joint).await.unwrap().map(|r| r.rate_bp), Some(2000), "untouched");
    assert_eq!(commission::list(&t.conn).await.unwrap().len(), 20);
}
