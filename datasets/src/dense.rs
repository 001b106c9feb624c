//! Dense labelled examples in CSV: one example a line, `label,x1,x2,...,xd`. Plain or gzip.
//!
//! A first line whose label field is not a number is a header and skipped; blank lines
//! and lines starting with `#` are skipped. Every other line must have the same number of
//! fields as the first example, and every field must be a finite number: otherwise the
//! error names the file, the line, the column and the field.

use std::path::Path;

use crate::DatasetError;
use crate::source::Source;
use crate::text::{parse_weight, show_line, show_token};

/// Labelled dense examples, row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DenseExamples {
    /// One label per example.
    pub labels: Vec<f32>,
    /// `labels.len() * dim` feature values, example after example.
    pub features: Vec<f32>,
    /// Features per example.
    pub dim: usize,
    /// 1-based line number of each example in the file.
    pub lines: Vec<u64>,
}

/// Reads a dense CSV file (see the module docs).
///
/// # Errors
///
/// [`DatasetError::Io`] / [`DatasetError::Gzip`] when the file cannot be read,
/// [`DatasetError::Parse`] with the line and reason for a malformed line, and
/// [`DatasetError::Empty`] when the file holds no example.
pub fn read_dense_csv(path: &Path) -> Result<DenseExamples, DatasetError> {
    parse(&Source::file(path)?)
}

/// Reads dense CSV text from memory; `name` stands for the file in errors.
///
/// # Errors
///
/// As [`read_dense_csv`].
pub fn read_dense_csv_bytes(name: &str, bytes: &[u8]) -> Result<DenseExamples, DatasetError> {
    parse(&Source::bytes(name, bytes))
}

fn parse(source: &Source<'_>) -> Result<DenseExamples, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut out = DenseExamples::default();
    let mut number = 0u64;
    let mut columns = None;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let text = line.trim_ascii();
        if text.is_empty() || text[0] == b'#' {
            continue;
        }
        let fail = |reason: String| DatasetError::Parse {
            path: source.name().to_path_buf(),
            line: number,
            text: show_line(line),
            reason,
        };
        let fields: Vec<&[u8]> = text.split(|&b| b == b',').map(<[u8]>::trim_ascii).collect();
        if columns.is_none() && out.labels.is_empty() && parse_weight(fields[0]).is_err() {
            continue; // a header
        }
        let expected = *columns.get_or_insert(fields.len());
        if expected < 2 {
            return Err(fail(
                "an example needs a label and at least one feature".into(),
            ));
        }
        if fields.len() != expected {
            return Err(fail(format!(
                "{} fields, but the first example has {expected}",
                fields.len()
            )));
        }
        for (column, field) in fields.iter().enumerate() {
            let value = parse_weight(field).map_err(|_| {
                fail(format!(
                    "column {}: `{}` is not a finite number",
                    column + 1,
                    show_token(field)
                ))
            })? as f32;
            if column == 0 {
                out.labels.push(value);
            } else {
                out.features.push(value);
            }
        }
        out.lines.push(number);
    }
    match columns {
        Some(c) if !out.labels.is_empty() => {
            out.dim = c - 1;
            Ok(out)
        }
        _ => Err(DatasetError::Empty {
            path: source.name().to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_examples_with_and_without_header() {
        let a =
            read_dense_csv_bytes("a.csv", b"label,x,y\n1,0.5,2\n# note\n\n0, -1 ,3e1\n").unwrap();
        assert_eq!(a.labels, vec![1.0, 0.0]);
        assert_eq!(a.features, vec![0.5, 2.0, -1.0, 30.0]);
        assert_eq!((a.dim, a.lines.clone()), (2, vec![2, 5]));
        let b = read_dense_csv_bytes("b.csv", b"2,1\n").unwrap();
        assert_eq!((b.dim, b.labels), (1, vec![2.0]));
    }

    #[test]
    fn rejects_bad_lines_with_their_line_number() {
        let err = |t: &[u8]| read_dense_csv_bytes("bad.csv", t).unwrap_err().to_string();
        assert!(
            err(b"1,2,3\n1,2\n").starts_with("bad.csv:2: 2 fields, but the first example has 3")
        );
        assert!(err(b"1,2\n1,x\n").contains("bad.csv:2: column 2: `x` is not a finite number"));
        assert!(err(b"1,2\n1,inf\n").contains("column 2"));
        assert!(err(b"7\n").contains("bad.csv:1: an example needs a label"));
        assert!(err(b"a,b\n").contains("contains no"));
        assert!(err(b"").contains("contains no"));
    }
}
