//! Co-governance in the palm community (共治 · 掌上社区): notices and policy publicity
//! (通知公告/政策宣传). Community staff (community workers, street staff over the community) publish
//! a notice to a community or one of its grids at `/cogov/notices` and withdraw it; residents read
//! the live notices of the community they picked at `/m/notices`.

pub mod notices;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cogov/notices", get(notices::staff_list).post(notices::publish))
        .route("/cogov/notices/{id}/withdraw", post(notices::withdraw))
        .route(
            "/m/community",
            get(notices::community_form).post(notices::pick_community),
        )
        .route("/m/notices", get(notices::resident_list))
        .route("/m/notices/{id}", get(notices::resident_notice))
}
