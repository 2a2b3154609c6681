//! The registry's store on both databases: places, people sealed at rest (the raw database holds
//! no ID number or phone in clear), exact lookup through the keyed index, edits and full views
//! audited, all-or-nothing batches.

use gongzhi_core::orgs::CreditCode;
use gongzhi_core::orgs::registry::{NewMemberOrganization, NewPartyOrganization, OrgKind, PartyOrgKind};
use gongzhi_core::people::cipher::SoftwareCipher;
use gongzhi_core::people::id_number::{IdNumber, check_character};
use gongzhi_core::people::registry::{NewResidentRecord, ResidentInput};
use gongzhi_core::territory::GridCode;
use gongzhi_core::territory::places::{NewBuilding, NewCompound, NewHousehold};
use gongzhi_store::StoreError;
use gongzhi_store::testing::{TestDb, audit_key};

const GRID: &str = "230903011001001";

fn cipher() -> SoftwareCipher {
    SoftwareCipher::new(&[42u8; 32])
}

fn id_number(seq: u32) -> String {
    let first17 = format!("230903198001{:02}{:03}", 1 + seq % 28, seq % 1000);
    format!("{first17}{}", check_character(&first17).unwrap())
}

fn person(household_id: i64, name: &str, seq: u32, relation: &str) -> NewResidentRecord {
    ResidentInput {
        name: name.into(),
        id_number: id_number(seq),
        phone: format!("1990464{:04}", seq),
        relation: relation.into(),
        residence: "户籍人口".into(),
        registered_address: "七台河市桃山区学府街道学府社区3号楼2单元502".into(),
        care_tags: "独居老人".into(),
        party_member: "是".into(),
    }
    .validate(household_id)
    .unwrap()
}

/// One compound, one building with two entrances, two households.
async fn places(db: &TestDb) -> (i64, Vec<i64>) {
    let key = audit_key();
    let compound = db
        .insert_compounds(
            &key,
            "admin",
            &[NewCompound {
                code: "230903011001-C01".into(),
                name: "学府小区".into(),
                community: GridCode::parse(GRID).unwrap().community(),
                address: "七台河市桃山区学府街3号".into(),
                lon: Some(131.0),
                lat: Some(45.77),
                outline: None,
                property_company_id: None,
            }],
        )
        .await
        .unwrap()[0];
    let building = db
        .insert_buildings(
            &key,
            "admin",
            &[NewBuilding {
                code: format!("{GRID}-B01"),
                compound_id: Some(compound),
                grid: GridCode::parse(GRID).unwrap(),
                name: "3号楼".into(),
                address: "七台河市桃山区学府街3号3号楼".into(),
                floors: 6,
                entrances: 2,
                use_kind: "residential".into(),
                lon: Some(131.0),
                lat: Some(45.77),
                outline: None,
            }],
        )
        .await
        .unwrap()[0];
    let households = db
        .insert_households(
            &cipher(),
            &key,
            "admin",
            &[
                NewHousehold {
                    code: format!("{GRID}-B01-0001"),
                    building_id: building,
                    entrance: Some(2),
                    room: "2-502".into(),
                    area_m2: Some(86),
                },
                NewHousehold {
                    code: format!("{GRID}-B01-0002"),
                    building_id: building,
                    entrance: Some(1),
                    room: "1-101".into(),
                    area_m2: None,
                },
            ],
        )
        .await
        .unwrap();
    (building, households)
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
async fn residents_are_sealed_at_rest_and_found_by_exact_id_number_or_phone() {
    for db in TestDb::all().await {
        let (building, households) = places(&db).await;
        let c = cipher();
        let people = vec![
            person(households[0], "王秀英", 1, "户主"),
            person(households[0], "李建国", 2, "配偶"),
            person(households[1], "张伟", 3, "户主"),
        ];
        let ids = db
            .insert_resident_records(&c, &audit_key(), "admin", "test", &people)
            .await
            .unwrap();
        assert_eq!(ids.len(), 3);

        let raw = raw_text(&db).await;
        for p in &people {
            assert!(
                !raw.contains(p.id_number.as_str()),
                "{}: an ID number in clear",
                db.backend_name()
            );
            let phone = p.phone.as_ref().unwrap().as_str();
            assert!(!raw.contains(phone), "{}: a phone in clear", db.backend_name());
        }
        assert!(
            !raw.contains("学府社区3号楼2单元502"),
            "{}: an address in clear",
            db.backend_name()
        );
        assert!(!raw.contains("2-502"), "{}: a room in clear", db.backend_name());

        let found = db
            .find_resident_by_id_number(&c, &IdNumber::parse(&id_number(2)).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.name, "李建国");
        assert_eq!(found.id, ids[1]);
        let by_phone = db
            .find_residents_by_phone(&c, people[2].phone.as_ref().unwrap())
            .await
            .unwrap();
        assert_eq!(by_phone.iter().map(|r| r.id).collect::<Vec<_>>(), vec![ids[2]]);
        let home = db.residents_of_household(&c, households[0]).await.unwrap();
        assert_eq!(home[0].name, "王秀英");
        assert!(home[0].party_member);
        let masked = home[0].masked(Default::default());
        assert_eq!(masked.id_number, "2****************".to_string() + &id_number(1)[17..]);
        assert_eq!(masked.phone.as_deref(), Some("199****0001"));
        let rooms: Vec<String> = db
            .households_of(&c, building)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.room)
            .collect();
        assert_eq!(rooms, ["2-502", "1-101"]);

        // Another key opens nothing.
        let other = SoftwareCipher::new(&[1u8; 32]);
        assert!(db.resident_record(&other, ids[0]).await.is_err());
        let dups = db
            .resident_ids_by_id_numbers(
                &c,
                &[
                    IdNumber::parse(&id_number(3)).unwrap(),
                    IdNumber::parse(&id_number(9)).unwrap(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[&id_number(3)], ids[2]);
    }
}

#[tokio::test]
async fn a_batch_with_a_duplicate_or_an_unknown_household_writes_nothing() {
    for db in TestDb::all().await {
        let (_, households) = places(&db).await;
        let c = cipher();
        let dup = vec![
            person(households[0], "甲", 1, "户主"),
            person(households[1], "乙", 1, "户主"),
        ];
        assert!(
            db.insert_resident_records(&c, &audit_key(), "admin", "test", &dup)
                .await
                .is_err()
        );
        let unknown = vec![person(households[0], "甲", 1, "户主"), person(99_999, "乙", 2, "户主")];
        let e = db
            .insert_resident_records(&c, &audit_key(), "admin", "test", &unknown)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Unknown { what: "household", .. }));
        assert_eq!(db.registry_counts("").await.unwrap().residents, 0);
    }
}

#[tokio::test]
async fn edits_and_full_views_are_audited_with_fields_and_reason_never_values() {
    for db in TestDb::all().await {
        let (_, households) = places(&db).await;
        let c = cipher();
        let key = audit_key();
        let id = db
            .insert_resident_records(&c, &key, "admin", "form", &[person(households[0], "王秀英", 1, "户主")])
            .await
            .unwrap()[0];
        let mut changed = person(households[0], "王秀英", 1, "户主");
        changed.phone = Some(gongzhi_core::people::registry::Phone::parse("13900000000").unwrap());
        let c1 = db
            .update_resident_record(&c, &key, "worker", id, 0, &changed)
            .await
            .unwrap();
        assert_eq!(c1.fields, ["phone"]);
        // A stale revision changes nothing.
        assert!(matches!(
            db.update_resident_record(&c, &key, "worker", id, 0, &person(households[0], "王", 1, "户主"))
                .await,
            Err(StoreError::Conflict { .. })
        ));
        let seen = db
            .reveal_resident(&c, &key, "worker", id, "走访核实")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen.phone.as_deref(), Some("13900000000"));
        let entries = gongzhi_store::audit::entries_about(&db, "resident_record", &id.to_string())
            .await
            .unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "registry.resident.add",
                "registry.resident.edit",
                "registry.resident.reveal"
            ]
        );
        assert_eq!(entries[2].actor, "worker");
        assert_eq!(entries[2].detail["reason"], "走访核实");
        let all = serde_json::to_string(&entries.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap();
        assert!(!all.contains("13900000000") && !all.contains(&id_number(1)));
    }
}

#[tokio::test]
async fn organizations_and_party_structure_hang_together() {
    for db in TestDb::all().await {
        let key = audit_key();
        let org = db
            .insert_member_organizations(
                &key,
                "admin",
                &[NewMemberOrganization {
                    credit_code: CreditCode::from_parts("91", "230903", "MA1C0000").unwrap(),
                    name: "七台河市某某热力有限公司".into(),
                    kind: OrgKind::Enterprise,
                    community_code: Some("230903011001".into()),
                    street_code: "230903011000".into(),
                    address: "学府街1号".into(),
                }],
            )
            .await;
        let org = org.unwrap()[0];
        let orgs = [
            (
                "P-230903011000",
                PartyOrgKind::StreetWorkingCommittee,
                None,
                "230903011000",
            ),
            (
                "P-230903011001",
                PartyOrgKind::CommunityCommittee,
                Some("P-230903011000"),
                "230903011001",
            ),
            (
                "P-230903011001001",
                PartyOrgKind::GridOrganization,
                Some("P-230903011001"),
                GRID,
            ),
        ];
        let new: Vec<NewPartyOrganization> = orgs
            .iter()
            .map(|(code, kind, parent, territory)| NewPartyOrganization {
                code: code.to_string(),
                name: format!("{code} 党组织"),
                kind: *kind,
                parent_code: parent.map(str::to_string),
                territory_code: territory.to_string(),
                organization_id: None,
            })
            .collect();
        db.insert_party_organizations(&key, "admin", &new).await.unwrap();
        // A grid organization cannot hang under a street's committee.
        let wrong = NewPartyOrganization {
            code: "P-X".into(),
            name: "x".into(),
            kind: PartyOrgKind::GridOrganization,
            parent_code: Some("P-230903011000".into()),
            territory_code: GRID.into(),
            organization_id: Some(org),
        };
        assert!(db.insert_party_organizations(&key, "admin", &[wrong]).await.is_err());
        let counts = db.org_counts("230903011").await.unwrap();
        assert_eq!(counts.member_organizations, 1);
        assert_eq!(counts.party_organizations["grid_organization"], 1);
        assert_eq!(counts.party_organizations.values().sum::<i64>(), 3);
    }
}

#[tokio::test]
async fn the_personal_data_key_is_rotated_in_one_transaction_and_audited() {
    for db in TestDb::all().await {
        let name = db.backend_name();
        let (_, households) = places(&db).await;
        let (old, new) = (cipher(), SoftwareCipher::new(&[43u8; 32]));
        let people = vec![
            person(households[0], "王秀英", 1, "户主"),
            person(households[1], "张伟", 3, "户主"),
        ];
        db.insert_resident_records(&old, &audit_key(), "admin", "test", &people)
            .await
            .unwrap();
        let wrong = SoftwareCipher::new(&[44u8; 32]);
        // A key that does not open the data: refused, naming the column, nothing changed.
        let e = db
            .rotate_personal_data_key(&wrong, &new, &audit_key(), "admin", &|_, _| {})
            .await
            .unwrap_err();
        assert!(e.to_string().contains("does not open"), "{name}: {e}");
        let someone = IdNumber::parse(&id_number(3)).unwrap();
        assert!(
            db.find_resident_by_id_number(&old, &someone).await.unwrap().is_some(),
            "{name}"
        );

        let seen = std::sync::Mutex::new(Vec::new());
        let rotated = db
            .rotate_personal_data_key(&old, &new, &audit_key(), "admin", &|table, n| {
                seen.lock().unwrap().push((table.to_string(), n))
            })
            .await
            .unwrap();
        assert!(rotated.values >= 2 * 5 + 2, "{name}: {rotated:?}");
        assert!(
            seen.lock()
                .unwrap()
                .iter()
                .any(|(t, n)| t == "resident_records" && *n == 2)
        );
        // The new key finds and opens everyone; the old one no longer does.
        let found = db.find_resident_by_id_number(&new, &someone).await.unwrap().unwrap();
        assert_eq!(
            (found.name.as_str(), found.id_number.as_str()),
            ("张伟", someone.as_str())
        );
        assert_eq!(found.care_tags, people[1].care_tags, "{name}");
        assert!(
            db.find_resident_by_id_number(&old, &someone).await.unwrap().is_none(),
            "{name}"
        );
        let rooms: Vec<String> = db
            .households_of(
                &new,
                db.household(&new, households[0]).await.unwrap().unwrap().building_id,
            )
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.room)
            .collect();
        assert!(rooms.contains(&"2-502".to_string()), "{name}: {rooms:?}");
        assert!(
            db.household(&old, households[0]).await.is_err(),
            "{name}: the old key opens a room"
        );
        let audit = gongzhi_store::audit::entries(&db, 0, 1_000).await.unwrap();
        let entry = audit
            .iter()
            .find(|e| e.action == "registry.key.rotate")
            .expect("audited");
        assert_eq!(entry.detail["values"], rotated.values, "{name}");
        assert!(
            gongzhi_store::audit::verify(&db, &audit_key())
                .await
                .unwrap()
                .is_intact(),
            "{name}"
        );
    }
}
