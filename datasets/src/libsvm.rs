//! The libsvm / svmlight sparse format: one example a line, `label index:value ...`, with
//! 1-based feature indices in increasing order; `#` starts a comment. Plain or gzip.
//!
//! The reader keeps the examples whole in memory (data-parallel learning shards examples,
//! not bytes) and checks every line: a missing or non-numeric label, a token without `:`,
//! index 0 (the format is 1-based), indices out of order or repeated, and values that are
//! not finite are errors with the file, the line and the reason.

use std::path::Path;

use crate::DatasetError;
use crate::source::Source;
use crate::text::{Tokens, parse_uint, parse_weight, show_line, show_token};

/// Labelled sparse examples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseExamples {
    /// One label per example.
    pub labels: Vec<f32>,
    /// Each example's `(feature, value)` pairs, 0-based features in increasing order.
    pub features: Vec<Vec<(u32, f32)>>,
    /// One more than the largest feature index seen (0-based).
    pub num_features: u32,
    /// 1-based line number of each example in the file.
    pub lines: Vec<u64>,
}

/// Reads a libsvm file (see the module docs).
///
/// # Errors
///
/// [`DatasetError::Io`] / [`DatasetError::Gzip`] when the file cannot be read,
/// [`DatasetError::Parse`] with the line and reason for a malformed line, and
/// [`DatasetError::Empty`] when the file holds no example.
pub fn read_libsvm(path: &Path) -> Result<SparseExamples, DatasetError> {
    parse(&Source::file(path)?)
}

/// Reads libsvm text from memory; `name` stands for the file in errors.
///
/// # Errors
///
/// As [`read_libsvm`].
pub fn read_libsvm_bytes(name: &str, bytes: &[u8]) -> Result<SparseExamples, DatasetError> {
    parse(&Source::bytes(name, bytes))
}

fn parse(source: &Source<'_>) -> Result<SparseExamples, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut out = SparseExamples::default();
    let mut number = 0u64;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let content = match line.iter().position(|&b| b == b'#') {
            Some(hash) => &line[..hash],
            None => line,
        };
        let mut tokens = Tokens::new(content);
        let Some(label) = tokens.next() else {
            continue;
        };
        let fail = |reason: String| DatasetError::Parse {
            path: source.name().to_path_buf(),
            line: number,
            text: show_line(line),
            reason,
        };
        let label = parse_weight(label)
            .map_err(|_| fail(format!("the label `{}` is not a number", show_token(label))))?;
        let mut features = Vec::new();
        let mut previous = 0u64;
        for token in tokens {
            let Some(colon) = token.iter().position(|&b| b == b':') else {
                return Err(fail(format!(
                    "expected `index:value`, found `{}`",
                    show_token(token)
                )));
            };
            let index = parse_uint(&token[..colon], "feature index").map_err(&fail)?;
            if index == 0 {
                return Err(fail(
                    "feature index 0: libsvm indices are 1-based".to_string(),
                ));
            }
            if index <= previous {
                return Err(fail(format!(
                    "feature index {index} after {previous}: indices must increase along a line"
                )));
            }
            if index > u64::from(u32::MAX) {
                return Err(fail(format!("feature index {index} is too large")));
            }
            previous = index;
            let value = parse_weight(&token[colon + 1..]).map_err(|_| {
                fail(format!(
                    "the value of feature {index} is not a finite number"
                ))
            })?;
            features.push(((index - 1) as u32, value as f32));
        }
        out.num_features = out.num_features.max(previous as u32);
        out.labels.push(label as f32);
        out.features.push(features);
        out.lines.push(number);
    }
    if out.labels.is_empty() {
        return Err(DatasetError::Empty {
            path: source.name().to_path_buf(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_examples_and_comments() {
        let text = b"# header\n+1 1:0.5 3:2\n-1 2:1e-1 # note\n\n0 \n";
        let ex = read_libsvm_bytes("t.svm", text).unwrap();
        assert_eq!(ex.labels, vec![1.0, -1.0, 0.0]);
        assert_eq!(ex.features[0], vec![(0, 0.5), (2, 2.0)]);
        assert_eq!(ex.features[1], vec![(1, 0.1)]);
        assert!(ex.features[2].is_empty());
        assert_eq!(ex.num_features, 3);
        assert_eq!(ex.lines, vec![2, 3, 5]);
    }

    #[test]
    fn bad_lines_name_the_line_and_reason() {
        for (text, line, reason) in [
            ("1 1:1\nx 1:1\n", 2, "the label `x` is not a number"),
            ("1 0:1\n", 1, "feature index 0: libsvm indices are 1-based"),
            ("1 2:1 2:3\n", 1, "feature index 2 after 2"),
            ("1 3\n", 1, "expected `index:value`, found `3`"),
            (
                "1 3:nan\n",
                1,
                "the value of feature 3 is not a finite number",
            ),
            ("1 a:1\n", 1, "feature index"),
        ] {
            match read_libsvm_bytes("t.svm", text.as_bytes()) {
                Err(DatasetError::Parse {
                    line: l, reason: r, ..
                }) => {
                    assert_eq!(l, line, "{text:?}");
                    assert!(r.contains(reason), "{text:?}: {r}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        assert!(matches!(
            read_libsvm_bytes("t.svm", b"# nothing\n"),
            Err(DatasetError::Empty { .. })
        ));
    }
}
