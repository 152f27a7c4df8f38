//! API-key authentication and role guards.
//!
//! A key looks like `mk_<lookup>_<secret>`: the lookup (16 hex) finds the row,
//! the secret (48 hex) is checked against its peppered HMAC in constant time.
//! Handlers declare their role by the extractor they take (`SellerAuth`, ...):
//! no or bad key -> 401, wrong role -> 403.

use crate::app::error::AppError;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use mercato_domain::account::Role;
use mercato_store::repo::api_keys;

pub const KEY_PREFIX: &str = "mk_";
const LOOKUP_HEX: usize = 16;
const SECRET_HEX: usize = 48;

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: String,
    pub role: Role,
    pub key_id: String,
}

/// A freshly minted key: the full text (shown once) and what is stored.
pub struct MintedKey {
    pub full: String,
    pub lookup: String,
    pub secret: String,
}

pub fn mint_key() -> MintedKey {
    let lookup = crate::crypto::random_hex(LOOKUP_HEX / 2);
    let secret = crate::crypto::random_hex(SECRET_HEX / 2);
    MintedKey { full: format!("{KEY_PREFIX}{lookup}_{secret}"), lookup, secret }
}

/// (lookup, secret) of a well-formed key.
fn split_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(lookup, LOOKUP_HEX) && hex(secret, SECRET_HEX)).then_some((lookup, secret))
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("unauthorized", "send an API key: Authorization: Bearer <key>"))?;
    let value = header.to_str().unwrap_or_default();
    // The scheme is case-insensitive (RFC 9110 section 11.1).
    let token = value
        .trim_start()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| AppError::unauthorized("unauthorized", "the Authorization header must be \"Bearer <key>\""))?;
    let invalid = || AppError::unauthorized("invalid_api_key", "the API key is not valid");
    let (lookup, secret) = split_key(token).ok_or_else(invalid)?;
    let row = api_keys::find_by_lookup(&state.db.conn, lookup).await?.ok_or_else(invalid)?;
    if !state.crypto.key_matches(secret, &row.secret_hash) {
        return Err(invalid().into());
    }
    let now = state.now();
    if row.revoked_at.is_some() {
        return Err(AppError::unauthorized("api_key_revoked", "the API key has been revoked").into());
    }
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::unauthorized("api_key_expired", "the API key has expired").into());
    }
    let account = mercato_store::repo::accounts::find(&state.db.conn, &row.account_id).await?.ok_or_else(invalid)?;
    let role = account.role;
    // Last use is kept to the minute: most requests skip the write.
    if row.last_used_at.is_none_or(|t| t < now - chrono::Duration::seconds(60))
        && let Err(e) = api_keys::touch(&state.db.conn, &row.id, now).await
    {
        tracing::warn!(error = %e, "could not record key use");
    }
    Ok(Principal { account_id: account.id, role, key_id: row.id })
}

/// Any authenticated account.
pub struct AnyAuth(pub Principal);

impl FromRequestParts<AppState> for AnyAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state).await.map(AnyAuth)
    }
}

macro_rules! role_guard {
    ($name:ident, $role:expr, $label:literal) => {
        #[doc = concat!("An authenticated ", $label, ".")]
        pub struct $name(pub Principal);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;
            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                let p = authenticate(parts, state).await?;
                if p.role != $role {
                    return Err(AppError::forbidden(concat!("this endpoint is for ", $label, " accounts")).into());
                }
                Ok($name(p))
            }
        }
    };
}

role_guard!(BuyerAuth, Role::Buyer, "buyer");
role_guard!(SellerAuth, Role::Seller, "seller");
role_guard!(OperatorAuth, Role::Operator, "operator");
role_guard!(PartnerAuth, Role::Partner, "partner");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_parse_and_malformed_ones_do_not() {
        let k = mint_key();
        assert_eq!(split_key(&k.full), Some((k.lookup.as_str(), k.secret.as_str())));
        assert!(split_key("mk_abc_def").is_none());
        assert!(split_key(&k.full.replace("mk_", "xx_")).is_none());
        assert!(split_key(&format!("{}0", k.full)).is_none());
    }
}
