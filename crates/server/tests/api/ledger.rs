//! The ledger: trial balance, entries, the integrity check, commission rates,
//! and wallets that cannot be overdrawn by concurrent spenders.

use crate::helpers::{TestApp, spawn_app};
use mercato_domain::catalog::{Cooperation, ProductType};
use mercato_domain::ledger::{Entry, EntryKind, sale_lines};
use mercato_server::app::ledger::{commission_rate, post_entry};
use mercato_server::app::wallet::available;
use serde_json::json;

#[tokio::test]
async fn credits_show_in_the_trial_balance_and_entries() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (buyer, _) = app.signup("buyer").await;

    let first = app.credit_wallet(&op, &buyer, 10_000, "CNY").await;
    app.credit_wallet(&op, &buyer, 500, "USD").await;
    let third = app.credit_wallet(&op, &buyer, 2_500, "CNY").await;
    assert_eq!(third["balance"]["available_minor"], 12_500);

    let tb = app.get("/api/v1/operator/ledger/trial-balance", Some(&op)).await.expect(200);
    assert_eq!(tb["total_minor"], 0);
    let find = |account: &str, currency: &str| {
        tb["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == account && a["currency"] == currency)
            .cloned()
            .unwrap_or_else(|| panic!("{account} {currency} in {tb}"))
    };
    let wallet = find(&format!("buyer_wallet:{buyer}"), "CNY");
    assert_eq!((wallet["debit_minor"].as_i64(), wallet["credit_minor"].as_i64()), (Some(0), Some(12_500)));
    assert_eq!(wallet["balance_minor"], -12_500, "a wallet is credit-normal: balance = debit - credit");
    assert_eq!(find("platform_cash:manual", "CNY")["balance_minor"], 12_500);
    assert_eq!(find("platform_cash:manual", "USD")["balance_minor"], 500);
    let currencies: Vec<_> =
        tb["totals_by_currency"].as_array().unwrap().iter().map(|t| t["currency"].clone()).collect();
    assert_eq!(currencies, [json!("CNY"), json!("USD")]);
    assert!(tb["totals_by_currency"].as_array().unwrap().iter().all(|t| t["balance_minor"] == 0));
    app.assert_ledger_balanced().await;

    // Entries: newest first, with their lines, filterable and paged.
    let all = app.get("/api/v1/operator/ledger/entries", Some(&op)).await.expect(200);
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["reference"], third["payment"]["id"]);
    assert_eq!(items[0]["kind"], "top_up");
    assert_eq!(items[0]["id"], third["entry_id"]);
    assert_eq!(
        items[0]["lines"],
        json!([
            {"account": "platform_cash:manual", "currency": "CNY", "debit_minor": 2500, "credit_minor": 0},
            {"account": format!("buyer_wallet:{buyer}"), "currency": "CNY", "debit_minor": 0, "credit_minor": 2500},
        ])
    );
    let by_ref = app
        .get(
            &format!("/api/v1/operator/ledger/entries?reference={}", first["payment"]["id"].as_str().unwrap()),
            Some(&op),
        )
        .await
        .expect(200);
    assert_eq!(by_ref["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_ref["items"][0]["id"], first["entry_id"]);

    let page1 = app.get("/api/v1/operator/ledger/entries?limit=2", Some(&op)).await.expect(200);
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"].as_str().expect("a next page").to_string();
    let page2 =
        app.get(&format!("/api/v1/operator/ledger/entries?limit=2&cursor={cursor}"), Some(&op)).await.expect(200);
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next_cursor"].is_null());
    assert_eq!(page2["items"][0]["id"], first["entry_id"]);

    let (other, _) = app.signup("buyer").await;
    let none =
        app.get(&format!("/api/v1/operator/ledger/entries?account=buyer_wallet:{other}"), Some(&op)).await.expect(200);
    assert_eq!(none["items"], json!([]));
    let mine =
        app.get(&format!("/api/v1/operator/ledger/entries?account=buyer_wallet:{buyer}"), Some(&op)).await.expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);
    let bad =
        app.get("/api/v1/operator/ledger/entries?account=nope", Some(&op)).await.problem(422, "validation_failed");
    assert_eq!(crate::helpers::Res::fields(&bad), ["account"]);
    app.get("/api/v1/operator/ledger/entries?limit=0", Some(&op)).await.problem(422, "validation_failed");

    // Operators only.
    let (_, buyer_key) = app.signup("buyer").await;
    app.get("/api/v1/operator/ledger/trial-balance", Some(&buyer_key)).await.problem(403, "forbidden");
    app.get("/api/v1/operator/ledger/entries", None).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn an_empty_ledger_is_balanced() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let tb = app.get("/api/v1/operator/ledger/trial-balance", Some(&op)).await.expect(200);
    assert_eq!(
        tb,
        json!({"accounts": [], "total_minor": 0, "totals_by_currency": [], "settlement": [], "settlement_problems": []})
    );
    app.assert_ledger_balanced().await;
}

/// Spends `amount` from the buyer's wallet the way an order payment will: a
/// sale entry posted in a write transaction.
async fn spend(app: &TestApp, buyer: &str, seller: &str, amount: i64) -> Result<(), String> {
    let lines = sale_lines(buyer, seller, "CNY", amount, 2000).unwrap();
    let entry = Entry::new(EntryKind::Payment, "ord_test", "test purchase", lines).unwrap();
    let tx = app.state.db.write().await.map_err(|e| e.to_string())?;
    post_entry(&tx, &entry, app.state.now()).await.map_err(|e| e.code().to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn concurrent_spends_never_overdraw_a_wallet() {
    let app = std::sync::Arc::new(spawn_app().await);
    let op = app.operator().await;
    let (buyer, buyer_key) = app.signup("buyer").await;
    let (seller, _) = app.signup("seller").await;
    app.credit_wallet(&op, &buyer, 1_000, "CNY").await;

    // 24 buyers' tabs race to spend 100 each from a wallet holding 1000.
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let (app, buyer, seller) = (app.clone(), buyer.clone(), seller.clone());
        tasks.push(tokio::spawn(async move { spend(&app, &buyer, &seller, 100).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(code) => assert_eq!(code, "insufficient_funds"),
        }
    }
    assert_eq!(ok, 10, "exactly the money there was is spent");
    assert_eq!(available(&app.state.db.conn, &buyer, "CNY").await.unwrap(), 0);
    assert_eq!(spend(&app, &buyer, &seller, 1).await, Err("insufficient_funds".into()));
    // Nothing of the refused spends was written.
    let entries = app.get("/api/v1/operator/ledger/entries?limit=100", Some(&op)).await.expect(200);
    assert_eq!(entries["items"].as_array().unwrap().len(), 11);

    // The seller's payable and the commission got 80% / 20% of 1000.
    let tb = app.get("/api/v1/operator/ledger/trial-balance", Some(&op)).await.expect(200);
    let balance = |account: String| {
        tb["accounts"].as_array().unwrap().iter().find(|a| a["account"] == account).map(|a| a["balance_minor"].clone())
    };
    assert_eq!(balance(format!("seller_payable:{seller}")), Some(json!(-800)));
    assert_eq!(balance("platform_commission".into()), Some(json!(-200)));
    app.assert_ledger_balanced().await;

    // The buyer sees the top-up and ten payments.
    let txs = app.get("/api/v1/buyer/wallet/transactions?limit=100", Some(&buyer_key)).await.expect(200);
    let items = txs["items"].as_array().unwrap();
    assert_eq!(items.len(), 11);
    assert!(items[..10].iter().all(|t| t["amount_minor"] == -100 && t["kind"] == "payment"));
    assert_eq!(items[10]["amount_minor"], 1_000);
    assert_eq!(items[10]["kind"], "top_up");
}

#[tokio::test]
async fn commission_rates_have_defaults_and_operators_change_them() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let list = app.get("/api/v1/operator/commission-rates", Some(&op)).await.expect(200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), ProductType::ALL.len() * Cooperation::ALL.len());
    for r in items {
        let expected = if r["cooperation"] == "joint" { 2000 } else { 1000 };
        assert_eq!(r["rate_bp"], expected, "{r}");
    }
    let db = &app.state.db.conn;
    assert_eq!(commission_rate(db, ProductType::Saas, Cooperation::Joint).await.unwrap(), 2000);

    let set = app
        .put(
            "/api/v1/operator/commission-rates",
            Some(&op),
            json!({"product_type": "saas", "cooperation": "joint", "rate_bp": 1500}),
        )
        .await
        .expect(200);
    assert_eq!(set["rate_bp"], 1500);
    assert_eq!(commission_rate(db, ProductType::Saas, Cooperation::Joint).await.unwrap(), 1500);
    assert_eq!(commission_rate(db, ProductType::Saas, Cooperation::General).await.unwrap(), 1000);
    let list = app.get("/api/v1/operator/commission-rates", Some(&op)).await.expect(200);
    let saas_joint = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["product_type"] == "saas" && r["cooperation"] == "joint")
        .unwrap()
        .clone();
    assert_eq!(saas_joint["rate_bp"], 1500);
    app.put(
        "/api/v1/operator/commission-rates",
        Some(&op),
        json!({"product_type": "api", "cooperation": "general", "rate_bp": 0}),
    )
    .await
    .expect(200);
    app.put(
        "/api/v1/operator/commission-rates",
        Some(&op),
        json!({"product_type": "api", "cooperation": "general", "rate_bp": 10000}),
    )
    .await
    .expect(200);

    for (body, field) in [
        (json!({"product_type": "saas", "cooperation": "joint", "rate_bp": 10001}), "rate_bp"),
        (json!({"product_type": "saas", "cooperation": "joint", "rate_bp": -1}), "rate_bp"),
        (json!({"product_type": "saas", "cooperation": "joint", "rate_bp": 1.5}), "rate_bp"),
        (json!({"product_type": "nope", "cooperation": "joint", "rate_bp": 1}), "product_type"),
        (json!({"product_type": "saas", "cooperation": "other", "rate_bp": 1}), "cooperation"),
        (json!({"product_type": "saas", "rate_bp": 1}), "cooperation"),
    ] {
        let p = app
            .put("/api/v1/operator/commission-rates", Some(&op), body.clone())
            .await
            .problem(422, "validation_failed");
        assert_eq!(crate::helpers::Res::fields(&p), [field], "{body}");
    }
    assert_eq!(
        commission_rate(db, ProductType::Saas, Cooperation::Joint).await.unwrap(),
        1500,
        "bad input changed nothing"
    );

    let (_, seller_key) = app.signup("seller").await;
    app.get("/api/v1/operator/commission-rates", Some(&seller_key)).await.problem(403, "forbidden");
    app.put(
        "/api/v1/operator/commission-rates",
        Some(&seller_key),
        json!({"product_type": "saas", "cooperation": "joint", "rate_bp": 1}),
    )
    .await
    .problem(403, "forbidden");
}
