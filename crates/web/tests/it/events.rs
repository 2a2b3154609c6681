//! Live case events over server-sent events, read from the HTTP body as a browser's
//! EventSource would.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use gongzhi_core::people::{Grant, Role, Scope};
use gongzhi_core::territory::TerritoryCode;
use gongzhi_store::testing::TestDb;
use gongzhi_web::{AppState, CaseEvent};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn event(case_id: i64, territory: &str, state: &str) -> CaseEvent {
    CaseEvent {
        case_id,
        case_no: format!("20261127{case_id:05}"),
        state: state.into(),
        territory_code: TerritoryCode::parse(territory).unwrap(),
        at: Utc::now(),
        kind: "dispatch".into(),
        lead_unit: None,
    }
}

async fn app() -> (TestDb, AppState, Router) {
    app_as("leader", Role::Leader, "230900000000").await
}

/// An application whose every request comes from an account holding `role` at `node`.
async fn app_as(username: &str, role: Role, node: &str) -> (TestDb, AppState, Router) {
    let db = TestDb::sqlite().await;
    let state = AppState::new(db.db.clone()).await.unwrap();
    let scope = Scope::Territory(TerritoryCode::parse(node).unwrap());
    let token = gongzhi_store::testing::signed_in(&db, username, &[Grant { role, scope }]).await;
    let bearer = axum::http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let router = gongzhi_web::router(state.clone()).layer(axum::middleware::map_request(
        move |mut request: axum::extract::Request| {
            let bearer = bearer.clone();
            async move {
                request.headers_mut().insert(header::AUTHORIZATION, bearer);
                request
            }
        },
    ));
    (db, state, router)
}

/// An open event stream: the response body, read one server-sent event at a time.
struct EventStream(Body);

impl EventStream {
    async fn open(app: &Router, uri: &str) -> EventStream {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
        EventStream(response.into_body())
    }

    /// The next event's text (up to its blank line), or `None` if none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<String> {
        let mut text = String::new();
        while !text.ends_with("\n\n") {
            let frame = tokio::time::timeout(wait, self.0.frame()).await.ok()??.unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        Some(text)
    }

    /// The JSON of the next data event.
    async fn next_case(&mut self) -> serde_json::Value {
        let text = self.next(Duration::from_secs(5)).await.expect("an event");
        let data = text
            .lines()
            .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
            .unwrap_or_else(|| panic!("no data in {text:?}"));
        serde_json::from_str(data).unwrap()
    }
}

#[tokio::test]
async fn staff_of_a_street_get_only_their_street_whatever_they_ask_for() {
    let (_db, state, app) = app_as("street", Role::StreetStaff, "230903011000").await;
    let mut stream = EventStream::open(&app, "/api/v1/events").await;
    state.events.publish(event(1, "230904002003001", "dispatched"));
    state.events.publish(event(2, "230903011001001", "dispatched"));
    assert_eq!(stream.next_case().await["case_id"], 2);
}

#[tokio::test]
async fn a_street_sees_the_changes_of_its_cases_and_no_others() {
    let (_db, state, app) = app().await;
    // 桃东街道 (a street of 桃山区) and another street's grid.
    let mut street = EventStream::open(&app, "/api/v1/events?within=230903011000").await;
    let mut city = EventStream::open(&app, "/api/v1/events").await;
    assert_eq!(state.events.subscribers(), 2);

    state.events.publish(event(1, "230904002003001", "dispatched"));
    state.events.publish(event(2, "230903011001001", "handling"));

    let seen = street.next_case().await;
    assert_eq!(seen["case_id"], 2, "the other street's case is not delivered");
    assert_eq!(seen["case_no"], "2026112700002");
    assert_eq!(seen["state"], "handling");
    assert_eq!(seen["territory_code"], "230903011001001");
    assert_eq!(seen["kind"], "dispatch");
    assert!(seen["at"].as_str().unwrap().starts_with("20"));
    assert!(street.next(Duration::from_millis(200)).await.is_none());

    assert_eq!(city.next_case().await["case_id"], 1);
    assert_eq!(city.next_case().await["case_id"], 2);

    drop(street);
    drop(city);
    state.events.publish(event(3, "230903011001001", "closed"));
    assert_eq!(state.events.subscribers(), 0, "closed streams unsubscribe");
}

#[tokio::test]
async fn a_bad_territory_code_is_refused_naming_the_parameter() {
    let (_db, _state, app) = app().await;
    let response = app
        .oneshot(Request::get("/api/v1/events?within=2309").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["field"], "within");
}

#[tokio::test]
async fn an_idle_stream_sends_a_keep_alive_every_15_seconds() {
    let (_db, _state, app) = app().await;
    let mut stream = EventStream::open(&app, "/api/v1/events").await;
    // Virtual time from here on: nothing else runs on it.
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let text = stream.next(Duration::from_secs(60)).await.expect("a keep-alive");
    assert!(text.starts_with(':'), "a comment, not an event: {text:?}");
    assert_eq!(started.elapsed().as_secs(), 15);
    let again = stream.next(Duration::from_secs(60)).await.expect("another keep-alive");
    assert!(again.starts_with(':'));
    assert_eq!(started.elapsed().as_secs(), 30);
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_what_it_missed() {
    let hub = gongzhi_web::Hub::new(2);
    let mut sub = hub.subscribe(|_| true);
    for id in 1..=5 {
        hub.publish(event(id, "230903011001001", "handling"));
    }
    use gongzhi_web::events::Delivery;
    assert_eq!(sub.next().await, Some(Delivery::Missed(3)));
    match sub.next().await {
        Some(Delivery::Event(e)) => assert_eq!(e.case_id, 4),
        other => panic!("{other:?}"),
    }
}
