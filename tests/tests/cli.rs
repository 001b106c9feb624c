//! The `gasket` binary end to end: results on stdout and in `--output`, and one test per
//! class of bad input (message and exit code 2, no partial output file).

use std::io::Write;
use std::path::Path;

use gasket_tests::{gasket, read_values, shared_dataset};

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

/// Runs gasket expecting a user error: exit code 2, a message containing every `needle`,
/// and no output file left behind.
fn expect_user_error(args: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tsv");
    let out_s = out.to_string_lossy().into_owned();
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--output", &out_s]);
    let result = gasket(&full);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(2),
        "args {args:?}; stderr: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no output file left: {args:?}"
    );
}

#[test]
fn pagerank_on_a_real_file_writes_every_vertex() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pr.tsv");
    let metrics = dir.path().join("metrics.json");
    let input = shared_dataset("wiki-Vote.txt.gz");
    for ranks in ["1", "2", "4"] {
        let result = gasket(&[
            "pagerank",
            "--input",
            input.to_str().unwrap(),
            "--ranks",
            ranks,
            "--top",
            "3",
            "--output",
            out.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
        ]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let stdout = String::from_utf8_lossy(&result.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].contains("7115 vertices, 103689 edges"), "{stdout}");
        assert!(
            lines[2].starts_with("1\t4037\t"),
            "top vertex is 4037: {stdout}"
        );
        assert_eq!(lines.len(), 2 + 3);
        let written = std::fs::read_to_string(&out).unwrap();
        let rows: Vec<&str> = written.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rows.len(), 7115);
        let sum: f64 = rows
            .iter()
            .map(|r| r.split('\t').nth(1).unwrap().parse::<f64>().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-9);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        assert_eq!(
            doc["per_rank_supersteps"].as_array().unwrap().len(),
            ranks.parse::<usize>().unwrap()
        );
        assert!(doc["iterations"].as_u64().unwrap() > 1);
    }
}

#[test]
fn default_input_is_the_bundled_graph() {
    let result = gasket(&["cc", "--top", "1"]);
    assert!(result.status.success());
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("24 weakly connected components"),
        "{stdout}"
    );
    assert!(stdout.contains("\n3\t7066\n"), "{stdout}");
}

/// `-o /dev/null` discards the output: the device is written, not replaced by a file
/// (results are written to a temporary name and renamed into place, which must not happen
/// for a device; as root a rename would succeed and break the machine's `/dev/null`).
#[cfg(unix)]
#[test]
fn output_to_dev_null_is_discarded_and_dev_null_stays_a_device() {
    use std::os::unix::fs::FileTypeExt;
    for args in [
        &["pagerank", "--iterations", "2", "-o", "/dev/null"][..],
        &["generate", "kron", "--scale", "4", "-o", "/dev/null"][..],
    ] {
        let result = gasket(args);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(result.status.success(), "gasket {args:?}: {stderr}");
        let kind = std::fs::metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device(), "gasket {args:?} replaced /dev/null");
    }
}

#[test]
fn sssp_reads_weights_from_the_third_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "w.txt",
        b"# weighted\n1 2 0.5\n2 3 0.25\n1 3 1.0\n3 4 2\n",
    );
    let out = dir.path().join("d.tsv");
    let result = gasket(&[
        "sssp",
        "--input",
        &input,
        "--source",
        "1",
        "--ranks",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.ends_with("1\t0\n2\t0.5\n3\t0.75\n4\t2.75\n"),
        "{written}"
    );
}

#[test]
fn generate_writes_a_readable_graph() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.el");
    let result = gasket(&[
        "generate",
        "kron",
        "--scale",
        "8",
        "--seed",
        "7",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let result = gasket(&[
        "pagerank",
        "--input",
        path.to_str().unwrap(),
        "--ranks",
        "2",
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(String::from_utf8_lossy(&result.stdout).contains("4096 edges"));
}

#[test]
fn missing_file() {
    expect_user_error(
        &["pagerank", "--input", "/no/such/graph.txt"],
        &["/no/such/graph.txt", "No such file"],
    );
}

#[test]
fn unreadable_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let not_gz = write(dir.path(), "g.txt.gz", b"1 2\n2 3\n");
    expect_user_error(&["pagerank", "--input", &not_gz], &["g.txt.gz", "gzip"]);
    let mut truncated = gzip(&"1 2\n".repeat(5000));
    truncated.truncate(truncated.len() / 2);
    let cut = write(dir.path(), "cut.txt.gz", &truncated);
    for ranks in ["1", "2"] {
        expect_user_error(
            &["cc", "--input", &cut, "--ranks", ranks],
            &["cut.txt.gz", "gzip"],
        );
    }
}

#[test]
fn malformed_line_names_file_line_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# comment\n");
    for i in 0..2000 {
        text.push_str(&format!("{i}\t{}\n", i + 1));
    }
    text.push_str("17 banana\n");
    let path = write(dir.path(), "bad.txt", text.as_bytes());
    for ranks in ["1", "2", "4"] {
        expect_user_error(
            &["pagerank", "--input", &path, "--ranks", ranks],
            &["bad.txt:2002", "banana"],
        );
    }
    let gz = write(dir.path(), "bad.txt.gz", &gzip(&text));
    expect_user_error(
        &["cc", "--input", &gz, "--ranks", "2"],
        &["bad.txt.gz:2002", "banana"],
    );
}

#[test]
fn id_overflowing_u64() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.txt", b"1 2\n18446744073709551616 3\n");
    expect_user_error(
        &["cc", "--input", &path],
        &["big.txt:2", "18446744073709551616", "64 bits"],
    );
}

#[test]
fn weight_that_is_not_a_number() {
    let dir = tempfile::tempdir().unwrap();
    for (name, w) in [("nan.txt", "nan"), ("word.txt", "heavy")] {
        let path = write(dir.path(), name, format!("1 2 1.5\n2 3 {w}\n").as_bytes());
        expect_user_error(
            &["sssp", "--input", &path, "--source", "1"],
            &[&format!("{name}:2"), w],
        );
    }
}

#[test]
fn negative_weight_for_shortest_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "neg.txt", b"1 2 1.5\n2 3 -4\n");
    expect_user_error(
        &["sssp", "--input", &path, "--source", "1"],
        &["neg.txt", "-4", "non-negative"],
    );
}

#[test]
fn empty_graph() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.txt", b"# nothing here\n\n");
    for ranks in ["1", "2"] {
        expect_user_error(
            &["pagerank", "--input", &path, "--ranks", ranks],
            &["empty.txt", "no edges"],
        );
    }
}

#[test]
fn source_not_in_graph() {
    for ranks in ["1", "4"] {
        expect_user_error(
            &["sssp", "--source", "123456789", "--ranks", ranks],
            &["--source 123456789", "not a vertex"],
        );
    }
}

#[test]
fn zero_ranks() {
    expect_user_error(&["pagerank", "--ranks", "0"], &["--ranks", "0"]);
}

#[test]
fn missing_output_directory() {
    expect_user_error(
        &["pagerank", "--metrics", "/no/such/dir/m.json"],
        &["/no/such/dir"],
    );
}

#[test]
fn toolkit_subcommands_write_what_their_verifiers_compute() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tsv");
    let out_s = out.to_str().unwrap();
    let edges = gasket_tests::read_whole(
        &shared_dataset("wiki-Vote.txt.gz"),
        gasket_datasets::Format::Snap,
    );
    let pairs: Vec<(u64, u64)> = edges
        .src
        .iter()
        .copied()
        .zip(edges.dst.iter().copied())
        .collect();
    for ranks in ["1", "4"] {
        let run = |app: &str| {
            let result = gasket(&[app, "--ranks", ranks, "--output", out_s]);
            let stdout = String::from_utf8_lossy(&result.stdout).into_owned();
            assert!(
                result.status.success(),
                "{app}: {}",
                String::from_utf8_lossy(&result.stderr)
            );
            stdout
        };
        let stdout = run("kcore");
        assert!(stdout.contains("degeneracy (largest k with a non-empty k-core): 53"));
        assert_eq!(
            read_values::<u32>(&out),
            gasket_apps::kcore::verify(&pairs, &[])
        );

        let stdout = run("triangles");
        assert!(stdout.contains("# 608389 triangles"), "{stdout}");
        assert_eq!(
            read_values::<u64>(&out),
            gasket_apps::triangles::verify(&pairs, &[])
        );

        // Without an output file only the total is asked for: each triangle counted once.
        let total_only = gasket(&["triangles", "--ranks", ranks]);
        let stdout = String::from_utf8_lossy(&total_only.stdout);
        assert!(total_only.status.success());
        assert!(stdout.contains("# 608389 triangles"), "{stdout}");
        assert!(!stdout.contains("vertex\ttriangles"), "{stdout}");

        run("labelprop");
        let config = gasket_apps::labelprop::LabelPropConfig::default();
        assert_eq!(
            read_values::<u64>(&out),
            gasket_apps::labelprop::verify(&pairs, &[], &config)
        );
    }
}

#[test]
fn als_reports_rmse_below_the_mean_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = dir.path().join("ratings.txt");
    let ratings_s = ratings.to_str().unwrap();
    let made = gasket(&[
        "generate-ratings",
        "--users",
        "400",
        "--items",
        "200",
        "-o",
        ratings_s,
    ]);
    assert!(made.status.success());
    let out = dir.path().join("factors.tsv");
    let result = gasket(&[
        "als",
        "--input",
        ratings_s,
        "--ranks",
        "2",
        "--rank",
        "6",
        "--output",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let last = stdout
        .lines()
        .find(|l| l.starts_with("# final test RMSE"))
        .unwrap();
    let numbers: Vec<f64> = last
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    let (test, baseline) = (numbers[0], numbers[1]);
    assert!(test < 0.6 * baseline, "{last}");
    let factors = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = factors.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 600, "one line per user and item");
    assert!(
        lines
            .iter()
            .all(|l| l.split('\t').nth(2).unwrap().split(' ').count() == 6)
    );
}

#[test]
fn bad_toolkit_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let two_columns = write(dir.path(), "pairs.txt", b"1 2\n2 3\n");
    let nan = write(dir.path(), "nan.txt", b"1 2 4.5\n2 3 nan\n");
    let huge_item = write(dir.path(), "huge.txt", b"1 4611686018427387904 3\n");
    let ok = write(dir.path(), "ok.txt", b"1 2 4.5\n2 3 1\n");
    expect_user_error(&["als"], &["als needs a ratings file"]);
    expect_user_error(&["als", "-i", &two_columns], &["pairs.txt", "third column"]);
    expect_user_error(&["als", "-i", &nan], &["nan.txt"]);
    expect_user_error(
        &["als", "-i", &huge_item],
        &["huge.txt", "4611686018427387904"],
    );
    expect_user_error(&["als", "-i", &ok, "--rank", "0"], &["rank"]);
    expect_user_error(&["als", "-i", &ok, "--test-fraction", "1.5"], &["test"]);
    expect_user_error(&["als", "-i", &ok, "--lambda=-1"], &["lambda"]);
    let bad_line = write(dir.path(), "bad.txt", b"1 2\n3 x\n");
    for app in ["kcore", "labelprop", "triangles"] {
        expect_user_error(&[app, "-i", &bad_line], &["bad.txt:2"]);
    }
    expect_user_error(&["generate-ratings", "--items", "0"], &["item"]);
}

#[test]
fn engine_options_that_cannot_apply_are_clear_errors() {
    expect_user_error(&["pagerank", "--engine", "async"], &["--dangling ignore"]);
    for app in ["kcore", "labelprop", "triangles"] {
        expect_user_error(&[app, "--engine", "async"], &["synchronous engine only"]);
    }
    expect_user_error(
        &["cc", "--engine", "async", "--scheduler", "lifo"],
        &["lifo"],
    );
    expect_user_error(
        &["cc", "--engine", "async", "--consistency", "none"],
        &["none"],
    );
}

/// The top-level help names every app the binary has: an app added without a word in the
/// description fails here.
#[test]
fn top_level_help_names_every_app() {
    let out = gasket(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let about = help.split("Usage:").next().unwrap();
    let names = [
        ("pagerank", "PageRank"),
        ("cc", "components"),
        ("sssp", "SSSP"),
        ("kcore", "k-core"),
        ("labelprop", "label propagation"),
        ("triangles", "triangles"),
        ("als", "ALS"),
        ("sgd", "SGD"),
        ("lda", "LDA"),
        ("mlp", "MLP"),
    ];
    let tools = [
        "generate-ratings",
        "generate",
        "convert",
        "partition",
        "help",
    ];
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(commands.len() > names.len(), "{help}");
    for command in commands {
        if tools.contains(&command) {
            continue;
        }
        let (_, name) = names
            .iter()
            .find(|(c, _)| *c == command)
            .unwrap_or_else(|| panic!("app {command} has no name in this test"));
        assert!(
            about.contains(name),
            "the help's description lacks {name}: {about}"
        );
    }
}

/// `--threads` sizes the asynchronous engine's workers too (divided among the thread
/// ranks), unless `--workers` is given.
#[test]
fn threads_size_the_async_workers_unless_workers_is_given() {
    let dir = tempfile::tempdir().unwrap();
    for (args, per_rank) in [
        (&["--threads", "3"][..], [3].as_slice()),
        (&["--threads", "4", "--ranks", "2"][..], &[2, 2]),
        (&["--threads", "1", "--ranks", "2"][..], &[1, 1]),
        (&["--threads", "3", "--workers", "5"][..], &[5]),
    ] {
        let metrics = dir.path().join("m.json");
        let mut argv = vec![
            "cc",
            "--engine",
            "async",
            "--consistency",
            "vertex",
            "--metrics",
        ];
        argv.push(metrics.to_str().unwrap());
        argv.extend_from_slice(args);
        let out = gasket(&argv);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        let workers: Vec<u64> = json["per_rank_async"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["workers"].as_u64().unwrap())
            .collect();
        assert_eq!(workers, per_rank, "{args:?}");
    }
}
