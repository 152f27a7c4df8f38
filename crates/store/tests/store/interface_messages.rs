//! A subscription's appInfo: inserted, then replaced field by field.

use crate::common::{TestDb, time};
use crate::fixtures::{Market, Sub};
use mercato_store::entity::subscription_app_info;
use mercato_store::repo::interface_messages;

fn app_info(front_end_url: &str, admin_url: Option<&str>, at: &str) -> subscription_app_info::Model {
    subscription_app_info::Model {
        subscription_id: "sub_1".into(),
        front_end_url: front_end_url.into(),
        admin_url: admin_url.map(str::to_string),
        user_name: Some("admin".into()),
        password_enc: Some("enc".into()),
        memo: None,
        updated_at: time(at),
    }
}

#[tokio::test]
async fn app_info_is_stored_then_replaced() {
    let t = TestDb::new().await;
    let m = Market::new(&t.conn, "a").await;
    m.subscribe(&t.conn, Sub::on_demand("sub_1", "ins-1")).await;
    let first = app_info("https://a.example", Some("https://a.example/admin"), "2026-03-01T10:00:00Z");
    interface_messages::upsert_app_info(&t.conn, first.clone()).await.unwrap();
    assert_eq!(interface_messages::app_info_of(&t.conn, &["sub_1".into()]).await.unwrap(), [first]);
    let second = app_info("https://b.example", None, "2026-03-02T10:00:00Z");
    interface_messages::upsert_app_info(&t.conn, second.clone()).await.unwrap();
    assert_eq!(interface_messages::app_info_of(&t.conn, &["sub_1".into(), "sub_2".into()]).await.unwrap(), [second]);
}
