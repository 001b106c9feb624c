//! Matrix Market coordinate files: the nonzeros of a sparse matrix, read as a graph.
//!
//! The first line is the banner `%%MatrixMarket matrix coordinate FIELD SYMMETRY` with
//! FIELD one of `real`, `double`, `integer`, `pattern` and SYMMETRY `general` or `symmetric`
//! (dense `array` files, `complex` values, `skew-symmetric` and `hermitian` matrices are
//! rejected). Then `%` comments, the size line `M N NNZ`, and NNZ entries `i j [value]`
//! (1-based). Entry `(i, j)` is the edge `i -> j` with its value as the weight (`pattern`
//! files have no weights); in a symmetric file it also yields `j -> i` unless `i == j`.
//! The vertices are `1..=max(M, N)`; each rank declares a contiguous block of them, so
//! empty rows and columns still exist as vertices.
//!
//! Design: every rank reads the banner and size line from the top of the file, then its
//! share of the entries (byte range, or round-robin for gzip). The entry count is checked
//! against NNZ with one collective, which also sums the edges for the empty-file check;
//! that error blames the size line, which every rank has read.

use gasket_engine::comm::Comm;

use crate::EdgeList;
use crate::error::DatasetError;
use crate::source::{Origin, Share, Source, column_sum, gather_u64};
use crate::text::{Lines, Tokens, first_non_space, parse_uint, parse_weight, show_line};

/// Matrix Market data lines: anything that is not blank and not a `%` comment.
pub(crate) fn is_data(line: &[u8]) -> bool {
    !matches!(first_non_space(line), None | Some(b'%'))
}

/// What the banner and size line say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// Entries carry a value.
    pub(crate) valued: bool,
    /// Entry `(i, j)` stands for `(j, i)` too.
    pub(crate) symmetric: bool,
    /// Rows.
    pub(crate) rows: u64,
    /// Columns.
    pub(crate) cols: u64,
    /// Entries.
    pub(crate) nnz: u64,
}

/// Parses the banner line; returns `(valued, symmetric)`.
pub(crate) fn parse_banner(line: &[u8]) -> Result<(bool, bool), String> {
    let text = String::from_utf8_lossy(line).to_ascii_lowercase();
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    if words.first() != Some(&"%%matrixmarket") {
        return Err("expected a `%%MatrixMarket` banner as the first line".to_string());
    }
    if words.len() != 5 {
        return Err("expected `%%MatrixMarket matrix coordinate <field> <symmetry>`".to_string());
    }
    if words[1] != "matrix" {
        return Err(format!(
            "object `{}` is not supported (expected `matrix`)",
            words[1]
        ));
    }
    if words[2] != "coordinate" {
        return Err(format!(
            "format `{}` is not supported (expected sparse `coordinate`)",
            words[2]
        ));
    }
    let valued = match words[3] {
        "real" | "double" | "integer" => true,
        "pattern" => false,
        other => {
            return Err(format!(
                "field `{other}` is not supported (expected real, integer or pattern)"
            ));
        }
    };
    let symmetric = match words[4] {
        "general" => false,
        "symmetric" => true,
        other => {
            return Err(format!(
                "symmetry `{other}` is not supported (expected general or symmetric)"
            ));
        }
    };
    Ok((valued, symmetric))
}

/// Parses the size line `M N NNZ`.
pub(crate) fn parse_size(line: &[u8]) -> Result<(u64, u64, u64), String> {
    let tokens: Vec<&[u8]> = Tokens::new(line).collect();
    if tokens.len() != 3 {
        return Err(format!(
            "expected the size line `rows columns entries`, found {} fields",
            tokens.len()
        ));
    }
    Ok((
        parse_uint(tokens[0], "row count")?,
        parse_uint(tokens[1], "column count")?,
        parse_uint(tokens[2], "entry count")?,
    ))
}

/// Reads the banner, comments and size line; `lines` then stands after the size line.
/// Returns the header, the size line's number and its text.
fn read_header(
    source: &Source<'_>,
    lines: &mut Lines<'_>,
) -> Result<(Header, u64, String), DatasetError> {
    let missing = |lines: &Lines<'_>, what: &str| DatasetError::Parse {
        path: source.name().to_path_buf(),
        line: lines.count() + 1,
        text: String::new(),
        reason: format!("missing {what}"),
    };
    let read_err = |e| source.read_error(e);
    let Some((_, banner)) = lines.next_line().map_err(read_err)? else {
        return Err(missing(lines, "`%%MatrixMarket` banner"));
    };
    let (valued, symmetric) =
        parse_banner(banner).map_err(|r| Origin::top().error(source, 1, banner, r))?;
    loop {
        let count = lines.count() + 1;
        let Some((_, text)) = lines.next_line().map_err(read_err)? else {
            return Err(missing(lines, "size line `rows columns entries`"));
        };
        if !is_data(text) {
            continue;
        }
        let (rows, cols, nnz) =
            parse_size(text).map_err(|r| Origin::top().error(source, count, text, r))?;
        let header = Header {
            valued,
            symmetric,
            rows,
            cols,
            nnz,
        };
        return Ok((header, count, show_line(text)));
    }
}

/// Parses one entry line, appending its edge (two in a symmetric file) to `out`.
fn parse_entry(header: &Header, line: &[u8], out: &mut EdgeList) -> Result<(), String> {
    let mut tokens = Tokens::new(line);
    let i = parse_uint(tokens.next().unwrap_or_default(), "row index")?;
    let Some(j) = tokens.next() else {
        return Err("expected an entry `row column [value]`".to_string());
    };
    let j = parse_uint(j, "column index")?;
    if i == 0 || i > header.rows {
        return Err(format!("row index {i} is out of range 1..={}", header.rows));
    }
    if j == 0 || j > header.cols {
        return Err(format!(
            "column index {j} is out of range 1..={}",
            header.cols
        ));
    }
    let value = match (header.valued, tokens.next()) {
        (true, Some(v)) => Some(parse_weight(v)?),
        (true, None) => return Err("missing the entry's value".to_string()),
        (false, Some(_)) => {
            return Err("a `pattern` matrix entry has no value, found an extra column".to_string());
        }
        (false, None) => None,
    };
    if tokens.next().is_some() {
        return Err("too many columns: expected `row column [value]`".to_string());
    }
    let mirrored = header.symmetric && i != j;
    out.src.push(i);
    out.dst.push(j);
    if mirrored {
        out.src.push(j);
        out.dst.push(i);
    }
    if let (Some(ws), Some(v)) = (out.weight.as_mut(), value) {
        ws.push(v);
        if mirrored {
            ws.push(v);
        }
    }
    Ok(())
}

/// Reads this rank's share of a Matrix Market file. Returns the edges and the global count.
pub(crate) fn read(source: &Source<'_>, comm: &dyn Comm) -> Result<(EdgeList, u64), DatasetError> {
    let mut lines = source.lines_from_start()?;
    let (header, size_line, size_text) = read_header(source, &mut lines)?;
    let mut share = Share::new(source, lines, is_data, comm)?;
    let origin = share.origin();
    let mut out = EdgeList {
        weight: header.valued.then(Vec::new),
        ..EdgeList::default()
    };
    let mut entries = 0u64;
    while let Some(line) = share.next_data().map_err(|e| source.read_error(e))? {
        if !line.mine {
            continue;
        }
        entries += 1;
        parse_entry(&header, line.text, &mut out)
            .map_err(|reason| origin.error(source, line.count, line.text, reason))?;
    }

    let all = gather_u64(comm, &[entries, out.len() as u64])?;
    let (total_entries, total) = (column_sum(&all, 0), column_sum(&all, 1));
    if total_entries != header.nnz {
        return Err(DatasetError::Parse {
            path: source.name().to_path_buf(),
            line: size_line,
            text: size_text,
            reason: format!(
                "the size line declares {} entries, but the file has {total_entries}",
                header.nnz
            ),
        });
    }
    if total == 0 {
        return Err(DatasetError::Empty {
            path: source.name().to_path_buf(),
        });
    }
    let n = header.rows.max(header.cols);
    let (rank, size) = (comm.rank() as u128, comm.size() as u128);
    let block = |r: u128| (u128::from(n) * r / size) as u64;
    out.vertices = (block(rank) + 1..=block(rank + 1)).collect();
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::testutil::{edges_of, read_text, read_text_err};

    #[test]
    fn parses_banners() {
        let b = |s: &str| parse_banner(s.as_bytes());
        assert_eq!(
            b("%%MatrixMarket matrix coordinate real general"),
            Ok((true, false))
        );
        assert_eq!(
            b("%%matrixmarket MATRIX coordinate pattern symmetric"),
            Ok((false, true))
        );
        assert_eq!(
            b("%%MatrixMarket matrix coordinate integer general"),
            Ok((true, false))
        );
        assert!(
            b("%%MatrixMarket matrix array real general")
                .unwrap_err()
                .contains("`array`")
        );
        assert!(
            b("%%MatrixMarket matrix coordinate complex general")
                .unwrap_err()
                .contains("`complex`")
        );
        assert!(
            b("%%MatrixMarket matrix coordinate real skew-symmetric")
                .unwrap_err()
                .contains("`skew-symmetric` is not supported")
        );
        assert!(b("1 2 3").unwrap_err().contains("banner"));
    }

    const GENERAL: &str = "%%MatrixMarket matrix coordinate real general\n\
        % comment\n\
        %\n\
        3 4 3\n\
        1 2 0.5\n\
        3 4 -2\n\
        \n\
        2 2 1e1\n";

    #[test]
    fn reads_a_general_real_matrix() {
        let g = read_text(GENERAL, Format::Mtx, 1).remove(0);
        assert_eq!(g.src, vec![1, 3, 2]);
        assert_eq!(g.dst, vec![2, 4, 2]);
        assert_eq!(g.weight, Some(vec![0.5, -2.0, 10.0]));
        assert_eq!(g.vertices, vec![1, 2, 3, 4]);
    }

    #[test]
    fn reads_a_symmetric_pattern_matrix() {
        let text =
            "%%MatrixMarket matrix coordinate pattern symmetric\r\n3 3 3\r\n2 1\r\n3 1\r\n3 3\r\n";
        let g = read_text(text, Format::Mtx, 1).remove(0);
        assert_eq!(edges_of(&g), vec![(1, 2), (1, 3), (2, 1), (3, 1), (3, 3)]);
        assert_eq!(g.weight, None);
    }

    #[test]
    fn symmetric_weights_follow_both_directions() {
        let text = "%%MatrixMarket matrix coordinate integer symmetric\n2 2 1\n2 1 7\n";
        let g = read_text(text, Format::Mtx, 1).remove(0);
        assert_eq!(
            (g.src, g.dst, g.weight),
            (vec![2, 1], vec![1, 2], Some(vec![7.0, 7.0]))
        );
    }

    #[test]
    fn vertices_are_split_in_blocks() {
        for ranks in 1..=4 {
            let parts = read_text(GENERAL, Format::Mtx, ranks);
            let vertices: Vec<u64> = parts.iter().flat_map(|g| g.vertices.clone()).collect();
            assert_eq!(vertices, vec![1, 2, 3, 4], "{ranks} ranks");
            let mut edges: Vec<(u64, u64)> = parts.iter().flat_map(edges_of).collect();
            edges.sort_unstable();
            assert_eq!(edges, vec![(1, 2), (2, 2), (3, 4)]);
        }
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let head = "%%MatrixMarket matrix coordinate real general\n3 3 2\n";
        let cases = [
            (
                format!("{head}1 2 1\n4 1 1\n"),
                4,
                "row index 4 is out of range 1..=3",
            ),
            (
                format!("{head}1 2 1\n1 0 1\n"),
                4,
                "column index 0 is out of range 1..=3",
            ),
            (
                format!("{head}1 2\n2 1 1\n"),
                3,
                "missing the entry's value",
            ),
            (
                format!("{head}1 2 1 1\n2 1 1\n"),
                3,
                "too many columns: expected `row column [value]`",
            ),
            (
                format!("{head}1 2 1\n"),
                2,
                "the size line declares 2 entries, but the file has 1",
            ),
            (
                format!("{head}1 2 1\n2 2 1\n3 3 3\n"),
                2,
                "the size line declares 2 entries, but the file has 3",
            ),
            (
                "%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1 5\n".to_string(),
                3,
                "a `pattern` matrix entry has no value, found an extra column",
            ),
            (
                "%%MatrixMarket matrix coordinate real hermitian\n2 2 1\n".to_string(),
                1,
                "symmetry `hermitian` is not supported (expected general or symmetric)",
            ),
            (
                "3 3 1\n1 1\n".to_string(),
                1,
                "expected a `%%MatrixMarket` banner as the first line",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n% c\n".to_string(),
                3,
                "missing size line `rows columns entries`",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3\n".to_string(),
                2,
                "expected the size line `rows columns entries`, found 2 fields",
            ),
        ];
        for (text, line, reason) in &cases {
            for ranks in 1..=3 {
                match read_text_err(text, Format::Mtx, ranks) {
                    DatasetError::Parse {
                        line: l, reason: r, ..
                    } => assert_eq!((l, r.as_str()), (*line, *reason), "{text:?} on {ranks}"),
                    other => panic!("{text:?}: unexpected {other}"),
                }
            }
        }
    }

    #[test]
    fn no_entries_is_empty() {
        let text = "%%MatrixMarket matrix coordinate real general\n3 3 0\n";
        for ranks in 1..=2 {
            assert!(matches!(
                read_text_err(text, Format::Mtx, ranks),
                DatasetError::Empty { .. }
            ));
        }
    }
}
