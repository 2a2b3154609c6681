//! The registry as staff use it, on SQLite and PostgreSQL: the demo registry of one street
//! (scaled down) loaded with a personal-data key; lists masked; search by exact ID number or
//! phone; a full view only with a reason, by the right roles, in the audit record with who,
//! when and why; scope (another community is 404, a node outside is 403); an edit with a bad ID
//! number names the field and changes nothing; and the raw database holds no ID number or phone
//! in clear.

use std::sync::Arc;

use axum::http::StatusCode;
use gongzhi_core::people::cipher::{CipherProvider, SoftwareCipher};
use gongzhi_demo::registry::DemoRegistryOptions;
use gongzhi_store::testing::TestDb;

use crate::common;
use crate::common::{get_as, page, post_as, sign_in, submit, token};

const STREET: &str = "230903011";
const COMMUNITY: &str = "230903011001";

fn cipher() -> Arc<dyn CipherProvider> {
    Arc::new(SoftwareCipher::new(&[9u8; 32]))
}

/// The demo apps with the registry of one street loaded (2% of the households).
async fn apps() -> Vec<(TestDb, axum::Router)> {
    let opts = DemoRegistryOptions {
        seed: 7,
        scale: 0.02,
        within: Some(STREET.into()),
    };
    common::registry_apps(cipher(), opts).await
}

/// A household of `community` and one of its people (opened, to know the truth).
async fn household_in(db: &TestDb, community: &str) -> (i64, gongzhi_core::people::registry::ResidentRecord) {
    let c = cipher();
    let b = db.buildings_within(community, 1).await.unwrap().remove(0);
    let h = db.households_of(c.as_ref(), b.id).await.unwrap().remove(0);
    let p = db.residents_of_household(c.as_ref(), h.id).await.unwrap().remove(0);
    (h.id, p)
}

/// The registry's tables and the audit record as raw text (see `TestDb::raw_text`).
async fn raw_text(db: &TestDb) -> String {
    db.raw_text(&[
        "resident_records",
        "households",
        "party_members",
        "staff_assignments",
        "audit_entries",
    ])
    .await
}

#[tokio::test]
async fn the_database_holds_no_id_number_or_phone_in_clear() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let community = sign_in(&app, &db, "community").await;
        let (household, _) = household_in(&db, COMMUNITY).await;
        let r = submit(
            &app,
            &community,
            &format!("/registry/households/{household}/residents"),
            &[
                ("name", "赵小明"),
                ("id_number", "230903201001010019"),
                ("phone", "13912345678"),
                ("relation", "child"),
                ("residence", "registered_here"),
                ("care_tags", "left_behind_child"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let c = cipher();
        let mut people = Vec::new();
        for b in db.buildings_within(COMMUNITY, 5).await.unwrap() {
            for h in db.households_of(c.as_ref(), b.id).await.unwrap() {
                people.extend(db.residents_of_household(c.as_ref(), h.id).await.unwrap());
            }
        }
        assert!(people.len() > 10);
        let raw = raw_text(&db).await;
        assert!(
            !raw.contains("230903201001010019"),
            "{name}: the added ID number is in clear"
        );
        assert!(!raw.contains("13912345678"), "{name}: the added phone is in clear");
        for p in &people {
            assert!(!raw.contains(&p.id_number), "{name}: an ID number is in clear");
            if let Some(phone) = &p.phone {
                assert!(!raw.contains(phone.as_str()), "{name}: a phone is in clear");
            }
        }
    }
}

#[tokio::test]
async fn lists_are_masked_and_exact_search_finds_by_id_number_or_phone() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let (household, person) = household_in(&db, COMMUNITY).await;
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = page(&app, &gridworker, &format!("/registry/households/{household}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains(&person.name));
        assert!(
            !r.body.contains(&person.id_number),
            "{name}: a full ID number on a list"
        );
        let masked = format!("{}****************{}", &person.id_number[..1], &person.id_number[17..]);
        assert!(r.body.contains(&masked), "{name}: no masked ID number");
        // A grid worker edits but does not see full data.
        assert!(!r.body.contains("查看完整信息"));

        let t = token(&app, &db, "community").await;
        let r = get_as(&app, &format!("/api/v1/registry/search?q={}", person.id_number), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        let found = r.json();
        assert_eq!(found["residents"][0]["id"], person.id);
        assert_eq!(found["residents"][0]["id_number"], masked);
        if let Some(phone) = &person.phone {
            let r = get_as(&app, &format!("/api/v1/registry/search?q={phone}"), &t).await;
            let ids: Vec<i64> = r.json()["residents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            assert!(ids.contains(&person.id), "{name}: not found by phone");
            assert!(!r.body.contains(phone.as_str()));
        }
        let r = get_as(&app, &format!("/api/v1/registry/households/{household}"), &t).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains(&person.id_number));
        let r = page(&app, &gridworker, &format!("/registry/search?q={}", person.name)).await;
        assert!(r.body.contains(&person.name) && !r.body.contains(&person.id_number));
    }
}

#[tokio::test]
async fn a_full_view_needs_a_reason_and_the_right_role_and_is_audited() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let (household, person) = household_in(&db, COMMUNITY).await;
        let uri = format!("/registry/residents/{}/reveal", person.id);
        let community = sign_in(&app, &db, "community").await;
        let r = submit(&app, &community, &uri, &[("reason", " ")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("data-field=\"reason\""));
        assert!(!r.body.contains(&person.id_number));
        let about = |db: &TestDb| {
            let db = db.db.clone();
            let id = person.id.to_string();
            async move {
                gongzhi_store::audit::entries_about(&db, "resident_record", &id)
                    .await
                    .unwrap()
            }
        };
        assert!(!about(&db).await.iter().any(|e| e.action == "registry.resident.reveal"));

        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = submit(&app, &gridworker, &uri, &[("reason", "入户走访核实")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        // The edit form shows the values in full: not for grid workers either.
        let r = page(&app, &gridworker, &format!("/registry/residents/{}/edit", person.id)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");

        let r = submit(&app, &community, &uri, &[("reason", "入户走访核实")]).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(
            r.body.contains(&person.id_number),
            "{name}: the full view shows the number"
        );
        let reveals: Vec<_> = about(&db)
            .await
            .into_iter()
            .filter(|e| e.action == "registry.resident.reveal")
            .collect();
        assert_eq!(reveals.len(), 1);
        assert_eq!(reveals[0].actor, "community");
        assert_eq!(reveals[0].detail["reason"], "入户走访核实");
        assert!(
            reveals[0].detail["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "id_number")
        );
        assert!((chrono::Utc::now() - reveals[0].at).num_minutes() < 5);

        let t = token(&app, &db, "community").await;
        let r = post_as(
            &app,
            &uri.replace("/registry", "/api/v1/registry"),
            &t,
            &serde_json::json!({}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(r.json()["error"]["field"], "reason");
        let r = post_as(
            &app,
            &uri.replace("/registry", "/api/v1/registry"),
            &t,
            &serde_json::json!({"reason": "核对低保"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["id_number"], person.id_number);
        let _ = household;
    }
}

#[tokio::test]
async fn another_community_is_out_of_reach() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let other = db
            .buildings_within(STREET, 500)
            .await
            .unwrap()
            .into_iter()
            .find(|b| !b.grid_code.starts_with(COMMUNITY))
            .expect("a building in another community of the street");
        let community = sign_in(&app, &db, "community").await;
        let r = page(&app, &community, &format!("/registry/buildings/{}", other.id)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        let c = cipher();
        let h = db.households_of(c.as_ref(), other.id).await.unwrap().remove(0);
        let r = page(&app, &community, &format!("/registry/households/{}", h.id)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        let other_community = &other.grid_code[..12];
        let r = page(&app, &community, &format!("/registry?within={other_community}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        let t = token(&app, &db, "community").await;
        let r = get_as(&app, &format!("/api/v1/registry/households/{}", h.id), &t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        // The street's staff reach both.
        let street = sign_in(&app, &db, "street").await;
        let r = page(&app, &street, &format!("/registry/buildings/{}", other.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let r = page(&app, &street, &format!("/registry?within={STREET}000")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(
            r.body.contains("学府社区"),
            "{name}: the street's communities are listed"
        );
        // A clerk has no registry role.
        let clerk = sign_in(&app, &db, "clerk").await;
        let r = page(&app, &clerk, "/registry").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
    }
}

#[tokio::test]
async fn an_edit_with_a_bad_id_number_names_the_field_and_changes_nothing() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let (household, person) = household_in(&db, COMMUNITY).await;
        let community = sign_in(&app, &db, "community").await;
        let form = page(&app, &community, &format!("/registry/residents/{}/edit", person.id)).await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        let mut bad = person.id_number.clone();
        let last = if bad.ends_with('0') { '1' } else { '0' };
        bad.replace_range(17..18, &last.to_string());
        let r = submit(
            &app,
            &community,
            &format!("/registry/residents/{}", person.id),
            &[
                ("revision", &person.revision.to_string()),
                ("name", &person.name),
                ("id_number", &bad),
                ("relation", person.relation.as_str()),
                ("residence", person.residence.as_str()),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(r.body.contains("data-field=\"id_number\""), "{name}");
        assert!(r.body.contains("身份证号码"), "{name}");
        let after = db.resident_record(cipher().as_ref(), person.id).await.unwrap().unwrap();
        assert_eq!(after, person, "{name}: nothing changed");

        // A good edit is saved and audited by field name.
        let r = submit(
            &app,
            &community,
            &format!("/registry/residents/{}", person.id),
            &[
                ("revision", &person.revision.to_string()),
                ("name", &person.name),
                ("id_number", &person.id_number),
                ("phone", "13800001111"),
                ("relation", person.relation.as_str()),
                ("residence", person.residence.as_str()),
                ("care_tags", "disabled"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = db.resident_record(cipher().as_ref(), person.id).await.unwrap().unwrap();
        assert_eq!(after.phone.as_deref(), Some("13800001111"));
        let edits: Vec<_> = gongzhi_store::audit::entries_about(&db, "resident_record", &person.id.to_string())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "registry.resident.edit")
            .collect();
        assert_eq!(edits.len(), 1);
        assert!(
            edits[0].detail["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "phone")
        );
        assert!(!edits[0].detail.to_string().contains("13800001111"));
        let _ = household;
    }
}

#[tokio::test]
async fn staff_read_the_organizations_and_party_organizations_of_their_area() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let community = sign_in(&app, &db, "community").await;
        let r = page(&app, &community, &format!("/registry/organizations?within={COMMUNITY}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        let party = db.party_organizations_within(COMMUNITY).await.unwrap();
        assert!(
            !party.is_empty(),
            "{name}: the demo registry has the community's party organizations"
        );
        for p in &party {
            assert!(r.body.contains(&p.name), "{name}: {} listed", p.name);
        }
        assert!(r.body.contains("网格党组织"), "{name}: kinds in Chinese");
        let compounds = db.compounds_within(COMMUNITY).await.unwrap();
        assert!(!compounds.is_empty(), "{name}: the community has compounds");
        for c in compounds {
            assert!(r.body.contains(&c.name), "{name}: compound {} listed", c.name);
        }
        // Another community of the same street is out of the community worker's reach.
        let r = page(&app, &community, &format!("/registry/organizations?within={STREET}002")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        // The street's staff read the whole street, in English when they ask.
        let street = sign_in(&app, &db, "street").await;
        let r = page(
            &app,
            &street,
            &format!("/registry/organizations?within={STREET}000&lang=en"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(r.body.contains("street party working committee"), "{name}: {}", r.body);
        let members = db.member_organizations_within(STREET).await.unwrap();
        assert!(!members.is_empty(), "{name}: the street has member organizations");
        for m in members {
            assert!(
                r.body.contains(&m.credit_code),
                "{name}: member organization {} listed",
                m.name
            );
        }
    }
}

#[tokio::test]
async fn a_sealed_phone_changed_in_the_database_fails_to_show_and_is_audited() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let (_, person) = household_in(&db, COMMUNITY).await;
        // Someone with write access to the database changes a sealed phone's ciphertext.
        let sql = format!(
            "UPDATE resident_records SET phone_sealed = 'AAAA' || substr(phone_sealed, 5) WHERE id = {}",
            person.id
        );
        let sql = sqlx::AssertSqlSafe(sql);
        match &db.db {
            gongzhi_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            gongzhi_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
        let community = sign_in(&app, &db, "community").await;
        let uri = format!("/registry/residents/{}/reveal", person.id);
        let r = submit(&app, &community, &uri, &[("reason", "入户走访核实")]).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{name}: {}", r.body);
        assert!(!r.body.contains(&person.id_number), "{name}");

        let mut seen = Vec::new();
        for _ in 0..100 {
            seen = gongzhi_store::audit::entries_about(&db, "sealed_column", "resident_records.phone")
                .await
                .unwrap();
            if !seen.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(seen.len(), 1, "{name}: one entry for the one failed read");
        assert_eq!(seen[0].action, "people.sealed.unopened");
        let verdict = gongzhi_store::audit::verify(&db, &gongzhi_store::testing::audit_key())
            .await
            .unwrap();
        assert!(verdict.is_intact(), "{name}: the entry joins the chain");
    }
}
