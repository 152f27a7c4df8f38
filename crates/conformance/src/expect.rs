//! Judging one outcome against what a conforming seller answers.

use super::report::CaseResult;
use super::wire::{explain, got};
use koo::client::CallOutcome;
use koo::{CodeClass, ResultCode};

/// A passing case.
pub(super) fn pass(name: &str, expected: &str, got: impl Into<String>, detail: impl Into<String>) -> CaseResult {
    CaseResult {
        name: name.to_owned(),
        expected: expected.to_owned(),
        got: got.into(),
        pass: true,
        detail: detail.into(),
    }
}

/// A failing case.
pub(super) fn fail(name: &str, expected: &str, got: impl Into<String>, detail: impl Into<String>) -> CaseResult {
    CaseResult {
        name: name.to_owned(),
        expected: expected.to_owned(),
        got: got.into(),
        pass: false,
        detail: detail.into(),
    }
}

/// The outcome must be exactly `code`.
pub(super) fn exact(name: &str, code: &ResultCode, outcome: &CallOutcome) -> CaseResult {
    let expected = code.as_str();
    match outcome.code() {
        Some(c) if c == code => pass(name, expected, got(outcome), ""),
        _ => fail(name, expected, got(outcome), explain(outcome)),
    }
}

/// The seller took the call on: `000000`, or `000004` (in progress).
pub(super) fn accepted(outcome: &CallOutcome) -> bool {
    matches!(outcome.code().map(ResultCode::class), Some(CodeClass::Success | CodeClass::InProgress))
}

/// Whether the seller refused to act on the call. A refusal is an answer
/// whose resultCode is neither a success (`000000`, `000004`) nor a
/// transient error (`000005`, unknown codes: the seller did not decide), or
/// an HTTP 4xx: Java sellers often let their framework answer 400 for a
/// missing query parameter before their own code runs, which the marketplace
/// also reads as a refusal. `Ok` carries a note for the report, `Err` why
/// this is not a refusal.
pub(super) fn rejection(outcome: &CallOutcome) -> Result<String, String> {
    match outcome {
        CallOutcome::Answered { code, .. } => match code.class() {
            CodeClass::Rejected | CodeClass::Refused => Ok(String::new()),
            CodeClass::Success | CodeClass::InProgress => {
                Err(format!("the seller accepted the call: {}", explain(outcome)))
            }
            CodeClass::Retryable => Err(format!("not a refusal but a transient error: {}", explain(outcome))),
        },
        CallOutcome::HttpError { status, .. } if (400..500).contains(status) => {
            Ok(format!("refused with HTTP {status} instead of a resultCode answer"))
        }
        _ => Err(explain(outcome)),
    }
}

/// Judge a case that expects a refusal.
pub(super) fn rejected(name: &str, expected: &str, outcome: &CallOutcome) -> CaseResult {
    match rejection(outcome) {
        Ok(note) => pass(name, expected, got(outcome), note),
        Err(why) => fail(name, expected, got(outcome), why),
    }
}

/// `instanceId` of an answer, when it is a non-empty string.
pub(super) fn instance_id_of(outcome: &CallOutcome) -> Option<String> {
    match outcome {
        CallOutcome::Answered { body, .. } => {
            body.get("instanceId").and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned)
        }
        _ => None,
    }
}

/// `frontEndUrl` of the instance in a queryInstance answer
/// (`info[] {instanceId, appInfo {frontEndUrl}}`), if present and non-empty.
pub(super) fn front_end_url(outcome: &CallOutcome, instance_id: &str) -> Option<String> {
    let CallOutcome::Answered { body, .. } = outcome else { return None };
    body.get("info")?
        .as_array()?
        .iter()
        .find(|i| i.get("instanceId").and_then(|v| v.as_str()) == Some(instance_id))?
        .get("appInfo")?
        .get("frontEndUrl")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answered(body: serde_json::Value) -> CallOutcome {
        let code = ResultCode::parse(body["resultCode"].as_str().unwrap_or(""));
        CallOutcome::Answered { code, body, http_status: 200, duration_ms: 1 }
    }

    #[test]
    fn refusals() {
        assert!(rejection(&answered(json!({"resultCode":"000001"}))).is_ok());
        assert!(rejection(&answered(json!({"resultCode":"000002"}))).is_ok());
        assert!(rejection(&answered(json!({"resultCode":"000000"}))).is_err());
        assert!(rejection(&answered(json!({"resultCode":"000004"}))).is_err());
        assert!(rejection(&answered(json!({"resultCode":"000005"}))).is_err());
        assert!(rejection(&CallOutcome::HttpError { status: 400, body: String::new() }).is_ok());
        assert!(rejection(&CallOutcome::HttpError { status: 500, body: String::new() }).is_err());
        assert!(rejection(&CallOutcome::Transport("refused".into())).is_err());
    }

    #[test]
    fn extracts_ids_and_urls() {
        let a = answered(json!({"resultCode":"000000","instanceId":"i-1"}));
        assert_eq!(instance_id_of(&a).as_deref(), Some("i-1"));
        assert_eq!(instance_id_of(&answered(json!({"resultCode":"000000","instanceId":""}))), None);
        let q = answered(json!({"resultCode":"000000","info":[
            {"instanceId":"other","appInfo":{"frontEndUrl":"https://o"}},
            {"instanceId":"i-1","appInfo":{"frontEndUrl":"https://i"}}]}));
        assert_eq!(front_end_url(&q, "i-1").as_deref(), Some("https://i"));
        assert_eq!(front_end_url(&q, "i-2"), None);
        let pending = answered(json!({"resultCode":"000000","info":[{"instanceId":"i-1"}]}));
        assert_eq!(front_end_url(&pending, "i-1"), None);
    }

    #[test]
    fn exact_codes() {
        assert!(exact("c", &ResultCode::Success, &answered(json!({"resultCode":"000000"}))).pass);
        let r = exact("c", &ResultCode::Success, &answered(json!({"resultCode":"000003","resultMsg":"gone"})));
        assert!(!r.pass);
        assert_eq!(r.got, "000003");
        assert!(r.detail.contains("gone"));
    }
}
