//! Orders: inserts that report a collision instead of failing, so the
//! caller's transaction (on PostgreSQL, aborted by any error) goes on.

use crate::common::TestDb;
use crate::fixtures::{Market, account, created};
use mercato_domain::account::Role;
use mercato_domain::orders::OrderStatus;
use mercato_store::entity::{order, trial_use};
use mercato_store::repo::orders;
use mercato_store::sea_orm::ConnectionTrait;
use mercato_store::{Db, StoreError};

fn order(id: &str, amount_minor: i64) -> order::Model {
    order::Model {
        id: id.into(),
        buyer_id: "acc_buyer".into(),
        status: OrderStatus::PendingPayment,
        amount_minor,
        currency: "CNY".into(),
        payment_entry_id: None,
        created_at: created(),
        updated_at: created(),
        paid_at: None,
        cancelled_at: None,
    }
}

#[tokio::test]
async fn an_order_id_collision_is_reported_and_the_transaction_goes_on() {
    let t = TestDb::new().await;
    account(&t.conn, "acc_buyer", Role::Buyer).await;
    let tx = t.write().await.unwrap();
    assert!(orders::insert_order(&tx, order("ord_1", 100)).await.unwrap());
    assert!(!orders::insert_order(&tx, order("ord_1", 999)).await.unwrap(), "id taken");
    assert!(orders::insert_order(&tx, order("ord_2", 5)).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(orders::find_order(&t.conn, "ord_1").await.unwrap().unwrap().amount_minor, 100);
    assert!(orders::find_order(&t.conn, "ord_2").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trial_is_taken_once_even_by_concurrent_orders() {
    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    let mut takers = Vec::new();
    for i in 0..6 {
        let (db, buyer, product): (Db, _, _) = ((*t).clone(), m.buyer.clone(), m.product.clone());
        takers.push(tokio::spawn(async move {
            let trial = trial_use::Model {
                buyer_id: buyer,
                product_id: product,
                order_id: format!("ord_{i}"),
                created_at: created(),
            };
            let tx = db.write().await.unwrap();
            let taken = orders::take_trial(&tx, trial).await.unwrap();
            tx.commit().await.unwrap();
            taken.then_some(i)
        }));
    }
    let mut winners = Vec::new();
    for taker in takers {
        winners.extend(taker.await.unwrap());
    }
    assert_eq!(winners.len(), 1);
    let trial = orders::find_trial(&t.conn, &m.buyer, &m.product).await.unwrap().unwrap();
    assert_eq!(trial.order_id, format!("ord_{}", winners[0]));
}

#[tokio::test]
async fn a_status_outside_the_domain_is_one_corrupt_error_naming_column_and_value() {
    let t = TestDb::new().await;
    account(&t.conn, "acc_buyer", Role::Buyer).await;
    assert!(orders::insert_order(&t.conn, order("ord_1", 100)).await.unwrap());
    t.conn.execute_unprepared("UPDATE orders SET status = 'shipped' WHERE id = 'ord_1'").await.unwrap();
    match orders::find_order(&t.conn, "ord_1").await {
        Err(StoreError::Corrupt(what)) => {
            for part in ["status", "\"shipped\"", "OrderStatus", "pending_payment"] {
                assert!(what.contains(part), "{what:?} should name {part}");
            }
        }
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
    // Rows the domain knows still read.
    assert!(orders::insert_order(&t.conn, order("ord_2", 5)).await.unwrap());
    assert_eq!(orders::find_order(&t.conn, "ord_2").await.unwrap().unwrap().status, OrderStatus::PendingPayment);
}
