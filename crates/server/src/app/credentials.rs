//! Sellers' open-API credentials: an access key id (AK, 20 upper-case
//! characters, like KooGallery's) and a secret access key (SK, 40 characters)
//! that sign the seller's calls into the marketplace (spec §6). The SK is
//! shown once and stored encrypted, since verifying a signature needs it.

use crate::app::error::{AppError, AppResult};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_store::entity::open_api_credential;
use mercato_store::repo::credentials;
use rand::Rng;
use serde::Serialize;
use utoipa::ToSchema;

/// Enough for rotation (create new, deploy, revoke old) without hoarding.
pub const MAX_ACTIVE: u64 = 5;
const SECRET_FIELD: &str = "open_api_credentials.secret";

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCredential {
    pub access_key_id: String,
    /// Shown only in this response.
    pub secret_access_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    pub access_key_id: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialList {
    pub items: Vec<CredentialView>,
}

fn random_text(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

pub async fn create(state: &AppState, p: &Principal) -> AppResult<CreatedCredential> {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let tx = state.db.write().await?;
    if credentials::count_active(&tx, &p.account_id).await? >= MAX_ACTIVE {
        return Err(AppError::conflict(
            "too_many_credentials",
            format!("a seller may hold at most {MAX_ACTIVE} active credentials; revoke one first"),
        ));
    }
    let access_key_id = random_text(UPPER, 20);
    let secret = random_text(MIXED, 40);
    let now = state.now();
    credentials::insert(
        &tx,
        open_api_credential::Model {
            access_key_id: access_key_id.clone(),
            seller_id: p.account_id.clone(),
            secret_enc: state.crypto.encrypt(SECRET_FIELD, &secret),
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedCredential { access_key_id, secret_access_key: secret, created_at: now })
}

pub async fn list(state: &AppState, p: &Principal) -> AppResult<CredentialList> {
    let rows = credentials::list(&state.db.conn, &p.account_id).await?;
    let items = rows
        .into_iter()
        .map(|r| CredentialView {
            access_key_id: r.access_key_id,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        })
        .collect();
    Ok(CredentialList { items })
}

pub async fn revoke(state: &AppState, p: &Principal, access_key_id: &str) -> AppResult<()> {
    if credentials::revoke(&state.db.conn, &p.account_id, access_key_id, state.now()).await? {
        Ok(())
    } else {
        Err(AppError::not_found("credential"))
    }
}

/// The secret of an active credential, for verifying a signed call. None when
/// the credential is unknown or revoked.
pub async fn active_secret(state: &AppState, access_key_id: &str) -> AppResult<Option<(String, String)>> {
    let Some(row) = credentials::find(&state.db.conn, access_key_id).await? else { return Ok(None) };
    if row.revoked_at.is_some() {
        return Ok(None);
    }
    let secret = state.crypto.decrypt(SECRET_FIELD, &row.secret_enc).map_err(AppError::internal)?;
    Ok(Some((row.seller_id, secret)))
}

/// Records that a signed call used the credential (its last use).
pub async fn touch(state: &AppState, access_key_id: &str) -> AppResult<()> {
    credentials::touch(&state.db.conn, access_key_id, state.now()).await?;
    Ok(())
}
