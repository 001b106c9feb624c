//! The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a type
//! byte, the number of dimensions, one `u32` per dimension) followed by the values in
//! row-major order. Plain or gzip; read whole (the largest file is 47 MB unpacked).
//!
//! Every value type of the format is read (unsigned and signed bytes, 16- and 32-bit
//! integers, 32- and 64-bit floats) and converted to `f32`. A wrong magic number, an
//! unknown type, a header cut short, dimensions whose product overflows, and a body that is
//! shorter or longer than the header says are errors naming the file and the reason.

use std::path::Path;

use crate::DatasetError;
use crate::source::Source;

/// An IDX array: its dimensions and its values as `f32`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// Size of every dimension (e.g. `[60000, 28, 28]` for images, `[60000]` for labels).
    pub dims: Vec<usize>,
    /// `dims.iter().product()` values.
    pub values: Vec<f32>,
}

impl IdxArray {
    /// Number of items (the first dimension; 1 for a scalar file).
    pub fn items(&self) -> usize {
        self.dims.first().copied().unwrap_or(1)
    }

    /// Values per item (the product of the other dimensions).
    pub fn item_len(&self) -> usize {
        self.dims.iter().skip(1).product()
    }
}

/// Reads an IDX file (see the module docs).
///
/// # Errors
///
/// [`DatasetError::Io`] / [`DatasetError::Gzip`] when the file cannot be read, and
/// [`DatasetError::Invalid`] when it is not a well-formed IDX file.
pub fn read_idx(path: &Path) -> Result<IdxArray, DatasetError> {
    let source = Source::file(path)?;
    parse(source.name(), &source.read_all()?)
}

/// Reads IDX bytes from memory (plain or gzip); `name` stands for the file in errors.
///
/// # Errors
///
/// As [`read_idx`].
pub fn read_idx_bytes(name: &str, bytes: &[u8]) -> Result<IdxArray, DatasetError> {
    let source = Source::bytes(name, bytes);
    parse(source.name(), &source.read_all()?)
}

/// Decodes one big-endian value.
type Decode = fn(&[u8]) -> f32;

/// The value types: type byte, size in bytes, and the big-endian decoder.
fn value_type(code: u8) -> Option<(usize, Decode)> {
    Some(match code {
        0x08 => (1, |b| f32::from(b[0])),
        0x09 => (1, |b| f32::from(b[0] as i8)),
        0x0B => (2, |b| f32::from(i16::from_be_bytes([b[0], b[1]]))),
        0x0C => (4, |b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f32),
        0x0D => (4, |b| f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        0x0E => (8, |b| {
            f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
        }),
        _ => return None,
    })
}

fn parse(name: &Path, bytes: &[u8]) -> Result<IdxArray, DatasetError> {
    let invalid = |reason: String| DatasetError::Invalid {
        path: name.to_path_buf(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(invalid(format!(
            "not an IDX file: {} bytes, shorter than the 4-byte magic number",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(invalid(format!(
            "not an IDX file: the magic number starts {:02x} {:02x}, expected 00 00",
            bytes[0], bytes[1]
        )));
    }
    let (size, decode) = value_type(bytes[2]).ok_or_else(|| {
        invalid(format!(
            "unknown IDX value type 0x{:02x} (expected 08, 09, 0B, 0C, 0D or 0E)",
            bytes[2]
        ))
    })?;
    let ndims = usize::from(bytes[3]);
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(invalid(format!(
            "the header announces {ndims} dimensions but the file ends after {} bytes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(size).is_some())
        .ok_or_else(|| invalid(format!("dimensions {dims:?} are too large")))?;
    let body = &bytes[header..];
    if body.len() != count * size {
        return Err(invalid(format!(
            "dimensions {dims:?} need {} bytes of values, the file has {}",
            count * size,
            body.len()
        )));
    }
    let values = body.chunks_exact(size).map(decode).collect();
    Ok(IdxArray { dims, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(code: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, code, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_every_value_type() {
        let a = read_idx_bytes("u8", &idx(0x08, &[2, 2], &[0, 1, 2, 255])).unwrap();
        assert_eq!(a.dims, vec![2, 2]);
        assert_eq!(a.values, vec![0.0, 1.0, 2.0, 255.0]);
        assert_eq!((a.items(), a.item_len()), (2, 2));
        let a = read_idx_bytes("i8", &idx(0x09, &[1], &[0xff])).unwrap();
        assert_eq!(a.values, vec![-1.0]);
        let a = read_idx_bytes("i16", &idx(0x0B, &[1], &[0xff, 0xfe])).unwrap();
        assert_eq!(a.values, vec![-2.0]);
        let a = read_idx_bytes("i32", &idx(0x0C, &[1], &7i32.to_be_bytes())).unwrap();
        assert_eq!(a.values, vec![7.0]);
        let a = read_idx_bytes("f32", &idx(0x0D, &[1], &1.5f32.to_be_bytes())).unwrap();
        assert_eq!(a.values, vec![1.5]);
        let a = read_idx_bytes("f64", &idx(0x0E, &[1], &(-0.25f64).to_be_bytes())).unwrap();
        assert_eq!(a.values, vec![-0.25]);
    }

    #[test]
    fn reads_gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&idx(0x08, &[3], &[4, 5, 6])).unwrap();
        let a = read_idx_bytes("x.gz", &gz.finish().unwrap()).unwrap();
        assert_eq!(a.values, vec![4.0, 5.0, 6.0]);
    }

    #[test]
    fn rejects_malformed_files() {
        let err = |bytes: &[u8]| read_idx_bytes("bad.idx", bytes).unwrap_err().to_string();
        assert!(err(&[0, 0]).contains("shorter than the 4-byte magic"));
        assert!(err(&[1, 0, 8, 1, 0, 0, 0, 1, 0]).contains("magic number starts 01 00"));
        assert!(err(&idx(0x07, &[1], &[0])).contains("unknown IDX value type 0x07"));
        assert!(err(&[0, 0, 8, 3, 0, 0, 0, 1]).contains("announces 3 dimensions"));
        assert!(
            err(&idx(0x08, &[2, 2], &[1, 2, 3])).contains("need 4 bytes of values, the file has 3")
        );
        assert!(err(&idx(0x08, &[1], &[1, 2])).contains("need 1 bytes"));
        let huge = idx(0x0E, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(err(&huge).contains("too large"));
        assert!(err(&idx(0x08, &[2], &[1])).starts_with("bad.idx: "));
    }
}
