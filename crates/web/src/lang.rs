//! The language of a request: `?lang=` first, then the `lang` cookie; for the JSON API also the
//! `Accept-Language` header. Pages are Chinese unless the user switches: a browser set to
//! English in a Chinese office still gets Chinese pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use gongzhi_core::Lang;

#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

/// The `lang` query parameter, if the request names one.
pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .map(Lang::from_tag)
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("lang="))
        .map(Lang::from_tag)
}

pub fn lang_of(path: &str, query: Option<&str>, headers: &HeaderMap) -> Lang {
    let header = || {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
    };
    query_lang(query)
        .or_else(|| cookie_lang(headers))
        .or_else(|| {
            if path.starts_with("/api/") || path.starts_with("/open311/") {
                header()
            } else {
                None
            }
        })
        .unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqLang(lang_of(parts.uri.path(), parts.uri.query(), &parts.headers)))
    }
}
