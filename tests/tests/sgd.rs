//! `gasket sgd` and its library: BSP matrix factorization equals the serial simulation bit
//! for bit on 1, 2 and 4 ranks and run after run; SSP and async runs (with a straggler)
//! converge; logistic regression separates a separable problem; every class of bad input
//! is a clear error with exit code 2; the plot, model and metrics files are written.

use gasket_apps::sgd::{self, DataSource, Model, SgdConfig, Shard, Staleness, Straggler, Update};
use gasket_datasets::generate::RatingsConfig;
use gasket_engine::ThreadComm;
use gasket_engine::param::Row;
use gasket_tests::{gasket, on_ranks};

fn mf_config() -> SgdConfig {
    SgdConfig {
        model: Model::Mf,
        dims: 5,
        lr: Some(0.1),
        lambda: 0.02,
        epochs: 4,
        clocks_per_epoch: 5,
        update: Update::Adagrad,
        test_fraction: 0.1,
        seed: 9,
        straggler: None,
        eager: false,
        checkpoint: Default::default(),
    }
}

fn ratings() -> RatingsConfig {
    RatingsConfig {
        users: 300,
        items: 120,
        ratings_per_user: 20,
        seed: 4,
        ..RatingsConfig::default()
    }
}

fn train(config: &SgdConfig, ranks: usize, s: Staleness) -> sgd::SgdReport {
    let source = DataSource::Synthetic(ratings());
    let reports = ThreadComm::run(ranks, |comm| {
        let shard = sgd::load(config, &source, &comm)?;
        sgd::run(config, s, &shard, &comm, false)
    })
    .unwrap();
    reports.into_iter().flatten().next().unwrap()
}

#[test]
fn bsp_matrix_factorization_equals_the_serial_simulation() {
    let config = mf_config();
    let all: Vec<(u64, u64, f32)> = gasket_datasets::generate::low_rank_ratings(&ratings())
        .into_iter()
        .map(|(u, i, r)| (u, i, r as f32))
        .collect();
    on_ranks(|ranks| {
        let report = train(&config, ranks, Staleness::Clocks(0));
        let again = train(&config, ranks, Staleness::Clocks(0));
        let rows: Vec<(u64, Vec<f32>)> = report
            .model
            .iter()
            .map(|(_, r, v)| (*r, v.as_dense().unwrap().to_vec()))
            .collect();
        assert_eq!(report.model, again.model, "run-to-run difference");
        assert_eq!(
            report
                .clocks
                .iter()
                .map(|p| p.objective)
                .collect::<Vec<_>>(),
            again.clocks.iter().map(|p| p.objective).collect::<Vec<_>>()
        );
        assert_eq!(rows, sgd::mf_serial_bsp(&config, ranks, &all));
    });
}

#[test]
fn stale_and_async_runs_converge_with_a_straggler() {
    let mut config = mf_config();
    config.epochs = 8;
    config.straggler = Some(Straggler {
        rank: 1,
        factor: 3.0,
        prob: 0.5,
    });
    for s in [Staleness::Clocks(0), Staleness::Clocks(2), Staleness::Async] {
        let report = train(&config, 2, s);
        let first = report.clocks[0].objective;
        let last = report.clocks.last().unwrap().objective;
        assert!(last < 0.6 * first, "{}: {first} -> {last}", report.label);
        // The ratings' noise is 0.25; the spread around the mean is about 1.
        let rmse = report.test_metric.unwrap();
        assert!(rmse < 0.9, "{}: held-out RMSE {rmse}", report.label);
        if let Staleness::Clocks(bound) = s {
            for m in &report.per_rank {
                assert!(m.max_staleness().unwrap_or(0) <= bound as usize);
            }
        }
    }
}

fn separable_libsvm(n: usize) -> String {
    let mut text = String::new();
    for k in 0..n {
        let a = ((k * 37) % 100) as f32 / 50.0 - 1.0;
        let b = ((k * 91) % 100) as f32 / 50.0 - 1.0;
        let label = if a + 0.5 * b > 0.1 { "+1" } else { "-1" };
        text += &format!("{label} 1:{a} 7:{b} 70:1\n");
    }
    text
}

#[test]
fn logistic_regression_separates_a_separable_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sep.svm");
    std::fs::write(&path, separable_libsvm(400)).unwrap();
    let config = SgdConfig {
        model: Model::Logreg,
        lr: Some(0.5),
        epochs: 30,
        test_fraction: 0.2,
        ..mf_config()
    };
    for ranks in [1, 2] {
        for s in [Staleness::Clocks(0), Staleness::Clocks(3)] {
            let source = DataSource::File(path.clone(), None);
            let reports = ThreadComm::run(ranks, |comm| {
                let shard = sgd::load(&config, &source, &comm)?;
                assert!(matches!(shard, Shard::Examples(_)));
                sgd::run(&config, s, &shard, &comm, false)
            })
            .unwrap();
            let report = reports.into_iter().flatten().next().unwrap();
            let accuracy = report.test_metric.unwrap();
            assert!(accuracy >= 0.95, "{ranks} ranks {s:?}: accuracy {accuracy}");
            // The bias row and the blocks of features 1, 7 and 70 exist.
            assert!(
                report
                    .model
                    .iter()
                    .any(|(_, r, v)| *r == u64::MAX && v.value(0) != 0.0)
            );
            assert!(
                report
                    .model
                    .iter()
                    .all(|(_, _, v)| matches!(v, Row::Dense(_)))
            );
        }
    }
}

fn expect_exit_2(args: &[&str], needle: &str) {
    let out = gasket(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected `{needle}` in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let ratings = write("r.txt", "1 2 3.5\n1 x 2\n");
    expect_exit_2(&["sgd", "--model", "mf", "--input", &ratings], "r.txt:2");
    let two_columns = write("e.txt", "1 2\n3 4\n");
    expect_exit_2(
        &["sgd", "--model", "mf", "--input", &two_columns],
        "no third column",
    );
    let zero = write("z.svm", "+1 1:1\n-1 0:2\n");
    expect_exit_2(&["sgd", "--model", "logreg", "--input", &zero], "z.svm:2");
    expect_exit_2(&["sgd", "--model", "logreg", "--input", &zero], "1-based");
    let labels = write("l.svm", "+1 1:1\n3 2:2\n");
    expect_exit_2(
        &["sgd", "--model", "logreg", "--input", &labels],
        "l.svm:2: label 3",
    );
    let good = write("g.txt", "1 2 3\n2 3 4\n");
    expect_exit_2(
        &[
            "sgd",
            "--model",
            "mf",
            "--input",
            &good,
            "--staleness",
            "-1",
        ],
        ">= 0",
    );
    expect_exit_2(
        &[
            "sgd",
            "--model",
            "mf",
            "--input",
            &good,
            "--ranks",
            "2",
            "--straggler",
            "2:3",
        ],
        "only 2 rank(s)",
    );
    expect_exit_2(
        &[
            "sgd",
            "--model",
            "mf",
            "--input",
            &good,
            "--straggler",
            "0:0.5",
        ],
        "at least 1",
    );
    expect_exit_2(&["sgd", "--model", "mf"], "sgd needs data");
    expect_exit_2(
        &["sgd", "--model", "mf", "--synthetic", "10,x"],
        "USERS,ITEMS,RATINGS_PER_USER",
    );
}

#[test]
fn the_command_writes_plot_model_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let plot = dir.path().join("curves.svg");
    let model = dir.path().join("model.tsv");
    let metrics = dir.path().join("m.json");
    let out = gasket(&[
        "sgd",
        "--model",
        "mf",
        "--synthetic",
        "200,80,15",
        "--ranks",
        "2",
        "--epochs",
        "3",
        "--staleness",
        "0,2,async",
        "--straggler",
        "1:2:0.5",
        "--target",
        "0.9",
        "--plot",
        plot.to_str().unwrap(),
        "-o",
        model.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for label in ["BSP (s = 0)", "SSP s = 2", "async"] {
        assert!(stdout.contains(label), "{stdout}");
        assert!(stderr.contains(&format!("# {label}: clock")), "{stderr}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<svg") && svg.contains("SSP s = 2"));
    let rows = std::fs::read_to_string(&model).unwrap();
    assert_eq!(rows.lines().filter(|l| !l.starts_with('#')).count(), 80);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["clocks"].as_array().unwrap().len(), 30);
    assert_eq!(runs[1]["per_rank"].as_array().unwrap().len(), 2);
    assert!(runs[1]["per_rank"][0]["staleness"].is_array());
}

/// `config` with checkpoints to `dir` every `every` clocks, or resuming from it.
fn with_checkpoints(
    config: &SgdConfig,
    dir: &std::path::Path,
    every: u64,
    resume: bool,
) -> SgdConfig {
    let mut config = config.clone();
    if resume {
        config.checkpoint.resume = Some(dir.to_path_buf());
    } else {
        config.checkpoint.checkpoint_dir = Some(dir.to_path_buf());
        config.checkpoint.checkpoint_every = Some(every);
    }
    config
}

#[test]
fn matrix_factorization_resumes_from_a_checkpoint_on_any_rank_count() {
    let config = mf_config(); // 4 epochs of 5 clocks
    let full = train(&config, 2, Staleness::Clocks(0));
    let objectives = |r: &sgd::SgdReport| r.clocks.iter().map(|p| p.objective).collect::<Vec<_>>();
    for then in [2, 3, 1] {
        let tmp = tempfile::tempdir().unwrap();
        // A run stopped after 2 epochs leaves its checkpoint after clock 5.
        let first = SgdConfig {
            epochs: 2,
            ..with_checkpoints(&config, tmp.path(), 5, false)
        };
        train(&first, 2, Staleness::Clocks(0));
        let resumed = train(
            &with_checkpoints(&config, tmp.path(), 5, true),
            then,
            Staleness::Clocks(0),
        );
        let clocks: Vec<u64> = resumed.clocks.iter().map(|p| p.clock).collect();
        assert_eq!(
            clocks,
            (1..=20).collect::<Vec<_>>(),
            "the history comes back"
        );
        // Every rank ran clocks 6..=20 only (and the session's final flush): the run
        // went on from its checkpoint, it did not start over.
        let ran: Vec<u64> = resumed.per_rank.iter().map(|m| m.clocks).collect();
        assert_eq!(ran, vec![15 + 1; then], "clocks run after the checkpoint");
        assert_eq!(objectives(&resumed)[..5], objectives(&full)[..5]);
        if then == 2 {
            // Same ranks under BSP: the same trajectory, bit for bit.
            assert_eq!(resumed.model, full.model);
            assert_eq!(objectives(&resumed), objectives(&full));
        } else {
            // Other ranks: other batches and sums, but the users' factors and the items
            // come back, so the objective carries on from where it was (fresh user factors
            // would put it back near clock 1's).
            let (was, now) = (full.clocks[5].objective, resumed.clocks[5].objective);
            assert!(
                (now - was).abs() < 0.15 * was,
                "clock 6: {was} vs {now} on {then} ranks"
            );
            let rmse = (full.test_metric.unwrap(), resumed.test_metric.unwrap());
            assert!((rmse.0 - rmse.1).abs() < 0.05 * rmse.0, "{rmse:?}");
        }
    }
}

#[test]
fn sgd_checkpoint_misuse_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["sgd", "--model", "mf", "--synthetic", "100,40,10"];
        args.extend_from_slice(extra);
        gasket(&args)
    };
    let out = run(&["--staleness", "0,2", "--checkpoint-dir", dir]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give one --staleness"));

    // A checkpoint of another --dims, and one past the run's clocks.
    assert!(
        run(&[
            "--epochs",
            "3",
            "--clocks-per-epoch",
            "2",
            "--checkpoint-dir",
            dir,
            "--checkpoint-every",
            "2"
        ])
        .status
        .success()
    );
    let out = run(&["--dims", "4", "--resume", dir]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds tables [items (10 wide)]") && err.contains("[items (4 wide)]"),
        "{err}"
    );
    let out = run(&["--epochs", "1", "--clocks-per-epoch", "2", "--resume", dir]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("past this run's 2 clocks"), "{err}");
}
