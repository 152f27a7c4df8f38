//! What a chaos run reports: figures per scenario, the checks, and one line
//! per failure.

use super::checks::{Check, SellerFigures};
use super::clock::ClockFigures;
use super::{Plan, Size};
use serde::Serialize;
use std::collections::BTreeMap;

/// One scenario's figures and verdicts.
#[derive(Debug, Serialize, Default)]
pub struct ScenarioReport {
    pub scenario: &'static str,
    pub description: String,
    pub backend: &'static str,
    pub nodes: usize,
    /// Seeding the market through the API.
    pub seed_secs: f64,
    /// Seconds of load asked for (mixed scenarios), and how long the load
    /// took until every client's last operation was answered.
    pub load_secs: u64,
    pub load_wall_secs: f64,
    /// Wall time of the whole scenario, seeding and checks included.
    pub seconds: f64,
    pub kills: u32,
    /// Kills that landed while the killed node was delivering a purchase.
    pub kills_during_delivery: u32,
    /// From a SIGKILL until the node answered /readyz again (mixed) or the
    /// purchase was active (delivery), in ms.
    pub recovery_ms_max: f64,
    pub orders_paid: u64,
    pub renewals_paid: u64,
    pub renewals_declined: u64,
    pub orders_by_status: BTreeMap<String, u64>,
    pub usage_records: u64,
    pub usage_pushes: u64,
    /// Σ of the usage values pushed (GB).
    pub usage_total: String,
    /// Requests sent again because the node was down.
    pub retried_requests: u64,
    /// Operations that failed for good (first few).
    pub load_errors: Vec<String>,
    pub seller_faults: String,
    pub seller: SellerFigures,
    /// Job attempts per outcome; `lease_expired`: taken over from a killed node.
    pub job_attempts: BTreeMap<String, u64>,
    pub dead_jobs: BTreeMap<String, u64>,
    pub clock: ClockFigures,
    pub clock_moved_secs: i64,
    /// From the end of the load until no work was left.
    pub settle_secs: f64,
    pub checks: Vec<Check>,
}

impl ScenarioReport {
    fn print(&self) {
        println!("== {}: {}", self.scenario, self.description);
        if self.load_secs > 0 {
            println!(
                "   load        {} s ({:.1} s until the last answer), {} node(s) on {}: {} orders paid, {} renewals paid ({} declined), {} usage records in {} pushes",
                self.load_secs,
                self.load_wall_secs,
                self.nodes,
                self.backend,
                self.orders_paid,
                self.renewals_paid,
                self.renewals_declined,
                self.usage_records,
                self.usage_pushes
            );
        } else {
            println!("   orders      {} paid, {} node(s) on {}", self.orders_paid, self.nodes, self.backend);
        }
        println!(
            "   kills       {} SIGKILL ({} during a delivery); longest recovery {:.0} ms; {} requests retried",
            self.kills, self.kills_during_delivery, self.recovery_ms_max, self.retried_requests
        );
        println!("   seller      {}", self.seller_faults);
        println!(
            "               {} instances ({} released), {} newInstance calls (at most {} for one order line)",
            self.seller.instances, self.seller.released, self.seller.new_instance_calls, self.seller.max_calls_per_line
        );
        println!("   orders      {}", counts(&self.orders_by_status));
        println!("   attempts    {}", counts(&self.job_attempts));
        if !self.dead_jobs.is_empty() {
            println!("   dead jobs   {}", counts(&self.dead_jobs));
        }
        println!(
            "   clock       moved {} ({} steps, {} renewal jumps after {:.1} s waiting for open jobs, {} skipped); settled in {:.1} s",
            duration(self.clock_moved_secs),
            self.clock.steps,
            self.clock.jumps,
            self.clock.quiesce_secs,
            self.clock.jumps_skipped,
            self.settle_secs
        );
        if let Some(open) = &self.clock.open_at_skip {
            println!("               a jump was skipped, open then: {open}");
        }
        for c in &self.checks {
            println!("   {:<4}  {}: {}", if c.ok { "ok" } else { "FAIL" }, c.name, c.detail);
        }
        println!("   took {:.1} s (seeding {:.1} s)", self.seconds, self.seed_secs);
        println!();
    }
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() { "none".into() } else { super::clock::describe(m) }
}

/// `3d 4h 5m`.
fn duration(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 { format!("{d}d {h}h {m}m") } else { format!("{h}h {m}m {}s", secs % 60) }
}

/// Prints the scenario just finished (not in JSON mode), so long runs show progress.
pub fn progress(reports: &[ScenarioReport], json: bool) {
    if let (false, Some(last)) = (json, reports.last()) {
        last.print();
    }
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub size: Size,
    pub seconds: u64,
    pub kills: u32,
    pub delivery_kills: u32,
    pub scenarios: Vec<ScenarioReport>,
    /// Scenarios not run, and why.
    pub skipped: Option<String>,
    /// PostgreSQL: the scratch database the postgres scenario ran on (dropped at the end).
    pub scratch_database: Option<String>,
    /// One line per failed check: `<scenario>: <check>: <detail>`.
    pub failures: Vec<String>,
    pub ok: bool,
}

impl Summary {
    pub fn new(
        size: Size,
        plan: &Plan,
        scenarios: Vec<ScenarioReport>,
        skipped: Option<String>,
        scratch_database: Option<String>,
    ) -> Summary {
        let failures: Vec<String> = scenarios
            .iter()
            .flat_map(|s| {
                s.checks.iter().filter(|c| !c.ok).map(move |c| format!("{}: {}: {}", s.scenario, c.name, c.detail))
            })
            .collect();
        Summary {
            size,
            seconds: plan.seconds,
            kills: plan.kills,
            delivery_kills: plan.delivery_kills,
            ok: failures.is_empty(),
            scenarios,
            skipped,
            scratch_database,
            failures,
        }
    }

    /// The closing lines (each scenario was printed as it finished).
    pub fn print(&self) {
        if let Some(skipped) = &self.skipped {
            println!("skipped {skipped}");
        }
        for f in &self.failures {
            println!("FAILED {f}");
        }
        let names: Vec<_> = self.scenarios.iter().map(|s| s.scenario).collect();
        println!(
            "mercato chaos --size {}: {} ({})",
            serde_json::to_value(self.size).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            if self.ok { "all checks passed" } else { "FAILED" },
            names.join(", ")
        );
    }
}
