//! Photos of the case loop: the one path of every upload (the API's, the case pages', Open311's,
//! the residents'), reading them back, as uploaded or without the metadata that could tell where,
//! when and with what they were taken, and who may read them.
//!
//! A photo is read by whoever may see a case it is on (the case pages' rule,
//! [`super::can_see`]) and by the accounts that uploaded it (they sent those very bytes), and by
//! nobody else: ids are sequential, so an id alone proves nothing. A case step names only photos
//! its actor may read. A resident reads the photos of their own report through their own door.
//! The original keeps its metadata (the GPS and time are the evidence staff check); residents and
//! the public are only ever given the copy without it.

use gongzhi_core::cases::attachment::{AttachmentId, check_upload, public_copy};
use gongzhi_core::people::Actor;
use gongzhi_store::{Attachment, Saved};

use crate::{App, AppError};

/// Checks an uploaded photo (`field` names the form field in errors) and stores it, or finds the
/// same content stored before; either way `actor` may read it back. A member of staff without a
/// working role (an administrator) uploads nothing (403).
pub async fn upload(app: &App, field: &'static str, bytes: Vec<u8>, actor: &Actor) -> Result<Saved, AppError> {
    super::check_case_worker(actor)?;
    let store = app.attachments()?;
    let checked = check_upload(field, bytes, &store.limits).map_err(|e| AppError::attachment(&e))?;
    Ok(app.db().save_attachment(&store.blobs, &checked, &actor.account).await?)
}

/// A stored photo's record, whoever asks: for a door that has already decided the caller may
/// see it (a resident's own report). Its bytes are read with [`original`] or [`public`], so a
/// cached copy is answered without reading them.
pub async fn attachment(app: &App, id: AttachmentId) -> Result<Attachment, AppError> {
    app.attachments()?;
    app.db()
        .attachment(id)
        .await?
        .ok_or_else(|| AppError::unknown_attachment("id", id))
}

/// Whether `actor` may read the stored photo `id`: they uploaded it, or it is on a case they may
/// see.
pub async fn may_read(app: &App, actor: &Actor, id: AttachmentId) -> Result<bool, AppError> {
    if app.db().uploaded_by(id, &actor.account).await? {
        return Ok(true);
    }
    let cases = app.db().cases_with_attachment(id).await?;
    Ok(cases.iter().any(|c| super::can_see(actor, &c.flow)))
}

/// The photo `id` if `actor` may read it; 404 as if absent otherwise (an id says nothing about
/// a photo one may not see), 403 for a member of staff without a working role.
pub async fn readable(app: &App, actor: &Actor, id: AttachmentId) -> Result<Attachment, AppError> {
    super::check_case_worker(actor)?;
    let found = attachment(app, id).await?;
    if may_read(app, actor, id).await? {
        Ok(found)
    } else {
        Err(AppError::unknown_attachment("id", id))
    }
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
