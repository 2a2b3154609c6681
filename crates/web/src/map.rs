//! Maps drawn as SVG from our own data: no tile server. They read without a script; with one
//! (`static/zoom.js`) they pan and zoom.

use std::fmt::Write;

use geo::{BoundingRect, MultiPolygon, Rect};

/// Colours for up to twelve groups (children of the node on show), readable on white.
const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6",
    "#d37295", "#8cd17d",
];

pub struct Shape<'a> {
    pub boundary: &'a MultiPolygon<f64>,
    pub group: usize,
    pub href: String,
    pub title: String,
}

/// A case on the map.
pub struct Dot {
    pub lon: f64,
    pub lat: f64,
    pub href: String,
    pub title: String,
}

/// Everything a map shows.
pub struct MapSpec<'a> {
    pub shapes: &'a [Shape<'a>],
    /// A fill per shape (e.g. by open-case density) instead of the group colours.
    pub fills: Option<&'a [&'a str]>,
    pub outlines: &'a [&'a MultiPolygon<f64>],
    pub dots: &'a [Dot],
    pub width: f64,
    pub label: &'a str,
    /// An `id` for the SVG; with one, the page's script makes the map pan and zoom.
    pub zoom_id: Option<&'a str>,
}

/// Fits `shapes` into a `width`-wide picture (east–west scaled by the cosine of the latitude,
/// so shapes keep their proportions), with `outlines` drawn over them.
#[allow(dead_code)] // the simple form, for maps without dots or zoom
pub fn render(shapes: &[Shape], outlines: &[&MultiPolygon<f64>], width: f64, label: &str) -> String {
    render_map(&MapSpec {
        shapes,
        fills: None,
        outlines,
        dots: &[],
        width,
        label,
        zoom_id: None,
    })
}

/// Draws a map: shapes, outlines over them, then dots. `data-proj` on the SVG holds the
/// projection (`west north kx scale pad`: x = pad + (lon − west)·kx·scale, y = pad + (north −
/// lat)·scale) so a page's script can turn a click back into a point.
pub fn render_map(spec: &MapSpec) -> String {
    let MapSpec {
        shapes,
        fills,
        outlines,
        dots,
        width,
        label,
        zoom_id,
    } = *spec;
    let extent = shapes
        .iter()
        .map(|s| s.boundary)
        .chain(if shapes.is_empty() { outlines.to_vec() } else { vec![] })
        .filter_map(|b| b.bounding_rect())
        .reduce(|a, b| {
            Rect::new(
                geo::coord! {x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y)},
                geo::coord! {x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y)},
            )
        });
    let Some(extent) = extent else {
        return String::new();
    };
    let kx = ((extent.min().y + extent.max().y) / 2.0).to_radians().cos();
    let span_x = (extent.width() * kx).max(1e-9);
    let span_y = extent.height().max(1e-9);
    let pad = 8.0;
    let scale = (width - 2.0 * pad) / span_x;
    let height = (span_y * scale + 2.0 * pad).min(width * 1.4);
    let scale = scale.min((height - 2.0 * pad) / span_y);
    let project = |x: f64, y: f64| {
        (
            pad + (x - extent.min().x) * kx * scale,
            pad + (extent.max().y - y) * scale,
        )
    };
    let path = |mp: &MultiPolygon<f64>| {
        let mut d = String::new();
        for polygon in &mp.0 {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = project(c.x, c.y);
                    let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        d
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="{}" data-proj="{} {} {kx} {scale} {pad}"{}><rect x="-100%" y="-100%" width="300%" height="300%" fill="#f7f7f2"/>"##,
        crate::error::html_escape(label),
        extent.min().x,
        extent.max().y,
        zoom_id
            .map(|id| format!(r#" id="{id}" data-zoom="1" tabindex="0""#))
            .unwrap_or_default()
    );
    for (i, s) in shapes.iter().enumerate() {
        let fill = fills
            .and_then(|f| f.get(i).copied())
            .unwrap_or(PALETTE[s.group % PALETTE.len()]);
        let _ = write!(
            svg,
            r#"<a href="{}"><path class="grid" d="{}" fill="{fill}" fill-rule="evenodd"><title>{}</title></path></a>"#,
            s.href,
            path(s.boundary),
            crate::error::html_escape(&s.title)
        );
    }
    for o in outlines {
        let _ = write!(svg, r#"<path class="outline" d="{}" fill="none"/>"#, path(o));
    }
    for d in dots {
        let (x, y) = project(d.lon, d.lat);
        let _ = write!(
            svg,
            r#"<a href="{}"><circle class="case" cx="{x:.1}" cy="{y:.1}" r="3.2"><title>{}</title></circle></a>"#,
            d.href,
            crate::error::html_escape(&d.title)
        );
    }
    svg.push_str("</svg>");
    svg
}

pub fn colour(group: usize) -> &'static str {
    PALETTE[group % PALETTE.len()]
}

/// Five classes of open-case density, light to dark, and grey for none.
pub const DENSITY: [&str; 6] = ["#e5e7eb", "#fde0c5", "#f8b88b", "#f08a55", "#d6502f", "#9f1d14"];

/// The density class colour of `count` on a scale up to `max`, and the upper bounds of the five
/// classes (for the legend).
pub fn density_classes(max: i64) -> [i64; 5] {
    let max = max.max(5);
    [1, 2, 3, 4, 5].map(|k| (max * k + 4) / 5)
}

pub fn density_colour(count: i64, bounds: &[i64; 5]) -> &'static str {
    if count <= 0 {
        return DENSITY[0];
    }
    let class = bounds.iter().position(|b| count <= *b).unwrap_or(4);
    DENSITY[class + 1]
}
