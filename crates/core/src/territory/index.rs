//! Point → grid: an R-tree over grid envelopes, then an exact point-in-polygon test.

use geo::{BoundingRect, Contains, MultiPolygon, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::datum::LonLat;

type Envelope = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An immutable index of grid polygons, each carrying a payload (what the caller wants back).
/// Rebuilt whole when grids change: bulk loading 810 envelopes takes well under a millisecond.
pub struct GridIndex<T> {
    polygons: Vec<MultiPolygon<f64>>,
    payloads: Vec<T>,
    tree: RTree<Envelope>,
}

impl<T> GridIndex<T> {
    pub fn new(grids: impl IntoIterator<Item = (MultiPolygon<f64>, T)>) -> Self {
        let (polygons, payloads): (Vec<_>, Vec<_>) = grids.into_iter().unzip();
        let envelopes = polygons
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let r = p.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        GridIndex {
            polygons,
            payloads,
            tree: RTree::bulk_load(envelopes),
        }
    }

    /// Every grid's polygon with its payload, in the order given to [`GridIndex::new`].
    pub fn entries(&self) -> impl Iterator<Item = (&MultiPolygon<f64>, &T)> {
        self.polygons.iter().zip(&self.payloads)
    }

    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    /// The grid containing the point. Grids tile without overlap; on a shared edge the first
    /// candidate wins.
    pub fn locate(&self, at: LonLat) -> Option<&T> {
        let point = Point::new(at.lon, at.lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([at.lon, at.lat]))
            .map(|e| e.data)
            .find(|&i| self.polygons[i].contains(&point))
            .map(|i| &self.payloads[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn square(x: f64, y: f64, side: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![
            Rect::new(coord! {x: x, y: y}, coord! {x: x + side, y: y + side}).to_polygon(),
        ])
    }

    #[test]
    fn finds_the_grid_that_contains_the_point() {
        let idx = GridIndex::new((0..10).map(|i| (square(130.0 + i as f64 * 0.01, 45.0, 0.01), i)));
        assert_eq!(idx.len(), 10);
        assert_eq!(idx.locate(LonLat::new(130.035, 45.005).unwrap()), Some(&3));
        assert_eq!(idx.locate(LonLat::new(131.0, 45.005).unwrap()), None);
        assert_eq!(idx.locate(LonLat::new(130.035, 45.5).unwrap()), None);
    }
}
