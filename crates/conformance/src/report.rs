//! The checker's result: one row per case, rendered as a table for people
//! or as JSON for machines (the marketplace stores the JSON with a
//! product's debug-case run).

use serde::Serialize;
use std::fmt::Write as _;

/// The outcome of one debug case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    /// Stable, human-readable case name (e.g. `newInstance repeated`).
    pub name: String,
    /// What a conforming seller answers, in words (e.g. `000000`).
    pub expected: String,
    /// What this seller answered, in the same terms.
    pub got: String,
    pub pass: bool,
    /// Why it failed, or anything worth knowing when it passed (empty if
    /// nothing).
    pub detail: String,
}

/// The results of one run, in the order the cases ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The seller URL checked.
    pub url: String,
    pub cases: Vec<CaseResult>,
    /// Number of passing cases (kept in the JSON for machines).
    pub passed: usize,
    /// Number of failing cases.
    pub failed: usize,
}

impl Report {
    /// A report of these results; the counters are derived from them.
    pub fn new(url: impl Into<String>, cases: Vec<CaseResult>) -> Self {
        let passed = cases.iter().filter(|c| c.pass).count();
        let failed = cases.len() - passed;
        Report { url: url.into(), cases, passed, failed }
    }

    /// Whether every case passed (and there was at least one).
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && !self.cases.is_empty()
    }

    /// The last line of the table: `N passed, M failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings, bools and integers always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A plain-text table: case / expected / got / pass, then the details of
    /// the cases that have one, then the summary as the last line.
    pub fn to_table(&self) -> String {
        const HEADERS: [&str; 4] = ["case", "expected", "got", "pass"];
        let rows: Vec<[&str; 4]> = self
            .cases
            .iter()
            .map(|c| [c.name.as_str(), c.expected.as_str(), c.got.as_str(), if c.pass { "PASS" } else { "FAIL" }])
            .collect();
        let mut widths = HEADERS.map(width);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        push_row(&mut out, &HEADERS, &widths);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        push_row(&mut out, &[&rule[0], &rule[1], &rule[2], &rule[3]], &widths);
        for row in &rows {
            push_row(&mut out, row, &widths);
        }
        let details: Vec<&CaseResult> = self.cases.iter().filter(|c| !c.detail.is_empty()).collect();
        if !details.is_empty() {
            out.push('\n');
            for c in details {
                let mark = if c.pass { "note" } else { "FAIL" };
                let _ = writeln!(out, "{mark} {}: {}", c.name, c.detail);
            }
        }
        out.push('\n');
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}

/// Display width in characters (seller messages may be Chinese; a
/// character count keeps columns close enough without a width table).
fn width(s: &str) -> usize {
    s.chars().count()
}

fn push_row(out: &mut String, cells: &[&str; 4], widths: &[usize; 4]) {
    let mut line = String::new();
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if i + 1 < cells.len() {
            line.push_str(&" ".repeat(w.saturating_sub(width(cell))));
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, pass: bool, detail: &str) -> CaseResult {
        CaseResult { name: name.into(), expected: "000000".into(), got: "000001".into(), pass, detail: detail.into() }
    }

    #[test]
    fn table_has_every_case_and_ends_with_the_summary() {
        let r = Report::new("http://x", vec![case("a", true, ""), case("bb", false, "signature mismatch")]);
        let t = r.to_table();
        assert!(t.lines().any(|l| l.starts_with("a ") && l.ends_with("PASS")));
        assert!(t.lines().any(|l| l.starts_with("bb") && l.ends_with("FAIL")));
        assert!(t.contains("FAIL bb: signature mismatch"));
        assert_eq!(t.lines().last(), Some("1 passed, 1 failed"));
        assert!(!r.all_passed());
    }

    #[test]
    fn empty_report_is_not_a_pass() {
        assert!(!Report::new("u", vec![]).all_passed());
        assert!(Report::new("u", vec![case("a", true, "")]).all_passed());
    }

    #[test]
    fn json_has_counters() {
        let v: serde_json::Value =
            serde_json::from_str(&Report::new("u", vec![case("a", true, "")]).to_json()).unwrap();
        assert_eq!(v["passed"], 1);
        assert_eq!(v["cases"][0]["name"], "a");
    }
}
