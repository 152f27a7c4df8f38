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
