//! The territory store on both databases.

use chrono::{NaiveDate, Utc};
use geo::{MultiPolygon, Rect, coord};
use gongzhi_core::audit::SYSTEM_ACTOR;
use gongzhi_core::territory::geojson::{GridFeature, ImportProblem};
use gongzhi_core::territory::{DivisionCode, GridCode, Kind, Level, Node, TerritoryCode};
use gongzhi_store::StoreError;
use gongzhi_store::audit::verify;
use gongzhi_store::testing::{TestDb, audit_key};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn node(code: &str, name: &str, kind: Kind) -> Node {
    Node {
        code: TerritoryCode::parse(code).unwrap(),
        name: name.into(),
        kind,
        households: None,
        boundary: None,
        valid_from: day("2023-06-30"),
        valid_to: None,
    }
}

fn square(x: f64, y: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        Rect::new(coord! {x: x, y: y}, coord! {x: x + 0.01, y: y + 0.01}).to_polygon(),
    ])
}

fn grid(code: &str, households: i64, x: f64) -> Node {
    Node {
        households: Some(households),
        boundary: Some(square(x, 45.7)),
        ..node(code, &format!("网格{code}"), Kind::Grid)
    }
}

fn small_tree() -> Vec<Node> {
    vec![
        node("230900000000", "七台河市", Kind::City),
        node("230903000000", "桃山区", Kind::District),
        node("230903011000", "桃东街道", Kind::Subdistrict),
        node("230903011001", "学府社区", Kind::Community),
        node("230903011002", "同仁社区", Kind::Community),
        grid("230903011001001", 280, 131.00),
        grid("230903011001002", 300, 131.01),
        grid("230903011002001", 250, 131.02),
    ]
}

fn code(s: &str) -> TerritoryCode {
    TerritoryCode::parse(s).unwrap()
}

#[tokio::test]
async fn a_tree_is_stored_and_read_back_by_level_children_and_subtree() {
    for db in TestDb::all().await {
        assert!(db.territory_is_empty().await.unwrap());
        db.insert_nodes(&small_tree(), Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        assert!(!db.territory_is_empty().await.unwrap(), "{}", db.backend_name());

        let street = db.node(&code("230903011000")).await.unwrap().unwrap();
        assert_eq!(street.name, "桃东街道");
        assert_eq!(street.kind, Kind::Subdistrict);

        let children = db.children(&code("230903011001")).await.unwrap();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].households, Some(280));
        assert_eq!(children[0].boundary, Some(square(131.00, 45.7)));

        assert_eq!(db.grids_within(&code("230903000000")).await.unwrap().len(), 3);
        assert_eq!(db.grids_within(&code("230903011002")).await.unwrap().len(), 1);
        assert_eq!(db.grids_within(&code("230904000000")).await.unwrap().len(), 0);
        assert_eq!(db.nodes_at_level(Level::Community).await.unwrap().len(), 2);
        assert!(db.node(&code("230903011003")).await.unwrap().is_none());

        let summary = db.summary().await.unwrap();
        assert_eq!(summary.count_level(Level::Grid), 3);
        assert_eq!(summary.households, 830);
        assert_eq!(summary.gridded_communities, 2);
        assert_eq!(db.territory_revision().await.unwrap(), 1);

        let totals = db.subtree_totals(&code("230903000000")).await.unwrap();
        assert_eq!((totals.grids, totals.households), (3, 830));
        assert_eq!(totals.of_child(&code("230903011000")), (3, 830));
        let totals = db.subtree_totals(&code("230903011000")).await.unwrap();
        assert_eq!(totals.of_child(&code("230903011001")), (2, 580));
        assert_eq!(totals.of_child(&code("230903011002")), (1, 250));

        // The insert is recorded once, in the audit chain, naming every node.
        let audit = gongzhi_store::audit::entries(&db, 0, 10).await.unwrap();
        assert_eq!(audit.len(), 1, "{}", db.backend_name());
        assert_eq!(audit[0].action, "territory.nodes.insert");
        assert_eq!(audit[0].actor, "system");
        assert_eq!(audit[0].subject_id, "230900000000"); // the city holds them all
        assert_eq!(audit[0].detail["count"], small_tree().len());
        assert!(verify(&db, &audit_key()).await.unwrap().is_intact());
    }
}

#[tokio::test]
async fn a_node_whose_kind_does_not_fit_its_code_is_refused_and_nothing_is_written() {
    for db in TestDb::all().await {
        let mut tree = small_tree();
        tree.push(node("230903012000", "桃南街道", Kind::Community));
        let err = db
            .insert_nodes(&tree, Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidNode { .. }), "{err}");
        assert!(
            db.territory_is_empty().await.unwrap(),
            "{}: half a tree was written",
            db.backend_name()
        );
        assert_eq!(
            gongzhi_store::audit::head(&db).await.unwrap().seq,
            0,
            "the audit entry was kept"
        );
    }
}

fn feature(code: &str, name: &str, households: i64, x: f64) -> GridFeature {
    GridFeature {
        code: GridCode::parse(code).unwrap(),
        name: name.into(),
        households,
        boundary: square(x, 45.7),
    }
}

#[tokio::test]
async fn importing_grids_versions_changed_ones_and_keeps_history() {
    for db in TestDb::all().await {
        db.insert_nodes(&small_tree(), Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let before = db.territory_revision().await.unwrap();
        let grids = vec![
            feature("230903011001001", "网格230903011001001", 280, 131.00), // unchanged
            feature("230903011001002", "学府社区第2网格", 310, 131.01),     // changed
            feature("230903011001003", "学府社区第3网格", 199, 131.03),     // new
        ];
        let report = db
            .import_grids(&grids, day("2026-11-27"), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        assert_eq!(
            (report.created, report.changed, report.unchanged),
            (1, 1, 1),
            "{}",
            db.backend_name()
        );
        assert_eq!(db.territory_revision().await.unwrap(), before + 1);

        let history = db.node_history(&code("230903011001002")).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].valid_to, Some(day("2026-11-27")));
        assert_eq!(history[1].households, Some(310));
        assert_eq!(history[1].valid_to, None);
        assert_eq!(db.summary().await.unwrap().households, 280 + 310 + 250 + 199);

        // Importing the same file again changes nothing.
        let again = db
            .import_grids(&grids, day("2026-11-28"), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        assert_eq!((again.created, again.changed, again.unchanged), (0, 0, 3));
        assert_eq!(db.territory_revision().await.unwrap(), before + 1);

        // One entry for the tree, one for the import that changed something, none for the other.
        let audit = gongzhi_store::audit::entries(&db, 0, 10).await.unwrap();
        assert_eq!(audit.len(), 2, "{}", db.backend_name());
        assert_eq!(audit[1].action, "territory.grid.import");
        assert_eq!(audit[1].subject_id, "230903011001");
        assert_eq!(audit[1].detail["created"], serde_json::json!(["230903011001003"]));
        assert_eq!(audit[1].detail["changed"], serde_json::json!(["230903011001002"]));
        assert_eq!(audit[1].detail["valid_from"], "2026-11-27");
        assert!(verify(&db, &audit_key()).await.unwrap().is_intact());
    }
}

#[tokio::test]
async fn an_import_naming_an_unknown_community_writes_nothing() {
    for db in TestDb::all().await {
        db.insert_nodes(&small_tree(), Utc::now(), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap();
        let grids = vec![
            feature("230903011001004", "新网格", 100, 131.04),
            feature("230903011009001", "无主网格", 100, 131.05),
        ];
        let err = db
            .import_grids(&grids, day("2026-11-27"), &audit_key(), SYSTEM_ACTOR)
            .await
            .unwrap_err();
        match err {
            StoreError::Import(e) => {
                assert_eq!(e.feature, Some(1));
                assert_eq!(e.problem, ImportProblem::UnknownCommunity("230903011009".into()));
            }
            other => panic!("{other}"),
        }
        assert!(
            db.node(&code("230903011001004")).await.unwrap().is_none(),
            "{}: the first grid was kept",
            db.backend_name()
        );
        assert_eq!(
            db.grids_within(&TerritoryCode::Division(DivisionCode::parse("230903000000").unwrap()))
                .await
                .unwrap()
                .len(),
            3
        );
    }
}
