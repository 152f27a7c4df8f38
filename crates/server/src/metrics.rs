//! Prometheus text metrics: request counts and latency per route and status.
//! Kept in-process (each node exposes its own; Prometheus sums them).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

impl Metrics {
    /// Counts one request. Labels stay a bounded set whatever clients send:
    /// `route` is a route template (or "unmatched"), and a method outside
    /// the standard ones counts as "OTHER".
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"];
        let method = if METHODS.contains(&method) { method } else { "OTHER" };
        let secs = elapsed.as_secs_f64();
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let s = map.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum_secs += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let map = self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = String::new();
        out.push_str(
            "# HELP mercato_http_requests_total HTTP requests handled.\n# TYPE mercato_http_requests_total counter\n",
        );
        for ((method, route, status), s) in &map {
            let _ = writeln!(
                out,
                "mercato_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP mercato_http_request_duration_seconds HTTP request latency.\n# TYPE mercato_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((method, route, _), s) in &map {
            let agg = by_route.entry((method.clone(), route.clone())).or_default();
            agg.count += s.count;
            agg.sum_secs += s.sum_secs;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in &by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mercato_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(out, "mercato_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "mercato_http_request_duration_seconds_sum{{{labels}}} {}", s.sum_secs);
            let _ = writeln!(out, "mercato_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, Duration::from_millis(3));
        m.record("GET", "/healthz", 200, Duration::from_millis(300));
        let text = m.render();
        assert!(text.contains("mercato_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("_count{method=\"GET\",route=\"/healthz\"} 2"));
    }

    #[test]
    fn invented_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..1000 {
            m.record(&format!("X-{i}"), "unmatched", 405, Duration::from_millis(1));
        }
        assert_eq!(m.requests.lock().unwrap().len(), 1);
        assert!(m.render().contains("method=\"OTHER\",route=\"unmatched\",status=\"405\"} 1000"));
    }
}
