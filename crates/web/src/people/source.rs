//! Where a request comes from, as sign-in counts it (rate limits, lockouts) and the record keeps
//! it: the connection's peer (`gongzhi serve` serves with `ConnectInfo`), or the client a trusted
//! proxy names in `X-Forwarded-For` (setting `[security] trusted_proxies`). A client cannot
//! choose its own address by sending the header.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::AppState;

/// The client's address as text (`unknown` for a request without a peer, made in-process).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
        Ok(ClientAddr(state.security.client_address(peer, forwarded.as_deref())))
    }
}
