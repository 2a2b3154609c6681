//! Photos of the case loop: the one path of every upload (the API's, the case pages', Open311's),
//! and reading them back, as uploaded or without the metadata that could tell where, when and with
//! what they were taken.

use gongzhi_core::cases::attachment::{AttachmentId, check_upload, public_copy};
use gongzhi_store::{Attachment, Saved};

use crate::{App, AppError};

/// Checks an uploaded photo (`field` names the form field in errors) and stores it, or finds the
/// same content stored before.
pub async fn upload(app: &App, field: &'static str, bytes: Vec<u8>, who: &str) -> Result<Saved, AppError> {
    let store = app.attachments()?;
    let checked = check_upload(field, bytes, &store.limits).map_err(|e| AppError::attachment(&e))?;
    Ok(app.db().save_attachment(&store.blobs, &checked, who).await?)
}

/// A stored photo's record (its bytes are read with [`original`] or [`public`], so a cached copy
/// is answered without reading them).
pub async fn attachment(app: &App, id: AttachmentId) -> Result<Attachment, AppError> {
    app.attachments()?;
    app.db()
        .attachment(id)
        .await?
        .ok_or_else(|| AppError::unknown_attachment("id", id))
}

/// The photo as uploaded (with its EXIF: the evidence of where and when it was taken).
pub async fn original(app: &App, attachment: &Attachment) -> Result<Vec<u8>, AppError> {
    Ok(app.attachments()?.blobs.get(&attachment.sha256).await?)
}

/// The photo without its metadata, for residents' eyes.
pub async fn public(app: &App, attachment: &Attachment) -> Result<Vec<u8>, AppError> {
    let bytes = original(app, attachment).await?;
    // Every stored photo was walked through the same copy at upload, so this cannot fail
    // unless the file changed, which reading it has already ruled out.
    public_copy(attachment.media_type, &bytes).map_err(|e| AppError::internal(&e))
}
