//! `Idempotency-Key`: a client retrying a POST (after a timeout, a dropped
//! connection, a crash) gets the first answer again instead of a second
//! effect.
//!
//! An HTTP concern: a handler takes the [`Idempotency`] extractor, binds it to
//! the caller and the parsed body, and runs the use case inside
//! [`Bound::run`]; the use case only writes on the transaction it is given.
//!
//! Design (after zero-to-production's, keys stored with the saved response):
//! the key row is claimed, the operation runs and the response is stored, all
//! in **one write transaction** — so a key is never recorded without its
//! effects or the effects without the key. [`begin`] opens that transaction
//! and claims the key; the operation does its writes on [`Work::tx`];
//! [`Work::finish`] stores the status and body and commits. A failed
//! operation rolls everything back, the key included, so a retry runs it
//! again (failures are not replayed; only committed successes are).
//!
//! Concurrent duplicates wait rather than fail: on SQLite the write
//! transaction holds the database write lock from its start, so the second
//! request starts after the first commits and finds the stored response; on
//! PostgreSQL the second claim blocks on the first's uncommitted row, then
//! gets a unique violation and answers from the committed row. Only if that
//! row is somehow still unfinished does the client get 409
//! `idempotency_key_in_use`.
//!
//! Keys are scoped to the calling account, bound to a hash of (method, the
//! request's path: the matched route with its parameters, parsed body) — reusing a key for a different request is 422
//! `idempotency_key_reused` — and expire after 24 hours: an older row is
//! replaced by the next request using its key.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::state::AppState;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mercato_store::StoreError;
use mercato_store::Tx;
use mercato_store::repo::idempotency::{self as repo, StoredKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";
/// Set to `true` on a response replayed from a stored key.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");
pub const KEY_MAX: usize = 255;
/// How long a key is remembered.
pub const TTL: chrono::Duration = chrono::Duration::hours(24);

/// A well-formed key: 1-255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> AppResult<IdempotencyKey> {
        if text.is_empty() || text.len() > KEY_MAX || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::field(HEADER, format!("must be 1-{KEY_MAX} visible ASCII characters")));
        }
        Ok(IdempotencyKey(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Identifies "the same request": SHA-256 over the method, the path and the
/// parsed body re-serialized (so whitespace or key order do not matter).
fn request_hash(method: &str, path: &str, body: &impl Serialize) -> AppResult<String> {
    let body = serde_json::to_vec(body).map_err(AppError::internal)?;
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(&body);
    Ok(hex::encode(h.finalize()))
}

/// A POST that may carry an `Idempotency-Key`: the header as sent, and the
/// method and path that, with the parsed body, say what "the same request"
/// is. The key is checked when bound, after the body was extracted, so a
/// malformed body is answered first.
pub struct Idempotency {
    key: Option<HeaderValue>,
    method: Method,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |o| &o.0);
        Ok(Idempotency {
            key: parts.headers.get(HEADER).cloned(),
            method: parts.method.clone(),
            path: uri.path().into(),
        })
    }
}

impl Idempotency {
    /// Binds the request to the calling account and its parsed body (`&()`
    /// for a POST without one); 422 for a malformed key.
    pub fn bind(&self, account_id: &str, body: &impl Serialize) -> AppResult<Bound> {
        let key = match &self.key {
            None => None,
            Some(v) => {
                let text = v.to_str().map_err(|_| AppError::field(HEADER, "must be visible ASCII characters"))?;
                Some(IdempotencyKey::parse(text)?)
            }
        };
        let hash = request_hash(self.method.as_str(), &self.path, body)?;
        Ok(Bound { account_id: account_id.to_string(), key, hash })
    }
}

/// A request bound to its caller and body, ready to run once.
pub struct Bound {
    account_id: String,
    key: Option<IdempotencyKey>,
    hash: String,
}

impl Bound {
    /// The stored answer of an earlier request with this key, without
    /// claiming the key: for operations that ask a seller before their
    /// transaction, so a retry does not ask again.
    pub async fn replayed(&self, state: &AppState) -> AppResult<Option<JsonResponse>> {
        if self.key.is_none() {
            return Ok(None);
        }
        // A fresh claim's transaction is dropped at once: nothing is kept.
        match begin(state, &self.account_id, self.key.as_ref(), &self.hash).await? {
            Begun::Replay(answer) => Ok(Some(answer)),
            Begun::Fresh(_) => Ok(None),
        }
    }

    /// Runs `op` in the write transaction that claims the key, stores its
    /// view as the answer (with `status`) and commits; a repeat gets the
    /// stored answer without running `op`. A failure rolls everything back,
    /// the key included. After the commit the worker is woken: `op` may have
    /// enqueued a job that is due at once.
    pub async fn run<T: Serialize>(
        &self,
        state: &AppState,
        status: StatusCode,
        op: impl AsyncFnOnce(&Tx) -> AppResult<T>,
    ) -> AppResult<JsonResponse> {
        let work = match begin(state, &self.account_id, self.key.as_ref(), &self.hash).await? {
            Begun::Replay(answer) => return Ok(answer),
            Begun::Fresh(work) => work,
        };
        let view = op(work.tx()).await?;
        let answer = work.finish(status, &view).await?;
        crate::app::outbox::wake(state);
        Ok(answer)
    }
}

/// A JSON response that may be replayed byte for byte.
#[derive(Debug, Clone)]
pub struct JsonResponse {
    pub status: StatusCode,
    pub body: String,
    /// True when answered from a stored key.
    pub replayed: bool,
}

impl IntoResponse for JsonResponse {
    fn into_response(self) -> Response {
        let mut res = (self.status, self.body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.replayed {
            res.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        res
    }
}

/// What [`begin`] found.
enum Begun {
    /// The key was used before for this request: answer with this.
    Replay(JsonResponse),
    /// Run the operation on `tx()`, then `finish`.
    Fresh(Work),
}

/// An operation in progress: its write transaction and the claimed key.
struct Work {
    tx: Tx,
    claim: Option<(String, String)>,
}

impl Work {
    /// The transaction the operation must write in.
    fn tx(&self) -> &Tx {
        &self.tx
    }

    /// Stores the response under the key (if any) and commits everything.
    async fn finish(self, status: StatusCode, body: &impl Serialize) -> AppResult<JsonResponse> {
        let body = serde_json::to_string(body).map_err(AppError::internal)?;
        if let Some((account, key)) = &self.claim {
            repo::complete(&self.tx, account, key, status.as_u16(), &body).await?;
        }
        self.tx.commit().await?;
        Ok(JsonResponse { status, body, replayed: false })
    }
}

/// Opens the operation's write transaction and, with a key, claims it or
/// finds the stored answer (see the module documentation).
async fn begin(
    state: &AppState,
    account_id: &str,
    key: Option<&IdempotencyKey>,
    request_hash: &str,
) -> AppResult<Begun> {
    let tx = state.db.write().await?;
    let Some(key) = key else { return Ok(Begun::Fresh(Work { tx, claim: None })) };
    let now = state.now();
    if let Some(row) = repo::find(&tx, account_id, key.as_str()).await? {
        if row.created_at > now - TTL {
            tx.rollback().await?;
            return stored_answer(&row, request_hash).map(Begun::Replay);
        }
        repo::delete(&tx, account_id, key.as_str()).await?;
    }
    match repo::claim(&tx, account_id, key.as_str(), request_hash, now).await {
        Ok(()) => Ok(Begun::Fresh(Work { tx, claim: Some((account_id.to_string(), key.0.clone())) })),
        Err(StoreError::Conflict(_)) => {
            // A concurrent request with this key committed first.
            tx.rollback().await?;
            match repo::find(&state.db.conn, account_id, key.as_str()).await? {
                Some(row) => stored_answer(&row, request_hash).map(Begun::Replay),
                None => Err(in_use()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Forgets keys older than [`TTL`]; returns how many.
pub async fn purge_expired(state: &AppState) -> AppResult<u64> {
    Ok(repo::purge_before(&state.db.conn, state.now() - TTL).await?)
}

fn stored_answer(row: &StoredKey, request_hash: &str) -> AppResult<JsonResponse> {
    if row.request_hash != request_hash {
        return Err(AppError::new(
            Refusal::Unprocessable,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request; use a new key",
        ));
    }
    match (row.status_code, &row.response_body) {
        (Some(code), Some(body)) => {
            let status = u16::try_from(code)
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or_else(|| AppError::internal(format!("stored idempotency status {code} is not a status")))?;
            Ok(JsonResponse { status, body: body.clone(), replayed: true })
        }
        _ => Err(in_use()),
    }
}

fn in_use() -> AppError {
    AppError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["", "has space", "tab\t", "数据"] {
            assert_eq!(IdempotencyKey::parse(bad).unwrap_err().field_errors()[0].field, HEADER, "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn hashes_bind_method_path_and_body() {
        let a = request_hash("POST", "/x", &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(a, request_hash("POST", "/x", &serde_json::json!({"a": 1})).unwrap());
        assert_ne!(a, request_hash("POST", "/y", &serde_json::json!({"a": 1})).unwrap());
        assert_ne!(a, request_hash("PUT", "/x", &serde_json::json!({"a": 1})).unwrap());
        assert_ne!(a, request_hash("POST", "/x", &serde_json::json!({"a": 2})).unwrap());
    }
}
