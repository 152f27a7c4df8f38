//! Sign-up, operators, and API keys.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::auth::{Principal, mint_key};
use crate::passwords::{hash_password, verify_password};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::account::{self, Role};
use mercato_domain::ids::{AccountId, ApiKeyId};
use mercato_domain::login_throttle as throttle;
use mercato_domain::validation::Checker;
use mercato_store::Executor;
use mercato_store::StoreError;
use mercato_store::entity::{account as account_row, api_key};
use mercato_store::repo::{accounts, api_keys, login_throttle};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use utoipa::ToSchema;

use super::page::{Page, Paging};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// buyer, seller or partner (operators are created from the CLI).
    #[schema(value_type = SignupRole)]
    pub role: Role,
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 100
    )]
    pub name: String,
    #[schema(
        pattern = r"^[^\s@\u0000-\u001F\u007F-\u009F]+@[^\s@.\u0000-\u001F\u007F-\u009F]+(\.[^\s@.\u0000-\u001F\u007F-\u009F]+)+$",
        max_length = 254
    )]
    pub email: String,
    /// 10 to 128 characters; stored as an argon2id hash.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// The roles one may sign up for (the document's view of [`Role`]).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SignupRole {
    Buyer,
    Seller,
    Partner,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    /// The account's first API key. Shown only in this response.
    pub api_key: String,
    pub api_key_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

impl AccountView {
    fn from_row(a: account_row::Model) -> AppResult<AccountView> {
        Ok(AccountView { id: a.id, role: a.role, name: a.name, email: a.email, created_at: a.created_at })
    }
}

pub async fn sign_up(state: &AppState, req: SignupRequest) -> AppResult<SignupResponse> {
    let mut c = Checker::new();
    c.check(req.role.self_service(), "role", "must be one of buyer, seller, partner");
    if let Err(invalid) = account::check_signup(&req.name, &req.email, &req.password) {
        c.merge(invalid);
    }
    c.finish()?;
    let email = account::normalize_email(&req.email);
    let hash = hash_password(req.password).await?;
    let tx = state.db.write().await?;
    let created = create_account(state, &tx, req.role, req.name.trim(), &email, Some(&hash)).await?;
    tx.commit().await?;
    Ok(SignupResponse {
        id: created.account.id,
        role: req.role,
        name: created.account.name,
        email: created.account.email,
        api_key: created.api_key,
        api_key_id: created.api_key_id,
    })
}

pub struct CreatedAccount {
    pub account: account_row::Model,
    pub api_key: String,
    pub api_key_id: String,
}

/// Inserts an account with a first API key named "default".
pub async fn create_account(
    state: &AppState,
    db: &impl Executor,
    role: Role,
    name: &str,
    email: &str,
    password_hash: Option<&str>,
) -> AppResult<CreatedAccount> {
    let id = String::from(AccountId::new());
    let now = state.now();
    let row = accounts::insert(db, accounts::NewAccount { id: &id, role, name, email, password_hash, created_at: now })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict("email_taken", "an account with this email already exists"),
            other => other.into(),
        })?;
    let (key_id, full) = insert_key(state, db, &id, "default", None).await?;
    Ok(CreatedAccount { account: row, api_key: full, api_key_id: key_id })
}

/// Creates an operator (CLI bootstrap). Operators have no console password yet.
pub async fn create_operator(state: &AppState, name: &str, email: &str) -> AppResult<CreatedAccount> {
    let mut c = Checker::new();
    c.text("name", name, 1, account::NAME_MAX);
    c.email("email", email);
    c.finish()?;
    let tx = state.db.write().await?;
    let created =
        create_account(state, &tx, Role::Operator, name.trim(), &account::normalize_email(email), None).await?;
    tx.commit().await?;
    Ok(created)
}

async fn insert_key(
    state: &AppState,
    db: &impl Executor,
    account_id: &str,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(String, String)> {
    let minted = mint_key();
    let id = String::from(ApiKeyId::new());
    api_keys::insert(
        db,
        api_key::Model {
            id: id.clone(),
            account_id: account_id.to_string(),
            name: name.to_string(),
            lookup: minted.lookup,
            secret_hash: state.crypto.key_hash(&minted.secret),
            created_at: state.now(),
            expires_at,
            revoked_at: None,
            last_used_at: None,
        },
    )
    .await?;
    Ok((id, minted.full))
}

pub async fn me(state: &AppState, p: &Principal) -> AppResult<AccountView> {
    let row = accounts::find(&state.db.conn, &p.account_id).await?.ok_or_else(|| AppError::not_found("account"))?;
    AccountView::from_row(row)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// A label to recognise the key by, e.g. "ci".
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub name: String,
    /// Days until the key stops working (1-3650); omit for no expiry.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    /// The key. Shown only in this response.
    pub api_key: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The key's public start, to recognise it (`mk_<lookup>_…`).
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn create_key(state: &AppState, p: &Principal, req: CreateKeyRequest) -> AppResult<CreatedKey> {
    let mut c = Checker::new();
    c.text("name", &req.name, 1, account::KEY_NAME_MAX);
    if let Some(days) = req.expires_in_days {
        c.check((1..=3650).contains(&days), "expires_in_days", "must be between 1 and 3650");
    }
    c.finish()?;
    let expires_at = req.expires_in_days.map(|d| state.now() + chrono::Duration::days(d));
    let (id, full) = insert_key(state, &state.db.conn, &p.account_id, req.name.trim(), expires_at).await?;
    Ok(CreatedKey { id, name: req.name.trim().to_string(), api_key: full, expires_at })
}

pub async fn list_keys(state: &AppState, p: &Principal, paging: Paging) -> AppResult<Page<ApiKeyView>> {
    let rows = api_keys::list(&state.db.conn, &p.account_id, paging.cursor.as_deref(), paging.limit + 1).await?;
    Ok(paging.finish(
        rows,
        |r| r.id.clone(),
        |r| ApiKeyView {
            prefix: format!("{}{}_…", crate::auth::KEY_PREFIX, r.lookup),
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        },
    ))
}

pub async fn revoke_key(state: &AppState, p: &Principal, id: &str) -> AppResult<()> {
    if api_keys::revoke(&state.db.conn, &p.account_id, id, state.now()).await? {
        Ok(())
    } else {
        Err(AppError::not_found("API key"))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 254
    )]
    pub email: String,
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 128
    )]
    pub password: String,
    /// Label for the key this login creates (default "login").
    #[serde(default)]
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub key_name: Option<String>,
    /// Days until the new key expires (1-30); omitted, it lives
    /// 12 hours. Longer-lived keys are made with `POST /api/v1/keys`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 30)]
    pub expires_in_days: Option<i64>,
}

/// How long a key made by logging in lives unless asked otherwise.
pub const LOGIN_KEY_LIFE: chrono::Duration = chrono::Duration::hours(12);
/// The longest life a login may ask for its key.
pub const LOGIN_KEY_MAX_DAYS: i64 = 30;

/// Exchanges email and password for a new, short-lived API key. A wrong
/// email and a wrong password get the same answer. Failures are throttled
/// per account and per source address (`source`, when known): past the
/// limit, logins there are refused with 429 before any password is checked.
pub async fn log_in(state: &AppState, req: LoginRequest, source: Option<IpAddr>) -> AppResult<CreatedKey> {
    let mut c = Checker::new();
    c.text("email", &req.email, 1, 254);
    c.text("password", &req.password, 1, account::PASSWORD_MAX);
    if let Some(name) = &req.key_name {
        c.text("key_name", name, 1, account::KEY_NAME_MAX);
    }
    if let Some(days) = req.expires_in_days {
        c.check(
            (1..=LOGIN_KEY_MAX_DAYS).contains(&days),
            "expires_in_days",
            format!("must be between 1 and {LOGIN_KEY_MAX_DAYS}"),
        );
    }
    c.finish()?;
    let email = account::normalize_email(&req.email);
    let mut scopes = vec![(throttle::account_scope(&email), throttle::PER_ACCOUNT)];
    if let Some(ip) = source {
        scopes.push((throttle::source_scope(ip), throttle::PER_SOURCE));
    }
    let names: Vec<String> = scopes.iter().map(|(s, _)| s.clone()).collect();
    let now = state.real_now();
    let stored = login_throttle::find(&state.db.conn, &names).await?;
    if let Some(wait) = stored.iter().filter_map(|(_, f)| f.locked_for(now)).max() {
        return Err(AppError::new(
            Refusal::TooManyRequests { retry_after_secs: throttle::retry_after_secs(wait) },
            "too_many_attempts",
            "too many failed logins; wait before trying again (see Retry-After)",
        ));
    }
    let found = accounts::find_by_email(&state.db.conn, &email).await?;
    let hash = found.as_ref().and_then(|a| a.password_hash.clone());
    let ok = verify_password(req.password, hash).await?;
    let account = match (ok, found) {
        (true, Some(a)) => a,
        _ => {
            for (scope, rule) in &scopes {
                count_failure(state, scope, *rule).await?;
            }
            return Err(AppError::unauthorized("invalid_credentials", "the email or password is wrong"));
        }
    };
    login_throttle::clear(&state.db.conn, &names[0]).await?;
    let name = req.key_name.as_deref().map(str::trim).unwrap_or("login").to_string();
    let life = req.expires_in_days.map_or(LOGIN_KEY_LIFE, chrono::Duration::days);
    let expires_at = Some(state.now() + life);
    let (id, full) = insert_key(state, &state.db.conn, &account.id, &name, expires_at).await?;
    Ok(CreatedKey { id, name, api_key: full, expires_at })
}

/// The periodic task that forgets failed-login counts nobody needs any more.
pub const PURGE_LOGIN_FAILURES: &str = "purge_login_failures";

/// Forgets counts whose window and lock ended a day ago.
pub async fn purge_login_failures(state: &AppState) -> AppResult<u64> {
    let before = state.real_now() - chrono::Duration::days(1);
    Ok(login_throttle::purge(&state.db.conn, before).await?)
}

/// Counts one failed login in `scope`; retried when another node counted
/// one at the same moment, so each failure counts once.
async fn count_failure(state: &AppState, scope: &str, rule: throttle::Rule) -> AppResult<()> {
    for _ in 0..8 {
        let now = state.real_now();
        let previous = login_throttle::find(&state.db.conn, &[scope.to_string()]).await?.pop().map(|(_, f)| f);
        let next = throttle::Failures::after_failure(previous, rule, now);
        if login_throttle::replace(&state.db.conn, scope, previous, next).await? {
            return Ok(());
        }
    }
    Err(AppError::internal(format!("could not count a failed login for {scope}: too much contention")))
}
