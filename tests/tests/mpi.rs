//! The `gasket` binary under `mpirun -np 1, 2, 4` (feature `mpi`): every graph app
//! (PageRank, components, SSSP, k-core, label propagation, triangles; the asynchronous
//! engine with each scheduler) equals the serial verifiers on wiki-Vote and on a
//! generated Kronecker graph, ALS, LDA, sgd and mlp equal their thread-rank runs, ghost
//! traffic is payload only, large exchanges survive chunking, and a failing rank stops
//! the job with its own message and exit code 2 instead of hanging.
//!
//! `cargo test -p gasket-tests --features mpi --test mpi` (needs openmpi-bin).
#![cfg(feature = "mpi")]

use std::path::Path;

use gasket_apps::labelprop::{self, LabelPropConfig};
use gasket_apps::{components, kcore, pagerank, sssp, triangles};
use gasket_datasets::Format;
use gasket_tests::{mpirun, read_whole, shared_dataset};

const NPS: [usize; 3] = [1, 2, 4];

fn run_ok(np: usize, args: &[&str]) -> String {
    let out = mpirun(np, args, &[]);
    assert!(
        out.status.success(),
        "mpirun -np {np} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs every app on `input` with each process count and checks against the verifiers.
fn every_app_matches_the_verifiers(input: &Path, sources: &[u64]) {
    let graph = read_whole(input, Format::Snap);
    let edges = gasket_tests::edge_pairs(&graph);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.tsv");
    let (input, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());

    let pr_config = pagerank::PageRankConfig::default();
    let (pr_expect, _) = pagerank::verify(&edges, &graph.vertices, &pr_config);
    let cc_expect = components::verify(&edges, &graph.vertices);
    for np in NPS {
        run_ok(np, &["pagerank", "--input", input, "-o", out_s]);
        let got = gasket_tests::read_values::<f64>(&out);
        assert_eq!(got.len(), pr_expect.len());
        for ((v, p), (ev, ep)) in got.iter().zip(&pr_expect) {
            assert_eq!(v, ev);
            assert!((p - ep).abs() <= 1e-9, "np {np}, vertex {v}: {p} vs {ep}");
        }

        run_ok(np, &["cc", "--input", input, "-o", out_s]);
        let got: Vec<(u64, u64)> = gasket_tests::read_values::<f64>(&out)
            .into_iter()
            .map(|(v, l)| (v, l as u64))
            .collect();
        assert_eq!(got, cc_expect, "components with np {np}");

        for &source in sources {
            let weighted: Vec<(u64, u64, f64)> = edges.iter().map(|&(s, d)| (s, d, 1.0)).collect();
            let expect = sssp::verify(&weighted, &graph.vertices, source);
            run_ok(
                np,
                &[
                    "sssp",
                    "--input",
                    input,
                    "--source",
                    &source.to_string(),
                    "-o",
                    out_s,
                ],
            );
            assert_eq!(
                gasket_tests::read_values::<f64>(&out),
                expect,
                "sssp from {source} with np {np}"
            );
        }
    }
}

#[test]
fn apps_on_wiki_vote_equal_the_verifiers() {
    every_app_matches_the_verifiers(&shared_dataset("wiki-Vote.txt.gz"), &[3, 4037]);
}

#[test]
fn apps_on_a_generated_graph_equal_the_verifiers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kron12.el");
    let generated = gasket_tests::gasket(&[
        "generate",
        "kron",
        "--scale",
        "12",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(generated.status.success());
    let first = read_whole(&path, Format::Snap).src[0];
    every_app_matches_the_verifiers(&path, &[first]);
}

/// `vertex<TAB>value` with integer values.
fn read_counts(path: &Path) -> Vec<(u64, u64)> {
    gasket_tests::read_values::<u64>(path)
}

#[test]
fn kcore_labelprop_and_triangles_on_wiki_vote_equal_the_verifiers() {
    let input = shared_dataset("wiki-Vote.txt.gz");
    let graph = read_whole(&input, Format::Snap);
    let edges = gasket_tests::edge_pairs(&graph);
    let widen = |values: Vec<(u64, u32)>| -> Vec<(u64, u64)> {
        values.into_iter().map(|(v, k)| (v, k as u64)).collect()
    };
    let kcore_expect = widen(kcore::verify(&edges, &graph.vertices));
    let triangles_expect = triangles::verify(&edges, &graph.vertices);
    let labels_expect = labelprop::verify(&edges, &graph.vertices, &LabelPropConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.tsv");
    let (input, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    for np in NPS {
        for (app, expect) in [
            ("kcore", &kcore_expect),
            ("triangles", &triangles_expect),
            ("labelprop", &labels_expect),
        ] {
            run_ok(np, &[app, "--input", input, "-o", out_s]);
            assert_eq!(&read_counts(&out), expect, "{app} with np {np}");
        }
    }
}

#[test]
fn als_on_mpi_ranks_equals_thread_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = dir.path().join("ratings.txt");
    let generated = gasket_tests::gasket(&[
        "generate-ratings",
        "--users",
        "300",
        "--items",
        "120",
        "--per-user",
        "12",
        "-o",
        ratings.to_str().unwrap(),
    ]);
    assert!(generated.status.success());
    let common = [
        "als",
        "--input",
        ratings.to_str().unwrap(),
        "--rank",
        "4",
        "--iterations",
        "5",
    ];
    for np in NPS {
        let on_mpi = dir.path().join(format!("mpi-{np}.tsv"));
        let on_threads = dir.path().join(format!("threads-{np}.tsv"));
        let mut args = common.to_vec();
        args.extend(["-o", on_mpi.to_str().unwrap()]);
        let stdout = run_ok(np, &args);
        assert!(stdout.contains("test RMSE"), "{stdout}");
        let threads = std::process::Command::new(gasket_tests::gasket_mpi_bin())
            .args(common)
            .args([
                "--ranks",
                &np.to_string(),
                "-o",
                on_threads.to_str().unwrap(),
            ])
            .env("GASKET_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            threads.status.success(),
            "{}",
            String::from_utf8_lossy(&threads.stderr)
        );
        // The same engine below the `Comm` trait: the same factors, digit for digit.
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&on_mpi), read(&on_threads), "np {np}");
        assert!(
            read(&on_mpi).lines().count() > 400,
            "every user and item written"
        );
    }
}

#[test]
fn ghost_updates_are_payload_only() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("m.json");
    for np in [2usize, 4] {
        run_ok(np, &["pagerank", "--metrics", metrics.to_str().unwrap()]);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        let ghosts = doc["partition"]["ghosts"].as_u64().unwrap();
        let ranks = doc["per_rank_supersteps"].as_array().unwrap();
        assert_eq!(ranks.len(), np);
        for step in 0..doc["iterations"].as_u64().unwrap() as usize {
            let updates: u64 = ranks
                .iter()
                .map(|r| r[step]["ghost_updates_sent"].as_u64().unwrap())
                .sum();
            let bytes: u64 = ranks
                .iter()
                .map(|r| r[step]["bytes_sent"].as_u64().unwrap())
                .sum();
            assert_eq!(updates, ghosts);
            // 8 bytes per ghost, plus the fixed 41-byte reduction record to each peer
            // (active, signalled and frontier-edge counts, the stop vote).
            assert_eq!(
                bytes,
                ghosts * 8 + 41 * (np * (np - 1)) as u64,
                "np {np}, superstep {step}"
            );
        }
    }
}

#[test]
fn buffers_larger_than_one_message_travel_in_pieces() {
    let expect = run_ok(3, &["cc", "--top", "5"]);
    let out = mpirun(
        3,
        &["cc", "--top", "5"],
        &[("GASKET_MPI_MAX_ROUND_BYTES", "1000")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&String::from_utf8_lossy(&out.stdout)), strip(&expect));
}

#[test]
fn a_failing_rank_stops_every_rank_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("{i}\t{}\n", i + 1));
    }
    text.push_str("17 banana\n");
    let path = dir.path().join("late-error.txt");
    std::fs::write(&path, text).unwrap();
    let out_file = dir.path().join("out.tsv");
    for np in [2usize, 4] {
        // The bad line is in the last rank's byte range; the other ranks wait in a
        // collective and must be stopped, not left hanging.
        let out = mpirun(
            np,
            &[
                "pagerank",
                "--input",
                path.to_str().unwrap(),
                "-o",
                out_file.to_str().unwrap(),
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The failing rank's exit code 2 is the job's (MPI_Abort with 2).
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("late-error.txt:3001") && stderr.contains("banana"),
            "{stderr}"
        );
        assert!(!out_file.exists(), "no output file after a failure");
    }
}

#[test]
fn ranks_flag_under_mpirun_is_refused() {
    let out = mpirun(2, &["pagerank", "--ranks", "2"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mpirun -np N"));
}

#[test]
fn partitioners_run_across_mpi_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cc.tsv");
    let graph = read_whole(&shared_dataset("wiki-Vote.txt.gz"), Format::Snap);
    let edges = gasket_tests::edge_pairs(&graph);
    let expect = components::verify(&edges, &graph.vertices);
    for np in [2usize, 4] {
        for method in ["range", "ldg", "fennel"] {
            run_ok(
                np,
                &["cc", "--partition", method, "-o", out.to_str().unwrap()],
            );
            let got: Vec<(u64, u64)> = gasket_tests::read_values::<f64>(&out)
                .into_iter()
                .map(|(v, l)| (v, l as u64))
                .collect();
            assert_eq!(got, expect, "{method} on {np} MPI ranks");
        }
    }
}

#[test]
fn a_user_crate_runs_under_mpirun() {
    use gasket_tests::user_crate::{build, largest_reaching, read_output, sample_graph};
    let bin = build(&["mpi"]);
    let dir = tempfile::tempdir().unwrap();
    let (graph, edges) = sample_graph(dir.path());
    let output = dir.path().join("out.tsv");
    let (graph, output_arg) = (graph.to_str().unwrap(), output.to_str().unwrap());
    let out = gasket_tests::mpirun_program(&bin, 4, &[graph, output_arg], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("on 4 ranks"));
    assert_eq!(read_output(&output), largest_reaching(&edges));
}

#[test]
fn the_async_engine_across_mpi_ranks_equals_the_verifiers() {
    let input = shared_dataset("wiki-Vote.txt.gz");
    let graph = read_whole(&input, Format::Snap);
    let edges = gasket_tests::edge_pairs(&graph);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.tsv");
    let (input, out_s) = (input.to_str().unwrap(), out.to_str().unwrap());
    let reference = pagerank::PageRankConfig {
        tol: 1e-14,
        dangling: pagerank::Dangling::Ignore,
        ..pagerank::PageRankConfig::default()
    };
    let (pr_expect, _) = pagerank::verify(&edges, &graph.vertices, &reference);
    let cc_expect: Vec<(u64, f64)> = components::verify(&edges, &graph.vertices)
        .into_iter()
        .map(|(v, l)| (v, l as f64))
        .collect();
    let weighted: Vec<(u64, u64, f64)> = edges.iter().map(|&(s, d)| (s, d, 1.0)).collect();
    let sssp_expect = sssp::verify(&weighted, &graph.vertices, 3);
    for np in NPS {
        for (scheduler, consistency) in [
            ("fifo", "vertex"),
            ("priority", "vertex"),
            ("sweep", "edge"),
        ] {
            let engine = [
                "--engine",
                "async",
                "--scheduler",
                scheduler,
                "--consistency",
                consistency,
            ];
            let args = |app: &[&'static str]| -> Vec<String> {
                app.iter()
                    .map(|s| s.to_string())
                    .chain(engine.iter().map(|s| s.to_string()))
                    .chain(["--input", input, "-o", out_s].map(String::from))
                    .collect()
            };
            let run = |app: &[&'static str]| {
                let a = args(app);
                run_ok(np, &a.iter().map(String::as_str).collect::<Vec<_>>());
                gasket_tests::read_values::<f64>(&out)
            };
            let got = run(&["pagerank", "--dangling", "ignore", "--tol", "1e-9"]);
            assert_eq!(got.len(), pr_expect.len());
            for ((v, p), (ev, ep)) in got.iter().zip(&pr_expect) {
                assert_eq!(v, ev);
                assert!(
                    (p - ep).abs() <= 1e-9,
                    "np {np} {scheduler}: {v}: {p} vs {ep}"
                );
            }
            assert_eq!(run(&["cc"]), cc_expect, "np {np} {scheduler} {consistency}");
            assert_eq!(
                run(&["sssp", "--source", "3"]),
                sssp_expect,
                "np {np} {scheduler}"
            );
        }
    }
}

/// The parameter table's checks (read rule, lost updates, BSP = serial) on MPI ranks.
#[test]
fn parameter_table_checks_pass_on_mpi_ranks() {
    let program = Path::new(env!("CARGO_BIN_EXE_param_check"));
    for np in [2, 4] {
        let out = gasket_tests::mpirun_program(program, np, &[], &[]);
        assert!(
            out.status.success(),
            "param_check under mpirun -np {np}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("checks passed"));
    }
}

/// BSP SGD is bit-reproducible: MPI ranks write the same model as thread ranks.
/// Matrix factorization on synthetic ratings, the sgd runs' common arguments.
const SGD_MF: [&str; 5] = ["sgd", "--model", "mf", "--synthetic", "300,100,20"];

#[test]
fn bsp_sgd_on_mpi_ranks_equals_thread_ranks() {
    let dir = tempfile::tempdir().unwrap();
    for np in [2, 4] {
        let mpi_out = dir.path().join(format!("mpi{np}.tsv"));
        let thr_out = dir.path().join(format!("thr{np}.tsv"));
        let common = [&SGD_MF[..], &["--epochs", "3"]].concat();
        let mut a: Vec<&str> = common.to_vec();
        a.extend(["--straggler", "1:2:0.5", "-o", mpi_out.to_str().unwrap()]);
        run_ok(np, &a);
        let ranks = np.to_string();
        let mut b: Vec<&str> = common.to_vec();
        b.extend(["--ranks", &ranks, "-o", thr_out.to_str().unwrap()]);
        let out = gasket_tests::gasket(&b);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&mpi_out).unwrap(),
            std::fs::read_to_string(&thr_out).unwrap(),
            "np {np}"
        );
    }
}

/// Parameter-table checkpoints written by MPI ranks resume under MPI (the same model as
/// an uninterrupted run, bit for bit under BSP) and on thread ranks of another count.
#[test]
fn sgd_checkpoints_of_mpi_ranks_resume_under_mpi_and_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (ck, full, resumed, threads) = (
        path("ck"),
        path("full.tsv"),
        path("resumed.tsv"),
        path("threads.tsv"),
    );
    let common = [&SGD_MF[..], &["--clocks-per-epoch", "4"]].concat();
    fn with<'a>(common: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [common, extra].concat()
    }
    run_ok(2, &with(&common, &["--epochs", "4", "-o", &full]));
    // A run stopped after 2 epochs: its newest checkpoint is after clock 6.
    run_ok(
        2,
        &with(
            &common,
            &[
                "--epochs",
                "2",
                "--checkpoint-dir",
                &ck,
                "--checkpoint-every",
                "3",
            ],
        ),
    );
    let metrics = path("metrics.json");
    // Every rank ran clocks 7..=16 only, and the session's final flush: the run went on
    // from its checkpoint.
    let clocks_run = || -> Vec<u64> {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        doc["runs"][0]["per_rank"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["clocks"].as_u64().unwrap())
            .collect()
    };
    run_ok(
        2,
        &with(
            &common,
            &[
                "--epochs",
                "4",
                "--resume",
                &ck,
                "-o",
                &resumed,
                "--metrics",
                &metrics,
            ],
        ),
    );
    assert_eq!(clocks_run(), [11, 11]);
    assert_eq!(
        std::fs::read_to_string(&full).unwrap(),
        std::fs::read_to_string(&resumed).unwrap()
    );
    let out = gasket_tests::gasket(&with(
        &common,
        &[
            "--epochs",
            "4",
            "--ranks",
            "3",
            "--resume",
            &ck,
            "-o",
            &threads,
            "--metrics",
            &metrics,
        ],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(clocks_run(), [11, 11, 11]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains(": 16 clocks in"), "{summary}");
    let rows = std::fs::read_to_string(&threads).unwrap().lines().count();
    assert_eq!(
        rows,
        std::fs::read_to_string(&full).unwrap().lines().count()
    );
}

/// LDA under MPI writes the same model as the same number of thread ranks. Draws depend
/// on the seed, the document, the superstep and the scatter tasks, which follow the
/// thread count; Open MPI may bind each process to one core, so both sides run one
/// thread per pool.
#[test]
fn lda_on_mpi_ranks_equals_thread_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = gasket_tests::shared_dataset("reuters.ldac.gz");
    let common = [
        "lda",
        "-i",
        corpus.to_str().unwrap(),
        "-k",
        "6",
        "--iterations",
        "4",
    ];
    for np in [2, 4] {
        let out_dir = |side: &str| dir.path().join(format!("{side}{np}"));
        run_on_mpi_and_thread_ranks(np, &common, |side| {
            vec!["-o".into(), out_dir(side).to_str().unwrap().into()]
        });
        for file in ["model.txt", "doc_topics.tsv"] {
            let (m, t) = (
                std::fs::read_to_string(out_dir("mpi").join(file)).unwrap(),
                std::fs::read_to_string(out_dir("thr").join(file)).unwrap(),
            );
            assert!(
                m == t,
                "np {np}: {file} differs between MPI and thread ranks"
            );
        }
    }
}

/// Runs `gasket common...` under `mpirun -np np` and as `--ranks np` thread ranks, with
/// one thread per pool on both sides (Open MPI may bind each process to one core), each
/// side adding the arguments `extra("mpi")` or `extra("thr")` (its own output files).
fn run_on_mpi_and_thread_ranks(np: usize, common: &[&str], extra: impl Fn(&str) -> Vec<String>) {
    let one_thread = [("RAYON_NUM_THREADS", "1")];
    let mpi_extra = extra("mpi");
    let mut a: Vec<&str> = common.to_vec();
    a.extend(mpi_extra.iter().map(String::as_str));
    let out = mpirun(np, &a, &one_thread);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ranks = np.to_string();
    let thr_extra = extra("thr");
    let mut b: Vec<&str> = common.to_vec();
    b.extend(["--ranks", &ranks]);
    b.extend(thr_extra.iter().map(String::as_str));
    let out = std::process::Command::new(gasket_tests::gasket_bin())
        .args(&b)
        .envs(one_thread)
        .env("GASKET_LOG", "warn")
        .output()
        .expect("running gasket");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// BSP data-parallel MLP training: `mpirun -np N` saves the same model as N thread ranks
/// (the servers apply each clock's gradients in rank order on both transports).
#[test]
fn mlp_on_mpi_ranks_equals_thread_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("blobs.csv");
    let mut text = String::new();
    for i in 0..300u64 {
        let class = i % 3;
        let x: Vec<String> = (0..5u64)
            .map(|d| {
                let noise = gasket_engine::hash::unit(i, d, 3) - 0.5;
                let centre = if d % 3 == class { 1.5 } else { 0.0 };
                format!("{}", centre + noise)
            })
            .collect();
        text += &format!("{class},{}\n", x.join(","));
    }
    std::fs::write(&csv, text).unwrap();
    let common = [
        "mlp",
        "--data",
        csv.to_str().unwrap(),
        "--layers",
        "5,12,3",
        "--epochs",
        "2",
        "--batch",
        "24",
    ];
    for np in [2, 4] {
        let saved = |side: &str| dir.path().join(format!("{side}{np}.json"));
        run_on_mpi_and_thread_ranks(np, &common, |side| {
            vec!["--save".into(), saved(side).to_str().unwrap().into()]
        });
        let (m, t) = (
            std::fs::read(saved("mpi")).unwrap(),
            std::fs::read(saved("thr")).unwrap(),
        );
        assert!(
            m == t,
            "np {np}: the saved models differ between MPI and thread ranks"
        );
    }
}

/// The processes `mpirun` started, by MPI rank (from their environment).
fn rank_processes(mpirun_pid: u32) -> Vec<(usize, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent != Some(mpirun_pid) {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let rank = environ
            .split(|&b| b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .find_map(|kv| kv.strip_prefix("OMPI_COMM_WORLD_RANK="))
            .and_then(|r| r.parse().ok());
        if let Some(rank) = rank {
            found.push((rank, pid));
        }
    }
    found.sort_unstable();
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// A rank killed with SIGKILL mid-run: every process of the job is gone within 10 s,
/// mpirun exits non-zero naming the lost rank, no result file is left, and the run
/// resumes from its newest complete checkpoint on another number of ranks, ending where
/// an uninterrupted run ends.
#[test]
fn a_killed_rank_ends_the_job_and_the_run_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("kron.el");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let out = gasket_tests::gasket(&["generate", "kron", "--scale", "13", "-o", &path(&graph)]);
    assert!(out.status.success());
    let ck = dir.path().join("ck");
    let result = dir.path().join("never.tsv");
    let (graph_s, ck_s, result_s) = (path(&graph), path(&ck), path(&result));
    let mut args = gasket_tests::exact_pagerank_args(&graph_s, "1000000");
    args.extend([
        "--checkpoint-dir",
        &ck_s,
        "--checkpoint-every",
        "7",
        "-o",
        &result_s,
    ]);
    let mut child = gasket_tests::mpirun_command(&gasket_tests::gasket_mpi_bin(), 3, &args, &[])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ck.join("step-0000000014").join("MANIFEST").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint after 2 minutes"
        );
        assert!(child.try_wait().unwrap().is_none(), "the job ended early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let ranks = rank_processes(child.id());
    assert_eq!(ranks.len(), 3, "{ranks:?}");
    let killed_at = std::time::Instant::now();
    let victim = ranks[1].1;
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &victim.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            killed_at.elapsed().as_secs() < 10,
            "mpirun still running 10 s after the kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    while ranks.iter().any(|&(_, pid)| alive(pid)) {
        assert!(
            killed_at.elapsed().as_secs() < 10,
            "a rank outlived the job by 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("rank 1") && stderr.contains("signal 9"),
        "{stderr}"
    );
    assert!(!result.exists(), "a killed job leaves no result file");

    let newest = gasket_engine::checkpoint::newest_complete(&ck).unwrap();
    let total = (newest.iteration + 5).to_string();
    let (full, resumed) = (dir.path().join("full.tsv"), dir.path().join("resumed.tsv"));
    let base = gasket_tests::exact_pagerank_args(&graph_s, &total);
    run_ok(1, &[&base[..], &["-o", &path(&full)]].concat());
    let metrics = dir.path().join("metrics.json");
    run_ok(
        2,
        &[
            &base[..],
            &["--resume", &path(&ck), "-o", &path(&resumed)],
            &["--metrics", &path(&metrics)],
        ]
        .concat(),
    );
    assert_eq!(gasket_tests::first_superstep(&metrics), newest.iteration);
    gasket_tests::assert_values_close(
        &gasket_tests::read_values::<f64>(&resumed),
        &gasket_tests::read_values::<f64>(&full),
        1e-12,
    );
}
