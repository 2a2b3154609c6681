//! The in-memory point → grid index, with each grid's community, street and district.

use std::collections::HashMap;

use geo::MultiPolygon;
use gongzhi_core::territory::{GridIndex, Kind, Level};
use gongzhi_store::{Db, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct NodeRef {
    pub code: String,
    pub name: String,
    pub kind: Kind,
}

/// What a located point resolves to.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    pub grid: NodeRef,
    pub households: Option<i64>,
    pub community: NodeRef,
    pub street: NodeRef,
    pub district: NodeRef,
}

pub struct TerritoryIndex {
    /// The territory revision this index was built from.
    pub revision: i64,
    pub grids: GridIndex<Located>,
    /// The same grids by code.
    pub by_code: HashMap<String, Located>,
}

impl TerritoryIndex {
    /// The gridded communities, for placing an address that names one.
    pub fn communities(&self) -> impl Iterator<Item = &Located> {
        let mut seen = std::collections::HashSet::new();
        self.by_code
            .values()
            .filter(move |l| seen.insert(l.community.code.clone()))
    }
}

impl TerritoryIndex {
    /// The grids of a community with their boundaries, by code: what a case page draws around the
    /// case, from memory (reading them from the database parsed every boundary on every view).
    pub fn community_grids(&self, community: &str) -> Vec<(&MultiPolygon<f64>, &Located)> {
        let mut grids: Vec<_> = self
            .grids
            .entries()
            .filter(|(_, l)| l.community.code == community)
            .collect();
        grids.sort_by(|a, b| a.1.grid.code.cmp(&b.1.grid.code));
        grids
    }

    pub async fn load(db: &Db) -> Result<TerritoryIndex, StoreError> {
        let revision = db.territory_revision().await?;
        let mut refs: HashMap<String, (NodeRef, Option<String>)> = HashMap::new();
        for level in [Level::District, Level::Street, Level::Community] {
            for n in db.nodes_at_level(level).await? {
                let parent = n.parent_code().map(|c| c.to_string());
                refs.insert(
                    n.code.to_string(),
                    (
                        NodeRef {
                            code: n.code.to_string(),
                            name: n.name,
                            kind: n.kind,
                        },
                        parent,
                    ),
                );
            }
        }
        let up = |code: Option<&String>| -> Option<&(NodeRef, Option<String>)> { code.and_then(|c| refs.get(c)) };
        let grids = db.nodes_at_level(Level::Grid).await?.into_iter().filter_map(|g| {
            let community = up(g.parent_code().map(|c| c.to_string()).as_ref())?;
            let street = up(community.1.as_ref())?;
            let district = up(street.1.as_ref())?;
            let located = Located {
                grid: NodeRef {
                    code: g.code.to_string(),
                    name: g.name,
                    kind: Kind::Grid,
                },
                households: g.households,
                community: community.0.clone(),
                street: street.0.clone(),
                district: district.0.clone(),
            };
            Some((g.boundary?, located))
        });
        let grids: Vec<_> = grids.collect();
        let by_code = grids.iter().map(|(_, l)| (l.grid.code.clone(), l.clone())).collect();
        Ok(TerritoryIndex {
            revision,
            grids: GridIndex::new(grids),
            by_code,
        })
    }
}
