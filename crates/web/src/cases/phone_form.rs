//! The report form of the phone pages (the grid worker's `/g/report`, the resident's
//! `/m/report`): the matter as picked or typed, the description and the browser's location.

use gongzhi_app::cases::{RawReport, Report};

use super::pages::{Posted, matter_code};
use crate::{ApiError, AppState};

/// The report a phone form posts on `channel`, with its idempotency key. The location is the
/// browser's geolocation (WGS-84) when it gave one; `address` is the place in words (it places
/// a report without a location).
pub(crate) fn phone_report(
    state: &AppState,
    posted: &Posted,
    channel: &str,
    idempotency_key: Option<String>,
    address: Option<&str>,
) -> Result<Report, ApiError> {
    let lon = posted.get("lon");
    let raw = RawReport {
        channel: RawReport::text(Some(channel)),
        matter: RawReport::text(
            posted
                .get("matter_other")
                .or_else(|| posted.get("matter"))
                .map(|m| matter_code(state, m))
                .as_deref(),
        ),
        description: RawReport::text(posted.get("description")),
        lon: RawReport::text(lon),
        lat: RawReport::text(posted.get("lat")),
        datum: RawReport::text(lon.map(|_| "wgs84")),
        address: RawReport::text(address),
        ..RawReport::default()
    };
    Ok(Report {
        idempotency_key,
        ..Report::try_from(raw)?
    })
}
