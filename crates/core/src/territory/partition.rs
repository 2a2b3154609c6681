//! Splitting an area into cells around seed points (a clipped Voronoi diagram). The demo city
//! uses it to lay streets, communities and grids inside the real district boundaries, where no
//! finer boundaries are published; a city with surveyed grid polygons imports them instead.

use geo::{
    Area, BooleanOps, BoundingRect, Centroid, Contains, Coord, InteriorPoint, LineString, MultiPolygon, Point, Polygon,
};
use rand::Rng;

/// The planar scale of a degree of longitude at the region's latitude, so that cells are
/// computed as they look on the ground, not stretched east–west.
fn lon_scale(region: &MultiPolygon<f64>) -> f64 {
    region
        .bounding_rect()
        .map(|r| ((r.min().y + r.max().y) / 2.0).to_radians().cos())
        .unwrap_or(1.0)
}

/// Keeps the part of a convex polygon on `seed`'s side of the bisector between `seed` and `other`
/// (one step of Sutherland–Hodgman).
fn clip_to_bisector(poly: &[Coord<f64>], seed: Coord<f64>, other: Coord<f64>) -> Vec<Coord<f64>> {
    let normal = other - seed;
    let mid = Coord {
        x: (seed.x + other.x) / 2.0,
        y: (seed.y + other.y) / 2.0,
    };
    let side = |p: Coord<f64>| (p.x - mid.x) * normal.x + (p.y - mid.y) * normal.y;
    let mut out = Vec::with_capacity(poly.len() + 1);
    for (i, &a) in poly.iter().enumerate() {
        let b = poly[(i + 1) % poly.len()];
        let (sa, sb) = (side(a), side(b));
        if sa <= 0.0 {
            out.push(a);
        }
        if (sa < 0.0 && sb > 0.0) || (sa > 0.0 && sb < 0.0) {
            let t = sa / (sa - sb);
            out.push(Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            });
        }
    }
    out
}

fn scale(mp: &MultiPolygon<f64>, kx: f64) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| Coord { x: c.x * kx, y: c.y })
}

/// The Voronoi cell of each seed, clipped to `region`. Cells tile the region without overlap.
pub fn voronoi_cells(region: &MultiPolygon<f64>, seeds: &[Coord<f64>]) -> Vec<MultiPolygon<f64>> {
    let k = lon_scale(region);
    let plane = scale(region, k);
    let Some(bbox) = plane.bounding_rect() else {
        return seeds.iter().map(|_| MultiPolygon(vec![])).collect();
    };
    let pad = (bbox.width() + bbox.height()) * 0.1;
    let frame = vec![
        Coord {
            x: bbox.min().x - pad,
            y: bbox.min().y - pad,
        },
        Coord {
            x: bbox.max().x + pad,
            y: bbox.min().y - pad,
        },
        Coord {
            x: bbox.max().x + pad,
            y: bbox.max().y + pad,
        },
        Coord {
            x: bbox.min().x - pad,
            y: bbox.max().y + pad,
        },
    ];
    let planar: Vec<Coord<f64>> = seeds.iter().map(|s| Coord { x: s.x * k, y: s.y }).collect();
    planar
        .iter()
        .enumerate()
        .map(|(i, &seed)| {
            let mut cell = frame.clone();
            for (j, &other) in planar.iter().enumerate() {
                if i != j && other != seed && cell.len() >= 3 {
                    cell = clip_to_bisector(&cell, seed, other);
                }
            }
            if cell.len() < 3 {
                return MultiPolygon(vec![]);
            }
            let cell = Polygon::new(LineString::from(cell), vec![]);
            scale(&plane.intersection(&cell), 1.0 / k)
        })
        .collect()
}

/// `n` random points inside `region`, by rejection sampling in its bounding box.
pub fn random_points_in(region: &MultiPolygon<f64>, n: usize, rng: &mut impl Rng) -> Vec<Coord<f64>> {
    let Some(bbox) = region.bounding_rect() else {
        return vec![];
    };
    let fallback = region.interior_point().map(|p| p.0);
    (0..n)
        .filter_map(|_| {
            (0..10_000)
                .map(|_| Coord {
                    x: rng.random_range(bbox.min().x..=bbox.max().x),
                    y: rng.random_range(bbox.min().y..=bbox.max().y),
                })
                .find(|c| region.contains(&Point(*c)))
                .or(fallback)
        })
        .collect()
}

/// Lloyd relaxation: moves each seed to the centroid of its cell, which evens out cell sizes.
pub fn relax(region: &MultiPolygon<f64>, seeds: &[Coord<f64>], rounds: usize) -> Vec<Coord<f64>> {
    let mut seeds = seeds.to_vec();
    for _ in 0..rounds {
        let cells = voronoi_cells(region, &seeds);
        for (seed, cell) in seeds.iter_mut().zip(&cells) {
            if let Some(c) = cell.centroid()
                && region.contains(&c)
            {
                *seed = c.0;
            }
        }
    }
    seeds
}

/// Splits `region` into one cell per hint, in the same order, of roughly even size: a hint that
/// lies inside the region seeds its cell there, the others are drawn with `rng`.
pub fn split(region: &MultiPolygon<f64>, hints: &[Option<Coord<f64>>], rng: &mut impl Rng) -> Vec<MultiPolygon<f64>> {
    let seeds: Vec<Coord<f64>> = hints
        .iter()
        .map(|hint| match hint {
            Some(c) if region.contains(&Point(*c)) => *c,
            _ => random_points_in(region, 1, rng).pop().unwrap_or_default(),
        })
        .collect();
    let seeds = relax(region, &seeds, 3);
    voronoi_cells(region, &seeds)
}

/// Planar area in square kilometres, good enough at city scale.
pub fn area_km2(region: &MultiPolygon<f64>) -> f64 {
    let k = lon_scale(region);
    scale(region, k).unsigned_area() * 111.32 * 111.32
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};
    use rand::SeedableRng;

    fn square() -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! {x: 131.0, y: 45.7}, coord! {x: 131.1, y: 45.8}).to_polygon(),
        ])
    }

    #[test]
    fn cells_tile_the_region_without_gaps_or_overlap() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let region = square();
        let cells = split(&region, &[None; 13], &mut rng);
        assert_eq!(cells.len(), 13);
        let total: f64 = cells.iter().map(|c| c.unsigned_area()).sum();
        assert!((total - region.unsigned_area()).abs() < 1e-9, "{total}");
        for (i, a) in cells.iter().enumerate() {
            assert!(a.unsigned_area() > 0.0);
            for b in &cells[i + 1..] {
                let overlap = a.intersection(b).unsigned_area();
                assert!(overlap < 1e-9 * region.unsigned_area(), "{overlap}");
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_cells() {
        let a = split(&square(), &[None; 5], &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
        let b = split(&square(), &[None; 5], &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a, b);
    }

    #[test]
    fn area_is_in_square_kilometres() {
        // 0.1° × 0.1° at 45.75°N is about 11.1 km × 7.8 km.
        let a = area_km2(&square());
        assert!((a - 86.5).abs() < 1.5, "{a}");
    }
}
