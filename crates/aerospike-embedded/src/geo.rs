//! GeoJSON as a real server handles it: the S2 cell stored with a point (so
//! GeoJSON particles read back byte for byte as from a real node), and the
//! shapes geo queries compare (`as/src/geospatial/geojson.cc`).
//!
//! A GeoJSON particle is a flags byte, a big-endian cell count, the cell ids
//! (8 bytes each, big-endian), then the JSON text. For a `Point` the server
//! stores one cell: the level-30 (leaf) S2 cell holding the point. Other
//! shapes are stored here without cells.

/// Appends the particle of GeoJSON `json`, with the leaf cell of a point.
pub(crate) fn encode_particle(json: &str, buf: &mut Vec<u8>) {
    match point(json) {
        Some((lng, lat)) => {
            buf.extend_from_slice(&[0, 0, 1]);
            buf.extend_from_slice(&leaf_cell(lat, lng).to_be_bytes());
        }
        None => buf.extend_from_slice(&[0, 0, 0]),
    }
    buf.extend_from_slice(json.as_bytes());
}

/// `(longitude, latitude)` of a GeoJSON `Point`; `None` for anything else.
fn point(json: &str) -> Option<(f64, f64)> {
    match Shape::parse(json)? {
        Shape::Point(p) => Some(p),
        _ => None,
    }
}

/// Radius of the earth a server uses for `AeroCircle` (its default
/// `geo2dsphere-within-earth-radius-meters`).
const EARTH_RADIUS_METERS: f64 = 6_371_000.0;

/// A GeoJSON geometry the server indexes or queries with; coordinates are
/// `(longitude, latitude)` in degrees.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Point((f64, f64)),
    /// Polygons, each a list of rings (the first the outer boundary, the
    /// others holes): a `Polygon` is one, a `MultiPolygon` several.
    Polygons(Vec<Vec<Vec<(f64, f64)>>>),
    /// `AeroCircle`: a centre and a radius in meters.
    Circle((f64, f64), f64),
}

impl Shape {
    /// Parses GeoJSON text; `None` for anything a server refuses.
    pub(crate) fn parse(json: &str) -> Option<Shape> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let coords = v.get("coordinates")?;
        let position = |p: &serde_json::Value| -> Option<(f64, f64)> {
            let a = p.as_array()?;
            let (lng, lat) = (a.first()?.as_f64()?, a.get(1)?.as_f64()?);
            (lat.abs() <= 90.0 && lng.abs() <= 180.0).then_some((lng, lat))
        };
        let ring = |r: &serde_json::Value| -> Option<Vec<(f64, f64)>> {
            let pts = r
                .as_array()?
                .iter()
                .map(position)
                .collect::<Option<Vec<_>>>()?;
            (pts.len() >= 4 && pts.first() == pts.last()).then_some(pts)
        };
        let polygon = |p: &serde_json::Value| -> Option<Vec<Vec<(f64, f64)>>> {
            let rings = p.as_array()?.iter().map(ring).collect::<Option<Vec<_>>>()?;
            (!rings.is_empty()).then_some(rings)
        };
        match v.get("type")?.as_str()? {
            "Point" => (coords.as_array()?.len() == 2)
                .then(|| position(coords))
                .flatten()
                .map(Shape::Point),
            "Polygon" => Some(Shape::Polygons(vec![polygon(coords)?])),
            "MultiPolygon" => Some(Shape::Polygons(
                coords
                    .as_array()?
                    .iter()
                    .map(polygon)
                    .collect::<Option<_>>()?,
            )),
            "AeroCircle" => {
                let c = coords.as_array()?;
                if c.len() != 2 {
                    return None;
                }
                Some(Shape::Circle(position(&c[0])?, c[1].as_f64()?))
            }
            _ => None,
        }
    }

    /// True when the region `self` contains point `p`.
    fn contains(&self, p: (f64, f64)) -> bool {
        match self {
            Shape::Point(q) => *q == p,
            // An S2Cap: the angle between centre and point against the
            // radius over the earth's.
            Shape::Circle(c, radius) => angle_between(*c, p) <= radius / EARTH_RADIUS_METERS,
            Shape::Polygons(polys) => polys.iter().any(|rings| {
                in_ring(&rings[0], p) && !rings[1..].iter().any(|hole| in_ring(hole, p))
            }),
        }
    }

    /// The geo query test of an indexed value `self` against the query's
    /// region or point `query`: a point within a region, or a region that
    /// contains a query point (`geo_within` / `geo_contains`).
    pub(crate) fn matches(&self, query: &Shape) -> bool {
        match (self, query) {
            (Shape::Point(p), region) => region.contains(*p),
            (region, Shape::Point(q)) => region.contains(*q),
            _ => false,
        }
    }
}

/// The great-circle angle in radians between two `(lng, lat)` points.
fn angle_between(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lng1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lng2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin()
}

/// Even-odd test of `p` against a closed ring, in longitude/latitude (the
/// server's geodesic edges bend slightly away from these straight lines:
/// `docs/embedded-cluster.md`).
fn in_ring(ring: &[(f64, f64)], p: (f64, f64)) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        if (y1 > p.1) != (y2 > p.1) && p.0 < x1 + (p.1 - y1) * (x2 - x1) / (y2 - y1) {
            inside = !inside;
        }
    }
    inside
}

const LOOKUP_BITS: u32 = 4;
const SWAP: usize = 1;
const INVERT: usize = 2;
const MAX_LEVEL: u32 = 30;

/// The S2 cell id of the leaf cell holding (`lat`, `lng`) in degrees.
fn leaf_cell(lat: f64, lng: f64) -> u64 {
    let (lat, lng) = (lat.to_radians(), lng.to_radians());
    let (x, y, z) = (lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin());
    let (face, u, v) = face_uv(x, y, z);
    let size = f64::from(1u32 << MAX_LEVEL);
    let to_ij = |w: f64| (size * uv_to_st(w)).floor().clamp(0.0, size - 1.0) as usize;
    let (i, j) = (to_ij(u), to_ij(v));

    let table = lookup_table();
    let mut n = (face as u64) << 60;
    let mut bits = face & SWAP;
    let mask = (1usize << LOOKUP_BITS) - 1;
    for k in (0..8).rev() {
        let shift = k * LOOKUP_BITS;
        bits += ((i >> shift) & mask) << (LOOKUP_BITS + 2);
        bits += ((j >> shift) & mask) << 2;
        bits = table[bits];
        n |= ((bits >> 2) as u64) << (2 * shift);
        bits &= SWAP | INVERT;
    }
    n * 2 + 1
}

/// The cube face of a unit vector and its (u, v) on that face.
fn face_uv(x: f64, y: f64, z: f64) -> (usize, f64, f64) {
    let (ax, ay, az) = (x.abs(), y.abs(), z.abs());
    let face = if ax > ay && ax > az {
        if x > 0.0 {
            0
        } else {
            3
        }
    } else if ay > az {
        if y > 0.0 {
            1
        } else {
            4
        }
    } else if z > 0.0 {
        2
    } else {
        5
    };
    let (u, v) = match face {
        0 => (y / x, z / x),
        1 => (-x / y, z / y),
        2 => (-x / z, -y / z),
        3 => (z / x, y / x),
        4 => (z / y, -x / y),
        _ => (-y / z, -x / z),
    };
    (face, u, v)
}

/// S2's quadratic projection from cube-face to cell-space coordinates.
fn uv_to_st(u: f64) -> f64 {
    if u >= 0.0 {
        0.5 * (1.0 + 3.0 * u).sqrt()
    } else {
        1.0 - 0.5 * (1.0 - 3.0 * u).sqrt()
    }
}

/// Hilbert-curve lookup: (i, j, orientation) of a 4x4-bit block to its
/// position and new orientation.
fn lookup_table() -> Vec<usize> {
    const POS_TO_IJ: [[usize; 4]; 4] = [[0, 1, 3, 2], [0, 2, 3, 1], [3, 2, 0, 1], [3, 1, 0, 2]];
    const POS_TO_ORIENT: [usize; 4] = [SWAP, 0, 0, INVERT + SWAP];
    fn fill(
        table: &mut [usize],
        level: u32,
        i: usize,
        j: usize,
        orig: usize,
        pos: usize,
        orient: usize,
    ) {
        if level == LOOKUP_BITS {
            let ij = (i << LOOKUP_BITS) + j;
            table[(ij << 2) + orig] = (pos << 2) + orient;
            return;
        }
        let r = POS_TO_IJ[orient];
        for (idx, step) in r.iter().enumerate() {
            fill(
                table,
                level + 1,
                (i << 1) + (step >> 1),
                (j << 1) + (step & 1),
                orig,
                (pos << 2) + idx,
                orient ^ POS_TO_ORIENT[idx],
            );
        }
    }
    let mut table = vec![0usize; 1 << (2 * LOOKUP_BITS + 2)];
    for orient in 0..4 {
        fill(&mut table, 0, 0, 0, orient, 0, orient);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(lng: f64, lat: f64) -> Shape {
        Shape::Point((lng, lat))
    }

    #[test]
    fn queries_select_what_the_server_selected() {
        // sindex-client-single.txt: points (-122.0 + 0.01 i, 37.5), i = 0..19.
        let points: Vec<Shape> = (0..20)
            .map(|i| pt(-122.0 + 0.01 * f64::from(i), 37.5))
            .collect();
        let hits = |region: &str| -> Vec<usize> {
            let q = Shape::parse(region).expect("a valid region");
            (0..20).filter(|&i| points[i].matches(&q)).collect()
        };
        let circle = r#"{"type":"AeroCircle","coordinates":[[-122.0,37.5],2500]}"#;
        assert_eq!(hits(circle), [0, 1, 2]);
        let polygon = r#"{"type":"Polygon","coordinates":[[[-122.005,37.4],[-121.935,37.4],
            [-121.935,37.6],[-122.005,37.6],[-122.005,37.4]]]}"#;
        assert_eq!(hits(polygon), [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn holes_multipolygons_and_regions_containing_a_point() {
        let square = |x0: f64, x1: f64| format!("[[{x0},0],[{x1},0],[{x1},10],[{x0},10],[{x0},0]]");
        let with_hole = format!(
            r#"{{"type":"Polygon","coordinates":[{},[[4,4],[6,4],[6,6],[4,6],[4,4]]]}}"#,
            square(0.0, 10.0)
        );
        let q = Shape::parse(&with_hole).unwrap();
        assert!(pt(1.0, 1.0).matches(&q));
        assert!(!pt(5.0, 5.0).matches(&q), "inside the hole");
        let multi = format!(
            r#"{{"type":"MultiPolygon","coordinates":[[{}],[{}]]}}"#,
            square(0.0, 1.0),
            square(20.0, 21.0)
        );
        let q = Shape::parse(&multi).unwrap();
        assert!(pt(20.5, 5.0).matches(&q) && !pt(10.0, 5.0).matches(&q));
        // A stored region matches a query point inside it.
        let region = Shape::parse(&with_hole).unwrap();
        assert!(region.matches(&pt(9.0, 9.0)));
        assert!(!region.matches(&pt(11.0, 9.0)));
    }

    #[test]
    fn malformed_geojson_is_refused() {
        for bad in [
            "",
            "{}",
            r#"{"type":"Point","coordinates":[200,0]}"#,
            r#"{"type":"Point","coordinates":[1]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
            r#"{"type":"AeroCircle","coordinates":[[0,0]]}"#,
            r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#,
        ] {
            assert_eq!(Shape::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn point_particle_matches_the_server() {
        // kv-single.txt: bin `g`, read back from a real 8.1.2.0 node.
        let json = r#"{"type": "Point", "coordinates": [-122.5, 37.5]}"#;
        let mut buf = Vec::new();
        encode_particle(json, &mut buf);
        let hex: String = buf[..11].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "000001808f72363125a00f");
        assert_eq!(&buf[11..], json.as_bytes());
    }

    #[test]
    fn other_shapes_have_no_cells() {
        for json in [
            r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type": "Point", "coordinates": [500, 1]}"#,
            r#"{"type": "Point", "coordinates": [1]}"#,
            "not json",
        ] {
            let mut buf = Vec::new();
            encode_particle(json, &mut buf);
            assert_eq!(&buf[..3], &[0, 0, 0], "{json}");
        }
    }

    #[test]
    fn faces_and_corners() {
        // Each face centre is the middle of its Hilbert curve.
        assert_eq!(leaf_cell(0.0, 0.0) >> 61, 0);
        assert_eq!(leaf_cell(0.0, 90.0) >> 61, 1);
        assert_eq!(leaf_cell(90.0, 0.0) >> 61, 2);
        assert_eq!(leaf_cell(-90.0, 0.0) >> 61, 5);
        assert_eq!(leaf_cell(0.0, 0.0) & 1, 1, "leaf cells end in a 1 bit");
    }
}
