//! The mixed load of a chaos run, over HTTP against whichever nodes are up:
//! buyers placing, paying and renewing orders, the seller pushing usage,
//! and the operator's test clock moving on.
//!
//! Every client operation holds the [`Cluster::gate`] shared; moving the
//! clock takes it exclusively. So the clock never moves under a request in
//! flight (or its retries): a usage record's times stay inside the open
//! period it was written for, and an `Idempotency-Key` retried after a kill
//! is still remembered.
//!
//! A request that gets no answer (the node was killed) or a 5xx is sent
//! again with the same `Idempotency-Key`, to the next node, until one
//! answers; the driver counts only what was answered with a success.

use super::market::Market;
use crate::seed::{Api, Refused, USAGE_PUSH, signed_post};
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use koo::gateway;
use mercato_store::Db;
use mercato_store::bench::chaos as facts;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// How long a request is retried while nodes are down.
const RETRY_FOR: Duration = Duration::from_secs(90);
/// Records per usage push.
const BATCH: usize = 20;

/// What the driver did, as the marketplace answered it.
#[derive(Debug, Default)]
pub struct Tally {
    /// Orders (purchases) placed and paid.
    pub orders_paid: Vec<String>,
    /// Renewal orders paid.
    pub renewals_paid: Vec<String>,
    /// Renewals the marketplace declined (4xx: the subscription ended, ...).
    pub renewals_declined: u64,
    /// Usage records acknowledged (`MKT.0000`), and the sum of their values
    /// in units of 0.0001.
    pub usage_records: u64,
    pub usage_e4: i64,
    pub usage_pushes: u64,
    /// Requests sent again because no node answered or one answered 5xx.
    pub retried: u64,
    /// Operations that failed for good (first few kept).
    pub errors: Vec<String>,
    pub error_count: u64,
}

/// The nodes as a client sees them, and the marketplace seeded on them.
pub struct Cluster {
    pub apis: Vec<Api>,
    pub market: Market,
    /// The database, read by the driver (which job runs where, what is open).
    pub db: Db,
    pub gate: RwLock<()>,
    pub tally: Mutex<Tally>,
    next: AtomicUsize,
    http: reqwest::Client,
}

fn retryable(e: &anyhow::Error) -> bool {
    match e.downcast_ref::<Refused>() {
        Some(r) => r.status >= 500 || (r.status == 409 && r.body.contains("idempotency_key_in_use")),
        None => true,
    }
}

fn dice(salt: u64) -> StdRng {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    StdRng::seed_from_u64(nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl Cluster {
    pub fn new(bases: &[String], market: Market, db: Db) -> anyhow::Result<Cluster> {
        Ok(Cluster {
            apis: bases.iter().map(|b| Api::new(b)).collect(),
            market,
            db,
            gate: RwLock::new(()),
            tally: Mutex::new(Tally::default()),
            next: AtomicUsize::new(0),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        })
    }

    pub fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn error(&self, what: String) {
        let mut t = self.tally();
        t.error_count += 1;
        if t.errors.len() < 10 {
            t.errors.push(what);
        }
    }

    /// The next node, in turn.
    fn api(&self) -> &Api {
        &self.apis[self.next.fetch_add(1, Ordering::Relaxed) % self.apis.len()]
    }

    /// Sends a request (with its `Idempotency-Key`, if any) until a node
    /// answers other than 5xx, for up to [`RETRY_FOR`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: &str,
        idempotency_key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + RETRY_FOR;
        loop {
            match self.api().send_once(method.clone(), path, Some(key), idempotency_key, body.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) if retryable(&e) && Instant::now() < deadline => {
                    self.tally().retried += 1;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The marketplace's (test clock) time.
    pub async fn clock(&self) -> anyhow::Result<DateTime<Utc>> {
        let view = self.send(Method::GET, "/api/v1/operator/test-clock", &self.market.op, None, None).await?;
        serde_json::from_value::<DateTime<Utc>>(view["now"].clone()).context("the test clock's time")
    }

    /// Moves the test clock `secs` on. Not idempotent: an answer lost to a
    /// kill and sent again moves it twice, which only makes time pass faster.
    pub async fn advance(&self, secs: i64) -> anyhow::Result<()> {
        let body = json!({"advance_secs": secs});
        self.send(Method::POST, "/api/v1/operator/test-clock", &self.market.op, None, Some(body)).await.map(|_| ())
    }

    /// Places and pays an order as buyer `b` (its `n`th operation).
    pub async fn buy(&self, b: usize, n: u64, order: Value) -> anyhow::Result<String> {
        let key = &self.market.buyers[b];
        let placed = self
            .send(Method::POST, "/api/v1/buyer/orders", key, Some(&format!("chaos-{b}-{n}-place")), Some(order))
            .await?;
        let id = placed["id"].as_str().context("the order id")?.to_string();
        let pay = format!("/api/v1/buyer/orders/{id}/pay");
        self.send(Method::POST, &pay, key, Some(&format!("chaos-{b}-{n}-pay")), Some(json!({}))).await?;
        self.tally().orders_paid.push(id.clone());
        Ok(id)
    }

    /// Renews one of buyer `b`'s active monthly subscriptions, if it has one.
    async fn renew_one(&self, b: usize, n: u64, dice: &mut StdRng) -> anyhow::Result<()> {
        let key = &self.market.buyers[b];
        let subs = self.send(Method::GET, "/api/v1/buyer/subscriptions?limit=100", key, None, None).await?;
        let active: Vec<&str> = subs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["status"] == "active" && s["charging_mode"] == "period")
            .filter_map(|s| s["id"].as_str())
            .collect();
        if active.is_empty() {
            return Ok(());
        }
        let id = active[dice.gen_range(0..active.len())];
        let path = format!("/api/v1/buyer/subscriptions/{id}/renew");
        let idem = format!("chaos-{b}-{n}-renew");
        match self.send(Method::POST, &path, key, Some(&idem), Some(json!({"period": "month"}))).await {
            Ok(renewal) => {
                let order = renewal["order_id"].as_str().context("the renewal's order id")?.to_string();
                self.tally().renewals_paid.push(order);
                Ok(())
            }
            Err(e) if e.downcast_ref::<Refused>().is_some_and(|r| r.status < 500) => {
                self.tally().renewals_declined += 1;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Pushes one batch of usage records (unique metering_sn, unique
    /// instance and times) on active pay-per-use instances, dated inside
    /// the open hour; retried until acknowledged.
    async fn push_usage(
        &self,
        used: &mut HashMap<String, HashSet<(i64, i64)>>,
        dice: &mut StdRng,
        batch: u64,
    ) -> anyhow::Result<()> {
        let instances = facts::active_instances(&self.db, &self.market.usage_sku).await?;
        if instances.is_empty() {
            return Ok(());
        }
        let now = self.clock().await?.timestamp();
        // Inside [start, now): ended before the push (the node's clock), in
        // an hour still open when it arrives (10 minutes back at most).
        let hi = now - 2;
        let (mut records, mut sum_e4) = (Vec::new(), 0i64);
        for k in 0..BATCH {
            let (instance, starts_at) = &instances[dice.gen_range(0..instances.len())];
            let lo = (starts_at.timestamp() + 1).max(now - 600);
            if hi - lo < 2 {
                continue;
            }
            let taken = used.entry(instance.clone()).or_default();
            let Some((begin, end)) = (0..5).find_map(|_| {
                let begin = dice.gen_range(lo..hi);
                let end = dice.gen_range(begin..=(begin + 120).min(hi));
                taken.insert((begin, end)).then_some((begin, end))
            }) else {
                continue;
            };
            let value_e4: i64 = dice.gen_range(1..100_000);
            sum_e4 += value_e4;
            let at =
                |t: i64| DateTime::from_timestamp(t, 0).unwrap_or_default().format(gateway::DATE_FORMAT).to_string();
            records.push(json!({
                "instance_id": instance,
                "metering_sn": format!("chaos-{batch}-{k}"),
                "begin_time": at(begin),
                "end_time": at(end),
                "usage_value": format!("{}.{:04}", value_e4 / 10_000, value_e4 % 10_000),
            }));
        }
        if records.is_empty() {
            return Ok(());
        }
        let count = records.len() as u64;
        let body = serde_json::to_vec(&json!({ "usage_records": records }))?;
        let deadline = Instant::now() + RETRY_FOR;
        loop {
            let url = reqwest::Url::parse(&format!("{}{USAGE_PUSH}", self.api().base))?;
            let sent = signed_post(&self.http, &url, &self.market.ak, &self.market.sk, body.clone()).send().await;
            let failed = match sent {
                Ok(res) if res.status().is_success() => {
                    let answer: Value = res.json().await.unwrap_or(Value::Null);
                    if answer["error_code"] != "MKT.0000" {
                        bail!("a usage push was refused: {answer}");
                    }
                    let mut t = self.tally();
                    t.usage_records += count;
                    t.usage_e4 += sum_e4;
                    t.usage_pushes += 1;
                    return Ok(());
                }
                Ok(res) if !res.status().is_server_error() => {
                    let status = res.status();
                    bail!("a usage push answered {status}: {}", res.text().await.unwrap_or_default())
                }
                Ok(res) => format!("answered {}", res.status()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                bail!("a usage push got no answer for {RETRY_FOR:?}: {failed}");
            }
            self.tally().retried += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

/// Buyer `b` until `until`: 60 % monthly purchases (half of them
/// auto-renewing), 20 % pay-per-use purchases, 20 % renewals.
pub async fn buyer(c: std::sync::Arc<Cluster>, b: usize, until: Instant, pace: Duration) {
    let mut dice = dice(b as u64);
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let roll = dice.gen_range(0..100);
        let turn = c.gate.read().await;
        let done = if roll < 60 {
            let order = json!({"sku_id": c.market.month_sku, "period": "month", "period_count": 1, "auto_renew": roll % 2 == 0});
            c.buy(b, n, order).await.map(|_| ())
        } else if roll < 80 {
            c.buy(b, n, json!({"sku_id": c.market.usage_sku})).await.map(|_| ())
        } else {
            c.renew_one(b, n, &mut dice).await
        };
        drop(turn);
        if let Err(e) = done {
            c.error(format!("buyer {b}: {e:#}"));
        }
        tokio::time::sleep(pace).await;
    }
}

/// The seller pushing usage until `until`, a batch every `pace`.
pub async fn pusher(c: std::sync::Arc<Cluster>, until: Instant, pace: Duration) {
    let mut dice = dice(u64::MAX);
    let mut used = HashMap::new();
    let mut batch = 0;
    while Instant::now() < until {
        tokio::time::sleep(pace).await;
        batch += 1;
        let turn = c.gate.read().await;
        let done = c.push_usage(&mut used, &mut dice, batch).await;
        drop(turn);
        if let Err(e) = done {
            c.error(format!("usage: {e:#}"));
        }
    }
}
