//! The territory pages: the city tree with a map of its grids, and a page per node.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use gongzhi_core::territory::{Level, Node};

use super::existing_node;
use crate::map::{Shape, colour, render};
use crate::pages::Chrome;
use crate::people::session::Staff;
use crate::texts::{Texts, texts};
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
    t: &'static Texts,
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
}

/// 228200 → "228,200".
fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub async fn city(state: State<AppState>, staff: Staff) -> Result<Html<String>, ApiError> {
    let city = state
        .db
        .nodes_at_level(Level::City)
        .await?
        .into_iter()
        .next()
        .ok_or_else(ApiError::not_found_path)?;
    node(state, staff, Path(city.code.to_string())).await
}

pub async fn node(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
) -> Result<Html<String>, ApiError> {
    let lang = staff.lang;
    let node = existing_node(&state, "code", &code).await?;
    let mut crumbs = Vec::new();
    let mut up = node.parent_code();
    while let Some(parent) = up {
        if let Some(p) = state.db.node(&parent).await? {
            crumbs.push((p.code.to_string(), p.name.clone()));
        }
        up = parent.parent();
    }
    crumbs.reverse();

    let children = state.db.children(&node.code).await?;
    let totals = state.db.subtree_totals(&node.code).await?;
    let grids = state.db.grids_within(&node.code).await?;
    let cards = if node.level() == Level::City {
        let s = state.db.summary().await?;
        let t = texts(lang);
        vec![
            (t.districts, s.count_level(Level::District).to_string()),
            (t.streets, s.count_level(Level::Street).to_string()),
            (t.communities, s.gridded_communities.to_string()),
            (t.grids, thousands(s.count_level(Level::Grid))),
            (t.households, thousands(s.households)),
        ]
    } else {
        vec![]
    };
    let gridded_children: Vec<&Node> = children.iter().filter(|c| totals.of_child(&c.code).0 > 0).collect();
    let group_of = |grid: &Node| {
        gridded_children
            .iter()
            .position(|c| grid.code.as_str().starts_with(c.code.subtree_prefix()))
            .unwrap_or(0)
    };
    let shapes: Vec<Shape> = grids
        .iter()
        .filter_map(|g| {
            Some(Shape {
                boundary: g.boundary.as_ref()?,
                group: group_of(g),
                href: format!("/territory/{}", g.code),
                title: format!(
                    "{} {} · {} {}",
                    g.name,
                    g.code,
                    texts(lang).households,
                    g.households.unwrap_or(0)
                ),
            })
        })
        .collect();
    // The node's own boundary and those of the units below it, over the grids.
    let mut outlines: Vec<&geo::MultiPolygon<f64>> = node.boundary.iter().collect();
    if node.level() != Level::Community {
        outlines.extend(children.iter().filter_map(|c| c.boundary.as_ref()));
    }
    let map_svg = render(&shapes, &outlines, 760.0, &format!("{} {}", node.name, texts(lang).map));

    let page = TerritoryPage {
        c: Chrome::for_staff(&staff, "/territory"),
        t: texts(lang),
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
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            None,
            "页面渲染失败",
            "page rendering failed",
        )
    })?;
    Ok(Html(html))
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
