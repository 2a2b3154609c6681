//! Maps drawn as SVG from our own data: no tile server. They read without a script; with one
//! (`static/zoom.js`) they pan and zoom.

use std::fmt::Write;

use geo::{BoundingRect, Coord, LineString, MultiPolygon, Rect, Simplify};

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

/// A link for all the shapes of one group (a unit below the node on show), used instead of each
/// shape's own when a map draws more shapes than it may link one by one.
pub struct GroupLink {
    pub href: String,
    pub title: String,
}

/// Everything a map shows.
pub struct MapSpec<'a> {
    pub shapes: &'a [Shape<'a>],
    /// With these, shapes are linked by group (`groups[shape.group]`), not each on its own.
    pub groups: Option<&'a [GroupLink]>,
    /// A fill per shape (e.g. by open-case density) instead of the group colours.
    pub fills: Option<&'a [&'a str]>,
    pub outlines: &'a [&'a MultiPolygon<f64>],
    pub dots: &'a [Dot],
    pub width: f64,
    pub label: &'a str,
    /// An `id` for the SVG; with one, the page's script makes the map pan and zoom (and the
    /// page's style sizes the dots).
    pub zoom_id: Option<&'a str>,
    /// How finely paths and dots are written.
    pub grain: Grain,
}

/// Fits `shapes` into a `width`-wide picture (east–west scaled by the cosine of the latitude,
/// so shapes keep their proportions), with `outlines` drawn over them.
#[allow(dead_code)] // the simple form, for maps without dots or zoom
pub fn render(shapes: &[Shape], outlines: &[&MultiPolygon<f64>], width: f64, label: &str) -> String {
    render_map(&MapSpec {
        shapes,
        groups: None,
        fills: None,
        outlines,
        dots: &[],
        width,
        label,
        zoom_id: None,
        grain: Grain::Fine,
    })
}

/// Draws a map: shapes, outlines over them, then dots. `data-proj` on the SVG holds the
/// projection (`west north kx scale pad`: x = pad + (lon − west)·kx·scale, y = pad + (north −
/// lat)·scale) so a page's script can turn a click back into a point.
pub fn render_map(spec: &MapSpec) -> String {
    let MapSpec {
        shapes,
        groups,
        fills,
        outlines,
        dots,
        width,
        label,
        zoom_id,
        grain,
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
            write_ring(&mut d, polygon.exterior(), &project, grain, true);
            for hole in polygon.interiors() {
                write_ring(&mut d, hole, &project, grain, false);
            }
        }
        d
    };
    // `evenodd` matters only where a shape has holes or several parts.
    let rule = |mp: &MultiPolygon<f64>| {
        if mp.0.len() > 1 || mp.0.iter().any(|p| !p.interiors().is_empty()) {
            r#" fill-rule="evenodd""#
        } else {
            ""
        }
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
    let fill_of = |i: usize, s: &Shape| {
        fills
            .and_then(|f| f.get(i).copied())
            .unwrap_or(PALETTE[s.group % PALETTE.len()])
    };
    match groups {
        None => {
            for (i, s) in shapes.iter().enumerate() {
                let _ = write!(
                    svg,
                    r#"<a href="{}"><path class="grid" d="{}" fill="{}"{}><title>{}</title></path></a>"#,
                    s.href,
                    path(s.boundary),
                    fill_of(i, s),
                    rule(s.boundary),
                    crate::error::html_escape(&s.title)
                );
            }
        }
        // One link per group, its shapes inside it; a shape names its fill only where it is not
        // the group's (density colours).
        Some(links) => {
            let mut order: Vec<usize> = (0..shapes.len()).collect();
            order.sort_by_key(|&i| shapes[i].group);
            for chunk in order.chunk_by(|&a, &b| shapes[a].group == shapes[b].group) {
                let group = shapes[chunk[0]].group;
                let group_fill = fill_of(chunk[0], &shapes[chunk[0]]);
                let (href, title) = links
                    .get(group)
                    .map_or(("", ""), |l| (l.href.as_str(), l.title.as_str()));
                let _ = write!(
                    svg,
                    r#"<a href="{href}"><title>{}</title><g fill="{group_fill}">"#,
                    crate::error::html_escape(title)
                );
                for &i in chunk {
                    let s = &shapes[i];
                    let fill = fill_of(i, s);
                    let own = if fill == group_fill {
                        String::new()
                    } else {
                        format!(r#" fill="{fill}""#)
                    };
                    let _ = write!(
                        svg,
                        r#"<path class="grid" d="{}"{own}{}/>"#,
                        path(s.boundary),
                        rule(s.boundary)
                    );
                }
                svg.push_str("</g></a>");
            }
        }
    }
    for o in outlines {
        let _ = write!(svg, r#"<path class="outline" d="{}" fill="none"/>"#, path(o));
    }
    for d in dots {
        let (x, y) = project(d.lon, d.lat);
        let _ = write!(
            svg,
            r#"<a href="{}"><circle class="case" cx="{}" cy="{}"{}><title>{}</title></circle></a>"#,
            d.href,
            Units(grain.units(x), grain),
            Units(grain.units(y), grain),
            // A zooming map's page sizes its dots (they keep their size as it zooms).
            if zoom_id.is_some() { "" } else { r#" r="3.2""# },
            crate::error::html_escape(&d.title)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// How finely a map is written, from the scale it is drawn at. `Fine`: tenths of a pixel,
/// outlines simplified within 0.3 px. `Whole`: whole pixels within 0.5 px, for a map whose grids
/// are a few pixels across (the city's), where tenths would only add bytes. Either way the
/// picture as first drawn is the same to the eye, and less than the white line drawn between
/// grids is lost, so no gap shows where two neighbours were simplified apart; zoomed in, a
/// `Whole` map shows its steps, and the unit's own page draws it finer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grain {
    #[default]
    Fine,
    Whole,
}

impl Grain {
    /// Units per pixel.
    fn per_px(self) -> f64 {
        match self {
            Grain::Fine => 10.0,
            Grain::Whole => 1.0,
        }
    }

    /// How far a simplified outline may stray, in pixels.
    fn tolerance(self) -> f64 {
        match self {
            Grain::Fine => 0.3,
            Grain::Whole => 0.5,
        }
    }

    fn units(self, px: f64) -> i64 {
        (px * self.per_px()).round() as i64
    }
}

/// A length in units of a grain, written shortest: in tenths 123 → `12.3`, 10 → `1`, -5 → `-.5`.
struct Units(i64, Grain);

impl std::fmt::Display for Units {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.1 == Grain::Whole {
            return write!(f, "{}", self.0);
        }
        let (sign, v) = if self.0 < 0 { ("-", -self.0) } else { ("", self.0) };
        match (v / 10, v % 10) {
            (whole, 0) => write!(f, "{sign}{whole}"),
            (0, frac) => write!(f, "{sign}.{frac}"),
            (whole, frac) => write!(f, "{sign}{whole}.{frac}"),
        }
    }
}

/// One ring as path data: projected to pixels, simplified within the grain's tolerance, rounded
/// to its units and written as relative moves (`M x y l dx dy …z`), about a third of the absolute
/// form. An outer ring never vanishes: if simplifying or rounding leaves fewer than three
/// corners, it is written from every corner, and failing that as a one-pixel square; a hole
/// that small is left out.
fn write_ring(
    d: &mut String,
    ring: &LineString<f64>,
    project: &impl Fn(f64, f64) -> (f64, f64),
    grain: Grain,
    outer: bool,
) {
    let projected: LineString<f64> = ring
        .coords()
        .map(|c| {
            let (x, y) = project(c.x, c.y);
            Coord { x, y }
        })
        .collect();
    let corners = |line: &LineString<f64>| {
        let mut pts: Vec<(i64, i64)> = Vec::with_capacity(line.0.len());
        for c in line.coords() {
            let p = (grain.units(c.x), grain.units(c.y));
            if pts.last() != Some(&p) {
                pts.push(p);
            }
        }
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        pts
    };
    let mut pts = corners(&projected.simplify(grain.tolerance()));
    if pts.len() < 3 {
        pts = corners(&projected);
    }
    if pts.len() < 3 {
        if !outer {
            return;
        }
        let Some(&(x, y)) = pts.first() else { return };
        let px = grain.per_px() as i64;
        pts = vec![(x, y), (x + px, y), (x + px, y + px), (x, y + px)];
    }
    let number = |d: &mut String, v: i64| {
        if v >= 0 && !d.ends_with(['M', 'l']) {
            d.push(' ');
        }
        let _ = write!(d, "{}", Units(v, grain));
    };
    d.push('M');
    number(d, pts[0].0);
    number(d, pts[0].1);
    d.push('l');
    for w in pts.windows(2) {
        number(d, w[1].0 - w[0].0);
        number(d, w[1].1 - w[0].1);
    }
    d.push('z');
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

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Polygon, polygon};

    #[test]
    fn units_are_written_shortest() {
        let fine = |v| Units(v, Grain::Fine).to_string();
        assert_eq!(fine(123), "12.3");
        assert_eq!(fine(10), "1");
        assert_eq!(fine(0), "0");
        assert_eq!(fine(-5), "-.5");
        assert_eq!(fine(-123), "-12.3");
        assert_eq!(Units(-12, Grain::Whole).to_string(), "-12");
    }

    fn ring_of(p: &Polygon<f64>, grain: Grain) -> String {
        let mut d = String::new();
        write_ring(&mut d, p.exterior(), &|x, y| (x, y), grain, true);
        d
    }

    #[test]
    fn a_ring_is_simplified_written_relative_and_never_vanishes() {
        // A square with a corner 0.1 px off the straight line: simplified away.
        let square = polygon![(x: 10.0, y: 10.0), (x: 15.0, y: 10.1), (x: 20.0, y: 10.0), (x: 20.0, y: 20.0), (x: 10.0, y: 20.0)];
        assert_eq!(ring_of(&square, Grain::Fine), "M10 10l10 0 0 10-10 0z");
        // A grid smaller than a pixel still shows, as a pixel.
        let speck = polygon![(x: 5.0, y: 5.0), (x: 5.2, y: 5.0), (x: 5.2, y: 5.2)];
        assert_eq!(ring_of(&speck, Grain::Whole), "M5 5l1 0 0 1-1 0z");
        assert_eq!(
            ring_of(&speck, Grain::Fine),
            "M5 5l.2 0 0 .2z",
            "in tenths it keeps its corners"
        );
        // A thin sliver keeps its corners when simplifying would flatten it.
        let sliver = polygon![(x: 0.0, y: 0.0), (x: 30.0, y: 0.0), (x: 30.0, y: 0.4)];
        let d = ring_of(&sliver, Grain::Fine);
        assert_eq!(d, "M0 0l30 0 0 .4z");
    }
}
