//! Files attached to supervision steps (requirements documents, delivery
//! acceptance reports, appeal evidence): PDF, PNG, JPEG, zip (Office
//! documents are zip files) or UTF-8 text, the declared type agreeing with
//! the bytes, within the upload limit, at most [`PER_SUPERVISION`] per
//! supervision. Stored with the product media but private: only the
//! supervision's buyer, seller and operators read them, never `/media`.

use super::party_of;
use super::views::{AttachmentView, attachment_view, find};
use crate::app::error::{AppError, AppResult};
use crate::app::media::{read_row, unsupported, write_file};
use crate::auth::Principal;
use crate::state::AppState;
use mercato_domain::delivery::AttachmentType;
use mercato_domain::ids::MediaId;
use mercato_store::entity::media;
use mercato_store::repo::media as media_repo;
use sha2::{Digest, Sha256};

/// Files one supervision holds at most.
pub const PER_SUPERVISION: usize = 50;

fn check(content_type: Option<&str>, bytes: &[u8]) -> AppResult<AttachmentType> {
    let allowed = AttachmentType::allowed();
    let declared = content_type
        .and_then(AttachmentType::from_content_type)
        .ok_or_else(|| unsupported(format!("send the file with Content-Type one of {allowed}")))?;
    if bytes.is_empty() {
        return Err(AppError::field("body", "the file is empty"));
    }
    if !declared.matches(bytes) {
        return Err(unsupported(format!("the file is not {declared}")));
    }
    Ok(declared)
}

/// Stores an upload as an attachment of the supervision `id`.
pub async fn upload(
    state: &AppState,
    p: &Principal,
    id: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> AppResult<AttachmentView> {
    let (party, _) = party_of(p)?;
    let tx = state.db.write().await?;
    let s = find(&tx, party, id).await?;
    let kind = check(content_type, bytes)?;
    if s.status.is_final() {
        return Err(AppError::conflict("supervision_ended", format!("the supervision is {}", s.status)));
    }
    if media_repo::of_supervision(&tx, &s.id).await?.len() >= PER_SUPERVISION {
        return Err(AppError::conflict(
            "too_many_attachments",
            format!("a supervision holds at most {PER_SUPERVISION} files"),
        ));
    }
    let media_id = String::from(MediaId::new());
    let file_name = format!("{media_id}.{}", kind.extension());
    let row = media::Model {
        id: media_id,
        owner_id: p.account_id.clone(),
        product_id: None,
        content_type: kind.as_str().to_string(),
        size_bytes: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(bytes)),
        file_name: file_name.clone(),
        created_at: state.now(),
        supervision_id: Some(s.id.clone()),
    };
    let path = write_file(state.config.media_dir(), &file_name, bytes).await?;
    let stored = async {
        media_repo::insert(&tx, row.clone()).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = stored {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    Ok(attachment_view(row))
}

/// An attachment of a supervision the caller sees: its type and bytes.
pub async fn download(state: &AppState, p: &Principal, id: &str, media_id: &str) -> AppResult<(String, Vec<u8>)> {
    let (party, _) = party_of(p)?;
    let s = find(&state.db.conn, party, id).await?;
    if !MediaId::is_valid(media_id) {
        return Err(AppError::not_found("attachment"));
    }
    let row = media_repo::find(&state.db.conn, media_id)
        .await?
        .filter(|m| m.supervision_id.as_deref() == Some(&s.id))
        .ok_or_else(|| AppError::not_found("attachment"))?;
    read_row(state, row).await
}
