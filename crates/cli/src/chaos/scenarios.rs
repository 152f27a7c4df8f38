//! The chaos scenarios: what runs, what is killed when, and the checks after.

use super::checks::{self, Check};
use super::load::{self, Cluster};
use super::market;
use super::node::{self, Node, Store};
use super::report::ScenarioReport;
use super::seller::{self, Seller};
use super::{Plan, clock};
use crate::bench::Scratch;
use mercato_server::app::orders::FULFIL_NEW_INSTANCE;
use mercato_store::Db;
use mercato_store::bench::chaos as facts;
use rand::Rng;
use serde_json::json;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the work may take to settle after the load, and usage to be rated.
const DRAIN_WITHIN: Duration = Duration::from_secs(180);
const RATE_WITHIN: Duration = Duration::from_secs(120);

/// What a scenario runs on: the seller, the nodes, the seeded market.
struct Stage {
    dir: PathBuf,
    store: Store,
    seller: Seller,
    nodes: Vec<Node>,
    cluster: Arc<Cluster>,
    http: reqwest::Client,
}

/// Starts the seller and `nodes` nodes on `database_url` (SQLite in `dir`
/// without one), creates the operator and seeds the market.
async fn stage(dir: &Path, database_url: Option<String>, nodes: usize, buyers: usize) -> anyhow::Result<Stage> {
    std::fs::create_dir_all(dir)?;
    let store = Store { data_dir: dir.join("data"), database_url };
    let http = reqwest::Client::new();
    let seller = Seller::start(dir).await?;
    let op = node::create_operator(dir, &store)?;
    let mut started = Vec::new();
    for i in 0..nodes {
        let mut n = Node::new(&format!("node{i}"), store.clone(), dir)?;
        n.spawn()?;
        started.push(n);
    }
    for n in &mut started {
        n.wait_ready(&http).await?;
    }
    let market = market::seed(&started[0].base, op, &seller.url, buyers).await?;
    let db = Db::open_sized(&store.location(), node::NODE_POOL).await?;
    let bases: Vec<String> = started.iter().map(|n| n.base.clone()).collect();
    let cluster = Arc::new(Cluster::new(&bases, market, db)?);
    Ok(Stage { dir: dir.to_path_buf(), store, seller, nodes: started, cluster, http })
}

/// Scenario `sqlite`: one node on SQLite, killed and restarted under load.
pub async fn sqlite(dir: &Path, plan: &Plan) -> anyhow::Result<ScenarioReport> {
    let started = Instant::now();
    let stage = stage(dir, None, 1, plan.buyers).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    let mut report = mixed(stage, plan).await?;
    report.seed_secs = seed_secs;
    report.scenario = "sqlite";
    report.description =
        format!("one node on SQLite, SIGKILLed and restarted {} times under orders, renewals and usage", plan.kills);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Scenario `postgres`: three nodes on one scratch PostgreSQL database, a
/// delivering one killed each time.
pub async fn postgres(dir: &Path, scratch: &Scratch, plan: &Plan) -> anyhow::Result<ScenarioReport> {
    let started = Instant::now();
    let stage = stage(dir, Some(scratch.url(&scratch.mercato)), 3, plan.buyers).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    let mut report = mixed(stage, plan).await?;
    report.seed_secs = seed_secs;
    report.scenario = "postgres";
    report.description = format!(
        "three nodes on one PostgreSQL database, a delivering one SIGKILLed and restarted {} times under orders, renewals and usage",
        plan.kills
    );
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The mixed load with kills, a misbehaving seller and a moving clock; then
/// the work settled and checked.
async fn mixed(mut stage: Stage, plan: &Plan) -> anyhow::Result<ScenarioReport> {
    let c = stage.cluster.clone();
    let faults = stage.seller.faults.clone();
    let clock_before = c.clock().await?;
    faults.set_policy(seller::chaotic(plan.timeouts));
    let start = Instant::now();
    let until = start + Duration::from_secs(plan.seconds);
    let mut clients = Vec::new();
    for b in 0..plan.buyers {
        clients.push(tokio::spawn(load::buyer(c.clone(), b, until, plan.pace)));
    }
    clients.push(tokio::spawn(load::pusher(c.clone(), until, plan.push_every)));
    let jumps = (1..=plan.jumps).map(|j| start + plan.seconds_fraction(j, plan.jumps + 1)).collect();
    let ticker = tokio::spawn(clock::ticker(c.clone(), faults.clone(), until, plan.step_every, jumps));
    let outage = {
        let (faults, at, down) = (faults.clone(), start + plan.seconds_fraction(1, 3), plan.down);
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            faults.go_down_for(down);
        })
    };

    let kills = kill_under_load(&c, &mut stage.nodes, plan, start, &stage.http).await;
    for client in clients {
        client.await?;
    }
    let clock_figures = ticker.await?;
    outage.abort();
    stage.seller.behave();
    let (kills, during, slowest) = kills?;

    let load_end = Instant::now();
    let load_wall_secs = (load_end - start).as_secs_f64();
    let settled = async {
        clock::drain(&c, DRAIN_WITHIN).await?;
        clock::close_usage(&c, RATE_WITHIN).await?;
        clock::drain(&c, DRAIN_WITHIN).await
    }
    .await;
    let mut report = ScenarioReport {
        backend: backend(&stage.store),
        nodes: stage.nodes.len(),
        load_secs: plan.seconds,
        load_wall_secs,
        kills,
        kills_during_delivery: during,
        recovery_ms_max: slowest,
        seller_faults: format!(
            "{:.0} % of calls failed, {:.0} % answered after the 5 s timeout, down {} s from a third of the load on",
            seller::chaotic(0.0).fail_rate * 100.0,
            plan.timeouts * 100.0,
            plan.down.as_secs()
        ),
        clock: clock_figures,
        settle_secs: load_end.elapsed().as_secs_f64(),
        ..ScenarioReport::default()
    };
    report.clock_moved_secs = (c.clock().await? - clock_before).num_seconds();
    if let Err(e) = settled {
        report.checks.push(Check { name: "the work settled", ok: false, detail: format!("{e:#}") });
    }
    verify(&stage, &mut report).await?;
    Ok(report)
}

impl Plan {
    /// `num / den` of the load's seconds.
    fn seconds_fraction(&self, num: u32, den: u32) -> Duration {
        Duration::from_secs_f64(self.seconds as f64 * f64::from(num) / f64::from(den.max(1)))
    }
}

/// Kills a node `plan.kills` times, evenly over the load, each time one that
/// is delivering a purchase if one is within 2 s, and starts it again;
/// returns (kills, kills during a delivery, longest kill-to-ready in ms).
async fn kill_under_load(
    c: &Cluster,
    nodes: &mut [Node],
    plan: &Plan,
    start: Instant,
    http: &reqwest::Client,
) -> anyhow::Result<(u32, u32, f64)> {
    let (mut during, mut slowest) = (0, 0f64);
    for i in 0..plan.kills {
        let at = start + plan.seconds_fraction(2 * i + 1, 2 * plan.kills);
        tokio::time::sleep_until(at.into()).await;
        let (victim, delivering) = victim(c, nodes, i as usize, Duration::from_secs(2)).await?;
        let killed = Instant::now();
        nodes[victim].kill();
        let down = Duration::from_millis(rand::thread_rng().gen_range(0..400));
        tokio::time::sleep(down).await;
        nodes[victim].spawn()?;
        nodes[victim].wait_ready(http).await?;
        slowest = slowest.max(killed.elapsed().as_secs_f64() * 1000.0);
        during += u32::from(delivering);
    }
    Ok((plan.kills, during, slowest))
}

/// A node running a `fulfil_new_instance` job now (waiting up to `within`
/// for one), else node `turn` (round robin).
async fn victim(c: &Cluster, nodes: &mut [Node], turn: usize, within: Duration) -> anyhow::Result<(usize, bool)> {
    let deadline = Instant::now() + within;
    loop {
        let running = facts::running_jobs(&c.db, FULFIL_NEW_INSTANCE).await?;
        for (i, n) in nodes.iter_mut().enumerate() {
            if let Some(owner) = n.owner()
                && running.iter().any(|(_, o)| o == owner)
            {
                return Ok((i, true));
            }
        }
        if Instant::now() >= deadline {
            return Ok((turn % nodes.len(), false));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Scenario `delivery`: kill -9 on a test-clock node while it waits for the
/// seller's answer (newInstance in even rounds, queryInstance in odd ones),
/// restart it, and the purchase completes without the clock moving.
pub async fn delivery(dir: &Path, plan: &Plan) -> anyhow::Result<ScenarioReport> {
    let started = Instant::now();
    let mut stage = stage(dir, None, 1, 1).await?;
    let seed_secs = started.elapsed().as_secs_f64();
    let c = stage.cluster.clone();
    let before = c.clock().await?;
    let mut report = ScenarioReport {
        scenario: "delivery",
        description: format!(
            "a node on the test clock SIGKILLed during {} seller calls (newInstance, queryInstance) and restarted; the clock never moves",
            plan.delivery_kills
        ),
        backend: backend(&stage.store),
        nodes: 1,
        seller_faults: "every answer held back 2.5 s until the kill, then none".into(),
        seed_secs,
        ..ScenarioReport::default()
    };
    let mut problems = Vec::new();
    for round in 0..plan.delivery_kills {
        let during_query = round % 2 == 1;
        stage.seller.faults.set_policy(seller::slow(2_500));
        let order = json!({"sku_id": c.market.month_sku, "period": "month", "period_count": 1});
        let order = c.buy(0, u64::from(round) + 1, order).await?;
        let (db, seller_store) = (&c.db, &stage.seller.store);
        let in_flight = poll_until(Duration::from_secs(20), || async {
            let purchase = purchase_of(db, &order).await?;
            let stored = purchase.as_ref().is_some_and(|p| p.instance_id.is_some());
            Ok(if during_query {
                stored
            } else {
                !stored && seller_store.all_instances().await?.iter().any(|i| i.order_id == order)
            })
        })
        .await?;
        if !in_flight {
            problems.push(format!("order {order}: the seller call to kill in never started"));
            continue;
        }
        let killed = Instant::now();
        stage.nodes[0].kill();
        stage.seller.behave();
        stage.nodes[0].spawn()?;
        stage.nodes[0].wait_ready(&stage.http).await?;
        report.kills += 1;
        let active = poll_until(Duration::from_secs(60), || async {
            Ok(purchase_of(db, &order).await?.is_some_and(|p| p.status.as_str() == "active"))
        })
        .await?;
        if active {
            report.kills_during_delivery += 1;
            report.recovery_ms_max = report.recovery_ms_max.max(killed.elapsed().as_secs_f64() * 1000.0);
        } else {
            problems.push(format!("order {order} was not fulfilled within 60 s of the restart"));
        }
    }
    let after = c.clock().await?;
    if after != before {
        problems.push(format!("the test clock moved from {before} to {after}"));
    }
    let fine = format!(
        "{} purchases killed mid-call completed within {:.0} ms of the kill; the clock stayed at {before}",
        report.kills_during_delivery, report.recovery_ms_max
    );
    report.checks.push(Check {
        name: "purchases complete after kill -9 without moving the clock",
        ok: problems.is_empty(),
        detail: if problems.is_empty() { fine } else { problems.join("; ") },
    });
    report.clock_moved_secs = (after - before).num_seconds();
    verify(&stage, &mut report).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The purchase (first line) of `order_id`, if any.
async fn purchase_of(db: &Db, order_id: &str) -> anyhow::Result<Option<facts::Purchase>> {
    Ok(facts::purchases(db).await?.into_iter().find(|p| p.order_id == order_id))
}

/// Polls `ready` every 25 ms until it is true (true) or `within` passes (false).
async fn poll_until<F, Fut>(within: Duration, mut ready: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + within;
    loop {
        if ready().await? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn backend(store: &Store) -> &'static str {
    if store.database_url.is_some() { "postgresql" } else { "sqlite" }
}

/// The figures the driver counted, and the four checks.
async fn verify(stage: &Stage, report: &mut ScenarioReport) -> anyhow::Result<()> {
    let c = &stage.cluster;
    let (paid, records, e4) = {
        let t = c.tally();
        report.orders_paid = t.orders_paid.len() as u64;
        report.renewals_paid = t.renewals_paid.len() as u64;
        report.renewals_declined = t.renewals_declined;
        report.usage_records = t.usage_records;
        report.usage_pushes = t.usage_pushes;
        report.usage_total = format!("{}.{:04}", t.usage_e4 / 10_000, t.usage_e4 % 10_000);
        report.retried_requests = t.retried;
        report.load_errors = t.errors.clone();
        let load = Check {
            name: "no operation failed for good",
            ok: t.error_count == 0,
            detail: match t.errors.first() {
                None => format!("{} requests retried while nodes were down, all answered in the end", t.retried),
                Some(first) => format!("{} operations failed, the first: {first}", t.error_count),
            },
        };
        report.checks.push(load);
        let paid: Vec<String> = t.orders_paid.iter().chain(&t.renewals_paid).cloned().collect();
        (paid, t.usage_records, t.usage_e4)
    };
    let (orders, by_status) = checks::orders_final(&c.db, &paid).await?;
    let (instances, seller) = checks::one_instance_per_line(&c.db, &stage.seller.store).await?;
    let usage = checks::usage_totals(&c.db, records, e4).await?;
    let ledger = checks::ledger(&stage.dir, &stage.store);
    report.checks.extend([orders, instances, usage, ledger]);
    report.orders_by_status = by_status;
    report.seller = seller;
    report.job_attempts = facts::attempts_by_outcome(&c.db).await?;
    report.dead_jobs = facts::dead_jobs(&c.db).await?;
    Ok(())
}
