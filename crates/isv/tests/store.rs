//! The reference seller's storage on a temporary SQLite file.

use mercato_isv::ManualClock;
use mercato_isv::store::{
    Application, InstanceStatus, KitScope, LicenseRequest, NewInstance, Org, Refresh, RefreshScene, SellerStore,
    StoreError, SyncFlag, Tenant, User,
};
use std::sync::Arc;

async fn open() -> (SellerStore, Arc<ManualClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(1_700_000_000_000);
    let store = SellerStore::open(&dir.path().join("seller.db"), clock.clone()).await.expect("open");
    (store, clock, dir)
}

fn new_instance(order: &str, line: &str, business: &str) -> NewInstance {
    NewInstance {
        order_id: order.into(),
        order_line_id: line.into(),
        business_id: business.into(),
        test_flag: true,
        ready_at_ms: 0,
    }
}

#[tokio::test]
async fn new_instance_is_idempotent_per_order_line() {
    let (store, _, _dir) = open().await;
    let (first, created) = store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    assert!(created);
    assert_eq!(first.instance_id, "B1");
    assert_eq!(first.status, InstanceStatus::Active);
    assert!(first.test_flag);
    assert!(first.app_info.front_end_url.starts_with("https://"));
    assert_eq!(first.app_info.password.len(), 16);
    // A retry carries a new businessId; the instance stays the first one.
    let (again, created) = store.create_instance(&new_instance("O1", "O1-1", "B2")).await.unwrap();
    assert!(!created);
    assert_eq!(again, first);
    // Another order line is another instance.
    let (other, created) = store.create_instance(&new_instance("O1", "O1-2", "B3")).await.unwrap();
    assert!(created);
    assert_eq!(other.instance_id, "B3");
    // A businessId reused for a different order line is refused.
    assert!(matches!(store.create_instance(&new_instance("O2", "O2-1", "B1")).await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.create_instance(&new_instance("", "x", "B9")).await, Err(StoreError::Invalid(_))));
}

#[tokio::test]
async fn concurrent_retries_create_one_instance() {
    let (store, _, _dir) = open().await;
    let mut handles = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store.create_instance(&new_instance("OC", "OC-1", &format!("BC{i}"))).await.unwrap().0.instance_id
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[tokio::test]
async fn every_instance_is_listed_and_every_new_instance_call_counted() {
    let (store, _, _dir) = open().await;
    for business in ["B1", "B2", "B3"] {
        store.create_instance(&new_instance("O1", "O1-1", business)).await.unwrap();
    }
    store.create_instance(&new_instance("O2", "O2-1", "B4")).await.unwrap();
    store.release("B4", None, None).await.unwrap();
    let all = store.all_instances().await.unwrap();
    let listed: Vec<_> = all.iter().map(|i| (i.order_line_id.as_str(), i.instance_id.as_str(), i.status)).collect();
    assert_eq!(listed, [("O1-1", "B1", InstanceStatus::Active), ("O2-1", "B4", InstanceStatus::Released)]);
    let mut calls = store.new_instance_calls().await.unwrap();
    calls.sort();
    assert_eq!(calls, [(("O1".to_string(), "O1-1".to_string()), 3), (("O2".to_string(), "O2-1".to_string()), 1)]);
}

#[tokio::test]
async fn async_provisioning_is_a_ready_time() {
    let (store, clock, _dir) = open().await;
    let now = store.now_ms();
    let mut req = new_instance("O1", "O1-1", "B1");
    req.ready_at_ms = now + 3_000;
    let (inst, _) = store.create_instance(&req).await.unwrap();
    assert!(!inst.is_ready(store.now_ms()));
    clock.advance_ms(3_000);
    assert!(inst.is_ready(store.now_ms()));
}

#[tokio::test]
async fn freeze_unfreeze_and_repeat() {
    let (store, _, _dir) = open().await;
    store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    assert_eq!(store.set_frozen("B1", true).await.unwrap().status, InstanceStatus::Frozen);
    assert_eq!(store.set_frozen("B1", true).await.unwrap().status, InstanceStatus::Frozen);
    assert_eq!(store.set_frozen("B1", false).await.unwrap().status, InstanceStatus::Active);
    assert_eq!(store.set_frozen("B1", false).await.unwrap().status, InstanceStatus::Active);
    assert!(matches!(store.set_frozen("nope", true).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn refresh_sets_expiry_and_product() {
    let (store, _, _dir) = open().await;
    store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    let renew = Refresh {
        scene: RefreshScene::Renewal,
        order_id: "R1".into(),
        order_line_id: "R1-1".into(),
        expire_time: "20301231235959".into(),
        product_id: None,
        sku_code: None,
    };
    let inst = store.refresh("B1", &renew).await.unwrap();
    assert_eq!(inst.expire_time.as_deref(), Some("20301231235959"));
    assert_eq!(inst.product_id, None);
    // Repeating is harmless.
    store.refresh("B1", &renew).await.unwrap();
    let change = Refresh {
        scene: RefreshScene::RenewalChange,
        order_id: "R2".into(),
        order_line_id: "R2-1".into(),
        expire_time: "20311231235959".into(),
        product_id: Some("P-big".into()),
        sku_code: Some("sku-big".into()),
    };
    let inst = store.refresh("B1", &change).await.unwrap();
    assert_eq!(inst.product_id.as_deref(), Some("P-big"));
    assert_eq!(inst.sku_code.as_deref(), Some("sku-big"));
    assert_eq!(inst.expire_time.as_deref(), Some("20311231235959"));
    for bad in ["2030", "20301331235959", "2030123123595x", "２０３０１２３１２３５９５９", ""] {
        let r = Refresh { expire_time: bad.into(), ..renew.clone() };
        assert!(matches!(store.refresh("B1", &r).await, Err(StoreError::Invalid(_))), "{bad}");
    }
    assert!(matches!(store.refresh("nope", &renew).await, Err(StoreError::NotFound(_))));
    let orders = store.instance_orders("B1").await.unwrap();
    let kinds: Vec<_> = orders.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(kinds, ["new", "refresh:RENEWAL", "refresh:RENEWAL_CHANGE"]);
    assert!(RefreshScene::parse("RENEWAL").is_some() && RefreshScene::parse("renewal").is_none());
}

#[tokio::test]
async fn upgrade_keeps_the_instance_and_records_the_order() {
    let (store, _, _dir) = open().await;
    store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    let inst = store.upgrade("B1", "U1", "U1-1", Some("P2"), None).await.unwrap();
    assert_eq!(inst.instance_id, "B1");
    assert_eq!(inst.product_id.as_deref(), Some("P2"));
    assert_eq!(inst.order_id, "O1");
    let orders = store.instance_orders("B1").await.unwrap();
    assert!(orders.contains(&("upgrade".into(), "U1".into(), "U1-1".into())));
    assert!(matches!(store.upgrade("nope", "U", "U-1", None, None).await, Err(StoreError::NotFound(_))));
}

#[tokio::test]
async fn release_twice_succeeds_and_hides_the_instance() {
    let (store, _, _dir) = open().await;
    store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    store.release("B1", Some("REFUND1"), Some("REFUND1-1")).await.unwrap();
    store.release("B1", None, None).await.unwrap();
    assert_eq!(store.instance("B1").await.unwrap().unwrap().status, InstanceStatus::Released);
    assert!(matches!(store.live_instance("B1").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.set_frozen("B1", true).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.release("nope", None, None).await, Err(StoreError::NotFound(_))));
    // The same order line still maps to the same (released) instance.
    let (again, created) = store.create_instance(&new_instance("O1", "O1-1", "B7")).await.unwrap();
    assert!(!created);
    assert_eq!(again.instance_id, "B1");
}

#[tokio::test]
async fn order_notify_counts_repeats() {
    let (store, _, _dir) = open().await;
    assert_eq!(store.record_order_notify("O1", "O1-1", false).await.unwrap(), 1);
    assert_eq!(store.record_order_notify("O1", "O1-1", false).await.unwrap(), 2);
    assert_eq!(store.record_order_notify("O1", "O1-2", true).await.unwrap(), 1);
}

#[tokio::test]
async fn state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seller.db");
    let clock = ManualClock::new(0);
    let store = SellerStore::open(&path, clock.clone()).await.unwrap();
    store.create_instance(&new_instance("O1", "O1-1", "B1")).await.unwrap();
    store.close().await;
    let store = SellerStore::open(&path, clock).await.unwrap();
    assert!(store.instance("B1").await.unwrap().is_some());
}

fn scope() -> KitScope {
    KitScope { instance_id: "I1".into(), tenant_id: "T1".into() }
}

#[tokio::test]
async fn tenant_sync_is_idempotent() {
    let (store, _, _dir) = open().await;
    let t = Tenant {
        tenant_id: "T1".into(),
        order_id: "O1".into(),
        tenant_code: "acme".into(),
        name: "Acme".into(),
        domain_name: "acme.example.com".into(),
    };
    store.sync_tenant(&scope(), &t, SyncFlag::Add).await.unwrap();
    store.sync_tenant(&scope(), &t, SyncFlag::Add).await.unwrap();
    assert_eq!(store.tenants("I1").await.unwrap(), vec![t.clone()]);
    let renamed = Tenant { name: "Acme Corp".into(), ..t.clone() };
    store.sync_tenant(&scope(), &renamed, SyncFlag::Modify).await.unwrap();
    assert_eq!(store.tenants("I1").await.unwrap()[0].name, "Acme Corp");
    store.sync_tenant(&scope(), &t, SyncFlag::Delete).await.unwrap();
    store.sync_tenant(&scope(), &t, SyncFlag::Delete).await.unwrap();
    assert!(store.tenants("I1").await.unwrap().is_empty());
    assert!(matches!(store.sync_tenant(&scope(), &t, SyncFlag::Revoke).await, Err(StoreError::Invalid(_))));
}

#[tokio::test]
async fn application_sync_keeps_the_secret_as_received() {
    let (store, _, _dir) = open().await;
    let app = Application { app_id: "A1".into(), client_id: "C1".into(), client_secret: "b64-ciphertext==".into() };
    store.sync_application(&scope(), &app, SyncFlag::Add).await.unwrap();
    store.sync_application(&scope(), &app, SyncFlag::Add).await.unwrap();
    assert_eq!(store.applications(&scope()).await.unwrap(), vec![app.clone()]);
    store.sync_application(&scope(), &app, SyncFlag::Delete).await.unwrap();
    store.sync_application(&scope(), &app, SyncFlag::Delete).await.unwrap();
    assert!(store.applications(&scope()).await.unwrap().is_empty());
}

#[tokio::test]
async fn auth_sync_add_modify_revoke_delete() {
    let (store, _, _dir) = open().await;
    let user = |name: &str, role: &str| User {
        user_name: name.into(),
        name: name.to_uppercase(),
        org_code: "root".into(),
        role: role.into(),
        revoked: false,
        data: format!(r#"{{"userName":"{name}"}}"#),
    };
    let users = vec![user("alice", "admin"), user("bob", "user")];
    store.sync_users(&scope(), "A1", &users, SyncFlag::Add).await.unwrap();
    store.sync_users(&scope(), "A1", &users, SyncFlag::Add).await.unwrap();
    assert_eq!(store.users(&scope(), "A1").await.unwrap().len(), 2);
    store.sync_users(&scope(), "A1", &[user("bob", "admin")], SyncFlag::Modify).await.unwrap();
    assert_eq!(store.users(&scope(), "A1").await.unwrap()[1].role, "admin");
    store.sync_users(&scope(), "A1", &[user("alice", "admin")], SyncFlag::Revoke).await.unwrap();
    let all = store.users(&scope(), "A1").await.unwrap();
    assert!(all[0].revoked && !all[1].revoked);
    store.sync_users(&scope(), "A1", &[user("alice", "admin"), user("carol", "user")], SyncFlag::Delete).await.unwrap();
    let left: Vec<_> = store.users(&scope(), "A1").await.unwrap().into_iter().map(|u| u.user_name).collect();
    assert_eq!(left, ["bob"]);
    assert_eq!(SyncFlag::from_wire(3, true), Some(SyncFlag::Revoke));
    assert_eq!(SyncFlag::from_wire(3, false), None);
    assert_eq!(SyncFlag::from_wire(-1, true), None);
}

#[tokio::test]
async fn org_sync_single_and_whole_tree() {
    let (store, _, _dir) = open().await;
    let org = |code: &str, parent: &str| Org {
        org_code: code.into(),
        org_name: code.to_uppercase(),
        parent_code: parent.into(),
    };
    store.sync_org(&scope(), &org("root", ""), SyncFlag::Add).await.unwrap();
    store.sync_org(&scope(), &org("root", ""), SyncFlag::Add).await.unwrap();
    store.sync_org(&scope(), &org("sales", "root"), SyncFlag::Add).await.unwrap();
    assert_eq!(store.orgs(&scope()).await.unwrap().len(), 2);
    store.sync_org(&scope(), &org("sales", "root"), SyncFlag::Delete).await.unwrap();
    store.sync_org(&scope(), &org("sales", "root"), SyncFlag::Delete).await.unwrap();
    assert_eq!(store.orgs(&scope()).await.unwrap().len(), 1);
    let tree = vec![org("hq", ""), org("dev", "hq"), org("ops", "hq")];
    store.replace_orgs(&scope(), &tree).await.unwrap();
    store.replace_orgs(&scope(), &tree).await.unwrap();
    let codes: Vec<_> = store.orgs(&scope()).await.unwrap().into_iter().map(|o| o.org_code).collect();
    assert_eq!(codes, ["dev", "hq", "ops"]);
    // Another tenant's tree is untouched.
    let other = KitScope { instance_id: "I1".into(), tenant_id: "T2".into() };
    assert!(store.orgs(&other).await.unwrap().is_empty());
}

#[tokio::test]
async fn license_codes_are_idempotent_per_order_line() {
    let (store, _, _dir) = open().await;
    let req = LicenseRequest {
        order_id: "L1".into(),
        order_line_id: "L1-1".into(),
        instance_id: "LB1".into(),
        expire_time: None,
        data: "{}".into(),
    };
    let (first, created) = store.issue_license(&req).await.unwrap();
    assert!(created);
    assert_eq!(first.license_code.len(), 29);
    assert_eq!(first.status, "active");
    let retry = LicenseRequest { instance_id: "LB2".into(), ..req.clone() };
    let (again, created) = store.issue_license(&retry).await.unwrap();
    assert!(!created);
    assert_eq!(again, first);
    let reused = LicenseRequest { order_id: "L2".into(), ..req.clone() };
    assert!(matches!(store.issue_license(&reused).await, Err(StoreError::Invalid(_))));
    let renewed = store.refresh_license("LB1", "20311231000000").await.unwrap();
    assert_eq!(renewed.expire_time.as_deref(), Some("20311231000000"));
    assert!(matches!(store.refresh_license("LB1", "soon").await, Err(StoreError::Invalid(_))));
    assert_eq!(store.set_license_status("LB1", "FREEZE").await.unwrap().status, "FREEZE");
    assert_eq!(store.set_license_status("LB1", "FREEZE").await.unwrap().status, "FREEZE");
    store.release_license("LB1").await.unwrap();
    store.release_license("LB1").await.unwrap();
    assert!(matches!(store.set_license_status("LB1", "UNFREEZE").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.refresh_license("LB1", "20321231000000").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.release_license("nope").await, Err(StoreError::NotFound(_))));
    assert_eq!(store.license("LB1").await.unwrap().unwrap().status, "released");
}
