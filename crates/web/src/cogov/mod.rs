//! Co-governance in the palm community (共治 · 掌上社区): notices and policy publicity
//! (通知公告/政策宣传). Community staff (community workers, street staff over the community) publish
//! a notice to a community or one of its grids at `/cogov/notices` and withdraw it; residents read
//! the live notices of the community they picked at `/m/notices`. Surveys (问卷) likewise: staff
//! create, open and close them at `/cogov/surveys`, residents answer once at `/m/surveys/{id}`. Community groups:
//! staff create them at `/cogov/groups` and hide posts; residents join, post and reply at
//! `/m/groups/{id}`. Residents' needs (居民点单): residents post them at `/m/orders/new`, staff list,
//! decline or fulfil them at `/cogov/orders`. Joint meetings (党建联席会议): bodies and seats,
//! agenda items and meetings at `/cogov/bodies` and under `/api/v1/cogov/`. Co-building agreements
//! (共建协议) at `/cogov/agreements` and `/api/v1/cogov/agreements`.

pub mod agreements;
pub mod agreements_api;
pub mod groups;
pub mod meetings;
pub mod meetings_api;
pub mod notices;
pub mod orders;
pub mod surveys;

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
        .route("/cogov/surveys", get(surveys::staff_list).post(surveys::create))
        .route("/cogov/surveys/{id}", get(surveys::results))
        .route("/cogov/surveys/{id}/state", post(surveys::set_state))
        .route("/cogov/groups", get(groups::staff_list).post(groups::create))
        .route("/cogov/groups/{id}", get(groups::staff_group))
        .route("/cogov/posts/{id}/hide", post(groups::hide))
        .route("/m/groups", get(groups::resident_list))
        .route("/m/groups/{id}", get(groups::resident_group))
        .route("/m/groups/{id}/join", post(groups::join))
        .route("/m/groups/{id}/posts", post(groups::add_post))
        .route("/cogov/orders", get(orders::staff_list))
        .route("/cogov/orders/{id}/step", post(orders::step))
        .route("/m/orders", get(orders::resident_list))
        .route("/m/orders/{id}/rate", post(orders::rate))
        .route("/cogov/offers", get(orders::offers))
        .route("/cogov/offers/{id}/take", post(orders::take))
        .route("/cogov/offers/{id}/rate_back", post(orders::rate_back))
        .route("/api/v1/cogov/offers", get(orders::api_offers))
        .route("/api/v1/cogov/orders/counts", get(orders::api_counts))
        .route("/api/v1/cogov/orders/{id}/publish", post(orders::api_publish))
        .route("/api/v1/cogov/orders/{id}/take", post(orders::api_take))
        .route("/api/v1/cogov/orders/{id}/rate_back", post(orders::api_rate_back))
        .route("/m/orders/new", get(orders::new_form).post(orders::post))
        .route("/m/surveys", get(surveys::resident_list))
        .route("/m/surveys/{id}", get(surveys::resident_survey).post(surveys::answer))
        .route("/cogov/bodies", get(meetings::bodies).post(meetings::create_body))
        .route("/cogov/bodies/{id}", get(meetings::body))
        .route("/cogov/bodies/{id}/seats", post(meetings::add_seat))
        .route("/cogov/bodies/{id}/items", post(meetings::raise_item))
        .route("/cogov/bodies/{id}/meetings", post(meetings::convene))
        .route("/cogov/items/{id}", get(meetings::item))
        .route("/cogov/items/{id}/step", post(meetings::step_item))
        .route("/cogov/meetings/{id}", get(meetings::meeting))
        .route("/cogov/meetings/{id}/hold", post(meetings::hold))
        .route("/cogov/meetings/{id}/decide", post(meetings::decide))
        .route("/cogov/meetings/{id}/close", post(meetings::close))
        .route(
            "/api/v1/cogov/bodies",
            get(meetings_api::list_bodies).post(meetings_api::create_body),
        )
        .route("/api/v1/cogov/bodies/{id}", get(meetings_api::get_body))
        .route("/api/v1/cogov/bodies/{id}/seats", post(meetings_api::add_seat))
        .route("/api/v1/cogov/bodies/{id}/items", post(meetings_api::raise_item))
        .route("/api/v1/cogov/bodies/{id}/meetings", post(meetings_api::convene))
        .route("/api/v1/cogov/items/{id}", get(meetings_api::get_item))
        .route("/api/v1/cogov/items/{id}/steps", post(meetings_api::step_item))
        .route("/api/v1/cogov/meetings/{id}", get(meetings_api::get_meeting))
        .route("/api/v1/cogov/meetings/{id}/steps", post(meetings_api::step_meeting))
        .route("/api/v1/cogov/solved", get(meetings_api::solved))
        .route("/cogov/agreements", get(agreements::list).post(agreements::sign))
        .route("/cogov/agreements/{id}", get(agreements::agreement))
        .route("/cogov/agreements/{id}/records", post(agreements::record))
        .route("/cogov/agreements/{id}/renew", post(agreements::renew))
        .route("/cogov/agreements/{id}/end", post(agreements::end))
        .route(
            "/api/v1/cogov/agreements",
            get(agreements_api::list).post(agreements_api::sign),
        )
        .route("/api/v1/cogov/agreements/{id}", get(agreements_api::get))
        .route("/api/v1/cogov/agreements/{id}/renew", post(agreements_api::renew))
        .route("/api/v1/cogov/agreements/{id}/end", post(agreements_api::end))
        .route("/api/v1/cogov/agreements/{id}/records", post(agreements_api::record))
}
