//! Request extractors that turn every malformed input into a precise problem
//! (never axum's plain-text rejections).

use crate::app::error::AppError;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use mercato_domain::validation::{FieldError, Invalid};
use serde::de::DeserializeOwned;

/// A JSON body. Wrong content type -> 415; too large -> 413; not JSON -> 400
/// `malformed_json`; JSON of the wrong shape (missing field, wrong type,
/// unknown field or enum value) -> 422 naming the field and what it accepts.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().eq_ignore_ascii_case("application/json") || v.trim().ends_with("+json"))
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads the whole body, mapping the body-limit rejection to 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
        } else {
            ApiError::from(AppError::bad_request("unreadable_body", format!("the request body could not be read: {e}")))
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first, so that "not JSON at all" and "JSON of the wrong shape" get
    // different answers.
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
    integral_floats_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = clean_serde_message(&e.inner().to_string());
        let field = if path == "." { message_field(&message).unwrap_or_else(|| "body".into()) } else { path };
        ApiError::from(AppError::field(field, message))
    })
}

/// JSON (and JSON Schema's `integer`) does not tell `10.0` from `10`; serde's
/// integer fields do. Whole numbers written with a fraction or an exponent
/// are read as the integers they are.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f >= i64::MIN as f64
                && f < i64::MAX as f64
            {
                *value = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// serde says "missing field `name`" at the parent path; name the field itself.
fn message_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

fn clean_serde_message(m: &str) -> String {
    // serde_json appends " at line X column Y", which is noise once the field is named.
    match m.find(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

/// Query-string parameters; a bad one is a 422 naming it, and so is one given
/// more than once (`?limit=1&limit=2` has no one meaning).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string into `T`: every invalid or repeated parameter is
/// named in a 422.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // Decode to a JSON object of strings first, then let serde_json coerce;
    // this yields field paths in errors.
    let mut map = serde_json::Map::new();
    let mut repeated = Vec::new();
    for (k, v) in form_urlencoded_pairs(query) {
        if map.contains_key(&k) {
            if !repeated.contains(&k) {
                repeated.push(k);
            }
            continue;
        }
        map.insert(k, serde_json::Value::String(v));
    }
    if !repeated.is_empty() {
        let errors = repeated.into_iter().map(|k| FieldError { field: k, message: "is given more than once".into() });
        return Err(ApiError::from(Invalid(errors.collect())));
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        ApiError::from(AppError::field(
            if path == "." { "query".into() } else { path },
            clean_serde_message(&e.inner().to_string()),
        ))
    })
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let pair = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match pair
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query numbers arrive as strings; these parse them for `#[serde(deserialize_with)]`.
/// A parameter given with no value (`?limit=`) is refused: leave it out to get
/// the default.
pub mod query_num {
    use serde::{Deserialize, Deserializer};

    fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(serde::de::Error::custom("must not be empty; leave the parameter out for the default"));
        }
        Ok(t.to_string())
    }

    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let t = text(d)?;
        t.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("expected an integer, got \"{t}\"")))
    }

    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let t = text(d)?;
        t.parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a non-negative integer below 2^64, got \"{t}\"")))
    }
}

/// The address of the connection's peer; None when the server runs without
/// connection info (a router driven in-process).
pub struct PeerAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(PeerAddr(info.map(|c| c.0.ip())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        n: i64,
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = parse_json::<T>(br#"{"name": 1, "n": 2}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "name");
        let e = parse_json::<T>(br#"{"name": "a"}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "n");
        let e = parse_json::<T>(br#"{"name": "a", "n": 1, "x": 0}"#).unwrap_err();
        assert!(e.errors[0].message.contains("unknown field"));
        let t = parse_json::<T>(br#"{"name": "a", "n": 2.0}"#).unwrap();
        assert_eq!(t.n, 2, "a whole number with a fraction is an integer");
        let e = parse_json::<T>(br#"{"name": "a", "n": 2.5}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "n");
        let e = parse_json::<T>(b"{nope").unwrap_err();
        assert_eq!(e.code, "malformed_json");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%E6%95%B0%E6%8D%AE%E5%BA%93"), "数据库");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
