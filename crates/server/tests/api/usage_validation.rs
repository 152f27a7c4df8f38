//! Asynchronous business validation of pushed usage records (spec §7) on the
//! test clock: valid records, each error rule with its code, duplicates,
//! the seller's error list, correcting and resending, and two validators
//! racing.

use crate::usage_shop::{ERRORS, rec, seller_on, shop};
use chrono::Duration;
use mercato_domain::usage::format_time;
use mercato_server::app::usage::intake::{self as app_usage, Validated};
use mercato_store::repo::usage as usage_repo;
use serde_json::{Value, json};

/// (metering_sn, error_code) of a page of error records.
fn codes(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["metering_sn"].as_str().unwrap().to_string(), i["error_code"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[tokio::test]
async fn each_rule_gives_its_code_and_errors_are_listed() {
    let s = shop().await;
    let payg = s.buy("payg").await;
    let ins = payg.instance_id.clone().unwrap();
    let period = s.buy("std").await.instance_id.unwrap();
    let pack = s.buy("pack").await.instance_id.unwrap();
    let gone = s.buy("payg").await;
    let gone_ins = gone.instance_id.clone().unwrap();
    let (other, _) = seller_on(&s.app).await;
    s.advance(Duration::hours(2)).await;
    // Released now; its close time is the release.
    s.app
        .post_idem(
            &format!("/api/v1/buyer/subscriptions/{}/unsubscribe", gone.id),
            &s.buyer_key,
            "u1",
            Some(json!({"scope": "subscription"})),
        )
        .await
        .expect(200);
    let released_at = s.now();
    s.advance(Duration::minutes(10)).await;
    let now = s.now();
    let m = Duration::minutes;
    let push = s
        .push(
            &s.seller,
            vec![
                rec(&ins, "a-valid", now - m(10), now - m(1), "1.5"),
                rec(&ins, "b-dup", now - m(10), now - m(1), "2"),
                rec("no-such-instance", "c-unknown", now - m(10), now - m(1), "1"),
                rec(&period, "d-period", now - m(10), now - m(1), "1"),
                rec(&pack, "e-pack", now - m(10), now - m(1), "1"),
                rec(&ins, "f-early", payg.starts_at - Duration::seconds(1), now - m(1), "1"),
                rec(&ins, "g-future", now - m(10), now + m(5), "1"),
                rec(&gone_ins, "h-released", released_at - m(5), released_at + m(1), "1"),
                rec(&gone_ins, "i-before-release", released_at - m(5), released_at, "0.0001"),
                rec(&ins, "j-late", now - m(120), now - m(116), "1"),
            ],
        )
        .await;
    assert_eq!((push["accepted"].as_u64(), push["already_received"].as_u64()), (Some(10), Some(0)));
    // Another seller's push for our instance.
    let theirs = s.push(&other, vec![rec(&ins, "k-theirs", now - m(10), now - m(1), "1")]).await;
    assert_eq!(theirs["accepted"], 1);
    assert_eq!(s.errors("").await["items"], json!([]), "nothing is decided before the validator runs");
    assert_eq!(s.row("a-valid").await.status, "received");

    let n = s.validate().await;
    assert_eq!(n, Validated { valid: 2, error: 8, duplicate: 1 });
    assert_eq!(s.validate().await, Validated::default(), "a second pass finds nothing");
    for (sn, status) in [("a-valid", "valid"), ("i-before-release", "valid"), ("b-dup", "duplicate")] {
        assert_eq!(s.row(sn).await.status, status, "{sn}");
    }
    assert_eq!(s.row("b-dup").await.duplicate_of.as_deref(), Some("a-valid"));
    assert_eq!(s.row("a-valid").await.error_code, None);

    let all = s.errors("").await;
    assert_eq!(
        codes(&all),
        [
            ("b-dup", "MKT.9006"),
            ("c-unknown", "MKT.9001"),
            ("d-period", "MKT.9002"),
            ("e-pack", "MKT.9002"),
            ("f-early", "MKT.9002"),
            ("g-future", "MKT.9002"),
            ("h-released", "MKT.9002"),
            ("j-late", "MKT.9005"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let item = &all["items"][1];
    assert_eq!(item["instance_id"], "no-such-instance");
    assert_eq!(item["usage_value"], "1");
    assert_eq!(item["status"], "error");
    assert_eq!(item["error_reason"], "instance not found");
    assert_eq!(item["begin_time"], format_time(now - m(10)));
    assert!(all["items"][0]["error_reason"].as_str().unwrap().contains("a-valid"));
    assert_eq!(all["items"][0]["duplicate_of"], "a-valid");
    assert!(all["items"][7]["error_reason"].as_str().unwrap().contains("period closed"));
    assert!(all["items"][6]["error_reason"].as_str().unwrap().contains("released"));

    // The other seller sees its own error only, as an illegal operation.
    let page = s.app.get(ERRORS, Some(&other.key)).await.expect(200);
    assert_eq!(codes(&page), [("k-theirs".to_string(), "MKT.0150".to_string())]);

    // Filters and paging.
    assert_eq!(codes(&s.errors("?status=duplicate").await).len(), 1);
    assert_eq!(codes(&s.errors("?status=error").await).len(), 7);
    let mine: Vec<String> = codes(&s.errors(&format!("?instance_id={ins}")).await).into_iter().map(|c| c.0).collect();
    assert_eq!(mine, ["b-dup", "f-early", "g-future", "j-late"]);
    let p1 = s.errors("?limit=3").await;
    assert_eq!(codes(&p1).len(), 3);
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    let p2 = s.errors(&format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(codes(&p2)[0].0, "e-pack");
    let p3 = s.errors(&format!("?limit=3&cursor={}", p2["next_cursor"].as_str().unwrap())).await;
    assert_eq!(codes(&p3).len(), 2);
    assert_eq!(p3["next_cursor"], Value::Null);

    // Bad input: clear 4xx.
    s.app.get(&format!("{ERRORS}?status=valid"), Some(&s.seller.key)).await.problem(422, "validation_failed");
    s.app.get(&format!("{ERRORS}?limit=0"), Some(&s.seller.key)).await.problem(422, "validation_failed");
    s.app.get(ERRORS, None).await.expect(401);
    s.app.get(ERRORS, Some(&s.buyer_key)).await.expect(403);

    // Duplicate across pushes, and 21 days.
    let again = s.push(&s.seller, vec![rec(&ins, "l-dup", now - m(10), now - m(1), "3")]).await;
    assert_eq!(again["accepted"], 1);
    assert_eq!(s.validate().await, Validated { valid: 0, error: 0, duplicate: 1 });
    assert_eq!(s.row("l-dup").await.duplicate_of.as_deref(), Some("a-valid"));
    s.advance(Duration::days(22)).await;
    let now = s.now();
    s.push(&s.seller, vec![rec(&ins, "m-old", now - Duration::days(21) - m(1), now - m(1), "1")]).await;
    assert_eq!(s.validate().await, Validated { valid: 0, error: 1, duplicate: 0 });
    assert_eq!(s.row("m-old").await.error_code.as_deref(), Some("MKT.9004"));
}

#[tokio::test]
async fn an_error_record_is_corrected_by_pushing_it_again() {
    let s = shop().await;
    let ins = s.buy("payg").await.instance_id.unwrap();
    s.advance(Duration::hours(1)).await;
    let now = s.now();
    let m = Duration::minutes;
    let wrong = rec(&ins, "sn-1", now - m(10), now + m(30), "1");
    let good = rec(&ins, "sn-2", now - m(10), now - m(5), "2");
    s.push(&s.seller, vec![wrong, good.clone()]).await;
    assert_eq!(s.validate().await, Validated { valid: 1, error: 1, duplicate: 0 });
    let err = s.row("sn-1").await;
    assert_eq!((err.status.as_str(), err.error_code.as_deref()), ("error", Some("MKT.9002")));

    // The corrected record replaces the error; a valid one is left as it is.
    s.advance(m(1)).await;
    let fixed = rec(&ins, "sn-1", now - m(10), now - m(2), "4.25");
    let changed = json!({"instance_id": ins, "metering_sn": "sn-2", "begin_time": format_time(now - m(20)),
        "end_time": format_time(now - m(15)), "usage_value": "9"});
    let answer = s.push(&s.seller, vec![fixed, changed]).await;
    assert_eq!((answer["accepted"].as_u64(), answer["already_received"].as_u64()), (Some(1), Some(1)));
    let row = s.row("sn-1").await;
    assert_eq!(row.status, "received");
    assert_eq!((row.error_code, row.error_reason), (None, None));
    assert_eq!(row.usage_e4, 42_500);
    assert_eq!(format_time(row.end_time), format_time(now - m(2)));
    assert_eq!(row.received_at, s.now());
    let kept = s.row("sn-2").await;
    assert_eq!((kept.status.as_str(), kept.usage_e4), ("valid", 20_000));
    assert_eq!(format_time(kept.begin_time), format_time(now - m(10)));
    assert_eq!(s.errors("").await["items"], json!([]), "no longer an error record");

    assert_eq!(s.validate().await, Validated { valid: 1, error: 0, duplicate: 0 });
    assert_eq!(s.row("sn-1").await.status, "valid");
    // Re-pushing a valid record changes nothing.
    let retry = s.push(&s.seller, vec![rec(&ins, "sn-1", now - m(10), now + m(30), "1")]).await;
    assert_eq!((retry["accepted"].as_u64(), retry["already_received"].as_u64()), (Some(0), Some(1)));
    let row = s.row("sn-1").await;
    assert_eq!((row.status.as_str(), row.usage_e4), ("valid", 42_500));
}

#[tokio::test]
async fn two_validators_decide_each_record_once() {
    let s = shop().await;
    let ins = s.buy("payg").await.instance_id.unwrap();
    s.advance(Duration::hours(1)).await;
    let now = s.now();
    // 600 distinct windows, 200 of them repeated once under another sn, and
    // 100 for an unknown instance.
    let mut records = Vec::new();
    for i in 0..600 {
        // Within the last 10 minutes: the period is open whatever the minute of the hour.
        let begin = now - Duration::seconds(601) + Duration::seconds(i);
        records.push(rec(&ins, &format!("a-{i:04}"), begin, begin + Duration::seconds(1), "1"));
        if i < 200 {
            records.push(rec(&ins, &format!("b-{i:04}"), begin, begin + Duration::seconds(1), "1"));
        }
        if i < 100 {
            records.push(rec("nope", &format!("c-{i:04}"), begin, begin + Duration::seconds(1), "1"));
        }
    }
    for batch in records.chunks(450) {
        s.push(&s.seller, batch.to_vec()).await;
    }
    let state = &s.app.state;
    // Small chunks so that the two interleave.
    let run = || async {
        let mut n = Validated::default();
        loop {
            let (got, taken) = app_usage::validate_chunk(state, 70).await.unwrap();
            n.valid += got.valid;
            n.error += got.error;
            n.duplicate += got.duplicate;
            if taken == 0 {
                return n;
            }
        }
    };
    let tasks = s.app.registry.tasks();
    assert!(tasks.iter().any(|t| t.name == app_usage::VALIDATE_TASK), "every node runs the validator");
    let (a, b) = tokio::join!(run(), run());
    assert_eq!((a.valid + b.valid, a.error + b.error, a.duplicate + b.duplicate), (600, 100, 200), "{a:?} {b:?}");
    let rows = usage_repo::list_for_seller(&state.db.conn, &s.seller.id).await.unwrap();
    let count = |st: &str| rows.iter().filter(|r| r.status == st).count();
    assert_eq!((count("valid"), count("error"), count("duplicate"), count("received")), (600, 100, 200, 0));
    assert!(rows.iter().filter(|r| r.status == "duplicate").all(|r| {
        r.metering_sn.starts_with("b-") && r.duplicate_of.as_deref() == Some(&format!("a-{}", &r.metering_sn[2..]))
    }));
}

#[tokio::test]
async fn of_two_copies_of_a_window_the_first_pushed_counts_whatever_their_metering_sn() {
    let s = shop().await;
    let ins = s.buy("payg").await.instance_id.unwrap();
    s.advance(Duration::hours(1)).await;
    let now = s.now();
    let m = Duration::minutes;
    // One batch: 1000 GB first, then 999 GB for the same window under a
    // metering_sn that sorts before it.
    let push = s
        .push(
            &s.seller,
            vec![
                rec(&ins, "z-first", now - m(10), now - m(1), "1000"),
                rec(&ins, "a-second", now - m(10), now - m(1), "999"),
            ],
        )
        .await;
    assert_eq!(push["accepted"], 2);
    // A later push at the same (frozen) time, again sorting first.
    s.push(&s.seller, vec![rec(&ins, "0-third", now - m(10), now - m(1), "5")]).await;
    assert_eq!(s.validate().await, Validated { valid: 1, error: 0, duplicate: 2 });
    let first = s.row("z-first").await;
    assert_eq!((first.status.as_str(), first.usage_e4), ("valid", 1000 * 10_000));
    for later in ["a-second", "0-third"] {
        let row = s.row(later).await;
        assert_eq!((row.status.as_str(), row.duplicate_of.as_deref()), ("duplicate", Some("z-first")), "{later}");
    }
}
