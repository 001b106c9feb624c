use super::*;
use gasket_engine::comm::{SingleComm, ThreadComm};
use gasket_engine::{EdgeInput, HashOwnership, LocalGraph, build_local_graph};

use crate::EdgeList;

fn sample() -> EdgeList {
    EdgeList {
        src: vec![30, 10, 30, 10, 7],
        dst: vec![10, 30, 7, 10, 30],
        weight: Some(vec![1.5, 2.0, 0.25, 4.0, 8.0]),
        vertices: vec![99],
    }
}

/// A multigraph with self-loops, isolated vertices and far-apart ids.
fn messy(weighted: bool) -> EdgeList {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let ids: Vec<u64> = (0..300)
        .map(|i| if i % 7 == 0 { i << 36 } else { i })
        .collect();
    let mut pick = move || ids[(next() % 300) as usize];
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for _ in 0..4000 {
        let s = pick();
        // Skewed targets: a few hubs get most edges.
        let d = if s % 3 == 0 { pick() % 5 } else { pick() };
        src.push(s);
        dst.push(d);
    }
    let weight = weighted.then(|| (0..src.len()).map(|i| i as f64 * 0.5 - 7.0).collect());
    EdgeList {
        src,
        dst,
        weight,
        vertices: vec![5 << 40, 6 << 40, 3],
    }
}

fn write(dir: &tempfile::TempDir, graph: EdgeList) -> std::path::PathBuf {
    let path = dir.path().join("g.gsk");
    write_gsk(&path, graph).unwrap();
    path
}

#[test]
fn a_graph_round_trips_on_one_and_several_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.gsk");
    let header = write_gsk(&path, sample()).unwrap();
    assert_eq!(
        (header.vertices, header.edges, header.weighted),
        (4, 5, true)
    );
    for ranks in [1, 2, 3, 5] {
        let shares = ThreadComm::run(ranks, |comm| read(&path, &comm)).unwrap();
        let mut edges: Vec<(u64, u64, f64)> = Vec::new();
        let mut vertices: Vec<u64> = Vec::new();
        for (share, total) in &shares {
            assert_eq!(*total, 5);
            let w = share.weight.as_ref().unwrap();
            for ((&s, &d), &w) in share.src.iter().zip(&share.dst).zip(w) {
                edges.push((s, d, w));
            }
            vertices.extend(&share.vertices);
        }
        // Rows hubs first (10 and 30 have two out-edges), each row in file order.
        let want = [
            (10, 30, 2.0),
            (10, 10, 4.0),
            (30, 10, 1.5),
            (30, 7, 0.25),
            (7, 30, 8.0),
        ];
        assert_eq!(edges, want, "{ranks} ranks");
        assert_eq!(vertices, [10, 30, 7, 99]);
    }
}

#[test]
fn several_ranks_read_about_equal_edge_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, messy(false));
    let shares = ThreadComm::run(4, |comm| read(&path, &comm)).unwrap();
    let counts: Vec<usize> = shares.iter().map(|(share, _)| share.len()).collect();
    assert_eq!(counts.iter().sum::<usize>(), 4000);
    // Rows are whole, so a share can pass 1000 by less than the largest row.
    assert!(counts.iter().all(|&c| c > 700 && c < 1300), "{counts:?}");
}

/// Global ids, out-offsets, out-neighbours, in-offsets, in-neighbours.
type Layout = (Vec<u64>, Vec<usize>, Vec<u32>, Vec<usize>, Vec<u32>);

/// Everything the engine keeps of a graph's topology, by accessor.
fn layout<E: Clone>(g: &LocalGraph<E>) -> Layout {
    let (o, i) = (g.out_csr(), g.in_csr());
    (
        g.global_ids().to_vec(),
        o.offsets.clone(),
        o.neighbors.clone(),
        i.offsets.clone(),
        i.neighbors.clone(),
    )
}

fn built_from_edges<E: gasket_engine::Wire + Send + Sync>(
    edges: &EdgeList,
    data: Vec<E>,
) -> LocalGraph<E> {
    let input = EdgeInput {
        src: edges.src.clone(),
        dst: edges.dst.clone(),
        data,
        vertices: edges.vertices.clone(),
        ..EdgeInput::default()
    };
    build_local_graph(&SingleComm, &HashOwnership::new(1), input).unwrap()
}

/// In-CSR rows with each row's entries sorted (their order follows the edges' arrival).
fn in_rows_sorted<E>(g: &LocalGraph<E>) -> Vec<Vec<u32>> {
    let csr = g.in_csr();
    (0..g.num_owned() as u32)
        .map(|v| {
            let mut row = csr.row(v).to_vec();
            row.sort_unstable();
            row
        })
        .collect()
}

#[test]
fn the_stored_graph_is_the_graph_the_build_makes_from_the_text() {
    let dir = tempfile::tempdir().unwrap();
    // Weighted: the file's weights as edge data.
    let path = write(&dir, messy(true));
    let stored: LocalGraph<f64> = read_built(&path).unwrap().unwrap();
    let original = messy(true);
    let built = built_from_edges(&original, original.weight.clone().unwrap());
    let same = layout(&stored) == layout(&built)
        && stored.in_edge_ids() == built.in_edge_ids()
        && stored.edge_data() == built.edge_data();
    assert!(
        same,
        "the stored graph differs from the build of the text's edges"
    );
    assert_eq!(stored.num_global_edges(), 4000);
    for &g in stored.global_ids() {
        assert_eq!(stored.owned_local_id(g), built.owned_local_id(g));
    }
    // The file's edge list builds the same numbering and out-rows; in-rows hold the same
    // entries (in the file's row order rather than the text's).
    let (edges, _) = read(&path, &SingleComm).unwrap();
    let from_rows = built_from_edges(&edges, edges.weight.clone().unwrap());
    let (a, b) = (layout(&stored), layout(&from_rows));
    assert!(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3);
    assert!(stored.edge_data() == from_rows.edge_data());
    assert!(in_rows_sorted(&stored) == in_rows_sorted(&from_rows));
    // Without edge data, from a weighted and an unweighted file.
    let plain: LocalGraph<()> = read_built(&path).unwrap().unwrap();
    assert!(layout(&plain) == layout(&stored));
    assert!(plain.in_edge_ids().is_empty());
    let path = write(&dir, messy(false));
    let plain: LocalGraph<()> = read_built(&path).unwrap().unwrap();
    assert!(layout(&plain) == layout(&stored));
    // Weights asked of a file without them: read edge by edge instead.
    assert!(read_built::<f64>(&path).unwrap().is_none());
}

/// Recomputes the section and header checksums of a file changed on purpose, so that the
/// structural checks behind them are what a test reaches.
fn reseal(bytes: &mut [u8]) {
    let head: [u8; HEADER_LEN as usize] = bytes[..HEADER_LEN as usize].try_into().unwrap();
    let mut header = GskHeader::decode(&head).unwrap();
    for s in Section::ALL {
        let at = header.section_at(s) as usize;
        let len = header.section_len(s).unwrap() as usize;
        header.checksums[s as usize] = crc32fast::hash(&bytes[at..at + len]);
    }
    bytes[..HEADER_LEN as usize].copy_from_slice(&header.encode());
}

#[test]
fn damaged_files_are_clear_errors_on_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, sample());
    let good = std::fs::read(&path).unwrap();
    let head: [u8; HEADER_LEN as usize] = good[..HEADER_LEN as usize].try_into().unwrap();
    let h = GskHeader::decode(&head).unwrap();
    let at = |s: Section| h.section_at(s) as usize;
    let patched = |s: Section, word: usize, value: &[u8], sealed: bool| {
        let mut bytes = good.clone();
        let k = at(s) + word * value.len();
        bytes[k..k + value.len()].copy_from_slice(value);
        if sealed {
            reseal(&mut bytes);
        }
        bytes
    };
    // A version-1 header (its checksum over the first 32 bytes, stored after them), and
    // the version field of a version-2 header damaged.
    let mut old_version = good.clone();
    old_version[8..12].copy_from_slice(&1u32.to_le_bytes());
    let crc = crc32fast::hash(&old_version[..32]);
    old_version[32..36].copy_from_slice(&crc.to_le_bytes());
    let mut bad_version = good.clone();
    bad_version[9] ^= 1;
    let mut flipped = good.clone();
    flipped[17] ^= 1;
    // (bytes, the edge-list path's error, the whole-graph path's error); `None` where that
    // path does not read what was damaged.
    let both = |e: &'static str| (Some(e), Some(e));
    type Expect = (Option<&'static str>, Option<&'static str>);
    let cases: Vec<(Vec<u8>, Expect)> = vec![
        (
            good[..good.len() - 3].to_vec(),
            both("truncated or damaged"),
        ),
        (good[..20].to_vec(), both("shorter than the 64-byte header")),
        (b"src dst\n1 2\n".repeat(8), both("no GSKGRAPH magic")),
        (flipped, both("header fails its checksum")),
        (bad_version, both("header fails its checksum")),
        (
            old_version,
            both("format version 1; this gasket reads version 2"),
        ),
        (
            patched(Section::OutTargets, 0, &3u32.to_le_bytes(), false),
            both("out-targets fail their checksum"),
        ),
        (
            patched(Section::Ids, 1, &500u64.to_le_bytes(), false),
            both("vertex ids fail their checksum"),
        ),
        (
            patched(Section::InSources, 0, &2u32.to_le_bytes(), false),
            (None, Some("in-sources fail their checksum")),
        ),
        (
            patched(Section::InEdgeIds, 0, &3u64.to_le_bytes(), false),
            (None, Some("in-edge ids fail their checksum")),
        ),
        (
            patched(Section::OutTargets, 0, &9u32.to_le_bytes(), true),
            (
                Some("targets compact id 9, but there are 4 vertices"),
                Some("neighbour is local id 9, but there are 4 vertices"),
            ),
        ),
        (
            patched(Section::OutOffsets, 1, &7u64.to_le_bytes(), true),
            (
                Some("out-offsets of compact id 1 (7..4) decrease"),
                Some("out-CSR: the offsets decrease at row 1"),
            ),
        ),
        (
            patched(Section::OutOffsets, 4, &3u64.to_le_bytes(), true),
            (
                Some("out-offsets run from 0 to 3, not from 0 to the 5 edges"),
                Some("g.gsk: out-CSR: the offsets run from 0 to 3, not from 0 to the 5 edges"),
            ),
        ),
        (
            patched(Section::Weights, 0, &f64::NAN.to_le_bytes(), true),
            both("not a finite number"),
        ),
        (
            patched(Section::Ids, 1, &10u64.to_le_bytes(), true),
            both("vertex 10 appears twice"),
        ),
        (
            patched(Section::InEdgeIds, 0, &3u64.to_le_bytes(), true),
            (None, Some("in-edge id 3 is out of range or repeated")),
        ),
    ];
    for (bytes, (by_edges, whole)) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let edge_list = read(&path, &SingleComm).map(|_| ());
        let built = read_built::<f64>(&path).map(|_| ());
        for (result, want) in [(edge_list, by_edges), (built, whole)] {
            match (result, want) {
                (Err(e), Some(want)) => {
                    let e = e.to_string();
                    assert!(e.contains("g.gsk") && e.contains(want), "{want}: {e}");
                }
                (Ok(()), None) => {}
                (result, want) => panic!("{want:?}: {:?}", result.err().map(|e| e.to_string())),
            }
        }
    }
}
