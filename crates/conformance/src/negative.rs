//! Negative cases: requests a correct marketplace never sends, which a
//! seller must refuse without acting on them. Each uses a newInstance for an
//! order of its own, so a seller that wrongly accepts one only creates a
//! test instance and the lifecycle cases are not disturbed.

use super::cases::Run;
use super::expect::{self, fail, pass};
use super::wire::{self, Signing, got};
use super::{CaseId, CaseResult};
use koo::ResultCode;
use serde_json::Value;

/// How old the stale case's timestamp is; the verifier window is 60 s.
const STALE_BY_MS: i64 = 10 * 60 * 1000;

impl Run<'_> {
    pub(super) async fn negative_case(&mut self, case: CaseId) -> CaseResult {
        match case {
            CaseId::BadSignature => self.bad_signature().await,
            CaseId::StaleTimestamp => self.stale_timestamp().await,
            CaseId::MissingNonce => self.missing_nonce().await,
            CaseId::ReplayedNonce => self.replayed_nonce().await,
            _ => self.missing_field().await,
        }
    }

    /// A newInstance for the order `<run order>-<suffix>`.
    fn own_order_body(&self, suffix: &str) -> Value {
        let order = format!("{}{suffix}", self.order_id());
        let business_id = uuid::Uuid::new_v4().to_string();
        Self::body(
            "newInstance",
            &[("orderId", &order), ("orderLineId", &format!("{order}-000001")), ("businessId", &business_id)],
        )
    }

    async fn bad_signature(&mut self) -> CaseResult {
        // Well-formed (64 hex) but made with another key.
        let mut wrong_key = self.config.key.clone();
        wrong_key.extend_from_slice(b"-not-the-key");
        let signing = Signing::fresh(&wrong_key, Self::now_ms());
        let outcome = self.basic_signed(&self.own_order_body("S"), &signing).await;
        expect::exact(CaseId::BadSignature.name(), &ResultCode::AuthFailed, &outcome)
    }

    async fn stale_timestamp(&mut self) -> CaseResult {
        let signing = Signing::fresh(&self.config.key, Self::now_ms() - STALE_BY_MS);
        let outcome = self.basic_signed(&self.own_order_body("T"), &signing).await;
        let mut result = expect::rejected(CaseId::StaleTimestamp.name(), "rejected (000001)", &outcome);
        if !result.pass {
            result.detail = format!("a correctly signed call 10 minutes old: {}", result.detail);
        }
        result
    }

    async fn missing_nonce(&mut self) -> CaseResult {
        let signing = Signing { nonce: None, ..Signing::fresh(&self.config.key, Self::now_ms()) };
        let outcome = self.basic_signed(&self.own_order_body("N"), &signing).await;
        expect::rejected(CaseId::MissingNonce.name(), "rejected (000002)", &outcome)
    }

    /// The very same request (URL, nonce, signature, body) twice: the first
    /// must be accepted, or replay protection cannot be judged; the second
    /// must be refused.
    async fn replayed_nonce(&mut self) -> CaseResult {
        const EXPECTED: &str = "2nd rejected (000001)";
        let name = CaseId::ReplayedNonce.name();
        let request = match wire::basic_request(
            &self.config.url,
            &self.own_order_body("P"),
            &Signing::fresh(&self.config.key, Self::now_ms()),
        ) {
            Ok(r) => r,
            Err(e) => return fail(name, EXPECTED, "not run", format!("cannot build the request: {e}")),
        };
        let first = self.send(request.clone()).await;
        if !expect::accepted(&first) {
            return fail(
                name,
                EXPECTED,
                format!("{} (1st)", got(&first)),
                format!("the first, genuine copy was not accepted: {}", wire::explain(&first)),
            );
        }
        let second = self.send(request).await;
        let got = format!("{} then {}", got(&first), got(&second));
        match expect::rejection(&second) {
            Ok(note) => pass(name, EXPECTED, got, note),
            Err(why) => fail(name, EXPECTED, got, format!("the replayed copy (same nonce) was not refused: {why}")),
        }
    }

    async fn missing_field(&mut self) -> CaseResult {
        let mut body = self.own_order_body("F");
        if let Value::Object(map) = &mut body {
            map.remove("orderLineId");
        }
        let outcome = self.basic(&body).await;
        expect::exact(CaseId::MissingField.name(), &ResultCode::InvalidParam, &outcome)
    }
}
