//! METIS graph files, as read by `gpmetis`.
//!
//! The first non-comment line is the header `n m [fmt [ncon]]`: `n` vertices, `m` undirected
//! edges, and `fmt` (up to three binary digits) telling what each vertex line carries:
//! `1` edge weights, `10` vertex weights (`ncon` of them, default 1), `11` both. Vertex
//! sizes (`100`) are rejected. Lines starting with `%` are comments. The `i`-th line after
//! the header (1-based, comments not counted) is vertex `i`: its vertex weights (skipped),
//! then its neighbours `j` (1-based), each followed by the edge weight when `fmt` has one.
//! A blank vertex line is a vertex without neighbours; blank lines after the `n`-th vertex
//! line are ignored.
//!
//! Every listed neighbour `j` of vertex `i` becomes the directed edge `i -> j`, so the
//! undirected METIS graph (which lists each edge at both ends) comes out with both
//! directions. Every vertex line also declares its vertex, so isolated vertices exist.
//!
//! Design: a rank reading a byte range must know the number of its first vertex line. It
//! counts the vertex lines of its range in a first pass, an exclusive prefix sum over ranks
//! gives its first vertex number, and a second pass parses. With gzip, every rank sees the
//! whole stream, so vertex numbers are known as lines go by, and vertex lines are parsed
//! round-robin. Global checks (vertex line count against `n`, adjacency entries against `2m`)
//! blame the header line, which every rank has read.

use gasket_engine::comm::{Comm, CommExt};

use crate::EdgeList;
use crate::error::DatasetError;
use crate::source::{Origin, Share, Source, column_sum, gather_u64};
use crate::text::{Lines, Tokens, first_non_space, parse_uint, parse_weight, show_line};

/// METIS data lines: every line that is not a `%` comment (blank lines are vertices).
pub(crate) fn is_data(line: &[u8]) -> bool {
    first_non_space(line) != Some(b'%')
}

/// The METIS header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// Number of vertices.
    pub(crate) n: u64,
    /// Number of undirected edges.
    pub(crate) m: u64,
    /// Each vertex line starts with this many vertex weights.
    pub(crate) vertex_weights: u64,
    /// Each neighbour is followed by an edge weight.
    pub(crate) edge_weights: bool,
}

/// Parses the header line's tokens.
pub(crate) fn parse_header(line: &[u8]) -> Result<Header, String> {
    let tokens: Vec<&[u8]> = Tokens::new(line).collect();
    if tokens.len() < 2 || tokens.len() > 4 {
        return Err(format!(
            "expected a METIS header `n m [fmt [ncon]]`, found {} fields",
            tokens.len()
        ));
    }
    let n = parse_uint(tokens[0], "vertex count")?;
    let m = parse_uint(tokens[1], "edge count")?;
    let fmt = tokens.get(2).copied().unwrap_or(b"0");
    if fmt.is_empty() || fmt.len() > 3 || !fmt.iter().all(|&b| b == b'0' || b == b'1') {
        return Err(format!(
            "fmt `{}` is not one of 0, 1, 10, 11 (three binary digits at most)",
            String::from_utf8_lossy(fmt)
        ));
    }
    let digit = |place: usize| fmt.len() > place && fmt[fmt.len() - 1 - place] == b'1';
    if digit(2) {
        return Err("vertex sizes (fmt 100) are not supported".to_string());
    }
    let ncon = match tokens.get(3) {
        Some(t) => parse_uint(t, "constraint count (ncon)")?,
        None => 1,
    };
    Ok(Header {
        n,
        m,
        vertex_weights: if digit(1) { ncon } else { 0 },
        edge_weights: digit(0),
    })
}

/// Reads comments up to the header and parses it; `lines` then stands after the header.
fn read_header(
    source: &Source<'_>,
    lines: &mut Lines<'_>,
) -> Result<(Header, u64, String), DatasetError> {
    loop {
        let count = lines.count() + 1;
        let Some((_, text)) = lines.next_line().map_err(|e| source.read_error(e))? else {
            return Err(DatasetError::Parse {
                path: source.name().to_path_buf(),
                line: count,
                text: String::new(),
                reason: "missing METIS header `n m [fmt [ncon]]`".to_string(),
            });
        };
        if first_non_space(text).is_none_or(|b| b == b'%') {
            continue;
        }
        let header = parse_header(text).map_err(|r| Origin::top().error(source, count, text, r))?;
        return Ok((header, count, show_line(text)));
    }
}

/// Parses one vertex line of vertex `v`, appending its edges to `out`.
fn parse_vertex(header: &Header, v: u64, line: &[u8], out: &mut EdgeList) -> Result<(), String> {
    let mut tokens = Tokens::new(line);
    for k in 0..header.vertex_weights {
        if tokens.next().is_none() {
            return Err(format!(
                "expected {} vertex weight(s), found {k}",
                header.vertex_weights
            ));
        }
    }
    while let Some(token) = tokens.next() {
        let j = parse_uint(token, "neighbour")?;
        if j == 0 || j > header.n {
            return Err(format!("neighbour {j} is out of range 1..={}", header.n));
        }
        if header.edge_weights {
            let Some(w) = tokens.next() else {
                return Err(format!(
                    "neighbour {j} has no edge weight (fmt asks for one)"
                ));
            };
            let w = parse_weight(w)?;
            if let Some(ws) = out.weight.as_mut() {
                ws.push(w);
            }
        }
        out.src.push(v);
        out.dst.push(j);
    }
    out.vertices.push(v);
    Ok(())
}

/// Reads this rank's share of a METIS graph. Returns the edges and the global edge count.
pub(crate) fn read(source: &Source<'_>, comm: &dyn Comm) -> Result<(EdgeList, u64), DatasetError> {
    let mut lines = source.lines_from_start()?;
    let (header, header_line, header_text) = read_header(source, &mut lines)?;
    let header_error = |reason: String| DatasetError::Parse {
        path: source.name().to_path_buf(),
        line: header_line,
        text: header_text.clone(),
        reason,
    };

    // Number of this rank's first vertex line, minus one.
    let mut first_vertex = 0;
    let mut vertex_lines = None;
    if !source.is_gzip() {
        let mut count_share = Share::new(source, lines, is_data, comm)?;
        while count_share
            .next_data()
            .map_err(|e| source.read_error(e))?
            .is_some()
        {}
        let (before, total) = comm.exclusive_scan_u64(count_share.data_seen())?;
        first_vertex = before;
        vertex_lines = Some(total);
        lines = source.lines_from_start()?;
        read_header(source, &mut lines)?;
    }
    if let Some(total) = vertex_lines {
        check_vertex_lines(&header, total).map_err(&header_error)?;
    }

    let mut share = Share::new(source, lines, is_data, comm)?;
    let origin = share.origin();
    let mut out = EdgeList {
        weight: header.edge_weights.then(Vec::new),
        ..EdgeList::default()
    };
    while let Some(line) = share.next_data().map_err(|e| source.read_error(e))? {
        let v = first_vertex + line.index + 1;
        if v > header.n {
            if first_non_space(line.text).is_none() {
                continue;
            }
            return Err(origin.error(
                source,
                line.count,
                line.text,
                format!(
                    "the header declares {} vertices, but this is vertex line {v}",
                    header.n
                ),
            ));
        }
        if !line.mine {
            continue;
        }
        parse_vertex(&header, v, line.text, &mut out)
            .map_err(|reason| origin.error(source, line.count, line.text, reason))?;
    }
    if share.sees_whole_file() {
        check_vertex_lines(&header, share.data_seen()).map_err(&header_error)?;
    }

    let all = gather_u64(comm, &[out.len() as u64])?;
    let total = column_sum(&all, 0);
    if Some(total) != header.m.checked_mul(2) {
        return Err(header_error(format!(
            "the header declares {} edges, which METIS lists twice ({} entries), \
             but the vertex lines list {total} neighbours",
            header.m,
            u128::from(header.m) * 2
        )));
    }
    if total == 0 {
        return Err(DatasetError::Empty {
            path: source.name().to_path_buf(),
        });
    }
    Ok((out, total))
}

/// Fails when the file has fewer vertex lines than the header declares.
fn check_vertex_lines(header: &Header, lines: u64) -> Result<(), String> {
    if lines < header.n {
        return Err(format!(
            "the header declares {} vertices, but the file has only {lines} vertex lines",
            header.n
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::testutil::{edges_of, read_text, read_text_err};

    #[test]
    fn parses_headers() {
        let h = |s: &str| parse_header(s.as_bytes());
        assert_eq!(
            h("5 6"),
            Ok(Header {
                n: 5,
                m: 6,
                vertex_weights: 0,
                edge_weights: false
            })
        );
        assert_eq!(
            h("5 6 1").map(|h| (h.vertex_weights, h.edge_weights)),
            Ok((0, true))
        );
        assert_eq!(
            h("5 6 010").map(|h| (h.vertex_weights, h.edge_weights)),
            Ok((1, false))
        );
        assert_eq!(
            h("5 6 11 3").map(|h| (h.vertex_weights, h.edge_weights)),
            Ok((3, true))
        );
        assert_eq!(
            h("5 6 001 2").map(|h| (h.vertex_weights, h.edge_weights)),
            Ok((0, true))
        );
        assert_eq!(
            h("5 6 100").unwrap_err(),
            "vertex sizes (fmt 100) are not supported"
        );
        assert!(h("5 6 12").unwrap_err().contains("fmt `12` is not one of"));
        assert!(h("5").unwrap_err().contains("found 1 fields"));
        assert!(h("5 6 1 1 1").unwrap_err().contains("found 5 fields"));
        assert_eq!(h("5 x").unwrap_err(), "expected an edge count, found `x`");
    }

    /// The undirected triangle 1-2-3 plus the isolated vertex 4.
    const TRIANGLE: &str = "% a comment\n4 3\n2 3\n1 3\n% inside\n1 2\n\n";

    #[test]
    fn reads_both_directions_and_isolated_vertices() {
        let g = read_text(TRIANGLE, Format::Metis, 1).remove(0);
        assert_eq!(
            edges_of(&g),
            vec![(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]
        );
        assert_eq!(g.vertices, vec![1, 2, 3, 4]);
        assert_eq!(g.weight, None);
    }

    #[test]
    fn reads_edge_weights_and_skips_vertex_weights() {
        let text = "3 2 11 2\n7 8 2 0.5\n1 1 1 0.5 3 2.5\n4 4 2 2.5\n";
        let g = read_text(text, Format::Metis, 1).remove(0);
        assert_eq!(g.src, vec![1, 2, 2, 3]);
        assert_eq!(g.dst, vec![2, 1, 3, 2]);
        assert_eq!(g.weight, Some(vec![0.5, 0.5, 2.5, 2.5]));
        assert_eq!(g.vertices, vec![1, 2, 3]);
        let text = "2 1 10\n5 2\n6 1\n";
        let g = read_text(text, Format::Metis, 1).remove(0);
        assert_eq!(edges_of(&g), vec![(1, 2), (2, 1)]);
        assert_eq!(g.weight, None);
    }

    #[test]
    fn trailing_blank_lines_are_ignored() {
        let g = read_text("2 1\n2\n1\n\n\n", Format::Metis, 1).remove(0);
        assert_eq!(g.vertices, vec![1, 2]);
    }

    #[test]
    fn splits_over_ranks_keep_vertex_numbers() {
        for ranks in 1..=4 {
            let parts = read_text(TRIANGLE, Format::Metis, ranks);
            let mut vertices: Vec<u64> = parts.iter().flat_map(|g| g.vertices.clone()).collect();
            vertices.sort_unstable();
            assert_eq!(vertices, vec![1, 2, 3, 4], "{ranks} ranks");
            let mut edges: Vec<(u64, u64)> = parts.iter().flat_map(edges_of).collect();
            edges.sort_unstable();
            assert_eq!(edges, vec![(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]);
        }
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            ("3 2\n2\n1 3\n2 4\n", 4, "neighbour 4 is out of range 1..=3"),
            ("3 2\n2\n1 0\n2\n", 3, "neighbour 0 is out of range 1..=3"),
            ("3 2\n2\n1 x\n2\n", 3, "expected a neighbour, found `x`"),
            (
                "2 1\n2\n1\n1\n",
                4,
                "the header declares 2 vertices, but this is vertex line 3",
            ),
            (
                "3 2\n%c\n2\n1 3\n",
                1,
                "the header declares 3 vertices, but the file has only 2 vertex lines",
            ),
            (
                "3 3\n2\n1 3\n2\n",
                1,
                "the header declares 3 edges, which METIS lists twice (6 entries), \
                 but the vertex lines list 4 neighbours",
            ),
            (
                "2 1 1\n2 1.0\n1\n",
                3,
                "neighbour 1 has no edge weight (fmt asks for one)",
            ),
            ("2 1 1\n2 w\n1 1\n", 2, "weight `w` is not a finite number"),
            (
                "2 1 10 2\n1\n1 1\n",
                2,
                "expected 2 vertex weight(s), found 1",
            ),
            ("% only\n", 2, "missing METIS header `n m [fmt [ncon]]`"),
            (
                "%c\n3 2 100\n",
                2,
                "vertex sizes (fmt 100) are not supported",
            ),
        ];
        for (text, line, reason) in cases {
            for ranks in 1..=3 {
                match read_text_err(text, Format::Metis, ranks) {
                    DatasetError::Parse {
                        line: l, reason: r, ..
                    } => assert_eq!((l, r.as_str()), (line, reason), "{text:?} on {ranks}"),
                    other => panic!("{text:?}: unexpected {other}"),
                }
            }
        }
    }

    #[test]
    fn a_graph_without_edges_is_empty() {
        for ranks in 1..=2 {
            let err = read_text_err("3 0\n\n\n\n", Format::Metis, ranks);
            assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
        }
    }
}
