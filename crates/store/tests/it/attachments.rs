//! Attachments on both databases: files in the data folder, rows in `attachments`.

use gongzhi_core::cases::attachment::{AttachmentId, AttachmentLimits, CheckedUpload, MediaType, check_upload};
use gongzhi_store::testing::TestDb;
use gongzhi_store::{Blobs, StoreError};

const JPEG: &[u8] = include_bytes!("../../../core/tests/fixtures/exif.jpg");
const PNG: &[u8] = include_bytes!("../../../core/tests/fixtures/small.png");

fn checked(bytes: &[u8]) -> CheckedUpload {
    check_upload("file", bytes.to_vec(), &AttachmentLimits::default()).unwrap()
}

/// Every file under the attachments folder (temporary ones included), relative to it.
fn files_under(blobs: &Blobs) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(folders) = std::fs::read_dir(blobs.root()) else {
        return found;
    };
    for folder in folders {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            found.push(file.strip_prefix(blobs.root()).unwrap().display().to_string());
        }
    }
    found.sort();
    found
}

async fn count_rows(db: &TestDb) -> i64 {
    match &db.db {
        gongzhi_store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM attachments")
                .fetch_one(p)
                .await
        }
        gongzhi_store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM attachments")
                .fetch_one(p)
                .await
        }
    }
    .unwrap()
}

#[tokio::test]
async fn a_photo_is_kept_under_its_sha256_and_read_back() {
    for db in TestDb::all().await {
        let dir = TestDb::temp_dir();
        let blobs = Blobs::in_data_dir(&dir);
        let upload = checked(JPEG);
        let saved = db.save_attachment(&blobs, &upload, "gridworker").await.unwrap();
        assert!(saved.created, "{}", db.backend_name());
        let a = &saved.attachment;
        assert_eq!(a.sha256, *upload.sha256());
        assert_eq!((a.media_type, a.size), (MediaType::Jpeg, JPEG.len() as u64));
        assert_eq!((a.width, a.height), (Some(8), Some(6)));
        assert_eq!(a.created_by, "gridworker");

        let (folder, name) = a.sha256.shard();
        let path = dir.join("attachments").join(folder).join(name);
        assert_eq!(std::fs::read(&path).unwrap(), JPEG, "{}", db.backend_name());
        assert_eq!(files_under(&blobs), vec![format!("{folder}/{name}")]);

        let (meta, bytes) = db.open_attachment(&blobs, a.id).await.unwrap().unwrap();
        assert_eq!(meta, *a);
        assert_eq!(bytes, JPEG);
        assert!(
            db.open_attachment(&blobs, AttachmentId(a.id.0 + 1000))
                .await
                .unwrap()
                .is_none()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn the_same_photo_uploaded_twice_is_one_file_and_one_row() {
    for db in TestDb::all().await {
        let dir = TestDb::temp_dir();
        let blobs = Blobs::in_data_dir(&dir);
        let first = db.save_attachment(&blobs, &checked(JPEG), "gridworker").await.unwrap();
        let again = db.save_attachment(&blobs, &checked(JPEG), "community").await.unwrap();
        assert!(!again.created);
        assert_eq!(again.attachment, first.attachment, "the first uploader is kept");
        let other = db.save_attachment(&blobs, &checked(PNG), "community").await.unwrap();
        assert!(other.created);
        assert_ne!(other.attachment.id, first.attachment.id);
        assert_eq!(count_rows(&db).await, 2, "{}", db.backend_name());
        assert_eq!(
            files_under(&blobs).len(),
            2,
            "no temporary files are left: {:?}",
            files_under(&blobs)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn simultaneous_uploads_of_one_photo_agree_on_one_attachment() {
    for db in TestDb::all().await {
        let dir = TestDb::temp_dir();
        let blobs = Blobs::in_data_dir(&dir);
        let (a, b, c) = (checked(JPEG), checked(JPEG), checked(JPEG));
        let (x, y, z) = tokio::join!(
            db.save_attachment(&blobs, &a, "a"),
            db.save_attachment(&blobs, &b, "b"),
            db.save_attachment(&blobs, &c, "c"),
        );
        let (x, y, z) = (x.unwrap(), y.unwrap(), z.unwrap());
        assert_eq!([x.created, y.created, z.created].iter().filter(|c| **c).count(), 1);
        assert_eq!(x.attachment.id, y.attachment.id);
        assert_eq!(y.attachment.id, z.attachment.id);
        assert_eq!(count_rows(&db).await, 1);
        assert_eq!(files_under(&blobs).len(), 1, "{:?}", files_under(&blobs));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn a_file_changed_on_disk_is_not_served() {
    for db in TestDb::all().await {
        let dir = TestDb::temp_dir();
        let blobs = Blobs::in_data_dir(&dir);
        let saved = db.save_attachment(&blobs, &checked(JPEG), "gridworker").await.unwrap();
        let path = blobs.path_of(&saved.attachment.sha256);
        std::fs::write(&path, PNG).unwrap();
        let e = db.open_attachment(&blobs, saved.attachment.id).await.unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = db.open_attachment(&blobs, saved.attachment.id).await.unwrap_err();
        assert!(matches!(e, StoreError::Blob { .. }), "{e}");
        // Uploading the photo again restores the lost file under the same attachment.
        let again = db.save_attachment(&blobs, &checked(JPEG), "gridworker").await.unwrap();
        assert_eq!(again.attachment.id, saved.attachment.id);
        assert_eq!(
            db.open_attachment(&blobs, again.attachment.id)
                .await
                .unwrap()
                .unwrap()
                .1,
            JPEG
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[tokio::test]
async fn a_case_step_can_require_its_photos_inside_its_transaction() {
    for db in TestDb::all().await {
        let dir = TestDb::temp_dir();
        let blobs = Blobs::in_data_dir(&dir);
        let before = db
            .save_attachment(&blobs, &checked(JPEG), "handler")
            .await
            .unwrap()
            .attachment;
        let after = db
            .save_attachment(&blobs, &checked(PNG), "handler")
            .await
            .unwrap()
            .attachment;
        let mut tx = db.begin().await.unwrap();
        let found = tx.require_attachments(&[after.id, before.id]).await.unwrap();
        assert_eq!(found, vec![after.clone(), before.clone()]);
        let missing = AttachmentId(after.id.0 + 1000);
        let e = tx.require_attachments(&[before.id, missing]).await.unwrap_err();
        assert!(matches!(e, StoreError::UnknownAttachment(id) if id == missing), "{e}");
        drop(tx);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
