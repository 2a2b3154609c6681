//! Attachments (附件): the photos that go with a report, its handling (before and after) and the
//! check. An upload is judged by its content, never by its name or the type the client claims:
//! only JPEG, PNG and WebP are accepted, up to a configured size, and each file is addressed by
//! the SHA-256 of its bytes, so the same photo stored twice is one file.
//!
//! Public copies (shown to residents) leave out the metadata a phone writes into a photo, which
//! can hold the exact place and time it was taken and the device: [`public_copy`].

use crate::ErrorCode;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::i18n::{Lang, Localized};

/// The image types the platform accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Jpeg, MediaType::Png, MediaType::Webp];

    /// The MIME type, as stored and as sent in `Content-Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
            MediaType::Webp => "webp",
        }
    }

    /// The type of `bytes` by its signature (magic bytes), if it is one of ours.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaType::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(MediaType::Webp)
        } else {
            None
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a supported media type: {0:?}")]
pub struct BadMediaType(pub String);

impl FromStr for MediaType {
    type Err = BadMediaType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaType::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| BadMediaType(s.to_string()))
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What some common refused uploads are, to tell the user more than "unsupported".
fn describe_other(bytes: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, sig: &[u8]| bytes.get(offset..offset + sig.len()) == Some(sig);
    if at(4, b"ftyphei") || at(4, b"ftypheix") || at(4, b"ftypmif1") || at(4, b"ftypmsf1") || at(4, b"ftyphev") {
        Some("HEIC")
    } else if at(0, b"GIF8") {
        Some("GIF")
    } else if at(0, b"%PDF") {
        Some("PDF")
    } else if at(0, b"BM") {
        Some("BMP")
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Some("TIFF")
    } else {
        None
    }
}

/// The SHA-256 of a file's bytes, as 64 lowercase hexadecimal digits: its content address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a content address is 64 lowercase hexadecimal digits; got {0:?}")]
pub struct BadContentAddress(pub String);

impl ContentAddress {
    pub fn of(bytes: &[u8]) -> ContentAddress {
        let digest = Sha256::digest(bytes);
        ContentAddress(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn parse(s: &str) -> Result<ContentAddress, BadContentAddress> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(ContentAddress(s.to_string()))
        } else {
            Err(BadContentAddress(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder (first two digits) and file name (the other 62) under which the file is kept,
    /// so that no folder holds more than a 256th of the files.
    pub fn shard(&self) -> (&str, &str) {
        self.0.split_at(2)
    }
}

impl fmt::Display for ContentAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ContentAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An attachment's number, as the API and the case steps refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentId(pub i64);

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("an attachment id is a positive whole number; got {0:?}")]
pub struct BadAttachmentId(pub String);

impl Localized for BadAttachmentId {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidAttachmentId
    }
    fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Zh => format!("附件编号应为正整数，实际为 {:?}", self.0),
            Lang::En => self.to_string(),
        }
    }
}

impl FromStr for AttachmentId {
    type Err = BadAttachmentId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<i64>() {
            Ok(n) if n > 0 && !s.starts_with('+') => Ok(AttachmentId(n)),
            _ => Err(BadAttachmentId(s.to_string())),
        }
    }
}

/// The step of a case a photo documents (the reference systems' "影像证明": photos at the
/// report, before and after handling, and at the check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStage {
    /// Taken by whoever reported the case.
    Report,
    /// Taken by the handler on arrival, before handling.
    Before,
    /// Taken by the handler when reporting back.
    After,
    /// Taken at the check (核查) by the grid worker or the reporter.
    Check,
}

impl PhotoStage {
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoStage::Report => "report",
            PhotoStage::Before => "before",
            PhotoStage::After => "after",
            PhotoStage::Check => "check",
        }
    }
}

/// How large an upload may be, in bytes and in pixels. The limits come from configuration
/// (`attachment_max_bytes`, `attachment_max_side`, `attachment_max_pixels`). The pixels matter
/// because a file of a few kilobytes can declare 20000×20000 pixels (1.6 GB once decoded by
/// whatever shows or copies it); its header says so before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_bytes: u64,
    /// The longest side, in pixels.
    pub max_side: u32,
    /// Width × height.
    pub max_pixels: u64,
}

impl AttachmentLimits {
    pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
    /// Phone cameras stay under 9000 px a side (a 200 Mpx sensor writes 16320 × 12240 only in
    /// its special mode); scans of A3 sheets at 300 dpi are 4960 px.
    pub const DEFAULT_MAX_SIDE: u32 = 12_000;
    /// 50 Mpx: every usual phone photo (12–50 Mpx).
    pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;

    /// The default limits with `max_bytes`.
    pub fn with_max_bytes(max_bytes: u64) -> AttachmentLimits {
        AttachmentLimits {
            max_bytes,
            ..AttachmentLimits::default()
        }
    }
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_side: Self::DEFAULT_MAX_SIDE,
            max_pixels: Self::DEFAULT_MAX_PIXELS,
        }
    }
}

/// Why an upload is refused. `field` names the form field it came in.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttachmentError {
    #[error("{field}: the file is empty")]
    Empty { field: &'static str },
    #[error("{field}: the file is larger than the limit of {}", megabytes(*max))]
    TooLarge { field: &'static str, max: u64 },
    #[error("{field}: only JPEG, PNG and WebP images are accepted; this file is {}", found.unwrap_or("of another type"))]
    Unsupported {
        field: &'static str,
        found: Option<&'static str>,
    },
    #[error("{field}: the file starts like a {media_type} image but its structure is damaged")]
    Damaged { field: &'static str, media_type: MediaType },
    #[error(
        "{field}: the image is {width} × {height} pixels; at most {max_side} pixels a side and {} million pixels are accepted",
        max_pixels / 1_000_000
    )]
    TooManyPixels {
        field: &'static str,
        width: u32,
        height: u32,
        max_side: u32,
        max_pixels: u64,
    },
}

/// `10485760` → `10 MB`, `1572864` → `1.5 MB` (binary megabytes, as file managers count).
fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    let text = format!("{mb:.1}");
    format!("{} MB", text.strip_suffix(".0").unwrap_or(&text))
}

impl AttachmentError {
    pub fn field(&self) -> &'static str {
        match self {
            AttachmentError::Empty { field }
            | AttachmentError::TooLarge { field, .. }
            | AttachmentError::Unsupported { field, .. }
            | AttachmentError::Damaged { field, .. }
            | AttachmentError::TooManyPixels { field, .. } => field,
        }
    }
}

impl Localized for AttachmentError {
    fn code(&self) -> ErrorCode {
        match self {
            AttachmentError::Empty { .. } => ErrorCode::EmptyFile,
            AttachmentError::TooLarge { .. } => ErrorCode::FileTooLarge,
            AttachmentError::Unsupported { .. } => ErrorCode::UnsupportedMediaType,
            AttachmentError::Damaged { .. } => ErrorCode::DamagedImage,
            AttachmentError::TooManyPixels { .. } => ErrorCode::ImageTooLarge,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (AttachmentError::Empty { field }, Lang::Zh) => format!("{field}：文件为空"),
            (AttachmentError::TooLarge { field, max }, Lang::Zh) => {
                format!("{field}：文件超过大小上限 {}", megabytes(*max))
            }
            (
                AttachmentError::Unsupported {
                    field,
                    found: Some("HEIC"),
                },
                Lang::Zh,
            ) => format!(
                "{field}：不接受 HEIC 格式照片，只接受 JPEG、PNG、WebP 图片（可在手机相机设置中选择“兼容性最佳”）"
            ),
            (AttachmentError::Unsupported { field, found }, Lang::Zh) => match found {
                Some(kind) => format!("{field}：只接受 JPEG、PNG、WebP 图片，该文件是 {kind}"),
                None => format!("{field}：只接受 JPEG、PNG、WebP 图片，该文件不是其中任何一种"),
            },
            (AttachmentError::Damaged { field, media_type }, Lang::Zh) => {
                format!("{field}：文件开头是 {media_type} 图片，但内容已损坏")
            }
            (
                AttachmentError::TooManyPixels {
                    field,
                    width,
                    height,
                    max_side,
                    max_pixels,
                },
                Lang::Zh,
            ) => format!(
                "{field}：图片为 {width} × {height} 像素，每边最多 {max_side} 像素、总计最多 {} 万像素",
                max_pixels / 10_000
            ),
            (
                AttachmentError::Unsupported {
                    field,
                    found: Some("HEIC"),
                },
                Lang::En,
            ) => format!(
                "{field}: HEIC photos are not accepted, only JPEG, PNG and WebP (set the phone camera to \"Most Compatible\")"
            ),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// An upload that passed [`check_upload`]: its bytes with what was learnt from them. Only
/// `check_upload` makes one, so the store can only keep checked files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    media_type: MediaType,
    sha256: ContentAddress,
    width: u32,
    height: u32,
    bytes: Vec<u8>,
}

impl CheckedUpload {
    pub fn media_type(&self) -> MediaType {
        self.media_type
    }
    pub fn sha256(&self) -> &ContentAddress {
        &self.sha256
    }
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Checks an upload that came in form field `field`: not empty, within the limit, a JPEG, PNG
/// or WebP by its content, with a readable header (the dimensions are read from it without
/// decoding the image).
pub fn check_upload(
    field: &'static str,
    bytes: Vec<u8>,
    limits: &AttachmentLimits,
) -> Result<CheckedUpload, AttachmentError> {
    if bytes.is_empty() {
        return Err(AttachmentError::Empty { field });
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(AttachmentError::TooLarge {
            field,
            max: limits.max_bytes,
        });
    }
    let media_type = MediaType::sniff(&bytes).ok_or(AttachmentError::Unsupported {
        field,
        found: describe_other(&bytes),
    })?;
    let damaged = AttachmentError::Damaged { field, media_type };
    // The file must also walk as its format (JPEG markers, PNG and WebP chunks): this refuses
    // files that only borrow the first bytes of an image, and makes sure a public copy can be
    // made of every stored photo.
    public_copy(media_type, &bytes).map_err(|_| damaged.clone())?;
    let size = imagesize::blob_size(&bytes).map_err(|_| damaged.clone())?;
    let (width, height) = match (u32::try_from(size.width), u32::try_from(size.height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
        _ => return Err(damaged),
    };
    if width.max(height) > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(AttachmentError::TooManyPixels {
            field,
            width,
            height,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(CheckedUpload {
        media_type,
        sha256: ContentAddress::of(&bytes),
        width,
        height,
        bytes,
    })
}

/// The structure of a file could not be followed while copying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the {0} structure is damaged")]
pub struct Malformed(pub MediaType);

/// A JPEG segment before the image data: its marker and its byte range (marker included).
struct Segment {
    marker: u8,
    range: std::ops::Range<usize>,
}

/// Walks a JPEG's marker segments up to the start of the image data (SOS). Returns the segments
/// and where the rest (scan data, later tables, EOI) begins. A file that ends (EOI) before any
/// image data holds no picture (only metadata, or tables) and is damaged.
fn jpeg_segments(bytes: &[u8]) -> Result<(Vec<Segment>, usize), Malformed> {
    let bad = Malformed(MediaType::Jpeg);
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(bad);
    }
    let mut segments = Vec::new();
    let mut pos = 2;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return Err(bad);
        }
        let start = pos;
        // Any number of 0xFF fill bytes may precede a marker.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or(bad)?;
        pos += 1;
        match marker {
            // SOS: what follows is image data; it is kept as it is.
            0xDA => return Ok((segments, start)),
            0xD9 => return Err(bad),
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => segments.push(Segment {
                marker,
                range: start..pos,
            }),
            _ => {
                let len = bytes.get(pos..pos + 2).ok_or(bad)?;
                let len = u16::from_be_bytes([len[0], len[1]]) as usize;
                if len < 2 || pos + len > bytes.len() {
                    return Err(bad);
                }
                pos += len;
                segments.push(Segment {
                    marker,
                    range: start..pos,
                });
            }
        }
    }
}

/// A JPEG without its metadata segments: APP1 (EXIF, with GPS position, time and camera; XMP),
/// APP13 (IPTC) and comments. The image data is copied byte for byte, not decoded. Colour
/// profiles (APP2) and the JFIF and Adobe headers stay, so the picture looks the same, except
/// that a rotation recorded only in EXIF is lost with it.
pub fn strip_exif(jpeg: &[u8]) -> Result<Vec<u8>, Malformed> {
    let (segments, data_start) = jpeg_segments(jpeg)?;
    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&jpeg[..2]);
    for s in segments {
        if !matches!(s.marker, 0xE1 | 0xED | 0xFE) {
            out.extend_from_slice(&jpeg[s.range]);
        }
    }
    out.extend_from_slice(&jpeg[data_start..]);
    Ok(out)
}

/// A PNG without its metadata chunks: eXIf and the text chunks (tEXt, zTXt, iTXt) and tIME.
/// A PNG without image data (IDAT) is damaged.
fn strip_png(png: &[u8]) -> Result<Vec<u8>, Malformed> {
    let bad = Malformed(MediaType::Png);
    let mut out = Vec::with_capacity(png.len());
    out.extend_from_slice(png.get(..8).ok_or(bad)?);
    let mut pos = 8;
    let mut pictured = false;
    while pos < png.len() {
        let header = png.get(pos..pos + 8).ok_or(bad)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = pos.checked_add(12 + len).filter(|&e| e <= png.len()).ok_or(bad)?;
        pictured |= &header[4..8] == b"IDAT";
        if !matches!(&header[4..8], b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&png[pos..end]);
        }
        pos = end;
    }
    if !pictured {
        return Err(bad);
    }
    Ok(out)
}

/// A WebP without its EXIF and XMP chunks (and with the extended header's flags saying so). A
/// WebP without image data (a `VP8 `, `VP8L` or animation frame chunk) is damaged: its extended
/// header gives it dimensions, but its only content would be the metadata this removes.
fn strip_webp(webp: &[u8]) -> Result<Vec<u8>, Malformed> {
    let bad = Malformed(MediaType::Webp);
    if webp.len() < 12 {
        return Err(bad);
    }
    let mut out = Vec::with_capacity(webp.len());
    out.extend_from_slice(&webp[..12]);
    let mut pos = 12;
    let mut pictured = false;
    while pos < webp.len() {
        let header = webp.get(pos..pos + 8).ok_or(bad)?;
        pictured |= matches!(&header[0..4], b"VP8 " | b"VP8L" | b"ANMF");
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if pos + 8 + len > webp.len() {
            return Err(bad);
        }
        // Chunks are padded to an even length (some writers omit the last pad byte).
        let end = (pos + 8 + len + (len & 1)).min(webp.len());
        match &header[0..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let at = out.len();
                out.extend_from_slice(&webp[pos..end]);
                // Flags: bit 3 says an EXIF chunk follows, bit 2 an XMP chunk.
                if let Some(flags) = out.get_mut(at + 8) {
                    *flags &= !(0x08 | 0x04);
                }
            }
            _ => out.extend_from_slice(&webp[pos..end]),
        }
        pos = end;
    }
    if !pictured {
        return Err(bad);
    }
    let riff_size = u32::try_from(out.len() - 8).map_err(|_| bad)?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Ok(out)
}

/// The copy of a stored image that may be shown to the public: the same picture without the
/// metadata that could say where, when and with what it was taken.
pub fn public_copy(media_type: MediaType, bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    match media_type {
        MediaType::Jpeg => strip_exif(bytes),
        MediaType::Png => strip_png(bytes),
        MediaType::Webp => strip_webp(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXIF_JPG: &[u8] = include_bytes!("../../tests/fixtures/exif.jpg");
    const PLAIN_JPG: &[u8] = include_bytes!("../../tests/fixtures/plain.jpg");
    const PNG: &[u8] = include_bytes!("../../tests/fixtures/small.png");
    const EXIF_PNG: &[u8] = include_bytes!("../../tests/fixtures/exif.png");
    const WEBP: &[u8] = include_bytes!("../../tests/fixtures/small.webp");
    const EXIF_WEBP: &[u8] = include_bytes!("../../tests/fixtures/exif.webp");
    const LOSSLESS_WEBP: &[u8] = include_bytes!("../../tests/fixtures/lossless.webp");
    const ALPHA_WEBP: &[u8] = include_bytes!("../../tests/fixtures/alpha.webp");
    const TEXT: &[u8] = include_bytes!("../../tests/fixtures/not-a-photo.jpg");
    /// 48 KB that declare 20000 × 20000 pixels (a valid, all-black 1-bit PNG: 400 Mpx decoded).
    const HUGE_PNG: &[u8] = include_bytes!("../../tests/fixtures/huge.png");

    fn check(bytes: &[u8]) -> Result<CheckedUpload, AttachmentError> {
        check_upload("file", bytes.to_vec(), &AttachmentLimits::default())
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn photos_are_recognised_by_content_with_their_dimensions() {
        for (bytes, media_type, w, h) in [
            (EXIF_JPG, MediaType::Jpeg, 8, 6),
            (PNG, MediaType::Png, 8, 6),
            (WEBP, MediaType::Webp, 8, 6),
            (LOSSLESS_WEBP, MediaType::Webp, 8, 6),
            (ALPHA_WEBP, MediaType::Webp, 5, 7),
        ] {
            let u = check(bytes).unwrap();
            assert_eq!((u.media_type(), u.width(), u.height()), (media_type, w, h));
            assert_eq!(u.size(), bytes.len() as u64);
        }
    }

    #[test]
    fn an_image_with_too_many_pixels_is_refused_from_its_header_naming_the_field() {
        let e = check(HUGE_PNG).unwrap_err();
        assert_eq!(
            e,
            AttachmentError::TooManyPixels {
                field: "file",
                width: 20_000,
                height: 20_000,
                max_side: 12_000,
                max_pixels: 50_000_000
            }
        );
        assert_eq!((e.code(), e.code().status()), (ErrorCode::ImageTooLarge, 413));
        assert_eq!(
            e.message(Lang::Zh),
            "file：图片为 20000 × 20000 像素，每边最多 12000 像素、总计最多 5000 万像素"
        );
        assert!(
            e.message(Lang::En)
                .starts_with("file: the image is 20000 × 20000 pixels")
        );

        // Each limit on its own, as configured: the side, then the area (an 8 × 6 photo).
        let limits = |max_side, max_pixels| AttachmentLimits {
            max_side,
            max_pixels,
            ..AttachmentLimits::default()
        };
        for (max_side, max_pixels, ok) in [(8, 48, true), (7, 48, false), (8, 47, false)] {
            let r = check_upload("photos", PNG.to_vec(), &limits(max_side, max_pixels));
            assert_eq!(r.is_ok(), ok, "{max_side} px a side, {max_pixels} px: {r:?}");
        }
    }

    #[test]
    fn a_text_file_named_like_a_photo_is_refused_naming_the_field() {
        let e = check(TEXT).unwrap_err();
        assert_eq!(
            e,
            AttachmentError::Unsupported {
                field: "file",
                found: None
            }
        );
        assert_eq!(e.code(), "unsupported_media_type");
        assert!(e.message(Lang::Zh).starts_with("file："), "{}", e.message(Lang::Zh));
        assert!(e.message(Lang::En).contains("JPEG, PNG and WebP"));
    }

    #[test]
    fn other_image_kinds_are_named_in_the_refusal() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let e = check(heic).unwrap_err();
        assert_eq!(
            e,
            AttachmentError::Unsupported {
                field: "file",
                found: Some("HEIC")
            }
        );
        assert!(e.message(Lang::Zh).contains("HEIC"));
        assert!(matches!(
            check(b"GIF89a\x01\0\x01\0").unwrap_err(),
            AttachmentError::Unsupported { found: Some("GIF"), .. }
        ));
    }

    #[test]
    fn a_file_that_only_starts_like_a_jpeg_is_damaged() {
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        fake.extend_from_slice(b"<?php system($_GET['c']); ?>");
        let e = check(&fake).unwrap_err();
        assert_eq!(
            e,
            AttachmentError::Damaged {
                field: "file",
                media_type: MediaType::Jpeg
            }
        );
        // Real photos cut short are damaged too, even when their size could still be read.
        for cut in [&PNG[..PNG.len() - 20], &WEBP[..WEBP.len() - 10], &EXIF_JPG[..300]] {
            assert!(matches!(check(cut).unwrap_err(), AttachmentError::Damaged { .. }));
        }
        assert!(matches!(
            check(&PNG[..20]).unwrap_err(),
            AttachmentError::Damaged { .. }
        ));
    }

    #[test]
    fn empty_and_oversize_files_are_refused() {
        assert_eq!(check(b"").unwrap_err(), AttachmentError::Empty { field: "file" });
        let limits = AttachmentLimits::with_max_bytes(100);
        let e = check_upload("photo", EXIF_JPG.to_vec(), &limits).unwrap_err();
        assert_eq!(
            e,
            AttachmentError::TooLarge {
                field: "photo",
                max: 100
            }
        );
        assert_eq!(AttachmentLimits::default().max_bytes, 10 * 1024 * 1024);
        let big = AttachmentError::TooLarge {
            field: "file",
            max: AttachmentLimits::DEFAULT_MAX_BYTES,
        };
        assert_eq!(big.message(Lang::Zh), "file：文件超过大小上限 10 MB");
        let odd = AttachmentError::TooLarge {
            field: "file",
            max: 1_572_864,
        };
        assert!(odd.message(Lang::En).ends_with("1.5 MB"));
    }

    #[test]
    fn the_content_address_is_the_sha256_in_hex() {
        // FIPS 180-2 test vector for "abc".
        let a = ContentAddress::of(b"abc");
        assert_eq!(
            a.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            a.shard(),
            ("ba", "7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(ContentAddress::parse(a.as_str()), Ok(a));
        assert!(ContentAddress::parse("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD").is_err());
        assert!(ContentAddress::parse("../etc/passwd").is_err());
    }

    #[test]
    fn attachment_ids_are_positive_numbers() {
        assert_eq!("42".parse::<AttachmentId>(), Ok(AttachmentId(42)));
        for bad in ["0", "-1", "+3", "abc", "", "1.5"] {
            assert!(bad.parse::<AttachmentId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn media_types_round_trip_as_mime_types() {
        for m in MediaType::ALL {
            assert_eq!(m.as_str().parse::<MediaType>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.as_str()));
        }
        assert!("image/gif".parse::<MediaType>().is_err());
    }

    #[test]
    fn strip_exif_removes_position_camera_and_comment_but_keeps_the_picture() {
        assert!(contains(EXIF_JPG, b"Exif\0\0"));
        assert!(contains(EXIF_JPG, b"GongzhiTestCam"));
        assert!(contains(EXIF_JPG, b"GPSLatitude"));
        assert!(contains(EXIF_JPG, b"secret comment"));
        let clean = strip_exif(EXIF_JPG).unwrap();
        assert!(!contains(&clean, b"Exif\0\0"));
        assert!(!contains(&clean, b"GongzhiTestCam"));
        assert!(!contains(&clean, b"GPSLatitude"));
        assert!(!contains(&clean, b"secret comment"));
        // Same encoder settings without metadata: the stripped file is exactly the plain one.
        assert_eq!(clean, PLAIN_JPG);
        let again = check(&clean).unwrap();
        assert_eq!((again.width(), again.height()), (8, 6));
        // Nothing to strip: unchanged.
        assert_eq!(strip_exif(PLAIN_JPG).unwrap(), PLAIN_JPG);
        assert!(strip_exif(&EXIF_JPG[..30]).is_err());
    }

    #[test]
    fn public_copies_of_png_and_webp_lose_their_metadata_too() {
        for (bytes, media_type) in [(EXIF_PNG, MediaType::Png), (EXIF_WEBP, MediaType::Webp)] {
            assert!(contains(bytes, b"GongzhiTestCam"));
            let clean = public_copy(media_type, bytes).unwrap();
            assert!(!contains(&clean, b"GongzhiTestCam"), "{media_type}");
            assert!(!contains(&clean, b"secret"), "{media_type}");
            let again = check(&clean).unwrap();
            assert_eq!((again.media_type(), again.width(), again.height()), (media_type, 8, 6));
        }
        let webp = public_copy(MediaType::Webp, EXIF_WEBP).unwrap();
        assert_eq!(webp[20] & 0x0C, 0, "VP8X no longer announces EXIF or XMP");
        assert_eq!(
            u32::from_le_bytes([webp[4], webp[5], webp[6], webp[7]]) as usize,
            webp.len() - 8
        );
        assert_eq!(public_copy(MediaType::Png, PNG).unwrap(), PNG);
        assert_eq!(public_copy(MediaType::Webp, WEBP).unwrap(), WEBP);
    }

    /// Chunks of a RIFF or PNG file kept but those named in `drop`.
    fn without_chunks(bytes: &[u8], png: bool, drop: &[&[u8; 4]]) -> Vec<u8> {
        let (start, len_of, extra): (usize, fn(&[u8]) -> usize, usize) = if png {
            (8, |h| u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize, 12)
        } else {
            (12, |h| u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize, 8)
        };
        let mut out = bytes[..start].to_vec();
        let mut pos = start;
        while pos < bytes.len() {
            let len = len_of(&bytes[pos..]);
            let end = (pos + extra + len + if png { 0 } else { len & 1 }).min(bytes.len());
            let id = if png {
                &bytes[pos + 4..pos + 8]
            } else {
                &bytes[pos..pos + 4]
            };
            if !drop.iter().any(|d| d.as_slice() == id) {
                out.extend_from_slice(&bytes[pos..end]);
            }
            pos = end;
        }
        if !png {
            let size = (out.len() - 8) as u32;
            out[4..8].copy_from_slice(&size.to_le_bytes());
        }
        out
    }

    #[test]
    fn a_photo_of_metadata_only_is_damaged() {
        // Found by fuzzing: an extended WebP header (which gives the dimensions) and an EXIF
        // chunk, without any image data, was accepted as a photo.
        let webp = without_chunks(EXIF_WEBP, false, &[b"VP8 ", b"VP8L", b"ALPH"]);
        assert!(contains(&webp, b"GongzhiTestCam"));
        let e = check(&webp).unwrap_err();
        assert!(
            matches!(
                e,
                AttachmentError::Damaged {
                    field: "file",
                    media_type: MediaType::Webp
                }
            ),
            "{e:?}"
        );
        // The same for a PNG without IDAT and a JPEG that ends before its image data.
        let png = without_chunks(EXIF_PNG, true, &[b"IDAT"]);
        assert!(matches!(check(&png).unwrap_err(), AttachmentError::Damaged { .. }));
        let sos = EXIF_JPG.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut jpeg = EXIF_JPG[..sos].to_vec();
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert!(matches!(check(&jpeg).unwrap_err(), AttachmentError::Damaged { .. }));
        // Their pictures are still accepted.
        for good in [
            EXIF_WEBP,
            EXIF_PNG,
            EXIF_JPG,
            WEBP,
            LOSSLESS_WEBP,
            ALPHA_WEBP,
            PNG,
            PLAIN_JPG,
        ] {
            assert!(check(good).is_ok());
        }
    }
}
