//! Usage push (话单): signed batches of up to 1000 records, shape-checked at
//! once and stored exactly once per (seller, metering_sn).

use crate::helpers::{TestApp, spawn_app};
use crate::usage_shop::{PUSH, Seller, seller_on, sign};
use chrono::{DateTime, Utc};
use mercato_domain::usage::{parse_time, parse_usage_value};
use mercato_store::entity::usage_record;
use mercato_store::repo::usage as usage_repo;
use serde_json::{Value, json};

/// A seller with open-API credentials.
async fn seller(app: &TestApp) -> Seller {
    seller_on(app).await.0
}

/// Pushes `body` signed with (ak, sk) over `signed_body` (the same bytes
/// unless a test tampers with it).
async fn push_raw(app: &TestApp, ak: &str, sk: &str, signed_body: &[u8], body: Vec<u8>) -> (u16, Value) {
    let url = reqwest::Url::parse(&app.url(PUSH)).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let date = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let res = app
        .client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Sdk-Date", &date)
        .header("Authorization", sign(&host, signed_body, &date, ak, sk))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn push(app: &TestApp, s: &Seller, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    push_raw(app, &s.ak, &s.sk, &bytes, bytes.clone()).await
}

/// Record `i`: usage values of every shape (numbers, strings, 0-4 decimals),
/// every 7th without record_time, every 5th with a package instance.
fn record(i: usize) -> Value {
    let usage = match i % 4 {
        0 => json!(12.3456),
        1 => json!(format!("{}.{:04}", i, i % 10_000)),
        2 => json!(i + 1),
        _ => json!("0.5"),
    };
    let mut r = json!({
        "instance_id": format!("ins-{}", i % 17),
        "metering_sn": format!("sn-{i:05}"),
        "record_time": "20261122T130500Z",
        "begin_time": format!("20261122T12{:02}00Z", i % 60),
        "end_time": "20261122T125959Z",
        "usage_value": usage,
    });
    if i.is_multiple_of(7) {
        r.as_object_mut().unwrap().remove("record_time");
    }
    if i.is_multiple_of(5) {
        r["relate_pkg_instance"] = json!(format!("pkg-{i}"));
    }
    r
}

fn batch(range: std::ops::Range<usize>) -> Value {
    json!({ "usage_records": range.map(record).collect::<Vec<_>>() })
}

async fn stored(app: &TestApp, seller_id: &str) -> Vec<usage_record::Model> {
    usage_repo::list_for_seller(&app.state.db.conn, seller_id).await.unwrap()
}

async fn total_rows(app: &TestApp) -> usize {
    use mercato_store::sea_orm::{EntityTrait, PaginatorTrait};
    usage_record::Entity::find().count(&app.state.db.conn).await.unwrap() as usize
}

/// The stored row matches the pushed record field by field.
fn assert_row_matches(row: &usage_record::Model, sent: &Value, received: (DateTime<Utc>, DateTime<Utc>)) {
    let text = |f: &str| sent[f].as_str().map(str::to_string);
    let time = |f: &str| text(f).map(|t| parse_time(&t).unwrap());
    assert_eq!(Some(row.metering_sn.clone()), text("metering_sn"));
    assert_eq!(Some(row.instance_id.clone()), text("instance_id"));
    assert_eq!(row.record_time, time("record_time"), "{sent}");
    assert_eq!(Some(row.begin_time), time("begin_time"));
    assert_eq!(Some(row.end_time), time("end_time"));
    assert_eq!(row.relate_pkg_instance, text("relate_pkg_instance"));
    let usage = match &sent["usage_value"] {
        Value::String(s) => s.clone(),
        n => n.to_string(),
    };
    assert_eq!(row.usage_e4, parse_usage_value(&usage).unwrap(), "{sent}");
    assert_eq!(row.status, "received");
    assert_eq!((row.error_code.as_deref(), row.error_reason.as_deref()), (None, None));
    assert!(row.received_at >= received.0 && row.received_at <= received.1, "{:?}", row.received_at);
}

#[tokio::test]
async fn a_full_batch_is_stored_exactly_and_a_retry_changes_nothing() {
    let app = spawn_app().await;
    let s = seller(&app).await;
    let body = batch(0..1000);
    let before = app.state.now();
    let (status, answer) = push(&app, &s, &body).await;
    let after = app.state.now();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"error_code": "MKT.0000", "error_msg": "success", "accepted": 1000, "already_received": 0})
    );

    let rows = stored(&app, &s.id).await;
    assert_eq!(rows.len(), 1000);
    for (row, sent) in rows.iter().zip(body["usage_records"].as_array().unwrap()) {
        assert_row_matches(row, sent, (before, after));
    }
    // Spot checks against hand-computed values.
    assert_eq!(rows[0].usage_e4, 123_456, "12.3456 as a JSON number");
    assert_eq!(rows[1].usage_e4, 10_001, "\"1.0001\"");
    assert_eq!(rows[2].usage_e4, 30_000, "3");
    assert_eq!(rows[3].usage_e4, 5_000, "\"0.5\"");
    assert_eq!(rows[0].record_time, None);
    assert_eq!(rows[0].relate_pkg_instance.as_deref(), Some("pkg-0"));
    assert_eq!(rows[1].record_time, parse_time("20261122T130500Z"));
    assert_eq!(rows[59].begin_time, parse_time("20261122T125900Z").unwrap());

    // The same batch again: nothing new, nothing changed.
    let (status, answer) = push(&app, &s, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["accepted"].as_u64(), answer["already_received"].as_u64()), (Some(0), Some(1000)));
    assert_eq!(stored(&app, &s.id).await, rows);

    // Half old, half new: only the new half is stored; an old record sent
    // with another value keeps its first value.
    let mut overlap = batch(500..1500);
    overlap["usage_records"][0]["usage_value"] = json!("999");
    let (status, answer) = push(&app, &s, &overlap).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["accepted"].as_u64(), answer["already_received"].as_u64()), (Some(500), Some(500)));
    let now = stored(&app, &s.id).await;
    assert_eq!(now.len(), 1500);
    assert_eq!(now[..1000], rows[..]);
}

#[tokio::test]
async fn concurrent_pushes_of_overlapping_batches_store_each_record_once() {
    let app = spawn_app().await;
    let s = seller(&app).await;
    let batches = [batch(0..400), batch(300..700), batch(600..1000)];
    let mut tasks = Vec::new();
    for conn in 0..8 {
        let (base, s, batches) = (app.base.clone(), s.clone(), batches.clone());
        tasks.push(tokio::spawn(async move {
            // A client of its own: its own connection.
            let client = reqwest::Client::new();
            let mut accepted = 0;
            for k in 0..3 {
                let body = serde_json::to_vec(&batches[(conn + k) % 3]).unwrap();
                let url = reqwest::Url::parse(&format!("{base}{PUSH}")).unwrap();
                let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
                let date = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
                let res = client
                    .post(url)
                    .header("X-Sdk-Date", &date)
                    .header("Authorization", sign(&host, &body, &date, &s.ak, &s.sk))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200);
                let answer: Value = res.json().await.unwrap();
                assert_eq!(answer["error_code"], "MKT.0000", "{answer}");
                let (a, d) = (answer["accepted"].as_u64().unwrap(), answer["already_received"].as_u64().unwrap());
                assert_eq!(a + d, 400);
                accepted += a;
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    assert_eq!(accepted, 1000, "each distinct metering_sn is accepted by exactly one call");
    let rows = stored(&app, &s.id).await;
    assert_eq!(rows.len(), 1000);
    let distinct: std::collections::BTreeSet<_> = rows.iter().map(|r| r.metering_sn.clone()).collect();
    assert_eq!(distinct.len(), 1000);
}

#[tokio::test]
async fn bad_batches_are_refused_with_their_code_and_store_nothing() {
    let app = spawn_app().await;
    let s = seller(&app).await;
    let with = |i: usize, field: &str, value: Value| {
        let mut b = batch(0..5);
        if value.is_null() {
            b["usage_records"][i].as_object_mut().unwrap().remove(field);
        } else {
            b["usage_records"][i][field] = value;
        }
        b
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("empty array", json!({"usage_records": []}), "MKT.0100", "usage_records: at least one record"),
        ("no array", json!({}), "MKT.0100", "usage_records"),
        ("1001 records", batch(0..1001), "MKT.9003", "at most 1000 records"),
        (
            "non-numeric",
            with(3, "usage_value", json!("lots")),
            "MKT.0100",
            "usage_records[3].usage_value: must be a decimal",
        ),
        (
            "negative",
            with(3, "usage_value", json!(-2.5)),
            "MKT.0100",
            "usage_records[3].usage_value: must be greater than 0",
        ),
        (
            "zero",
            with(2, "usage_value", json!("0.0000")),
            "MKT.0100",
            "usage_records[2].usage_value: must be greater than 0",
        ),
        (
            "5 decimals",
            with(3, "usage_value", json!(12.34567)),
            "MKT.0100",
            "usage_records[3].usage_value: at most 4 decimals",
        ),
        (
            "5 decimals text",
            with(1, "usage_value", json!("1.00001")),
            "MKT.0100",
            "usage_records[1].usage_value: at most 4 decimals",
        ),
        (
            "bad time",
            with(4, "begin_time", json!("2026-11-22T12:00:00Z")),
            "MKT.0100",
            "usage_records[4].begin_time: must be a UTC time",
        ),
        (
            "end before begin",
            with(1, "end_time", json!("20261122T110000Z")),
            "MKT.0100",
            "usage_records[1].end_time: must not be before begin_time",
        ),
        (
            "missing instance",
            with(2, "instance_id", Value::Null),
            "MKT.0100",
            "usage_records[2].instance_id: is required",
        ),
        ("missing end", with(0, "end_time", Value::Null), "MKT.0100", "usage_records[0].end_time: is required"),
        (
            "long metering_sn",
            with(0, "metering_sn", json!("s".repeat(65))),
            "MKT.0100",
            "usage_records[0].metering_sn: must be 1 to 64",
        ),
        ("unknown field", with(3, "unit", json!("GB")), "MKT.0101", "usage_records[3].unit"),
        ("unknown top-level field", json!({"usage_records": [record(0)], "tenant": "x"}), "MKT.0101", "tenant"),
        (
            "duplicate metering_sn",
            with(4, "metering_sn", json!("sn-00001")),
            "MKT.0100",
            "usage_records[4].metering_sn: duplicates usage_records[1]",
        ),
    ];
    for (name, body, code, message) in cases {
        let (status, answer) = push(&app, &s, &body).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert_eq!(answer["error_code"], code, "{name}: {answer}");
        assert!(answer["error_msg"].as_str().unwrap().contains(message), "{name}: {answer}");
        assert_eq!(total_rows(&app).await, 0, "{name} stored something");
    }
    for raw in [&b"{\"usage_records\": ["[..], b"not json", b""] {
        let (status, answer) = push_raw(&app, &s.ak, &s.sk, raw, raw.to_vec()).await;
        assert_eq!((status, answer["error_code"].as_str()), (400, Some("MKT.0100")), "{answer}");
    }
    assert_eq!(total_rows(&app).await, 0);
    // The same seller can still push a good batch afterwards.
    let (status, answer) = push(&app, &s, &batch(0..5)).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(5)), "{answer}");
}

#[tokio::test]
async fn bad_signatures_and_unknown_keys_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let s = seller(&app).await;
    let body = serde_json::to_vec(&batch(0..3)).unwrap();
    let (status, answer) = push_raw(&app, &s.ak, &"x".repeat(40), &body, body.clone()).await;
    assert_eq!((status, answer["error_code"].as_str()), (401, Some("MKT.0102")), "{answer}");
    let (status, answer) = push_raw(&app, "AKUNKNOWN00000000000", &s.sk, &body, body.clone()).await;
    assert_eq!((status, answer["error_code"].as_str()), (401, Some("MKT.0154")), "{answer}");
    // Signed over one body, sent with another: the body hash does not match.
    let other = serde_json::to_vec(&batch(10..13)).unwrap();
    let (status, answer) = push_raw(&app, &s.ak, &s.sk, &body, other).await;
    assert_eq!((status, answer["error_code"].as_str()), (401, Some("MKT.0102")), "{answer}");
    // No Authorization at all.
    let res = app.client.post(app.url(PUSH)).body(body.clone()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "MKT.0102");
    assert_eq!(total_rows(&app).await, 0);
}

#[tokio::test]
async fn two_sellers_may_use_the_same_metering_sn() {
    let app = spawn_app().await;
    let (a, b) = (seller(&app).await, seller(&app).await);
    let mut for_b = batch(0..2);
    for_b["usage_records"][0]["instance_id"] = json!("b-instance");
    let (status, answer) = push(&app, &a, &batch(0..2)).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(2)), "{answer}");
    let (status, answer) = push(&app, &b, &for_b).await;
    assert_eq!((status, answer["accepted"].as_u64(), answer["already_received"].as_u64()), (200, Some(2), Some(0)));
    let (rows_a, rows_b) = (stored(&app, &a.id).await, stored(&app, &b.id).await);
    assert_eq!(rows_a.len(), 2);
    assert_eq!(rows_b.len(), 2);
    assert_eq!(rows_a[0].metering_sn, rows_b[0].metering_sn);
    assert_eq!(rows_a[0].instance_id, "ins-0");
    assert_eq!(rows_b[0].instance_id, "b-instance");
    assert_eq!(total_rows(&app).await, 4);
}
