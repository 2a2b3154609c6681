//! The territory pages: the city tree with a map of its grids, and a page per node.

use std::collections::HashMap;

use crate::json::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use gongzhi_core::Lang;
use gongzhi_core::cases::flow::State as CaseState;
use gongzhi_core::cases::taxonomy::TypeCode;
use gongzhi_core::territory::{Level, Node};
use serde::Deserialize;

use super::parse_code;
use crate::conditional::{self, Audience, Tag, Validators};
use crate::map::{DENSITY, Dot, Grain, GroupLink, MapSpec, Shape, colour, density_classes, density_colour, render_map};
use crate::pages::Chrome;
use crate::pages::local_time;
use crate::people::session::Staff;
use crate::{ApiError, AppState};

struct ChildRow {
    code: String,
    name: String,
    kind_label: &'static str,
    grids: i64,
    households: String,
    colour: &'static str,
}

#[derive(Template)]
#[template(path = "territory.html")]
struct TerritoryPage {
    c: Chrome,
    crumbs: Vec<(String, String)>,
    name: String,
    code: String,
    kind_label: &'static str,
    valid_from: String,
    grids: i64,
    households: String,
    cards: Vec<(&'static str, String)>,
    children: Vec<ChildRow>,
    map_svg: String,
    /// The map links grids to the units below, not one by one.
    linked_by_unit: bool,
    density: bool,
    legend: Vec<(&'static str, String)>,
    open_cases: i64,
    dots_shown: usize,
    is_grid: bool,
    /// On a grid's page: who works there (name, role).
    staff: Vec<(String, String)>,
    cases: Vec<CaseRow>,
    tree: Vec<TreeItem>,
    /// A system administrator: the link to import grids.
    can_import: bool,
}

/// The most case dots one map draws (the newest): at 760 pixels across, more dots of the city's
/// built-up grids cover each other (the density colours count them all), and each costs about
/// 125 bytes of the page. The city's map, whose grids are a few pixels across, draws fewer.
const MAX_DOTS: i64 = 400;
const MAX_CITY_DOTS: i64 = 150;
/// The most grids a map links one by one (each with its own link and title, some 150 bytes);
/// beyond it (the city's 810) a grid links to the unit below the node on show, whose page
/// draws it in detail, and the page stays small.
const MAX_LINKED_GRIDS: usize = 300;
/// How many of a grid's open cases its page lists.
const GRID_CASES: i64 = 20;

struct CaseRow {
    id: i64,
    number: String,
    matter: String,
    state: &'static str,
    reported: String,
}

struct TreeItem {
    code: String,
    name: String,
    kind_label: &'static str,
    children: Vec<TreeItem>,
}

/// 228200 → "228,200".
fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    /// `density`: grids coloured by open cases instead of by the unit they belong to.
    colour: Option<String>,
}

pub async fn city(
    state: State<AppState>,
    staff: Staff,
    query: Query<MapQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let city = gongzhi_app::territory::city_code(&state).await?;
    node(state, staff, Path(city.to_string()), query, headers).await
}

/// The tree of districts, streets and communities (the city page's browser), as nested lists:
/// districts and streets as links, a street's communities by name only (330 more links would be a
/// fifth of the page; the street's page links each).
fn tree(levels: &gongzhi_app::territory::Tree, lang: Lang) -> Vec<TreeItem> {
    // The kind only where the name does not already say it (兴民社区 is a 社区): a third of
    // the tree's bytes otherwise.
    let item = |n: &Node| TreeItem {
        code: n.code.to_string(),
        name: n.name.clone(),
        kind_label: Some(n.kind.label(lang)).filter(|k| !n.name.ends_with(k)).unwrap_or(""),
        children: vec![],
    };
    // Each level's nodes by parent, in their order: one pass per level.
    let by_parent = |nodes: &[Node]| {
        let mut under: HashMap<String, Vec<TreeItem>> = HashMap::new();
        for n in nodes {
            if let Some(parent) = n.parent_code() {
                under.entry(parent.to_string()).or_default().push(item(n));
            }
        }
        under
    };
    let mut communities = by_parent(&levels[2]);
    let mut streets: HashMap<String, Vec<TreeItem>> = HashMap::new();
    for street in &levels[1] {
        if let Some(district) = street.parent_code() {
            let children = communities.remove(street.code.as_str()).unwrap_or_default();
            streets.entry(district.to_string()).or_default().push(TreeItem {
                children,
                ..item(street)
            });
        }
    }
    levels[0]
        .iter()
        .map(|district| TreeItem {
            children: streets.remove(district.code.as_str()).unwrap_or_default(),
            ..item(district)
        })
        .collect()
}

/// `GET /territory/{code}`: a street, community or grid with its children on the map and the open
/// cases within it.
pub async fn node(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Query(query): Query<MapQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = staff.lang;
    let code = parse_code("code", &code)?;
    let gongzhi_app::territory::NodePage {
        territory,
        staff: grid_staff,
    } = gongzhi_app::territory::node_page(&state, &code).await?;
    let gongzhi_app::territory::NodeTerritory {
        detail: gongzhi_app::territory::NodeDetail { node, children, totals },
        crumbs,
        grids,
        summary,
        tree: levels,
    } = &*territory;
    let crumbs: Vec<(String, String)> = crumbs.iter().map(|p| (p.code.to_string(), p.name.clone())).collect();
    let is_grid = node.level() == Level::Grid;
    let cards = match summary {
        Some(s) => {
            vec![
                (
                    lang.pick("区县", "Districts"),
                    s.count_level(Level::District).to_string(),
                ),
                (
                    lang.pick("街道乡镇", "Streets / towns"),
                    s.count_level(Level::Street).to_string(),
                ),
                (
                    lang.pick("网格化社区", "Gridded communities"),
                    s.gridded_communities.to_string(),
                ),
                (lang.pick("网格数", "Grids"), thousands(s.count_level(Level::Grid))),
                (lang.pick("户数", "Households"), thousands(s.households)),
            ]
        }
        None => vec![],
    };

    // Open cases the reader may see here: dots on the map, counts per grid for the density colours.
    let open = gongzhi_app::cases::open_within(
        &state,
        &staff.actor,
        &node.code,
        if node.level() == Level::City {
            MAX_CITY_DOTS
        } else {
            MAX_DOTS
        },
        if is_grid { GRID_CASES } else { 0 },
    )
    .await?;
    let dots = &open.dots;
    let counts: HashMap<&str, i64> = open.counts_by_grid.iter().map(|(g, n)| (g.as_str(), *n)).collect();
    let open_cases: i64 = counts.values().sum();
    let density = query.colour.as_deref() == Some("density");
    let bounds = density_classes(counts.values().copied().max().unwrap_or(0));

    let gridded_children: Vec<&Node> = children.iter().filter(|c| totals.of_child(&c.code).0 > 0).collect();
    let group_of = |grid: &Node| {
        gridded_children
            .iter()
            .position(|c| grid.code.as_str().starts_with(c.code.subtree_prefix()))
            .unwrap_or(0)
    };
    let drawn: Vec<&Node> = grids.iter().filter(|g| g.boundary.is_some()).collect();
    let shapes: Vec<Shape> = drawn
        .iter()
        .filter_map(|g| {
            let open = counts.get(g.code.as_str()).copied().unwrap_or(0);
            Some(Shape {
                boundary: g.boundary.as_ref()?,
                group: group_of(g),
                href: format!("/territory/{}", g.code),
                title: format!(
                    "{} {} · {} {} · {}{open}",
                    g.name,
                    g.code,
                    lang.pick("户数", "Households"),
                    g.households.unwrap_or(0),
                    lang.pick("未办结案件 ", "open cases ")
                ),
            })
        })
        .collect();
    let fills: Vec<&str> = drawn
        .iter()
        .map(|g| match (density, is_grid) {
            (true, _) => density_colour(counts.get(g.code.as_str()).copied().unwrap_or(0), &bounds),
            (false, true) if g.code != node.code => "#d9e2ec",
            (false, _) => colour(group_of(g)),
        })
        .collect();
    // The node's own boundary and those of the units below it, over the grids.
    let mut outlines: Vec<&geo::MultiPolygon<f64>> = node.boundary.iter().collect();
    if node.level() != Level::Community {
        outlines.extend(children.iter().filter_map(|c| c.boundary.as_ref()));
    }
    let rules = state.rules();
    let matter_name = |code: &str| {
        TypeCode::parse(code)
            .ok()
            .and_then(|t| rules.taxonomy.matter(&t).map(|e| e.name.clone()))
            .unwrap_or_else(|| code.to_string())
    };
    let map_dots: Vec<Dot> = dots
        .iter()
        .map(|d| Dot {
            lon: d.lon,
            lat: d.lat,
            href: format!("/cases/{}", d.id),
            title: format!(
                "{} {} · {}",
                d.case_no,
                matter_name(&d.matter),
                CaseState::parse(&d.state).map_or("", |s| s.label(lang))
            ),
        })
        .collect();
    let group_links: Vec<GroupLink> = gridded_children
        .iter()
        .map(|c| {
            let (grids, households) = totals.of_child(&c.code);
            GroupLink {
                href: format!("/territory/{}", c.code),
                title: format!(
                    "{} · {} {grids} · {} {}",
                    c.name,
                    lang.pick("网格数", "Grids"),
                    lang.pick("户数", "Households"),
                    thousands(households)
                ),
            }
        })
        .collect();
    let by_group = shapes.len() > MAX_LINKED_GRIDS && !group_links.is_empty();
    let label = format!("{} {}", node.name, lang.pick("网格地图", "Grid map"));
    let map_svg = render_map(&MapSpec {
        shapes: &shapes,
        groups: by_group.then_some(group_links.as_slice()),
        fills: Some(fills.as_slice()),
        outlines: &outlines,
        dots: &map_dots,
        width: 760.0,
        label: &label,
        zoom_id: Some("grid-map"),
        grain: if by_group { Grain::Whole } else { Grain::Fine },
    });
    let legend = if density {
        let mut from = 1;
        let mut rows = vec![(DENSITY[0], "0".to_string())];
        for (i, b) in bounds.iter().enumerate() {
            if *b >= from {
                rows.push((
                    DENSITY[i + 1],
                    if *b > from {
                        format!("{from}–{b}")
                    } else {
                        b.to_string()
                    },
                ));
                from = b + 1;
            }
        }
        rows
    } else {
        vec![]
    };

    // A grid's page also names its staff and lists its open cases.
    let (staff_rows, case_rows) = if is_grid {
        let people = grid_staff
            .into_iter()
            .map(|(name, role)| (name, role.label(lang).to_string()))
            .collect();
        let rows = open
            .newest
            .iter()
            .map(|r| CaseRow {
                id: r.id,
                number: r.flow.number.to_string(),
                matter: matter_name(&r.flow.matter),
                state: r.flow.state.label(lang),
                reported: local_time(r.reported_at),
            })
            .collect();
        (people, rows)
    } else {
        (vec![], vec![])
    };
    let tree = levels.as_ref().map(|l| tree(l, lang)).unwrap_or_default();

    let page = TerritoryPage {
        can_import: staff
            .actor
            .grants
            .iter()
            .any(|g| g.role == gongzhi_core::people::Role::SystemAdmin),
        c: Chrome::for_staff(&staff, "/territory"),
        crumbs,
        name: node.name.clone(),
        code: node.code.to_string(),
        kind_label: node.kind.label(lang),
        valid_from: node.valid_from.to_string(),
        grids: totals.grids,
        households: thousands(totals.households),
        cards,
        children: children
            .iter()
            .map(|c| {
                let (grids, households) = totals.of_child(&c.code);
                let group = gridded_children.iter().position(|g| g.code == c.code).unwrap_or(0);
                ChildRow {
                    code: c.code.to_string(),
                    name: c.name.clone(),
                    kind_label: c.kind.label(lang),
                    grids,
                    households: thousands(households),
                    colour: colour(group),
                }
            })
            .collect(),
        map_svg,
        linked_by_unit: by_group,
        density,
        legend,
        open_cases,
        dots_shown: map_dots.len(),
        is_grid,
        staff: staff_rows,
        cases: case_rows,
        tree,
    };
    let Html(body) = crate::pages::render(&page)?;
    Ok(page_answer(&headers, body))
}

/// The page with an entity tag of its content (who reads it, their language, the open cases
/// and the territory all show in it): a client that revalidates gets 304 for the page it holds.
/// The page itself stays `no-store` (the security headers), so a browser does not keep it.
fn page_answer(headers: &HeaderMap, body: String) -> Response {
    let v = Validators {
        etag: Tag::new("territory-page").part(&body).finish(),
        last_modified: None,
        dated: false,
        audience: Audience::Unstored,
    };
    conditional::answer(headers, &v, || Html(body).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(228_200), "228,200");
        assert_eq!(super::thousands(810), "810");
        assert_eq!(super::thousands(-1_234_567), "-1,234,567");
    }
}
