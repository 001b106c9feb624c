//! Reading on several thread ranks gives exactly the edges of reading on one, for plain
//! files split by byte range and for gzip streams dealt round-robin; and the input errors
//! that do not belong to one format (missing file, broken gzip) are reported as such.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use gasket_datasets::bundled::{WIKI_VOTE_EDGES, WIKI_VOTE_NAME, WIKI_VOTE_VERTICES, wiki_vote};
use gasket_datasets::{DatasetError, EdgeList, Format, read_graph, read_graph_bytes};
use gasket_engine::comm::{Comm, SingleComm, ThreadComm};
use proptest::prelude::*;

/// An edge with its weight's bits, so that lists of edges can be sorted and compared.
type Edge = (u64, u64, Option<u64>);

/// All ranks' edges, as a sorted multiset.
fn multiset(parts: &[EdgeList]) -> Vec<Edge> {
    let mut all = Vec::new();
    for g in parts {
        assert_eq!(g.src.len(), g.dst.len());
        if let Some(w) = &g.weight {
            assert_eq!(w.len(), g.src.len());
        }
        for k in 0..g.len() {
            let w = g.weight.as_ref().map(|w| w[k].to_bits());
            all.push((g.src[k], g.dst[k], w));
        }
    }
    all.sort_unstable();
    all
}

fn read_file_on(path: &Path, format: Format, ranks: usize) -> Result<Vec<EdgeList>, DatasetError> {
    ThreadComm::run(ranks, |comm| read_graph(path, format, &comm))
}

fn read_bytes_on(
    bytes: &[u8],
    format: Format,
    ranks: usize,
) -> Result<Vec<EdgeList>, DatasetError> {
    ThreadComm::run(ranks, |comm| {
        read_graph_bytes("input", bytes, format, &comm)
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn check_wiki_vote(edges: &[Edge]) {
    assert_eq!(edges.len() as u64, WIKI_VOTE_EDGES);
    let mut vertices: Vec<u64> = edges.iter().flat_map(|&(u, v, _)| [u, v]).collect();
    vertices.sort_unstable();
    vertices.dedup();
    assert_eq!(vertices.len() as u64, WIKI_VOTE_VERTICES);
    assert_eq!(vertices.last(), Some(&8297));
    assert!(edges.iter().all(|e| e.2.is_none()));
}

#[test]
fn bundled_wiki_vote_is_the_same_graph_on_any_number_of_ranks() {
    let one = multiset(&[
        read_graph_bytes(WIKI_VOTE_NAME, wiki_vote(), Format::Snap, &SingleComm).unwrap(),
    ]);
    check_wiki_vote(&one);
    for ranks in 2..=4 {
        let parts = ThreadComm::run(ranks, |comm| {
            read_graph_bytes(WIKI_VOTE_NAME, wiki_vote(), Format::Snap, &comm)
        })
        .unwrap();
        // Round-robin keeps the shares balanced.
        let sizes: Vec<usize> = parts.iter().map(EdgeList::len).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        assert_eq!(multiset(&parts), one, "{ranks} ranks");
    }
}

#[test]
fn wiki_vote_from_plain_and_gzip_files_matches_the_bundled_copy() {
    let expect = multiset(&read_bytes_on(wiki_vote(), Format::Snap, 1).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("wiki-Vote.txt");
    std::fs::write(&plain, gunzip(wiki_vote())).unwrap();
    let gz = dir.path().join("wiki-Vote.txt.gz");
    std::fs::write(&gz, wiki_vote()).unwrap();
    for ranks in 1..=4 {
        let parts = read_file_on(&plain, Format::Snap, ranks).unwrap();
        // Byte ranges give every rank a fair share of a file this size.
        let least = parts.iter().map(EdgeList::len).min().unwrap() as u64;
        assert!(least > WIKI_VOTE_EDGES / ranks as u64 / 2, "{ranks} ranks");
        assert_eq!(multiset(&parts), expect, "plain on {ranks} ranks");
        let parts = read_file_on(&gz, Format::Snap, ranks).unwrap();
        assert_eq!(multiset(&parts), expect, "gzip on {ranks} ranks");
    }
}

const METIS: &str = "% a 6-cycle with a chord, weighted\n6 7 1\n\
    2 1 6 1 4 3\n1 1 3 2\n2 2 4 5\n3 5 5 1 1 3\n4 1 6 4\n5 4 1 1\n";

const MTX: &str = "%%MatrixMarket matrix coordinate real symmetric\n% comment\n5 5 6\n\
    1 1 1.0\n2 1 2.5\n3 2 -1\n4 3 4\n5 4 0.25\n5 1 7\n";

#[test]
fn metis_and_mtx_split_by_range_and_round_robin_agree() {
    for (text, format, edges) in [(METIS, Format::Metis, 14), (MTX, Format::Mtx, 11)] {
        let expect = multiset(&read_bytes_on(text.as_bytes(), format, 1).unwrap());
        assert_eq!(expect.len(), edges);
        let gz = gzip(text.as_bytes());
        for ranks in 1..=4 {
            for bytes in [text.as_bytes(), &gz] {
                let parts = read_bytes_on(bytes, format, ranks).unwrap();
                assert_eq!(multiset(&parts), expect, "{format} on {ranks} ranks");
                assert!(parts.iter().all(|g| g.weight.is_some()));
                let mut vertices: Vec<u64> = parts
                    .iter()
                    .flat_map(|g| g.vertices.iter().copied())
                    .collect();
                vertices.sort_unstable();
                let n = if format == Format::Metis { 6 } else { 5 };
                assert_eq!(vertices, (1..=n).collect::<Vec<u64>>());
            }
        }
    }
}

#[test]
fn gzip_errors_carry_the_right_line_numbers() {
    let cases = [
        (Format::Snap, "1 2\n# c\n2 3\n3 4\nx 5\n6 7\n", 5),
        (Format::Metis, "3 2\n2\n%c\n1 3\n2 9\n", 5),
        (
            Format::Mtx,
            "%%MatrixMarket matrix coordinate pattern general\n3 3 3\n1 1\n2 2\n4 4\n",
            5,
        ),
    ];
    for (format, text, line) in cases {
        let gz = gzip(text.as_bytes());
        for ranks in 1..=3 {
            for bytes in [text.as_bytes(), &gz] {
                match read_bytes_on(bytes, format, ranks) {
                    Err(DatasetError::Parse { line: l, .. }) => {
                        assert_eq!(l, line, "{format} on {ranks} ranks")
                    }
                    other => panic!("{format}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.txt");
    for ranks in 1..=2 {
        let err = read_file_on(&path, Format::Snap, ranks).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("cannot read ") && msg.contains("nope.txt"),
            "{msg}"
        );
    }
}

#[test]
fn broken_gzip_is_a_gzip_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.txt.gz");
    std::fs::write(&fake, "1 2\n2 3\n").unwrap();
    let truncated = dir.path().join("short.txt.gz");
    let gz = gzip(&gunzip(wiki_vote())[..200_000]);
    std::fs::write(&truncated, &gz[..gz.len() / 2]).unwrap();
    for path in [&fake, &truncated] {
        for ranks in 1..=2 {
            let err = read_file_on(path, Format::Snap, ranks).unwrap_err();
            assert!(matches!(err, DatasetError::Gzip { .. }), "{err}");
            assert!(
                err.to_string().contains("is not a readable gzip stream"),
                "{err}"
            );
        }
    }
    let err = read_graph_bytes("cut", &gz[..gz.len() / 2], Format::Snap, &SingleComm).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cut is not a readable gzip stream"),
        "{err}"
    );
}

#[test]
fn concatenated_gzip_members_are_read_whole() {
    let mut gz = gzip(b"1 2\n2 3\n");
    gz.extend(gzip(b"3 4\n"));
    let parts = read_bytes_on(&gz, Format::Snap, 2).unwrap();
    let edges: Vec<(u64, u64)> = multiset(&parts).iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(edges, vec![(1, 2), (2, 3), (3, 4)]);
}

#[test]
fn an_error_on_one_rank_is_the_error_every_caller_sees() {
    // The bad line sits in the last rank's byte range; the others must not hang.
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!("{i} {}\n", i + 1));
    }
    text.push_str("1000 oops\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.txt");
    std::fs::write(&path, &text).unwrap();
    for ranks in 1..=4 {
        let err = read_file_on(&path, Format::Snap, ranks).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:1001: expected a vertex id, found `oops` (line: `1000 oops`)",
                path.display()
            )
        );
    }
}

/// An edge as written to a random file.
type Written = (u64, u64, Option<f64>);

/// How one edge line is written: separators, weight and line ending vary.
#[derive(Debug, Clone)]
struct Style {
    tab: bool,
    crlf: bool,
    indent: bool,
    comment_before: bool,
    blank_before: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(tab, crlf, indent, c, b)| Style {
            tab,
            crlf,
            indent,
            comment_before: c < 40,
            blank_before: b < 25,
        })
}

fn render(edges: &[Written], styles: &[Style], last_newline: bool) -> String {
    let mut text = String::new();
    for (k, ((u, v, w), s)) in edges.iter().zip(styles).enumerate() {
        let end = if s.crlf { "\r\n" } else { "\n" };
        if s.comment_before {
            text.push_str(&format!("# comment {k} with 1 2 3{end}"));
        }
        if s.blank_before {
            text.push_str(end);
        }
        if s.indent {
            text.push_str("  ");
        }
        let sep = if s.tab { "\t" } else { " " };
        text.push_str(&format!("{u}{sep}{v}"));
        if let Some(w) = w {
            text.push_str(&format!("{sep}{w:?}"));
        }
        if k + 1 < edges.len() || last_newline {
            text.push_str(end);
        }
    }
    text
}

fn edge_lists() -> impl Strategy<Value = (Vec<Written>, Vec<Style>, bool)> {
    (1usize..60, any::<bool>(), any::<bool>()).prop_flat_map(|(n, weighted, last_newline)| {
        let id = prop_oneof![0u64..20, any::<u64>()];
        let weight = if weighted {
            (-1e6f64..1e6).prop_map(Some).boxed()
        } else {
            Just(None).boxed()
        };
        (
            prop::collection::vec((id.clone(), id, weight), n),
            prop::collection::vec(style(), n),
            Just(last_newline),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_edge_lists_read_back_on_any_number_of_ranks(
        (edges, styles, last_newline) in edge_lists(),
        ranks in 1usize..=4,
        compress in any::<bool>(),
    ) {
        let text = render(&edges, &styles, last_newline);
        let bytes = if compress { gzip(text.as_bytes()) } else { text.into_bytes() };
        let parts = read_bytes_on(&bytes, Format::Snap, ranks).unwrap();
        let mut expect: Vec<Edge> =
            edges.iter().map(|&(u, v, w)| (u, v, w.map(f64::to_bits))).collect();
        expect.sort_unstable();
        prop_assert_eq!(multiset(&parts), expect);
        prop_assert!(parts.iter().all(|g| g.vertices.is_empty()));
    }
}

#[test]
fn comm_sizes_are_respected() {
    // Each rank's share is disjoint: rank r of a small file reads only its own lines.
    let text = "1 2\n3 4\n5 6\n7 8\n";
    let parts = ThreadComm::run(4, |comm| {
        let g = read_graph_bytes("four", text.as_bytes(), Format::Snap, &comm)?;
        Ok::<_, DatasetError>((comm.rank(), g.src))
    })
    .unwrap();
    assert_eq!(
        parts,
        vec![(0, vec![1]), (1, vec![3]), (2, vec![5]), (3, vec![7])]
    );
}
