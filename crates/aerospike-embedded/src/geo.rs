//! The S2 cell a real server stores with a GeoJSON point, so GeoJSON
//! particles read back byte for byte as from a real node.
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
    let compact: String = json.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.contains("\"type\":\"Point\"") {
        return None;
    }
    let start = compact.find("\"coordinates\":[")? + "\"coordinates\":[".len();
    let end = start + compact[start..].find(']')?;
    let mut nums = compact[start..end].split(',').map(str::parse::<f64>);
    let lng = nums.next()?.ok()?;
    let lat = nums.next()?.ok()?;
    let in_range = lng.is_finite() && lat.is_finite() && lat.abs() <= 90.0 && lng.abs() <= 180.0;
    (nums.next().is_none() && in_range).then_some((lng, lat))
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
