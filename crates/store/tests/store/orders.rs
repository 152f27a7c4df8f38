//! Orders: inserts that report a collision instead of failing, so the
//! caller's transaction (on PostgreSQL, aborted by any error) goes on.

use crate::common::TestDb;
use crate::fixtures::{Market, Sub, account, created};
use mercato_domain::account::Role;
use mercato_domain::catalog::ChargingMode;
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

#[tokio::test]
async fn a_stored_document_that_does_not_parse_is_one_corrupt_error_and_a_good_one_reads_typed() {
    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    m.subscribe(&t.conn, Sub::on_demand("sub_a", "ins_a")).await;
    m.subscribe(&t.conn, Sub::on_demand("sub_b", "ins_b")).await;
    let good = orders::find_line(&t.conn, "oln_sub_a").await.unwrap().unwrap();
    assert_eq!(good.sku_spec.charging_mode, ChargingMode::OnDemand);
    t.conn
        .execute_unprepared("UPDATE order_lines SET sku_spec_json = '{\"sku_code\": 7}' WHERE id = 'oln_sub_b'")
        .await
        .unwrap();
    match orders::find_line(&t.conn, "oln_sub_b").await {
        Err(StoreError::Corrupt(what)) => {
            for part in ["sku_spec_json", "SkuSpec"] {
                assert!(what.contains(part), "{what:?} should name {part}");
            }
        }
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
    // The stored bytes are the compact serialization, as before the column was typed.
    let text: String = t
        .conn
        .query_one_raw(mercato_store::sea_orm::Statement::from_string(
            t.conn.get_database_backend(),
            "SELECT sku_spec_json AS t FROM order_lines WHERE id = 'oln_sub_a'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "t")
        .unwrap();
    assert_eq!(text, serde_json::to_string(&good.sku_spec).unwrap());
}
