//! Settings: nodes racing to store a value agree on the first writer's.

use crate::common::TestDb;
use mercato_store::Db;
use mercato_store::repo::settings;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_nodes_agree_on_the_first_value_stored() {
    let t = TestDb::new().await;
    let mut nodes = Vec::new();
    for i in 0..6 {
        let db: Db = (*t).clone();
        nodes.push(tokio::spawn(
            async move { settings::get_or_insert(&db.conn, "check", &format!("v{i}")).await.unwrap() },
        ));
    }
    let mut seen = Vec::new();
    for n in nodes {
        seen.push(n.await.unwrap());
    }
    let stored = settings::get(&t.conn, "check").await.unwrap().unwrap();
    assert!(seen.iter().all(|v| *v == stored), "{seen:?} vs {stored}");
    assert_eq!(settings::get_or_insert(&t.conn, "check", "later").await.unwrap(), stored);
    assert_eq!(settings::get(&t.conn, "other").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swap_wins_only_while_the_value_is_still_the_expected_one() {
    let t = TestDb::new().await;
    settings::get_or_insert(&t.conn, "clock", "t0").await.unwrap();
    let mut nodes = Vec::new();
    for i in 0..6 {
        let db: Db = (*t).clone();
        nodes.push(tokio::spawn(async move {
            let tx = db.write().await.unwrap();
            let won = settings::swap(&tx, "clock", "t0", &format!("t{}", i + 1)).await.unwrap();
            tx.commit().await.unwrap();
            (won, format!("t{}", i + 1))
        }));
    }
    let mut winners = Vec::new();
    for n in nodes {
        let (won, value) = n.await.unwrap();
        if won {
            winners.push(value);
        }
    }
    assert_eq!(winners.len(), 1, "one node moves the value from t0: {winners:?}");
    assert_eq!(settings::get(&t.conn, "clock").await.unwrap(), Some(winners[0].clone()));
    assert!(!settings::swap(&t.conn, "missing", "t0", "t1").await.unwrap(), "no such setting: nothing to swap");
}
