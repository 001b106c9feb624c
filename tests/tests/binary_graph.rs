//! `gasket convert` and the binary graph format (`.gsk`): every graph app reads a converted
//! graph on 1, 2 and 4 ranks and gets what it gets from the text file (on one rank, where
//! the graph is loaded as stored, bit for bit; on several PageRank within 1e-12 per vertex,
//! since rows arrive in another order; components and weighted SSSP exactly), a partition
//! file is still checked on one rank, and damaged binary files are clear errors with exit
//! code 2.

use std::path::Path;
use std::process::Output;

use gasket_tests::{assert_values_close, exact_pagerank_args, gasket, read_values, shared_dataset};

fn ok(out: Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn apps_read_a_converted_graph_as_they_read_the_text() {
    let tmp = tempfile::tempdir().unwrap();
    let text = shared_dataset("wiki-Vote.txt.gz");
    let binary = tmp.path().join("wiki.gsk");
    ok(
        gasket(&["convert", "--input", s(&text), "-o", s(&binary)]),
        "convert",
    );
    for ranks in ["1", "2", "4"] {
        let (a, b) = (tmp.path().join("a.tsv"), tmp.path().join("b.tsv"));
        for (input, out) in [(&text, &a), (&binary, &b)] {
            let mut args = exact_pagerank_args(s(input), "30");
            args.extend(["--ranks", ranks, "-o", s(out)]);
            ok(gasket(&args), "pagerank");
        }
        let (x, y) = (read_values::<f64>(&a), read_values::<f64>(&b));
        if ranks == "1" {
            assert!(
                x == y,
                "one rank: the stored graph is the text's, bit for bit"
            );
        }
        assert_values_close(&x, &y, 1e-12);
        for (input, out) in [(&text, &a), (&binary, &b)] {
            ok(
                gasket(&["cc", "--input", s(input), "--ranks", ranks, "-o", s(out)]),
                "cc",
            );
        }
        assert_eq!(read_values::<u64>(&a), read_values::<u64>(&b));
    }

    // Weights survive the conversion: SSSP on a weighted graph with an isolated vertex
    // declared by Matrix Market.
    let matrix_file = tmp.path().join("w.mtx");
    let matrix =
        "%%MatrixMarket matrix coordinate real general\n4 4 4\n1 2 1.5\n1 3 4\n2 3 0.25\n3 1 2\n";
    std::fs::write(&matrix_file, matrix).unwrap();
    let wbin = tmp.path().join("w.gsk");
    ok(
        gasket(&["convert", "--input", s(&matrix_file), "-o", s(&wbin)]),
        "convert weighted",
    );
    for ranks in ["1", "2"] {
        let (a, b) = (tmp.path().join("a.tsv"), tmp.path().join("b.tsv"));
        for (input, out) in [(&matrix_file, &a), (&wbin, &b)] {
            let args = [
                "sssp",
                "--input",
                s(input),
                "--source",
                "1",
                "--ranks",
                ranks,
                "-o",
                s(out),
            ];
            ok(gasket(&args), "sssp");
        }
        let (x, y) = (
            std::fs::read_to_string(&a).unwrap(),
            std::fs::read_to_string(&b).unwrap(),
        );
        let body = |t: &str| {
            t.lines()
                .filter(|l| !l.starts_with('#'))
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(body(&x), body(&y));
        assert_eq!(body(&x).len(), 4, "the isolated vertex 4 is kept");
    }

    // On one rank a partition file is checked against the graph even though the stored
    // graph needs no placement.
    let parts = tmp.path().join("parts.txt");
    std::fs::write(&parts, "0\n0\n").unwrap();
    let r = gasket(&["pagerank", "-i", s(&binary), "--partition-file", s(&parts)]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("parts.txt"));
}

#[test]
fn damaged_binary_graphs_and_bad_conversions_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("g.txt");
    std::fs::write(&text, "1 2\n2 3\n3 1\n").unwrap();
    let binary = tmp.path().join("g.gsk");
    ok(
        gasket(&["convert", "-i", s(&text), "-o", s(&binary)]),
        "convert",
    );
    let good = std::fs::read(&binary).unwrap();
    let out = tmp.path().join("pr.tsv");
    // `needles`: what the error says on one rank and on two.
    let fails_with = |bytes: &[u8], needles: [&str; 2]| {
        std::fs::write(&binary, bytes).unwrap();
        for (ranks, needle) in ["1", "2"].into_iter().zip(needles) {
            let r = gasket(&[
                "pagerank",
                "-i",
                s(&binary),
                "--ranks",
                ranks,
                "-o",
                s(&out),
            ]);
            let err = String::from_utf8_lossy(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "{needle}: {err}");
            assert!(
                err.contains("g.gsk") && err.contains(needle),
                "{needle}: {err}"
            );
            assert!(!out.exists(), "no output after an error");
        }
    };
    let fails = |bytes: &[u8], needle: &str| fails_with(bytes, [needle, needle]);
    fails(&good[..good.len() - 1], "truncated or damaged");
    fails(b"1 2\n", "shorter than the 64-byte header");
    let mut bad = good.clone();
    bad[0] = b'X';
    fails(&bad, "no GSKGRAPH magic");
    // A file of format version 1 (header checksum over its first 32 bytes).
    let mut bad = good.clone();
    bad[8] = 1;
    let crc = crc32fast::hash(&bad[..32]);
    bad[32..36].copy_from_slice(&crc.to_le_bytes());
    fails(
        &bad,
        "format version 1; this gasket reads version 2 (convert the graph again)",
    );
    // A damaged target: one rank reads the whole section and checks its checksum, each of
    // two reads a slice and checks its range.
    let mut bad = good.clone();
    let targets = 64 + 8 * 3 + 8 * 4;
    bad[targets..targets + 4].copy_from_slice(&7u32.to_le_bytes());
    fails_with(
        &bad,
        ["out-targets fail their checksum", "targets compact id 7"],
    );

    // Converting a malformed file names its line; converting a binary graph is refused.
    std::fs::write(&text, "1 2\n2 x\n").unwrap();
    let r = gasket(&["convert", "-i", s(&text), "-o", s(&binary)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("g.txt:2"));
    std::fs::write(&binary, &good).unwrap();
    let again = tmp.path().join("again.gsk");
    let r = gasket(&["convert", "-i", s(&binary), "-o", s(&again)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("already a binary graph"));
}
