//! Co-governance pages over HTTP on SQLite and PostgreSQL: community staff publish a notice to a
//! community, a resident of that community reads it, one of another community does not; a
//! withdrawn notice disappears; every change is audited; forms without CSRF are refused; bad
//! input names the field; no phone number appears on the residents' notice pages.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_app::people::sms::MemoryGateway;

use crate::common::resident::{app_of, audit_ok, get_page, post_form, resident_in, resident_sign_in, texts};
use crate::common::{Reply, demo_apps, page, send, sign_in as staff_sign_in, submit};

const PHONE: &str = "13800138000";
const OTHER_PHONE: &str = "13911112222";
/// 学府社区 of 桃东街道, where the demo account `community` works.
const XUEFU: &str = "230903011001";

/// The community codes the picker offers.
fn offered(html: &str) -> Vec<String> {
    html.split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split('"').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn id_after(reply: &Reply, prefix: &str) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let to = reply.headers[header::LOCATION].to_str().unwrap();
    to.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("redirect to {to}"))
        .parse()
        .unwrap()
}

fn no_phone(html: &str) {
    for p in [PHONE, OTHER_PHONE] {
        assert!(!html.contains(p), "a phone number in clear: {html}");
    }
}

#[tokio::test]
async fn staff_publish_a_notice_residents_of_that_community_read_it_others_do_not() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let staff = staff_sign_in(&app, &db.db, "community").await;

        // The staff page lists the worker's community and its grids, not others.
        let list = page(&app, &staff, "/cogov/notices").await;
        assert_eq!(list.status, StatusCode::OK, "{name}: {}", list.body);
        assert!(list.body.contains(&format!("value=\"{XUEFU}\"")), "{}", list.body);
        assert!(
            list.body.contains("href=\"/cogov/notices\""),
            "the navigation links the page"
        );

        // Residents pick their communities: one in 学府社区, one elsewhere.
        let mine = resident_sign_in(&app, &sms, PHONE).await;
        let picker = get_page(&app, "/m/community", &mine.cookie).await;
        let other_community = offered(&picker.body)
            .into_iter()
            .find(|c| c != XUEFU)
            .expect("another community is offered");
        // No community is refused naming the field; an unknown one too.
        let r = post_form(
            &app,
            "/m/community",
            &mine.cookie,
            &[("csrf", &mine.csrf), ("community", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("data-field=\"community\""), "{}", r.body);
        // Without the CSRF token the choice is refused.
        let r = post_form(&app, "/m/community", &mine.cookie, &[("community", XUEFU)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post_form(
            &app,
            "/m/community",
            &mine.cookie,
            &[("csrf", &mine.csrf), ("community", XUEFU)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.headers[header::LOCATION], "/m/notices");
        let start = get_page(&app, "/m/", &mine.cookie).await;
        assert_eq!(
            start.headers[header::LOCATION],
            "/m/reports",
            "the community is picked once"
        );
        let theirs = resident_sign_in(&app, &sms, OTHER_PHONE).await;
        let r = post_form(
            &app,
            "/m/community",
            &theirs.cookie,
            &[("csrf", &theirs.csrf), ("community", &other_community)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // Bad input names the field.
        let good = [
            ("place", XUEFU),
            ("kind", "notice"),
            ("title", "停水通知"),
            ("body", "明日 8:00–12:00 学府社区停水，请提前储水。"),
            ("expires", ""),
        ];
        for (field, value) in [
            ("title", ""),
            ("body", "  "),
            ("kind", "rumour"),
            ("expires", "2001-01-01"),
            ("expires", "tomorrow"),
            ("place", "nowhere"),
            ("place", other_community.as_str()),
        ] {
            let fields: Vec<(&str, &str)> = good
                .iter()
                .map(|(k, v)| if *k == field { (*k, value) } else { (*k, *v) })
                .collect();
            let r = submit(&app, &staff, "/cogov/notices", &fields).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}={value}: {}",
                r.body
            );
            assert!(
                r.body.contains(&format!("data-field=\"{field}\"")),
                "{field}={value}: {}",
                r.body
            );
            let message = r.body.split("id=\"error\"").nth(1).unwrap_or("");
            assert!(message.contains(field), "the message names {field}: {message}");
        }
        // Without the CSRF token the form is refused and nothing is published.
        let r = send(
            &app,
            Request::post("/cogov/notices")
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &staff.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(good).unwrap()))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(texts(&db.db, "SELECT title FROM cogov_notices").await.is_empty());

        // Published: the resident of 学府社区 sees it, the other does not.
        let r = submit(&app, &staff, "/cogov/notices", &good).await;
        let id = id_after(&r, "/cogov/notices?done=published-");
        let policy = submit(
            &app,
            &staff,
            "/cogov/notices",
            &[
                ("place", &format!("{XUEFU}001")),
                ("kind", "policy"),
                ("title", "垃圾分类政策宣传"),
                ("body", "请按可回收物、有害垃圾、厨余垃圾、其他垃圾分类投放。"),
                ("expires", "2099-12-31"),
            ],
        )
        .await;
        let policy = id_after(&policy, "/cogov/notices?done=published-");
        let list = get_page(&app, "/m/notices", &mine.cookie).await;
        assert_eq!(list.status, StatusCode::OK, "{name}: {}", list.body);
        assert!(
            list.body.contains("停水通知") && list.body.contains("垃圾分类政策宣传"),
            "{}",
            list.body
        );
        assert!(list.body.contains("政策宣传") && list.body.contains("学府社区"));
        no_phone(&list.body);
        let one = get_page(&app, &format!("/m/notices/{id}"), &mine.cookie).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert!(one.body.contains("请提前储水"), "{}", one.body);
        no_phone(&one.body);
        let elsewhere = get_page(&app, "/m/notices", &theirs.cookie).await;
        assert_eq!(elsewhere.status, StatusCode::OK);
        assert!(!elsewhere.body.contains("停水通知") && elsewhere.body.contains("id=\"empty\""));
        no_phone(&elsewhere.body);
        let r = get_page(&app, &format!("/m/notices/{id}"), &theirs.cookie).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "another community's notice is not found"
        );

        // Withdrawn: gone for residents, kept for staff; without CSRF refused.
        let r = post_form(&app, &format!("/cogov/notices/{id}/withdraw"), &staff.cookie, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = submit(&app, &staff, &format!("/cogov/notices/{id}/withdraw"), &[]).await;
        assert_eq!(id_after(&r, "/cogov/notices?done=withdrawn-"), id);
        let list = get_page(&app, "/m/notices", &mine.cookie).await;
        assert!(!list.body.contains("停水通知") && list.body.contains("垃圾分类政策宣传"));
        let r = get_page(&app, &format!("/m/notices/{id}"), &mine.cookie).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let staff_list = page(&app, &staff, "/cogov/notices").await;
        assert!(staff_list.body.contains("停水通知") && staff_list.body.contains("已撤回"));

        // Residents do not reach the staff page; staff sessions do not reach /m/.
        let r = get_page(&app, "/cogov/notices", &mine.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = get_page(&app, "/m/notices", &staff.cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // A staff account of another role may not publish.
        let clerk = staff_sign_in(&app, &db.db, "clerk").await;
        let r = submit(&app, &clerk, "/cogov/notices", &good).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

        // Each change is audited.
        let actions = texts(
            &db.db,
            "SELECT action || ' ' || actor || ' ' || subject_id FROM audit_entries WHERE action LIKE 'cogov.%' ORDER BY seq",
        )
        .await;
        assert_eq!(actions.len(), 5, "{actions:?}");
        assert!(actions[0].starts_with("cogov.resident.community resident:"));
        assert!(actions[1].starts_with("cogov.resident.community resident:"));
        assert_eq!(actions[2], format!("cogov.notice.publish community {id}"));
        assert_eq!(actions[3], format!("cogov.notice.publish community {policy}"));
        assert_eq!(actions[4], format!("cogov.notice.withdraw community {id}"));
        assert!(audit_ok(&db.db).await, "{name}: the audit chain holds");
    }
}

#[tokio::test]
async fn a_survey_is_answered_once_and_counted() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let staff = staff_sign_in(&app, &db.db, "community").await;
        let questions = "小区停车是否方便？| 方便 | 一般 | 不方便\n您的建议";

        // Bad input names the field; no CSRF is refused.
        for (field, fields) in [
            (
                "community",
                [
                    ("community", "230903011999"),
                    ("title", "停车"),
                    ("questions", questions),
                ],
            ),
            (
                "title",
                [("community", XUEFU), ("title", " "), ("questions", questions)],
            ),
            (
                "questions",
                [
                    ("community", XUEFU),
                    ("title", "停车"),
                    ("questions", "只有一个 | 选项"),
                ],
            ),
        ] {
            let r = submit(&app, &staff, "/cogov/surveys", &fields).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
            assert!(
                r.body.contains(&format!("data-field=\"{field}\"")),
                "{field}: {}",
                r.body
            );
        }
        let fields = [
            ("community", XUEFU),
            ("title", "停车满意度调查"),
            ("questions", questions),
        ];
        let r = post_form(&app, "/cogov/surveys", &staff.cookie, &fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = submit(&app, &staff, "/cogov/surveys", &fields).await;
        let id = id_after(&r, "/cogov/surveys/");

        // A draft is not for residents; opened, it is.
        let me = resident_in(&app, &sms, PHONE, XUEFU).await;
        let list = get_page(&app, "/m/surveys", &me.cookie).await;
        assert!(!list.body.contains("停车满意度调查"), "{}", list.body);
        let r = get_page(&app, &format!("/m/surveys/{id}"), &me.cookie).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = submit(&app, &staff, &format!("/cogov/surveys/{id}/state"), &[("to", "open")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let list = get_page(&app, "/m/surveys", &me.cookie).await;
        assert!(list.body.contains("停车满意度调查"), "{name}: {}", list.body);
        let form = get_page(&app, &format!("/m/surveys/{id}"), &me.cookie).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(form.body.contains("name=\"q0\" value=\"2\""), "{}", form.body);
        no_phone(&form.body);

        // An unanswered single choice names the question; without CSRF refused.
        let uri = format!("/m/surveys/{id}");
        let r = post_form(&app, &uri, &me.cookie, &[("csrf", &me.csrf), ("q1", "多划车位")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("data-field=\"q0\"") && r.body.contains("多划车位"),
            "{}",
            r.body
        );
        let r = post_form(&app, &uri, &me.cookie, &[("q0", "2")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post_form(
            &app,
            &uri,
            &me.cookie,
            &[("csrf", &me.csrf), ("q0", "2"), ("q1", "多划车位")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let done = get_page(&app, &uri, &me.cookie).await;
        assert!(done.body.contains("id=\"answered\"") && !done.body.contains("id=\"survey\""));
        // Once: a second answer is refused with a clear message and not counted.
        let again = post_form(&app, &uri, &me.cookie, &[("csrf", &me.csrf), ("q0", "0")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        assert!(
            again.body.contains("您已提交过本问卷，每人只能提交一次"),
            "{}",
            again.body
        );

        // A second resident; one of another community does not see it.
        let two = resident_in(&app, &sms, OTHER_PHONE, XUEFU).await;
        let r = post_form(&app, &uri, &two.cookie, &[("csrf", &two.csrf), ("q0", "2"), ("q1", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

        // The results: counts per choice, the free text.
        let results = page(&app, &staff, &uri.replace("/m/", "/cogov/")).await;
        assert_eq!(results.status, StatusCode::OK, "{}", results.body);
        assert!(results.body.contains("<b id=\"answered\">2</b>"), "{}", results.body);
        assert!(
            results.body.contains("<td>不方便</td><td class=\"count\">2</td>"),
            "{}",
            results.body
        );
        assert!(results.body.contains("<td>方便</td><td class=\"count\">0</td>"));
        assert!(results.body.contains("<li>多划车位</li>"));
        no_phone(&results.body);

        // Closed: no more answers.
        let r = submit(&app, &staff, &format!("/cogov/surveys/{id}/state"), &[("to", "closed")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let three = resident_in(&app, &sms, "13700001234", XUEFU).await;
        let r = post_form(&app, &uri, &three.cookie, &[("csrf", &three.csrf), ("q0", "1")]).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        let actions = texts(
            &db.db,
            "SELECT action FROM audit_entries WHERE action LIKE 'cogov.survey.%' ORDER BY seq",
        )
        .await;
        assert_eq!(
            actions,
            [
                "cogov.survey.create",
                "cogov.survey.open",
                "cogov.survey.answer",
                "cogov.survey.answer",
                "cogov.survey.close"
            ],
            "{name}"
        );
        assert!(audit_ok(&db.db).await);
    }
}

#[tokio::test]
async fn group_posts_and_replies_are_moderated_and_audited_without_phones() {
    for (db, state) in demo_apps().await {
        let name = db.backend_name();
        let sms = Arc::new(MemoryGateway::default());
        let app = app_of(state, sms.clone());
        let staff = staff_sign_in(&app, &db.db, "community").await;

        // Staff create a group for a grid (a building's group is named so); bad input names the field.
        let grid = format!("{XUEFU}001");
        let r = submit(&app, &staff, "/cogov/groups", &[("place", &grid), ("name", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("data-field=\"name\""), "{}", r.body);
        let r = submit(
            &app,
            &staff,
            "/cogov/groups",
            &[("place", "230903011999"), ("name", "x")],
        )
        .await;
        assert!(r.body.contains("data-field=\"place\""), "{}", r.body);
        let r = post_form(
            &app,
            "/cogov/groups",
            &staff.cookie,
            &[("place", &grid), ("name", "3号楼居民群")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = submit(
            &app,
            &staff,
            "/cogov/groups",
            &[("place", &grid), ("name", "3号楼居民群")],
        )
        .await;
        let group = id_after(&r, "/cogov/groups/");
        let r = submit(
            &app,
            &staff,
            "/cogov/groups",
            &[("place", &grid), ("name", "3号楼居民群")],
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "one group of a name per place");
        assert!(r.body.contains("data-field=\"name\""));

        // A resident with a display name, one without (shown as 居民 and a short id).
        let me = resident_sign_in(&app, &sms, PHONE).await;
        let r = post_form(
            &app,
            "/m/community",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("community", XUEFU),
                ("display_name", "13800138000"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a phone is no display name");
        assert!(r.body.contains("data-field=\"display_name\""), "{}", r.body);
        let r = post_form(
            &app,
            "/m/community",
            &me.cookie,
            &[("csrf", &me.csrf), ("community", XUEFU), ("display_name", "学府老王")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let two = resident_in(&app, &sms, OTHER_PHONE, XUEFU).await;

        let list = get_page(&app, "/m/groups", &me.cookie).await;
        assert!(list.body.contains("3号楼居民群"), "{name}: {}", list.body);
        let uri = format!("/m/groups/{group}");
        let posts = format!("{uri}/posts");
        // Not yet a member: posting is refused; joining without CSRF too.
        let r = post_form(&app, &posts, &me.cookie, &[("csrf", &me.csrf), ("body", "大家好")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        let r = post_form(&app, &format!("{uri}/join"), &me.cookie, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        for who in [&me, &two] {
            let r = post_form(&app, &format!("{uri}/join"), &who.cookie, &[("csrf", &who.csrf)]).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
        // An empty post names the field; a post without CSRF is refused.
        let r = post_form(&app, &posts, &me.cookie, &[("csrf", &me.csrf), ("body", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("data-field=\"body\""), "{}", r.body);
        let r = post_form(&app, &posts, &me.cookie, &[("body", "大家好")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post_form(
            &app,
            &posts,
            &me.cookie,
            &[("csrf", &me.csrf), ("body", "电梯又坏了，谁联系物业？")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let post: i64 = texts(&db.db, "SELECT CAST(id AS TEXT) FROM cogov_posts").await[0]
            .parse()
            .unwrap();
        let r = post_form(
            &app,
            &posts,
            &two.cookie,
            &[
                ("csrf", &two.csrf),
                ("parent", &post.to_string()),
                ("body", "我打过电话了，下午来修"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = post_form(
            &app,
            &posts,
            &two.cookie,
            &[("csrf", &two.csrf), ("parent", "99999"), ("body", "?")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("data-field=\"parent\""));
        let r = post_form(
            &app,
            &posts,
            &two.cookie,
            &[("csrf", &two.csrf), ("body", "加我微信 13911112222 低价卖房")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);

        let page_of = get_page(&app, &uri, &me.cookie).await;
        assert_eq!(page_of.status, StatusCode::OK);
        assert!(
            page_of.body.contains("电梯又坏了") && page_of.body.contains("下午来修"),
            "{}",
            page_of.body
        );
        assert!(page_of.body.contains("学府老王"), "the display name shows");
        let two_id = texts(&db.db, "SELECT CAST(id AS TEXT) FROM residents ORDER BY id").await[1]
            .parse::<i64>()
            .unwrap();
        assert!(page_of.body.contains(&format!("居民{:04}", two_id)), "{}", page_of.body);
        // Posts show display names only: no masked or clear phone (the masked one is in my own header).
        let thread = page_of.body.split("id=\"posts\"").nth(1).unwrap();
        assert!(!thread.contains("****") && !thread.contains(PHONE), "{thread}");

        // Staff hide the advert (a reason is required, the form needs CSRF); it disappears for residents.
        let advert: i64 = texts(
            &db.db,
            "SELECT CAST(id AS TEXT) FROM cogov_posts WHERE body LIKE '%微信%'",
        )
        .await[0]
            .parse()
            .unwrap();
        let hide = format!("/cogov/posts/{advert}/hide");
        let r = submit(&app, &staff, &hide, &[("reason", "")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("reason"), "{}", r.body);
        let r = post_form(&app, &hide, &staff.cookie, &[("reason", "广告")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = submit(&app, &staff, &hide, &[("reason", "广告，含电话号码")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        // The topic post too: its replies go with it.
        let r = submit(
            &app,
            &staff,
            &format!("/cogov/posts/{post}/hide"),
            &[("reason", "已转为工单")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        for who in [&me, &two] {
            let p = get_page(&app, &uri, &who.cookie).await;
            assert!(
                !p.body.contains("低价卖房") && !p.body.contains("电梯又坏了") && !p.body.contains("下午来修"),
                "{}",
                p.body
            );
            no_phone(&p.body);
        }
        let staff_view = page(&app, &staff, &format!("/cogov/groups/{group}")).await;
        assert!(
            staff_view.body.contains("已隐藏：广告，含电话号码") && staff_view.body.contains("已隐藏：已转为工单"),
            "{}",
            staff_view.body
        );
        // Replying to a hidden post is refused.
        let r = post_form(
            &app,
            &posts,
            &me.cookie,
            &[("csrf", &me.csrf), ("parent", &post.to_string()), ("body", "好")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        // A resident of another community does not reach the group.
        let elsewhere = resident_sign_in(&app, &sms, "13700001234").await;
        let picker = get_page(&app, "/m/community", &elsewhere.cookie).await;
        let other = offered(&picker.body).into_iter().find(|c| c != XUEFU).unwrap();
        let r = post_form(
            &app,
            "/m/community",
            &elsewhere.cookie,
            &[("csrf", &elsewhere.csrf), ("community", &other)],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            get_page(&app, &uri, &elsewhere.cookie).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(
            !get_page(&app, "/m/groups", &elsewhere.cookie)
                .await
                .body
                .contains("3号楼居民群")
        );

        let actions = texts(
            &db.db,
            "SELECT action || ' ' || actor FROM audit_entries WHERE action LIKE 'cogov.group.%' OR action LIKE 'cogov.post.%' ORDER BY seq",
        )
        .await;
        let actions: Vec<&str> = actions.iter().map(|a| a.split(' ').next().unwrap()).collect();
        assert_eq!(
            actions,
            [
                "cogov.group.create",
                "cogov.group.join",
                "cogov.group.join",
                "cogov.post.create",
                "cogov.post.reply",
                "cogov.post.create",
                "cogov.post.hide",
                "cogov.post.hide"
            ],
            "{name}"
        );
        let reasons = texts(
            &db.db,
            "SELECT detail FROM audit_entries WHERE action = 'cogov.post.hide' ORDER BY seq",
        )
        .await;
        assert!(reasons[0].contains("广告，含电话号码"), "{reasons:?}");
        assert!(audit_ok(&db.db).await);
    }
}
