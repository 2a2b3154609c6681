//! Geodetic datums met at the edge. Everything inside Gongzhi is WGS-84 / CGCS2000 longitude and
//! latitude (the two differ by well under a metre). Chinese phone maps hand out GCJ-02 (Amap,
//! Tencent) or BD-09 (Baidu) coordinates; callers say which, and we convert on the way in.

use crate::ErrorCode;
use std::f64::consts::PI;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

use crate::i18n::{Lang, Localized};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    #[default]
    Wgs84,
    Cgcs2000,
    Gcj02,
    Bd09,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum DatumError {
    #[error("datum must be one of wgs84, cgcs2000, gcj02, bd09; got {0:?}")]
    UnknownDatum(String),
    #[error("{field} must be a finite number between {min} and {max}; got {value}")]
    OutOfRange {
        field: &'static str,
        min: f64,
        max: f64,
        value: f64,
    },
}

impl DatumError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            DatumError::UnknownDatum(_) => "datum",
            DatumError::OutOfRange { field, .. } => field,
        }
    }
}

impl Localized for DatumError {
    fn code(&self) -> ErrorCode {
        match self {
            DatumError::UnknownDatum(_) => ErrorCode::InvalidDatum,
            DatumError::OutOfRange { .. } => ErrorCode::CoordinateOutOfRange,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (DatumError::UnknownDatum(d), Lang::Zh) => {
                format!("参数 datum 无效：{d:?}；应为 wgs84、cgcs2000、gcj02 或 bd09")
            }
            (DatumError::OutOfRange { field, min, max, value }, Lang::Zh) => {
                format!("参数 {field} 超出范围：应为 {min} 到 {max} 之间的数，实际为 {value}")
            }
            (e, Lang::En) => e.to_string(),
        }
    }
}

impl FromStr for Datum {
    type Err = DatumError;
    fn from_str(s: &str) -> Result<Self, DatumError> {
        match s.trim().to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "wgs84" | "epsg:4326" => Ok(Datum::Wgs84),
            "cgcs2000" | "epsg:4490" => Ok(Datum::Cgcs2000),
            "gcj02" => Ok(Datum::Gcj02),
            "bd09" | "bd09ll" => Ok(Datum::Bd09),
            _ => Err(DatumError::UnknownDatum(s.to_string())),
        }
    }
}

/// A validated WGS-84 longitude/latitude pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

impl LonLat {
    pub fn new(lon: f64, lat: f64) -> Result<Self, DatumError> {
        check_range("lon", lon, -180.0, 180.0)?;
        check_range("lat", lat, -90.0, 90.0)?;
        Ok(LonLat { lon, lat })
    }

    /// Reads a point given in `datum` and converts it to WGS-84.
    pub fn from_datum(lon: f64, lat: f64, datum: Datum) -> Result<Self, DatumError> {
        let given = LonLat::new(lon, lat)?;
        let (lon, lat) = match datum {
            Datum::Wgs84 | Datum::Cgcs2000 => (lon, lat),
            Datum::Gcj02 => gcj02_to_wgs84(given.lon, given.lat),
            Datum::Bd09 => {
                let (glon, glat) = bd09_to_gcj02(given.lon, given.lat);
                gcj02_to_wgs84(glon, glat)
            }
        };
        LonLat::new(lon, lat)
    }
}

fn check_range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), DatumError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(DatumError::OutOfRange { field, min, max, value })
    }
}

// Krasovsky 1940 ellipsoid, as the GCJ-02 obfuscation uses it.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 is only applied inside mainland China; outside it equals WGS-84.
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The forward GCJ-02 transform (WGS-84 → GCJ-02).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = shift_lat(lon - 105.0, lat - 35.0) * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = shift_lon(lon - 105.0, lat - 35.0) * 180.0 / (A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// The inverse, by fixed-point iteration: converges to well under a millimetre in a few steps.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (dlon, dlat) = (glon - lon, glat - lat);
        wlon -= dlon;
        wlat -= dlat;
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() < tol && (a.1 - b.1).abs() < tol
    }

    #[test]
    fn qitaihe_amap_centre_converts_to_the_published_wgs84_point() {
        // boundaries.geojson ships 七台河市's Amap centre in GCJ-02 and a one-step WGS-84
        // inverse of it; our iterative inverse is exact, so it lands within a few metres of that
        // and maps forward onto the GCJ-02 input to the micrometre.
        let w = LonLat::from_datum(131.003082, 45.771396, Datum::Gcj02).unwrap();
        assert!(close((w.lon, w.lat), (130.995378, 45.769172), 5e-5), "{w:?}");
        assert!(close(wgs84_to_gcj02(w.lon, w.lat), (131.003082, 45.771396), 1e-9));
    }

    #[test]
    fn gcj02_round_trips() {
        for &(lon, lat) in &[(130.95, 45.77), (116.397, 39.909), (121.47, 31.23)] {
            let g = wgs84_to_gcj02(lon, lat);
            assert!(!close(g, (lon, lat), 1e-4), "GCJ-02 must move points in China");
            assert!(close(gcj02_to_wgs84(g.0, g.1), (lon, lat), 1e-8));
        }
    }

    #[test]
    fn bd09_round_trips_through_gcj02() {
        let g = (131.003082, 45.771396);
        let b = gcj02_to_bd09(g.0, g.1);
        assert!(close(bd09_to_gcj02(b.0, b.1), g, 1e-5));
        let w = LonLat::from_datum(b.0, b.1, Datum::Bd09).unwrap();
        assert!(close((w.lon, w.lat), (130.995378, 45.769172), 6e-5), "{w:?}");
    }

    #[test]
    fn outside_china_gcj02_is_wgs84() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
    }

    #[test]
    fn datum_names_and_ranges_are_checked() {
        assert_eq!("GCJ-02".parse::<Datum>().unwrap(), Datum::Gcj02);
        assert_eq!("bd09ll".parse::<Datum>().unwrap(), Datum::Bd09);
        assert_eq!("WGS84".parse::<Datum>().unwrap(), Datum::Wgs84);
        let e = "mercator".parse::<Datum>().unwrap_err();
        assert_eq!(e.field(), "datum");
        assert!(e.message(Lang::Zh).contains("datum"));
        let e = LonLat::new(131.0, 91.0).unwrap_err();
        assert_eq!(e.field(), "lat");
        assert!(e.message(Lang::Zh).contains("lat"));
        assert_eq!(LonLat::new(f64::NAN, 45.0).unwrap_err().field(), "lon");
    }
}
