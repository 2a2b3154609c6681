//! The headers every answer carries, set in one layer of the router ([`security_headers`]), and
//! the scripts of the pages, served by the binary itself from `/static/{file}` ([`routes`]).
//!
//! The pages carry no inline script: the Content-Security-Policy allows scripts from this server
//! only (`script-src 'self'`), so a piece of markup that slipped through the templates' escaping
//! could not run. Pages hand data to their scripts in `data-*` attributes. Inline styles stay
//! allowed (`style-src 'unsafe-inline'`): the pages use `<style>` blocks and a few `style`
//! attributes (legend swatches coloured from data), and a style cannot run code.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Scripts and styles from this server only; nothing may frame a page (a hidden frame would let
/// another site trick a click on an administrator's one-click form); forms post here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The scripts of the pages, built into the binary.
const SCRIPTS: [(&str, &str); 8] = [
    ("nav.js", include_str!("../static/nav.js")),
    ("zoom.js", include_str!("../static/zoom.js")),
    ("case-new.js", include_str!("../static/case-new.js")),
    ("import-job.js", include_str!("../static/import-job.js")),
    ("locate.js", include_str!("../static/locate.js")),
    ("matters.js", include_str!("../static/matters.js")),
    ("g-report.js", include_str!("../static/g-report.js")),
    ("g-patrol.js", include_str!("../static/g-patrol.js")),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{file}", get(script))
}

/// FNV-1a of a script: its ETag, the same for the same bytes.
const fn fingerprint(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `GET /static/{file}`: a script of the pages. Browsers keep it and ask again with its ETag
/// (`no-cache`): a new version of the server is never run with an old script.
async fn script(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, text)) = SCRIPTS.iter().find(|(name, _)| *name == file) else {
        return gongzhi_app::AppError::not_found_path().into_response();
    };
    let etag = format!("\"{:016x}\"", fingerprint(text));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let body = if fresh { "" } else { *text };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

/// Every answer: the policy above (and `X-Frame-Options: DENY` for browsers that predate
/// `frame-ancestors`), no content-type sniffing, no `Referer` sent onwards (page addresses hold
/// case numbers and searches), and `Cache-Control: no-store` on everything but the scripts and
/// what its door marks `public`:
/// pages, API answers, photos and exports hold personal data, and a shared office computer or a
/// proxy must keep none of it. When the configured public address is `https://`, every cookie is
/// marked `Secure`, so a session never travels in clear.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let script = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // What holds no personal data at all (the territory's geometry) is marked `public` by its
    // door, and may be kept and revalidated.
    let public = h
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    if !script && !public {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.secure_cookies() {
        secure_cookies(h);
    }
    response
}

/// Adds `; Secure` to every `Set-Cookie` that lacks it.
fn secure_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let secured = match cookie.to_str() {
            Ok(text) if !text.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure")) => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
            }
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, secured);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_script_is_inline_and_every_script_a_page_loads_is_served() {
        let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut stack = vec![templates];
        let mut loaded = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("<script") {
                    let tag = &text[i..i + text[i..].find('>').unwrap()];
                    let src = tag
                        .split("src=\"/static/")
                        .nth(1)
                        .unwrap_or_else(|| panic!("{}: an inline script: {tag}", path.display()));
                    loaded.push(src[..src.find('"').unwrap()].to_string());
                }
                // Inline event handlers are inline scripts too.
                for attribute in [
                    " onclick=",
                    " onload=",
                    " onsubmit=",
                    " onchange=",
                    " oninput=",
                    "javascript:",
                ] {
                    assert!(!text.contains(attribute), "{}: {attribute}", path.display());
                }
            }
        }
        for file in &loaded {
            assert!(SCRIPTS.iter().any(|(n, _)| n == file), "{file} is not served");
        }
        for (name, _) in SCRIPTS {
            assert!(
                loaded.iter().any(|f| f == name),
                "{name} is served but no page loads it"
            );
        }
    }

    #[test]
    fn cookies_become_secure_once() {
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=1; Path=/; HttpOnly"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Secure"));
        secure_cookies(&mut h);
        let got: Vec<_> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(got, vec!["a=1; Path=/; HttpOnly; Secure", "b=2; Secure"]);
    }
}
