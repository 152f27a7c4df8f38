//! Product logos and screenshots. Uploads are checked (declared type must
//! match the file's signature, size within the upload limit), stored under the
//! media directory as `<media_id>.<ext>` (written to a temporary name, then
//! renamed) and recorded with their SHA-256. Files are immutable and kept when
//! a product stops using them, since a listed version or a review may still
//! show them.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::app::products::{ensure_editable, images_of, load, save_edit};
use crate::auth::Principal;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{IMAGES_MAX, ImageType, media_url};
use mercato_domain::ids::MediaId;
use mercato_store::entity::media;
use mercato_store::repo::media as media_repo;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaView {
    pub id: String,
    /// `/media/{id}`
    pub url: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<media::Model> for MediaView {
    fn from(m: media::Model) -> Self {
        MediaView {
            url: media_url(&m.id),
            id: m.id,
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Logo,
    Image,
}

pub(crate) fn unsupported(detail: impl Into<String>) -> AppError {
    AppError::new(Refusal::UnsupportedMediaType, "unsupported_media_type", detail)
}

/// The image type of an upload, or the problem with it.
pub fn check_image(content_type: Option<&str>, bytes: &[u8]) -> AppResult<ImageType> {
    let allowed = ImageType::allowed();
    let declared = content_type
        .and_then(ImageType::from_content_type)
        .ok_or_else(|| unsupported(format!("send the image with Content-Type one of {allowed}")))?;
    if bytes.is_empty() {
        return Err(AppError::field("body", "the image is empty"));
    }
    match ImageType::sniff(bytes) {
        Some(real) if real == declared => Ok(declared),
        Some(real) => Err(unsupported(format!("the file is {real}, but was declared as {declared}"))),
        None => Err(unsupported(format!("the file is not an image of a supported type ({allowed})"))),
    }
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename, so a
/// reader never sees a half-written file.
pub(crate) async fn write_file(dir: PathBuf, name: &str, bytes: &[u8]) -> AppResult<PathBuf> {
    let tmp = dir.join(format!(".{name}.{}.tmp", crate::crypto::random_hex(4)));
    let path = dir.join(name);
    tokio::fs::create_dir_all(&dir).await.map_err(AppError::internal)?;
    if let Err(e) = tokio::fs::write(&tmp, bytes).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(AppError::internal(format!("writing {}: {e}", tmp.display())));
    }
    tokio::fs::rename(&tmp, &path).await.map_err(|e| AppError::internal(format!("renaming {}: {e}", tmp.display())))?;
    Ok(path)
}

/// Stores an uploaded logo (replacing the current one) or adds a screenshot.
pub async fn upload(
    state: &AppState,
    p: &Principal,
    product_id: &str,
    slot: Slot,
    content_type: Option<&str>,
    bytes: &[u8],
) -> AppResult<MediaView> {
    let tx = state.db.write().await?;
    let mut product = load(&tx, &p.account_id, product_id).await?;
    let kind = check_image(content_type, bytes)?;
    ensure_editable(&product)?;
    let mut images = images_of(&product)?;
    if slot == Slot::Image && images.len() >= IMAGES_MAX {
        return Err(AppError::conflict("too_many_images", format!("a product has at most {IMAGES_MAX} images")));
    }
    let id = String::from(MediaId::new());
    let file_name = format!("{id}.{}", kind.extension());
    let row = media::Model {
        id: id.clone(),
        owner_id: p.account_id.clone(),
        product_id: Some(product.id.clone()),
        content_type: kind.as_str().to_string(),
        size_bytes: bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(bytes)),
        file_name: file_name.clone(),
        created_at: state.now(),
        supervision_id: None,
    };
    let path = write_file(state.config.media_dir(), &file_name, bytes).await?;
    let result = async {
        media_repo::insert(&tx, row.clone()).await?;
        match slot {
            Slot::Logo => product.logo_media_id = Some(id.clone()),
            Slot::Image => {
                images.push(id.clone());
                product.images_json = serde_json::to_string(&images).map_err(AppError::internal)?;
            }
        }
        save_edit(&tx, state, product).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    Ok(row.into())
}

/// Removes a screenshot from the product (the file stays for versions that show it).
pub async fn remove_image(state: &AppState, p: &Principal, product_id: &str, media_id: &str) -> AppResult<()> {
    let tx = state.db.write().await?;
    let mut product = load(&tx, &p.account_id, product_id).await?;
    let mut images = images_of(&product)?;
    let Some(pos) = images.iter().position(|m| m == media_id) else {
        return Err(AppError::not_found("image"));
    };
    ensure_editable(&product)?;
    images.remove(pos);
    product.images_json = serde_json::to_string(&images).map_err(AppError::internal)?;
    save_edit(&tx, state, product).await?;
    tx.commit().await?;
    Ok(())
}

/// A public file (a product's media): its content type and bytes.
/// Supervision attachments are not public: only their parties read them.
pub async fn read(state: &AppState, media_id: &str) -> AppResult<(String, Vec<u8>)> {
    if !MediaId::is_valid(media_id) {
        return Err(AppError::not_found("media"));
    }
    let row = media_repo::find(&state.db.conn, media_id)
        .await?
        .filter(|m| m.supervision_id.is_none())
        .ok_or_else(|| AppError::not_found("media"))?;
    read_row(state, row).await
}

/// The bytes of a stored file.
pub async fn read_row(state: &AppState, row: media::Model) -> AppResult<(String, Vec<u8>)> {
    let path = state.config.media_dir().join(&row.file_name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((row.content_type, bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), "media file missing");
            Err(AppError::not_found("media"))
        }
        Err(e) => Err(AppError::internal(format!("reading {}: {e}", path.display()))),
    }
}
