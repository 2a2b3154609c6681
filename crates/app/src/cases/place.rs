//! Where a report is: a point in a declared datum, a grid, or an address naming a community.

use gongzhi_core::ErrorCode;
use gongzhi_core::territory::{Datum, GridCode, LonLat, TerritoryCode};
use gongzhi_store::cases::CaseLocation;

use crate::territory::Located;
use crate::{App, AppError};

/// Where a reporter says a case is.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A point as measured, in the datum of the device that measured it.
    Point {
        lon: f64,
        lat: f64,
        datum: Datum,
    },
    Grid(GridCode),
    /// Free text; placed by the community it names (there is no address register yet).
    Address(String),
}

/// A place found in the territory: the node the case belongs to and the location it keeps.
#[derive(Debug, Clone)]
pub struct Placed {
    pub node: TerritoryCode,
    pub location: CaseLocation,
}

/// Finds `place` in the grid index. `address` is the reporter's own words, kept on the location
/// whatever the place is.
pub fn place(app: &App, place: &Place, address: Option<&str>) -> Result<Placed, AppError> {
    let index = app.index();
    let address = address.map(str::to_string);
    let location_of = |l: &Located, lon: Option<f64>, lat: Option<f64>| CaseLocation {
        grid: Some(l.grid.code.clone()),
        community: Some(l.community.code.clone()),
        street: Some(l.street.code.clone()),
        district: Some(l.district.code.clone()),
        lon,
        lat,
        address: address.clone(),
    };
    match place {
        Place::Point { lon, lat, datum } => {
            let (lon, lat) = (*lon, *lat);
            let point = LonLat::from_datum(lon, lat, *datum).map_err(AppError::bad_coordinate)?;
            let found = index.grids.locate(point).ok_or_else(|| {
                AppError::new(
                    ErrorCode::PlaceOutsideGrids,
                    Some("lon"),
                    format!("坐标 ({lon}, {lat}) 不在本市任何网格内"),
                    format!("the point ({lon}, {lat}) is in no grid of this city"),
                )
            })?;
            let grid = GridCode::parse(&found.grid.code).map_err(|e| AppError::bad_code("grid_code", e))?;
            Ok(Placed {
                node: TerritoryCode::Grid(grid),
                location: location_of(found, Some(point.lon), Some(point.lat)),
            })
        }
        Place::Grid(code) => {
            let found = index
                .by_code
                .get(code.as_str())
                .ok_or_else(|| AppError::unknown_node("grid_code", code.as_str()))?;
            Ok(Placed {
                node: TerritoryCode::Grid(code.clone()),
                location: location_of(found, None, None),
            })
        }
        Place::Address(text) => {
            // Without an address register yet, an address is placed by the community it names;
            // the district and street it names tell namesakes apart (there are two 学府社区).
            let score = |l: &Located| {
                let named = |n: &str| text.contains(n) as usize;
                (named(&l.district.name) * 2 + named(&l.street.name) * 2) * 100 + l.community.name.chars().count()
            };
            let mut candidates: Vec<&Located> = index
                .communities()
                .filter(|l| text.contains(l.community.name.as_str()))
                .collect();
            candidates.sort_by_key(|l| std::cmp::Reverse(score(l)));
            let community = match candidates.as_slice() {
                [] => {
                    return Err(AppError::new(
                        ErrorCode::AddressNotPlaced,
                        Some("address"),
                        format!("无法根据地址“{text}”确定所属社区，请提供经纬度或网格代码"),
                        format!("cannot place the address {text:?}: give lon/lat or a grid_code"),
                    ));
                }
                [first, second, ..] if score(first) == score(second) => {
                    return Err(AppError::new(
                        ErrorCode::AddressAmbiguous,
                        Some("address"),
                        format!("地址“{text}”中的社区有重名，请写明区县或街道"),
                        format!("the community in {text:?} has namesakes: name its district or street"),
                    ));
                }
                [first, ..] => *first,
            };
            let node = TerritoryCode::parse(&community.community.code).map_err(|e| AppError::bad_code("address", e))?;
            let mut location = location_of(community, None, None);
            location.grid = None;
            Ok(Placed { node, location })
        }
    }
}
