//! Placement does not change answers: every partitioner and a partition file give the
//! same app results (against the serial verifiers) on 4 thread ranks; `gasket partition`
//! writes files the apps read back; bad partition files and part counts are refused.

use std::path::PathBuf;

use gasket_apps::components::{self, ComponentsConfig};
use gasket_apps::pagerank::{self, PageRankConfig};
use gasket_apps::run::run_on_ranks;
use gasket_apps::sssp::{self, SsspConfig};
use gasket_datasets::Format;
use gasket_datasets::GraphInput;
use gasket_engine::Backend;
use gasket_engine::LocalGraph;
use gasket_engine::Placement;
use gasket_partitioning::Method;
use gasket_partitioning::Partitioning;
use gasket_tests::{gasket, read_whole, shared_dataset};

const RANKS: usize = 4;

fn methods() -> Vec<Method> {
    let mut m = vec![Method::Hash, Method::Range, Method::Ldg, Method::Fennel];
    if cfg!(feature = "metis") {
        m.push(Method::Metis);
    }
    m
}

fn wiki_vote() -> (GraphInput, Vec<(u64, u64)>, Vec<u64>) {
    let path = shared_dataset("wiki-Vote.txt.gz");
    let e = read_whole(&path, Format::Snap);
    let edges = gasket_tests::edge_pairs(&e);
    (
        GraphInput::new(Some(path), Some(Format::Snap)),
        edges,
        e.vertices,
    )
}

fn check_all_apps(placement: &Partitioning) {
    let (source, edges, vertices) = wiki_vote();
    let backend = Backend::Threads(RANKS);
    let config = PageRankConfig::default();
    let (expect, _) = pagerank::verify(&edges, &vertices, &config);
    let out = run_on_ranks(backend, &source, placement, false, |c, g| {
        pagerank::run(&config, c, g, false)
    })
    .unwrap()
    .expect("rank 0's results");
    for ((v, p), (ev, ep)) in out.values.iter().zip(&expect) {
        assert_eq!(v, ev);
        assert!((p - ep).abs() <= 1e-9, "{}: vertex {v}", placement.name());
    }

    let out = run_on_ranks(backend, &source, placement, false, |c, g| {
        components::run(&ComponentsConfig::default(), c, g, false)
    })
    .unwrap()
    .expect("rank 0's results");
    assert_eq!(
        out.values,
        components::verify(&edges, &vertices),
        "{}",
        placement.name()
    );

    let weighted: Vec<(u64, u64, f64)> = edges.iter().map(|&(s, d)| (s, d, 1.0)).collect();
    let out = run_on_ranks(
        backend,
        &source,
        placement,
        false,
        |c, g: &mut LocalGraph<f64>| sssp::run(&SsspConfig::default(), 3, c, g, false),
    )
    .unwrap()
    .expect("rank 0's results");
    assert_eq!(
        out.values,
        sssp::verify(&weighted, &vertices, 3),
        "{}",
        placement.name()
    );
}

#[test]
fn every_partitioner_gives_the_verified_results() {
    for method in methods() {
        check_all_apps(&Partitioning::Method {
            method,
            imbalance: 1.05,
        });
    }
}

#[test]
fn a_partition_file_from_gasket_partition_gives_the_verified_results() {
    let dir = tempfile::tempdir().unwrap();
    for method in ["range", "fennel"] {
        let file: PathBuf = dir.path().join(format!("{method}.part"));
        let out = gasket(&[
            "partition",
            "--parts",
            "4",
            "--method",
            method,
            "--report",
            "-o",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("edge_cut_fraction\t"), "{report}");
        assert!(report.contains("bytes_per_superstep\t"), "{report}");
        let lines = std::fs::read_to_string(&file).unwrap();
        assert_eq!(lines.lines().count(), 7115, "one line per vertex");
        check_all_apps(&Partitioning::File(file));
    }
}

#[test]
fn the_cli_takes_partition_and_partition_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.part");
    assert!(
        gasket(&[
            "partition",
            "--parts",
            "2",
            "--method",
            "ldg",
            "-o",
            file.to_str().unwrap()
        ])
        .status
        .success()
    );
    let hashed = gasket(&["cc", "--ranks", "2", "--top", "3"]);
    let from_file = gasket(&[
        "cc",
        "--ranks",
        "2",
        "--top",
        "3",
        "--partition-file",
        file.to_str().unwrap(),
    ]);
    let by_range = gasket(&["cc", "--ranks", "2", "--top", "3", "--partition", "range"]);
    for out in [&hashed, &from_file, &by_range] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let body = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&hashed), body(&from_file));
    assert_eq!(body(&hashed), body(&by_range));
}

fn expect_exit_2(args: &[&str], needles: &[&str]) {
    let out = gasket(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected `{n}` in: {stderr}");
    }
}

#[test]
fn bad_partition_files_and_part_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let short = write("short.part", "0\n".repeat(7000));
    expect_exit_2(
        &["pagerank", "--ranks", "2", "--partition-file", &short],
        &["short.part", "7000 lines", "7115 vertices"],
    );
    let mut text = "0\n".repeat(7115);
    text.replace_range(4..5, "3");
    let high = write("high.part", text);
    expect_exit_2(
        &["pagerank", "--ranks", "2", "--partition-file", &high],
        &["high.part:3", "part id 3"],
    );
    let mut text = "1\n".repeat(7115);
    text.replace_range(0..1, "x");
    let word = write("word.part", text);
    expect_exit_2(
        &["cc", "--ranks", "2", "--partition-file", &word],
        &["word.part:1", "expected a part id"],
    );
    expect_exit_2(&["partition", "--parts", "0"], &["at least 1"]);
    expect_exit_2(
        &["partition", "--parts", "100000"],
        &["100000", "7115 vertices"],
    );
    expect_exit_2(&["pagerank", "--partition", "spectral"], &["spectral"]);
    expect_exit_2(&["pagerank", "--imbalance", "0.5"], &["--imbalance"]);
}
