//! Correcting the registry's places and organizations, as community and street staff do it on
//! the pages and integrators through the API, on SQLite and PostgreSQL: a bad field is refused
//! naming it and changes nothing; a good edit is saved with its audit entry (old and new values of
//! places and organizations, never of personal data); a stale form is refused; another
//! community's rows are out of reach; those who may not import may not correct.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gongzhi_core::people::cipher::{CipherProvider, SoftwareCipher};
use gongzhi_demo::registry::DemoRegistryOptions;
use gongzhi_store::testing::TestDb;

use crate::common;
use crate::common::{Reply, demo_apps, get_as, input_value, page, send, sign_in, submit, token};

const STREET: &str = "230903011";
const COMMUNITY: &str = "230903011001";

fn cipher() -> Arc<dyn CipherProvider> {
    Arc::new(SoftwareCipher::new(&[5u8; 32]))
}

/// The demo apps with a small registry of one street.
async fn apps() -> Vec<(TestDb, axum::Router)> {
    let opts = DemoRegistryOptions {
        seed: 11,
        scale: 0.01,
        within: Some(STREET.into()),
    };
    common::registry_apps(cipher(), opts).await
}

async fn patch_as(app: &axum::Router, uri: &str, token: &str, json: &serde_json::Value) -> Reply {
    let request = Request::patch(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json.to_string()))
        .unwrap();
    send(app, request).await
}

async fn edits_of(db: &TestDb, kind: &str, id: i64) -> Vec<gongzhi_core::audit::AuditEntry> {
    gongzhi_store::audit::entries_about(db, kind, &id.to_string())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.ends_with(".edit"))
        .collect()
}

#[tokio::test]
async fn a_community_worker_corrects_a_building_and_a_household_on_their_pages() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let community = sign_in(&app, &db, "community").await;
        // A building with two households behind one entrance (to try a room that is taken).
        let c = cipher();
        let mut found = None;
        for b in db.buildings_within(COMMUNITY, 100).await.unwrap() {
            let hs = db.households_of(c.as_ref(), b.id).await.unwrap();
            if hs
                .iter()
                .any(|o| hs.iter().any(|p| p.id != o.id && p.entrance_id == o.entrance_id))
            {
                found = Some(b);
                break;
            }
        }
        let b = found.expect("a building with two households behind one entrance");
        let building = db.building(b.id).await.unwrap().unwrap();

        // The building page links to its form, which holds the current values.
        let r = page(&app, &community, &format!("/registry/buildings/{}", b.id)).await;
        assert!(r.body.contains(&format!("/registry/buildings/{}/edit", b.id)), "{name}");
        assert!(r.body.contains("住宅"), "{name}: the building's use is shown");
        let form = page(&app, &community, &format!("/registry/buildings/{}/edit", b.id)).await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        assert_eq!(
            input_value(&form.body, "building").as_deref(),
            Some(building.name.as_str())
        );
        assert_eq!(input_value(&form.body, "floors"), Some(building.floors.to_string()));
        let revision = input_value(&form.body, "revision").unwrap();

        // 0 floors: refused naming the field, the form shows what was typed, nothing changes.
        let r = submit(
            &app,
            &community,
            &format!("/registry/buildings/{}/edit", b.id),
            &[
                ("revision", &revision),
                ("building", "改名楼"),
                ("address", &building.address),
                ("floors", "0"),
                ("use", "commercial"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"floors\""), "{name}: {}", r.body);
        assert!(r.body.contains("层数"), "{name}: the message names the field");
        assert_eq!(input_value(&r.body, "building").as_deref(), Some("改名楼"));
        assert_eq!(db.building(b.id).await.unwrap().unwrap(), building, "{name}: changed");
        assert!(edits_of(&db, "building", b.id).await.is_empty());

        // A good edit is saved and audited with old and new values.
        let r = submit(
            &app,
            &community,
            &format!("/registry/buildings/{}/edit", b.id),
            &[
                ("revision", &revision),
                ("building", "改名楼"),
                ("address", &building.address),
                ("floors", "9"),
                ("use", "商业"),
                ("lon", "131.0123"),
                ("lat", "45.7712"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = db.building(b.id).await.unwrap().unwrap();
        assert_eq!(
            (after.name.as_str(), after.floors, after.use_kind.as_str(), after.lon),
            ("改名楼", 9, "commercial", Some(131.0123)),
            "{name}"
        );
        assert_eq!(after.revision, building.revision + 1);
        let edits = edits_of(&db, "building", b.id).await;
        assert_eq!(edits.len(), 1, "{name}");
        assert_eq!(edits[0].actor, "community");
        assert_eq!(edits[0].detail["fields"]["name"]["from"], building.name.as_str());
        assert_eq!(edits[0].detail["fields"]["name"]["to"], "改名楼");
        assert_eq!(edits[0].detail["fields"]["floors"]["to"], 9);
        let r = page(&app, &community, &format!("/registry/buildings/{}", b.id)).await;
        assert!(r.body.contains("改名楼") && r.body.contains("商业"), "{name}");

        // The same stale form again: 409, nothing changed.
        let r = submit(
            &app,
            &community,
            &format!("/registry/buildings/{}/edit", b.id),
            &[
                ("revision", &revision),
                ("building", "又改名楼"),
                ("address", &building.address),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        assert_eq!(db.building(b.id).await.unwrap().unwrap().name, "改名楼");

        // A household: the room (personal data) is audited by name only, the area with values.
        let households = db.households_of(c.as_ref(), b.id).await.unwrap();
        let (h, other) = households
            .iter()
            .find_map(|h| {
                households
                    .iter()
                    .find(|o| o.id != h.id && o.entrance_id == h.entrance_id)
                    .map(|o| (h, o))
            })
            .unwrap();
        let r = page(&app, &community, &format!("/registry/households/{}", h.id)).await;
        assert!(
            r.body.contains(&format!("/registry/households/{}/edit", h.id)),
            "{name}"
        );
        {
            let r = submit(
                &app,
                &community,
                &format!("/registry/households/{}/edit", h.id),
                &[("revision", &h.revision.to_string()), ("room", &other.room)],
            )
            .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: a room taken");
            assert!(r.body.contains("data-field=\"room\""), "{name}: {}", r.body);
        }
        let r = submit(
            &app,
            &community,
            &format!("/registry/households/{}/edit", h.id),
            &[
                ("revision", &h.revision.to_string()),
                ("room", "9-909"),
                ("area_m2", "88"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = db.household(c.as_ref(), h.id).await.unwrap().unwrap();
        assert_eq!((after.room.as_str(), after.area_m2), ("9-909", Some(88)), "{name}");
        let edits = edits_of(&db, "household", h.id).await;
        assert_eq!(edits[0].detail["fields"]["room"], "changed", "{name}");
        assert_eq!(edits[0].detail["fields"]["area_m2"]["to"], 88, "{name}");
        assert!(!edits[0].detail.to_string().contains("9-909"), "{name}: a room audited");
        let r = page(&app, &community, &format!("/registry/households/{}", h.id)).await;
        assert!(r.body.contains("9-909") && r.body.contains("88 m²"), "{name}");
    }
}

#[tokio::test]
async fn compounds_and_organizations_are_corrected_within_scope_through_pages_and_the_api() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let community = sign_in(&app, &db, "community").await;
        let compound = db
            .compounds_within(COMMUNITY)
            .await
            .unwrap()
            .into_iter()
            .next()
            .expect("a compound in the community");

        // The organizations page links to the compound's form; an unknown property company is
        // refused naming the field.
        let r = page(&app, &community, &format!("/registry/organizations?within={COMMUNITY}")).await;
        assert!(
            r.body.contains(&format!("/registry/compounds/{}/edit", compound.id)),
            "{name}"
        );
        let form = page(&app, &community, &format!("/registry/compounds/{}/edit", compound.id)).await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        let revision = input_value(&form.body, "revision").unwrap();
        let r = submit(
            &app,
            &community,
            &format!("/registry/compounds/{}/edit", compound.id),
            &[
                ("revision", &revision),
                ("name", &compound.name),
                ("property_company", "91230900MA1B2C3D8Y"),
                ("owners_committee", "新业委会"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"property_company\""), "{name}: {}", r.body);
        let committee = db.owners_committee_of(compound.id).await.unwrap().map(|o| o.name);
        assert_ne!(committee.as_deref(), Some("新业委会"), "{name}: changed");

        // A good edit: the owners' committee renamed, the address set, both in one audit entry.
        let r = submit(
            &app,
            &community,
            &format!("/registry/compounds/{}/edit", compound.id),
            &[
                ("revision", &revision),
                ("name", &compound.name),
                ("address", "桃山区学府街99号"),
                ("property_company", ""),
                ("owners_committee", "新业委会"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        assert_eq!(
            db.owners_committee_of(compound.id).await.unwrap().unwrap().name,
            "新业委会",
            "{name}"
        );
        let after = db.compound(compound.id).await.unwrap().unwrap();
        assert_eq!(after.address, "桃山区学府街99号");
        assert_eq!(
            after.property_company_id, None,
            "{name}: the company left empty is removed"
        );
        let edits = edits_of(&db, "compound", compound.id).await;
        assert_eq!(
            edits[0].detail["fields"]["owners_committee"]["to"], "新业委会",
            "{name}"
        );

        // Member organizations through the API: only the fields given change.
        let t = token(&app, &db, "community").await;
        let org = db
            .member_organizations_within(STREET)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.community_code.as_deref() == Some(COMMUNITY))
            .expect("a member organization of the community");
        let r = get_as(&app, &format!("/api/v1/registry/member-orgs/{}", org.id), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["fields"]["name"], org.name.as_str());
        let revision = r.json()["revision"].as_i64().unwrap();
        let other_community = format!("{STREET}002");
        let r = patch_as(
            &app,
            &format!("/api/v1/registry/member-orgs/{}", org.id),
            &t,
            &serde_json::json!({"revision": revision, "fields": {"territory_code": other_community}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "territory_code", "{name}: {}", r.body);
        let r = patch_as(
            &app,
            &format!("/api/v1/registry/member-orgs/{}", org.id),
            &t,
            &serde_json::json!({"revision": revision, "fields": {"credit_code": "x"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        let r = patch_as(
            &app,
            &format!("/api/v1/registry/member-orgs/{}", org.id),
            &t,
            &serde_json::json!({"revision": revision, "fields": {"name": "学府社区新名单位", "kind": "社会组织"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["fields"]["kind"], "social_organization");
        let after = db.member_organization(org.id).await.unwrap().unwrap();
        assert_eq!(
            (after.name.as_str(), after.address.as_str()),
            ("学府社区新名单位", org.address.as_str())
        );
        let r = patch_as(
            &app,
            &format!("/api/v1/registry/member-orgs/{}", org.id),
            &t,
            &serde_json::json!({"revision": revision, "fields": {"name": "过期的修改"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);

        // A grid party organization cannot hang under another grid's organization.
        let party = db.party_organizations_within(COMMUNITY).await.unwrap();
        let grid_orgs: Vec<_> = party.iter().filter(|p| p.kind == "grid_organization").collect();
        assert!(grid_orgs.len() >= 2, "{name}: the community's grid party organizations");
        {
            let r = patch_as(
                &app,
                &format!("/api/v1/registry/party-orgs/{}", grid_orgs[0].id),
                &t,
                &serde_json::json!({"fields": {"parent": grid_orgs[1].code}}),
            )
            .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
            assert_eq!(r.json()["error"]["field"], "parent");
            assert_eq!(
                db.party_organization(grid_orgs[0].id).await.unwrap().unwrap().parent_id,
                grid_orgs[0].parent_id
            );
        }

        // Out of reach: another community's compound is 404; a grid worker may not correct.
        let elsewhere = db
            .compounds_within(STREET)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.community_code != COMMUNITY)
            .expect("a compound of another community");
        let r = page(&app, &community, &format!("/registry/compounds/{}/edit", elsewhere.id)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = page(&app, &gridworker, &format!("/registry/compounds/{}/edit", compound.id)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        let street = sign_in(&app, &db, "street").await;
        let r = page(&app, &street, &format!("/registry/compounds/{}/edit", elsewhere.id)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: the street reaches it");
    }
}

#[tokio::test]
async fn street_staff_correct_a_posted_office_of_their_street_through_the_page_and_the_api() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let street = sign_in(&app, &db, "street").await;
        let offices = db.posted_offices_within(STREET).await.unwrap();
        let office = offices
            .iter()
            .find(|o| o.department_code == "public-security")
            .cloned()
            .expect("the street's police station");
        let edit = format!("/registry/posted-offices/{}/edit", office.id);
        let api = format!("/api/v1/registry/posted-offices/{}", office.id);

        // The organizations page links the office to its form, which holds the current values.
        let r = page(&app, &street, &format!("/registry/organizations?within={STREET}000")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert!(r.body.contains(&edit), "{name}: {}", r.body);
        let form = page(&app, &street, &edit).await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        assert!(form.body.contains("修改派驻机构信息"), "{name}");
        assert_eq!(input_value(&form.body, "name").as_deref(), Some(office.name.as_str()));
        assert_eq!(
            input_value(&form.body, "department_code").as_deref(),
            Some("public-security")
        );
        let revision = input_value(&form.body, "revision").unwrap();

        // An unknown department is refused naming the field and the value; nothing changes.
        let r = submit(
            &app,
            &street,
            &edit,
            &[
                ("revision", &revision),
                ("name", "桃东派出所（新）"),
                ("department_code", "no-such-department"),
                ("street_code", &office.street_code),
                ("address", &office.address),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"department_code\""), "{name}: {}", r.body);
        assert!(r.body.contains("no-such-department"), "{name}: {}", r.body);
        assert_eq!(db.posted_office(office.id).await.unwrap().unwrap(), office, "{name}");

        // A good edit on the page: the name and the address, audited with old and new values.
        let r = submit(
            &app,
            &street,
            &edit,
            &[
                ("revision", &revision),
                ("name", "桃东派出所"),
                ("department_code", "public-security"),
                ("street_code", &office.street_code),
                ("address", "桃东街道学府街1号"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = db.posted_office(office.id).await.unwrap().unwrap();
        assert_eq!(
            (after.name.as_str(), after.address.as_str(), after.revision),
            ("桃东派出所", "桃东街道学府街1号", office.revision + 1),
            "{name}"
        );
        let edits = edits_of(&db, "posted_office", office.id).await;
        assert_eq!(edits.len(), 1, "{name}");
        assert_eq!(edits[0].action, "registry.posted_office.edit");
        assert_eq!(edits[0].detail["fields"]["name"]["from"], office.name.as_str());
        assert_eq!(edits[0].detail["fields"]["name"]["to"], "桃东派出所");
        assert_eq!(edits[0].detail["fields"]["address"]["to"], "桃东街道学府街1号");

        // Through the API: only the fields given change; a stale revision is refused.
        let t = token(&app, &db, "street").await;
        let r = get_as(&app, &api, &t).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["kind"], "posted-offices");
        assert_eq!(r.json()["fields"]["name"], "桃东派出所");
        assert_eq!(r.json()["fields"]["street_code"], office.street_code.as_str());
        let revision = r.json()["revision"].as_i64().unwrap();
        for (fields, field) in [
            (
                serde_json::json!({"department_code": "no-such-department"}),
                "department_code",
            ),
            // A department already posted to this street: one office per department and street.
            (serde_json::json!({"department_code": "justice"}), "department_code"),
            (serde_json::json!({"street_code": "230903012000"}), "street_code"),
            (serde_json::json!({"street_code": "230903011001"}), "street_code"),
            (serde_json::json!({"name": ""}), "name"),
        ] {
            let r = patch_as(
                &app,
                &api,
                &t,
                &serde_json::json!({"revision": revision, "fields": fields}),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name} {fields}: {}",
                r.body
            );
            assert_eq!(r.json()["error"]["field"], field, "{name} {fields}: {}", r.body);
        }
        let r = patch_as(
            &app,
            &api,
            &t,
            &serde_json::json!({"revision": revision, "fields": {"department_code": "no-such-department"}}),
        )
        .await;
        assert!(
            r.body.contains("no-such-department"),
            "{name}: the value is named: {}",
            r.body
        );
        let r = patch_as(
            &app,
            &api,
            &t,
            &serde_json::json!({"revision": revision, "fields": {"address": "桃东街道学府街2号"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
        assert_eq!(r.json()["fields"]["address"], "桃东街道学府街2号");
        assert_eq!(r.json()["fields"]["name"], "桃东派出所", "{name}: kept");
        assert_eq!(r.json()["revision"], revision + 1);
        let r = patch_as(
            &app,
            &api,
            &t,
            &serde_json::json!({"revision": revision, "fields": {"name": "过期的修改"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "revision", "{name}: {}", r.body);
        let after = db.posted_office(office.id).await.unwrap().unwrap();
        assert_eq!(
            (after.name.as_str(), after.address.as_str(), after.revision),
            ("桃东派出所", "桃东街道学府街2号", office.revision + 2),
            "{name}: the refused edits changed nothing"
        );
        assert_eq!(edits_of(&db, "posted_office", office.id).await.len(), 2, "{name}");

        // Out of reach: another street's office is 404 on the page and through the API; a
        // community worker does not reach the street; a grid worker may not correct.
        let admin = token(&app, &db, "admin").await;
        let request = Request::post("/api/v1/registry/import/posted-offices?file=p.csv")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(
                "部门代码,机构名称,所在街道代码,地址\njustice,别的街道司法所,230903012000,别处\n",
            ))
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);
        let other = db.posted_offices_within("230903012").await.unwrap().remove(0);
        let r = page(&app, &street, &format!("/registry/posted-offices/{}/edit", other.id)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        let r = patch_as(
            &app,
            &format!("/api/v1/registry/posted-offices/{}", other.id),
            &t,
            &serde_json::json!({"fields": {"name": "越权的修改"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.body);
        assert_eq!(db.posted_office(other.id).await.unwrap().unwrap(), other, "{name}");
        assert!(edits_of(&db, "posted_office", other.id).await.is_empty(), "{name}");
        let community = sign_in(&app, &db, "community").await;
        let r = page(&app, &community, &edit).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
        let r = page(&app, &community, &format!("/registry/organizations?within={STREET}000")).await;
        assert!(!r.body.contains(&edit), "{name}: no link where it may not be corrected");
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = page(&app, &gridworker, &edit).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
        assert_eq!(edits_of(&db, "posted_office", office.id).await.len(), 2, "{name}");
    }
}

#[tokio::test]
async fn a_party_member_found_by_id_number_is_corrected_and_the_view_is_audited() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let t = token(&app, &db, "community").await;
        let committee = db
            .party_organizations_within(COMMUNITY)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.kind == "community_committee")
            .expect("the community's party committee");
        let file = format!(
            "姓名,身份证号,手机号,所在党组织编号,入党日期\n李建国,230903197803120034,13904670001,{},2005-07-01\n",
            committee.code
        );
        let request = Request::post("/api/v1/registry/import/party-members?file=m.csv")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(file))
            .unwrap();
        let r = send(&app, request).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {}", r.body);

        // Found only by the exact ID number; a bad number is named, masked.
        let community = sign_in(&app, &db, "community").await;
        let r = page(&app, &community, "/registry/party-members?id_number=230903197803120035").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(
            !r.body.contains("230903197803120035"),
            "{name}: the typed number shown in full"
        );
        let r = page(&app, &community, "/registry/party-members?id_number=230903197803120034").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
        let id: i64 = location.split('/').nth(3).unwrap().parse().unwrap();
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = page(&app, &gridworker, &location).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");

        // Opening the form shows party data in full: recorded first.
        let form = page(&app, &community, &location).await;
        assert_eq!(form.status, StatusCode::OK, "{name}: {}", form.body);
        assert_eq!(input_value(&form.body, "phone").as_deref(), Some("13904670001"));
        assert_eq!(input_value(&form.body, "joined_on").as_deref(), Some("2005-07-01"));
        let entries = gongzhi_store::audit::entries_about(&db, "party_member", &id.to_string())
            .await
            .unwrap();
        let view = entries
            .iter()
            .find(|e| e.action == "registry.party_member.reveal")
            .expect("the view is audited");
        assert_eq!(view.actor, "community");

        // An employer not registered is refused, naming it; nothing changes.
        let revision = input_value(&form.body, "revision").unwrap();
        let fields = |employer: &str| -> Vec<(&'static str, String)> {
            vec![
                ("revision", revision.clone()),
                ("name", "李建国".into()),
                ("phone", "13904670002".into()),
                ("party_org", committee.code.clone()),
                ("employer", employer.into()),
                ("residence_community", COMMUNITY.into()),
                ("joined_on", "2006-07-01".into()),
            ]
        };
        let bad = fields("无此单位");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = submit(&app, &community, &location, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("data-field=\"employer\""), "{name}: {}", r.body);
        let c = cipher();
        let before = db.party_member(c.as_ref(), id).await.unwrap().unwrap();
        assert_eq!(before.phone.as_deref(), Some("13904670001"), "{name}: changed");

        let employer = db.member_organizations_within(STREET).await.unwrap().remove(0).name;
        let good = fields(&employer);
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = submit(&app, &community, &location, &good).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let after = db.party_member(c.as_ref(), id).await.unwrap().unwrap();
        assert_eq!(after.phone.as_deref(), Some("13904670002"), "{name}");
        assert_eq!(after.joined_on, chrono::NaiveDate::from_ymd_opt(2006, 7, 1), "{name}");
        assert_eq!(after.kind, "employed", "{name}: a member with an employer is employed");
        assert!(after.employer_id.is_some(), "{name}");
        let edit = gongzhi_store::audit::entries_about(&db, "party_member", &id.to_string())
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "registry.party_member.edit")
            .expect("the edit is audited");
        let detail = edit.detail.to_string();
        assert!(
            detail.contains("phone") && detail.contains("joined_on"),
            "{name}: {detail}"
        );
        assert!(
            !detail.contains("13904670002") && !detail.contains("2006-07-01"),
            "{name}: party data in the audit record: {detail}"
        );
        let raw = db.raw_text(&["party_members", "audit_entries"]).await;
        assert!(
            !raw.contains("13904670002") && !raw.contains("2006-07-01"),
            "{name}: in clear"
        );
    }
}

#[tokio::test]
async fn a_community_worker_sets_and_clears_the_chiefs_of_a_building() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let community = sign_in(&app, &db, "community").await;
        let b = db.buildings_within(COMMUNITY, 1).await.unwrap().remove(0);
        let building = db.building(b.id).await.unwrap().unwrap();
        let c = cipher();
        let chiefs = |db: &TestDb| {
            let c = c.clone();
            let db = db.db.clone();
            let grid = building.grid_code.clone();
            async move {
                db.assignments_at_building(c.as_ref(), b.id, &grid)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|a| a.kind != "grid_worker")
                    .collect::<Vec<_>>()
            }
        };
        let before = chiefs(&db).await;
        let uri = format!("/registry/buildings/{}/chiefs", b.id);

        // A bad phone is refused naming it; nothing changes.
        let r = submit(
            &app,
            &community,
            &uri,
            &[("entrance", ""), ("name", "郑楼长"), ("phone", "12345")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);
        assert!(r.body.contains("phone"), "{name}: {}", r.body);
        assert_eq!(chiefs(&db).await, before, "{name}: changed");
        let r = submit(&app, &community, &uri, &[("entrance", "99"), ("name", "郑楼长")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.body);

        // The building chief replaced: one building chief, the new one, phone masked on the page.
        let r = submit(
            &app,
            &community,
            &uri,
            &[("entrance", ""), ("name", "郑楼长"), ("phone", "13945678901")],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let now = chiefs(&db).await;
        let building_chiefs: Vec<_> = now.iter().filter(|a| a.kind == "building_chief").collect();
        assert_eq!(building_chiefs.len(), 1, "{name}");
        assert_eq!(building_chiefs[0].person_name, "郑楼长");
        let page_now = page(&app, &community, &format!("/registry/buildings/{}", b.id)).await;
        assert!(
            page_now.body.contains("郑楼长") && page_now.body.contains("139****8901"),
            "{name}"
        );
        assert!(!page_now.body.contains("13945678901"), "{name}: a phone in full");
        assert!(
            !db.raw_text(&["staff_assignments"]).await.contains("13945678901"),
            "{name}: in clear"
        );
        let set = gongzhi_store::audit::entries_about(&db, "building", &b.id.to_string())
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "registry.assignment.set")
            .expect("audited");
        assert_eq!(set.actor, "community");

        // Entrance 1's chief cleared with an empty name.
        let r = submit(&app, &community, &uri, &[("entrance", "1"), ("name", "")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{name}: {}", r.body);
        let entrance_one = db
            .entrances_of(b.id)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.number == 1)
            .unwrap();
        assert!(
            !chiefs(&db).await.iter().any(|a| a.entrance_id == Some(entrance_one.id)),
            "{name}: entrance 1 still has a chief"
        );
        // A grid worker may not.
        let gridworker = sign_in(&app, &db, "gridworker").await;
        let r = submit(&app, &gridworker, &uri, &[("entrance", ""), ("name", "某人")]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}");
    }
}

#[tokio::test]
async fn a_streets_tables_export_as_their_templates_and_import_into_a_fresh_database() {
    for (db, app) in apps().await {
        let name = db.backend_name();
        let t = token(&app, &db, "admin").await;
        let (fresh, fresh_state) = demo_apps()
            .await
            .into_iter()
            .find(|(d, _)| d.backend_name() == name)
            .unwrap();
        let fresh_app = gongzhi_web::router(fresh_state.with_cipher(cipher()));
        let fresh_token = token(&fresh_app, &fresh, "admin").await;
        let street = format!("{STREET}000");
        // In the order imports need: companies, compounds, organizations, party organizations.
        for (kind, ext) in [
            ("property-companies", "csv"),
            ("compounds", "xlsx"),
            ("member-orgs", "xlsx"),
            ("party-orgs", "csv"),
        ] {
            let r = get_as(&app, &format!("/registry/export/{kind}.{ext}?within={street}"), &t).await;
            assert_eq!(r.status, StatusCode::OK, "{name} {kind}: {}", r.body);
            if ext == "csv" {
                let header = r.body.lines().next().unwrap_or("");
                assert!(header.contains("名称(name)"), "{name} {kind}: {header}");
            }
            let request = Request::post(format!("/api/v1/registry/import/{kind}?file={kind}.{ext}"))
                .header(header::AUTHORIZATION, format!("Bearer {fresh_token}"))
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(Body::from(r.bytes.clone()))
                .unwrap();
            let back = send(&fresh_app, request).await;
            assert_eq!(back.status, StatusCode::CREATED, "{name} {kind}: {}", back.body);
        }
        let names = |orgs: Vec<gongzhi_core::orgs::registry::MemberOrganization>| {
            orgs.into_iter()
                .map(|o| (o.credit_code, o.name, o.kind, o.address))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(fresh.member_organizations_within(STREET).await.unwrap()),
            names(db.member_organizations_within(STREET).await.unwrap()),
            "{name}"
        );
        let party = |orgs: Vec<gongzhi_store::orgs::PartyOrganization>| {
            orgs.into_iter()
                .map(|o| (o.code, o.name, o.kind, o.territory_code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            party(fresh.party_organizations_within(STREET).await.unwrap()),
            party(db.party_organizations_within(STREET).await.unwrap()),
            "{name}"
        );
        let compounds = |c: Vec<gongzhi_store::territory::places::Compound>| {
            c.into_iter()
                .map(|c| (c.community_code, c.name, c.address))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            compounds(fresh.compounds_within(STREET).await.unwrap()),
            compounds(db.compounds_within(STREET).await.unwrap()),
            "{name}"
        );
        assert_eq!(
            fresh.owners_committees_within(STREET).await.unwrap().len(),
            db.owners_committees_within(STREET).await.unwrap().len(),
            "{name}"
        );
    }
}
