//! Maps drawn as SVG from our own data: no tile server, no script.

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

/// Fits `shapes` into a `width`-wide picture (east–west scaled by the cosine of the latitude,
/// so shapes keep their proportions), with `outlines` drawn over them.
pub fn render(shapes: &[Shape], outlines: &[&MultiPolygon<f64>], width: f64, label: &str) -> String {
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
        r##"<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="{}"><rect width="100%" height="100%" fill="#f7f7f2"/>"##,
        crate::error::html_escape(label)
    );
    for s in shapes {
        let _ = write!(
            svg,
            r#"<a href="{}"><path class="grid" d="{}" fill="{}" fill-rule="evenodd"><title>{}</title></path></a>"#,
            s.href,
            path(s.boundary),
            PALETTE[s.group % PALETTE.len()],
            crate::error::html_escape(&s.title)
        );
    }
    for o in outlines {
        let _ = write!(svg, r#"<path class="outline" d="{}" fill="none"/>"#, path(o));
    }
    svg.push_str("</svg>");
    svg
}

pub fn colour(group: usize) -> &'static str {
    PALETTE[group % PALETTE.len()]
}
