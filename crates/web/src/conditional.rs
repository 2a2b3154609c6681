//! Conditional GETs (RFC 9110 §13): an answer carries validators (`ETag`, `Last-Modified`), and a
//! client that already holds that version gets 304 Not Modified with no body.
//!
//! Entity tags are weak (`W/"…"`): the compression layer sends the same content gzipped or not,
//! so a tag names the content, not its bytes, and weak comparison is what `If-None-Match` uses.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Who may keep an answer. `Stored`: what holds no personal data at all (the territory's
/// geometry): kept and revalidated each time (`public, no-cache`), which costs a 304 while it
/// is current. `Unstored`: everything else keeps the security headers' `no-store` (pages, API
/// answers and Open311 hold what people wrote, and a shared computer or a proxy keeps none of
/// it); its tag still answers a client that keeps the tag itself and revalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Stored,
    Unstored,
}

impl Audience {
    fn cache_control(self) -> Option<&'static str> {
        match self {
            Audience::Stored => Some("public, no-cache"),
            Audience::Unstored => None,
        }
    }
}

/// What identifies one version of an answer.
#[derive(Debug, Clone)]
pub struct Validators {
    /// A weak entity tag, quoted.
    pub etag: String,
    /// When the content last changed, where that is known.
    pub last_modified: Option<DateTime<Utc>>,
    /// Whether `If-Modified-Since` may be answered from `last_modified`: only where every change
    /// of the content moves that date (not for a list, which a case can leave without its
    /// newest date moving).
    pub dated: bool,
    pub audience: Audience,
}

/// An entity tag built from the parts that decide an answer's content, each length-prefixed so
/// that ("ab", "c") and ("a", "bc") differ.
pub struct Tag(Sha256);

impl Tag {
    /// A tag for one kind of answer (the kind keeps two resources with equal parts apart).
    pub fn new(kind: &str) -> Tag {
        Tag(Sha256::new()).part(kind)
    }

    pub fn part(mut self, part: impl AsRef<[u8]>) -> Tag {
        let bytes = part.as_ref();
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// `W/"` and the first 16 bytes of the digest in hex `"`.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("W/\"{hex}\"")
    }
}

/// The opaque part of an entity tag (without `W/`), for weak comparison.
fn opaque(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// Whether an `If-None-Match` value names `etag` (or is `*`), comparing weakly.
fn none_match_hits(value: &str, etag: &str) -> bool {
    let ours = opaque(etag);
    value
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || (!t.is_empty() && opaque(t) == ours))
}

/// An HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Whether the client already holds this version. `If-None-Match` decides when sent; otherwise
/// `If-Modified-Since` does, where the content is dated (one-second resolution, as HTTP dates).
pub fn is_current(headers: &HeaderMap, v: &Validators) -> bool {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        return value.to_str().is_ok_and(|s| none_match_hits(s, &v.etag));
    }
    match (headers.get(header::IF_MODIFIED_SINCE), v.last_modified) {
        (Some(since), Some(modified)) if v.dated => since
            .to_str()
            .ok()
            .and_then(parse_http_date)
            .is_some_and(|since| modified.timestamp() <= since.timestamp()),
        _ => false,
    }
}

/// Puts the validators and the caching rule on an answer.
pub fn stamp(response: &mut Response, v: &Validators) {
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&v.etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Some(Ok(date)) = v.last_modified.map(|t| HeaderValue::from_str(&http_date(t))) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    if let Some(rule) = v.audience.cache_control() {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(rule));
    }
}

/// 304 Not Modified: the validators and no body.
pub fn not_modified(v: &Validators) -> Response {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    stamp(&mut r, v);
    r
}

/// 304 with the validators and no body when the client holds this version, else `build()`'s
/// answer with them (an error answer is left as it is: it has no version).
pub fn answer(headers: &HeaderMap, v: &Validators, build: impl FnOnce() -> Response) -> Response {
    if is_current(headers, v) {
        return not_modified(v);
    }
    let mut r = build();
    if r.status().is_success() {
        stamp(&mut r, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(etag: &str, modified: Option<&str>, dated: bool) -> Validators {
        Validators {
            etag: etag.into(),
            last_modified: modified.map(|m| DateTime::parse_from_rfc3339(m).unwrap().with_timezone(&Utc)),
            dated,
            audience: Audience::Unstored,
        }
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, val) in pairs {
            h.insert(k, HeaderValue::from_str(val).unwrap());
        }
        h
    }

    #[test]
    fn tags_name_their_parts_and_compare_weakly() {
        let a = Tag::new("x").part("ab").part("c").finish();
        assert_eq!(a, Tag::new("x").part("ab").part("c").finish());
        assert_ne!(a, Tag::new("x").part("a").part("bc").finish());
        assert_ne!(a, Tag::new("y").part("ab").part("c").finish());
        assert!(a.starts_with("W/\"") && a.len() == 3 + 32 + 1);
        let strong = a.trim_start_matches("W/");
        assert!(none_match_hits(strong, &a), "weak comparison ignores W/");
        assert!(none_match_hits(&format!("\"other\", {a}"), &a));
        assert!(none_match_hits("*", &a));
        assert!(!none_match_hits("\"other\"", &a));
    }

    #[test]
    fn if_none_match_decides_before_if_modified_since() {
        let ours = v("W/\"1\"", Some("2026-12-07T10:00:00Z"), true);
        let later = "Mon, 07 Dec 2026 10:00:01 GMT";
        assert!(is_current(&headers(&[(header::IF_NONE_MATCH, "W/\"1\"")]), &ours));
        assert!(!is_current(
            &headers(&[(header::IF_NONE_MATCH, "W/\"2\""), (header::IF_MODIFIED_SINCE, later)]),
            &ours
        ));
        assert!(is_current(&headers(&[(header::IF_MODIFIED_SINCE, later)]), &ours));
        assert!(is_current(
            &headers(&[(header::IF_MODIFIED_SINCE, "Mon, 07 Dec 2026 10:00:00 GMT")]),
            &ours
        ));
        assert!(!is_current(
            &headers(&[(header::IF_MODIFIED_SINCE, "Mon, 07 Dec 2026 09:59:59 GMT")]),
            &ours
        ));
        assert!(!is_current(
            &headers(&[(header::IF_MODIFIED_SINCE, "yesterday")]),
            &ours
        ));
        let undated = v("W/\"1\"", Some("2026-12-07T10:00:00Z"), false);
        assert!(!is_current(&headers(&[(header::IF_MODIFIED_SINCE, later)]), &undated));
        assert_eq!(http_date(ours.last_modified.unwrap()), "Mon, 07 Dec 2026 10:00:00 GMT");
    }
}
