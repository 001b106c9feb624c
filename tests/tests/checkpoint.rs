//! Checkpoints of synchronous runs through the `gasket` binary: a run resumed from a
//! checkpoint, on another number of ranks and with another partitioner, ends where an
//! uninterrupted run ends (PageRank per vertex within 1e-12; LDA's counts identical with
//! the same seed and ranks); a process killed with SIGKILL resumes from its newest
//! complete checkpoint; every resumed run starts at its checkpoint's superstep (its
//! `--metrics`), not at 0; damaged checkpoints (truncated, flipped byte, no manifest) are
//! skipped with a warning in favour of the previous one; a checkpoint that cannot be
//! written is a clear error and leaves the previous one usable.

use std::path::{Path, PathBuf};
use std::process::Output;

use gasket_engine::checkpoint::newest_complete;
use gasket_tests::{
    assert_values_close, exact_pagerank_args, first_superstep, gasket, gasket_bin, read_values,
    shared_dataset,
};

fn wiki_vote() -> String {
    shared_dataset("wiki-Vote.txt.gz")
        .to_string_lossy()
        .into_owned()
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn step(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("step-{n:010}"))
}

/// PageRank on wiki-Vote for exactly `iterations` supersteps with `extra` options.
fn pagerank(iterations: usize, ranks: usize, out: &Path, extra: &[&str]) -> Output {
    let iterations = iterations.to_string();
    let ranks = ranks.to_string();
    let input = wiki_vote();
    let mut args = exact_pagerank_args(&input, &iterations);
    args.extend(["--ranks", &ranks, "-o", s(out)]);
    args.extend_from_slice(extra);
    gasket(&args)
}

#[test]
fn pagerank_resumes_on_other_rank_counts_and_partitioners() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full.tsv");
    ok(pagerank(30, 2, &full, &[]), "uninterrupted run");
    let expected = read_values::<f64>(&full);

    for (first_ranks, then_ranks, partition) in [(2, 3, "range"), (1, 4, "ldg"), (4, 1, "hash")] {
        let ck = tmp.path().join(format!("ck-{first_ranks}-{then_ranks}"));
        let part = tmp.path().join("part.tsv");
        // The first run stops after 12 supersteps with checkpoints after 5 and 10.
        ok(
            pagerank(
                12,
                first_ranks,
                &part,
                &["--checkpoint-dir", s(&ck), "--checkpoint-every", "5"],
            ),
            "first part",
        );
        assert!(step(&ck, 10).join("MANIFEST").exists());
        let resumed = tmp.path().join("resumed.tsv");
        let metrics = tmp.path().join("metrics.json");
        ok(
            pagerank(
                30,
                then_ranks,
                &resumed,
                &[
                    "--resume",
                    s(&ck),
                    "--partition",
                    partition,
                    "--metrics",
                    s(&metrics),
                ],
            ),
            "resumed run",
        );
        assert_eq!(first_superstep(&metrics), 10, "resumed at the checkpoint");
        assert_values_close(&read_values::<f64>(&resumed), &expected, 1e-12);
    }
}

#[test]
fn a_killed_run_resumes_from_its_newest_complete_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let graph = tmp.path().join("kron.el");
    ok(
        gasket(&["generate", "kron", "--scale", "13", "-o", s(&graph)]),
        "generate",
    );
    let ck = tmp.path().join("ck");
    let out = tmp.path().join("never.tsv");
    let mut child = std::process::Command::new(gasket_bin())
        .args(exact_pagerank_args(s(&graph), "1000000"))
        .args([
            "--ranks",
            "2",
            "--checkpoint-dir",
            s(&ck),
            "--checkpoint-every",
            "7",
        ])
        .args(["-o", s(&out)])
        .env("GASKET_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !step(&ck, 14).join("MANIFEST").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint after 2 minutes"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run leaves no result file");

    let newest = newest_complete(&ck).expect("a complete checkpoint survives the kill");
    let total = (newest.iteration + 5).to_string();
    let (full, resumed) = (tmp.path().join("full.tsv"), tmp.path().join("resumed.tsv"));
    let base = exact_pagerank_args(s(&graph), &total);
    ok(
        gasket(&[&base[..], &["--ranks", "1", "-o", s(&full)]].concat()),
        "full",
    );
    let metrics = tmp.path().join("metrics.json");
    ok(
        gasket(
            &[
                &base[..],
                &["--ranks", "3", "--resume", s(&ck), "-o", s(&resumed)],
                &["--metrics", s(&metrics)],
            ]
            .concat(),
        ),
        "resumed",
    );
    assert_eq!(first_superstep(&metrics), newest.iteration);
    assert_values_close(
        &read_values::<f64>(&resumed),
        &read_values::<f64>(&full),
        1e-12,
    );
}

/// Writes checkpoints after 5, 10 and 15 supersteps, damages the newest with `damage`,
/// and checks that a resumed run warns, falls back to superstep 10 and still ends where
/// the uninterrupted run does.
fn damaged_newest_falls_back(damage: impl Fn(&Path), warning: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    let (full, part, resumed) = (
        tmp.path().join("full.tsv"),
        tmp.path().join("part.tsv"),
        tmp.path().join("resumed.tsv"),
    );
    ok(pagerank(25, 2, &full, &[]), "uninterrupted run");
    let keep = [
        "--checkpoint-dir",
        s(&ck),
        "--checkpoint-every",
        "5",
        "--checkpoint-keep",
        "3",
    ];
    ok(pagerank(17, 2, &part, &keep), "first part");
    damage(&step(&ck, 15));
    let input = wiki_vote();
    let out = std::process::Command::new(gasket_bin())
        .args(exact_pagerank_args(&input, "25"))
        .args(["--ranks", "2", "--resume", s(&ck), "-o", s(&resumed)])
        .args(["--metrics", s(&tmp.path().join("metrics.json"))])
        .output()
        .unwrap();
    let stderr = ok(out, "resumed run");
    assert_eq!(first_superstep(&tmp.path().join("metrics.json")), 10);
    assert!(
        stderr.contains("skipping checkpoint") && stderr.contains(warning),
        "{stderr}"
    );
    assert!(stderr.contains("step-0000000010"), "{stderr}");
    assert_values_close(
        &read_values::<f64>(&resumed),
        &read_values::<f64>(&full),
        1e-12,
    );
}

#[test]
fn a_truncated_part_is_detected() {
    damaged_newest_falls_back(
        |dir| {
            let path = dir.join("part-00001.bin");
            let bytes = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        },
        "truncated",
    );
}

#[test]
fn a_flipped_byte_is_detected() {
    damaged_newest_falls_back(
        |dir| {
            let path = dir.join("part-00000.bin");
            let mut bytes = std::fs::read(&path).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            std::fs::write(&path, &bytes).unwrap();
        },
        "checksum",
    );
}

#[test]
fn a_missing_manifest_is_detected() {
    damaged_newest_falls_back(
        |dir| std::fs::remove_file(dir.join("MANIFEST")).unwrap(),
        "no MANIFEST",
    );
}

#[test]
fn a_failed_write_is_an_error_and_keeps_the_previous_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    std::fs::create_dir_all(&ck).unwrap();
    // A file where the second checkpoint's folder must go: creating it fails, as a full or
    // read-only disk would make it fail.
    std::fs::write(step(&ck, 10), b"in the way").unwrap();
    let (full, part, resumed) = (
        tmp.path().join("full.tsv"),
        tmp.path().join("part.tsv"),
        tmp.path().join("resumed.tsv"),
    );
    let out = pagerank(
        20,
        2,
        &part,
        &["--checkpoint-dir", s(&ck), "--checkpoint-every", "5"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot create checkpoint"), "{stderr}");
    assert!(!part.exists(), "a failed run leaves no result file");
    assert!(
        step(&ck, 5).join("MANIFEST").exists(),
        "the previous checkpoint survives"
    );

    ok(pagerank(20, 2, &full, &[]), "uninterrupted run");
    ok(
        pagerank(20, 2, &resumed, &["--resume", s(&ck)]),
        "resumed run",
    );
    assert_values_close(
        &read_values::<f64>(&resumed),
        &read_values::<f64>(&full),
        1e-12,
    );
}

#[test]
fn resuming_without_a_usable_checkpoint_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out_file = tmp.path().join("out.tsv");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = pagerank(5, 1, &out_file, &["--resume", s(&empty)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no complete checkpoint"));

    // A checkpoint of another graph.
    let ck = tmp.path().join("ck");
    let small = tmp.path().join("small.el");
    std::fs::write(&small, "1 2\n2 3\n3 1\n").unwrap();
    ok(
        gasket(&[
            "pagerank",
            "--input",
            s(&small),
            "--tol",
            "0",
            "--iterations",
            "4",
            "--checkpoint-dir",
            s(&ck),
            "--checkpoint-every",
            "2",
        ]),
        "small graph",
    );
    let out = pagerank(5, 2, &out_file, &["--resume", s(&ck)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("belongs to a graph of 3 vertices"),
        "{stderr}"
    );
    assert!(!out_file.exists());

    // Checkpoints belong to the synchronous engine.
    let out = pagerank(
        5,
        1,
        &out_file,
        &[
            "--resume",
            s(&ck),
            "--engine",
            "async",
            "--dangling",
            "ignore",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("synchronous"));
}

/// LDA on a synthetic corpus with `extra` options; returns the model file's bytes and
/// the log-likelihood per token of each sweep.
fn lda(dir: &Path, ranks: usize, extra: &[&str]) -> (Vec<u8>, Vec<f64>) {
    let ranks = ranks.to_string();
    let metrics = dir.join("metrics.json");
    let args = [
        &[
            "lda",
            "--synthetic",
            "300,400,6,40",
            "--topics",
            "6",
            "--iterations",
            "10",
        ][..],
        &["--ranks", &ranks, "--seed", "7", "--output", s(dir)],
        &["--metrics", s(&metrics)],
        extra,
    ]
    .concat();
    ok(gasket(&args), "lda");
    let trajectory = std::fs::read_to_string(dir.join("loglik.tsv")).unwrap();
    let per_token = trajectory
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
        .collect();
    (std::fs::read(dir.join("model.txt")).unwrap(), per_token)
}

#[test]
fn lda_resumed_with_the_same_ranks_has_identical_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    let (full, full_trajectory) = lda(&tmp.path().join("full"), 2, &[]);
    let (with_checkpoints, _) = lda(
        &tmp.path().join("first"),
        2,
        &[
            "--checkpoint-dir",
            s(&ck),
            "--checkpoint-every",
            "2",
            "--checkpoint-keep",
            "10",
        ],
    );
    assert_eq!(with_checkpoints, full, "checkpointing changes nothing");
    // Roll back to the checkpoint after sweep 4, as if the run had died after writing it.
    for superstep in [12u64, 16, 20] {
        std::fs::remove_dir_all(step(&ck, superstep)).unwrap();
    }
    assert_eq!(newest_complete(&ck).unwrap().iteration, 8);
    let (resumed, resumed_trajectory) = lda(&tmp.path().join("resumed"), 2, &["--resume", s(&ck)]);
    // Two supersteps a sweep: the run went on at superstep 8, not from the start.
    let metrics = tmp.path().join("resumed").join("metrics.json");
    assert_eq!(first_superstep(&metrics), 8);
    assert_eq!(resumed, full, "the resumed run's word-topic counts");
    assert_eq!(
        resumed_trajectory, full_trajectory,
        "the trajectory carries over"
    );
}

#[test]
fn lda_resumes_on_another_rank_count() {
    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    let first = ["--checkpoint-dir", s(&ck), "--checkpoint-every", "4"];
    let (_, full) = lda(&tmp.path().join("full"), 1, &first);
    let (_, resumed) = lda(&tmp.path().join("resumed"), 3, &["--resume", s(&ck)]);
    let metrics = tmp.path().join("resumed").join("metrics.json");
    assert_eq!(
        first_superstep(&metrics),
        16,
        "after sweep 8, two supersteps each"
    );
    assert_eq!(
        resumed.len(),
        11,
        "sweeps 0..=10, the first 8 from the checkpoint"
    );
    assert_eq!(resumed[..8], full[..8]);
    let (a, b) = (full[10], resumed[10]);
    assert!((a - b).abs() < 0.01 * a.abs(), "{a} vs {b}");
}

/// Components and shortest paths (signalled programs with messages) stopped after two
/// supersteps and resumed on other rank counts give the uninterrupted results.
#[test]
fn components_and_shortest_paths_resume_to_the_same_result() {
    let tmp = tempfile::tempdir().unwrap();
    let input = wiki_vote();
    for app in ["cc", "sssp"] {
        let ck = tmp.path().join(format!("ck-{app}"));
        let (full, resumed) = (tmp.path().join("full.tsv"), tmp.path().join("resumed.tsv"));
        let base = [app, "--input", &input];
        ok(
            gasket(&[&base[..], &["-o", s(&full)]].concat()),
            "uninterrupted",
        );
        let first = [
            "--iterations",
            "2",
            "--ranks",
            "2",
            "--checkpoint-dir",
            s(&ck),
        ];
        let out = gasket(
            &[
                &base[..],
                &first,
                &["--checkpoint-every", "1", "-o", s(&resumed)],
            ]
            .concat(),
        );
        ok(out, "first part");
        assert!(step(&ck, 1).join("MANIFEST").exists());
        let metrics = tmp.path().join("metrics.json");
        let resume = ["--ranks", "3", "--resume", s(&ck), "--metrics", s(&metrics)];
        let out = gasket(&[&base[..], &resume, &["-o", s(&resumed)]].concat());
        ok(out, "resumed");
        // The resumed run starts at the checkpoint's superstep, not from scratch.
        assert_eq!(first_superstep(&metrics), 1, "{app}");
        assert_eq!(
            std::fs::read_to_string(&resumed).unwrap(),
            std::fs::read_to_string(&full).unwrap(),
            "{app}"
        );
    }
}
