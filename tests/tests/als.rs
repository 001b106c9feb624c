//! ALS (alternating least squares) against its serial verifier on 1, 2 and 4 thread ranks,
//! the rank counts against each other, its quality on a synthetic low-rank ratings set, its
//! numerical kernels (the app's Cholesky solver and the verifier's own Gaussian
//! elimination), and bad input.
//!
//! Tolerance between the engine and the verifier: both follow the same order of updates,
//! but the verifier sums the full normal equations in its own loop, solves them by Gaussian
//! elimination with partial pivoting instead of the app's Cholesky factorisation, and sums
//! the errors itself, and the engine adds a vertex's terms in the order its ratings reach
//! its rank (which depends on the rank count): relative differences of order `n * 1e-16`.
//! That is far below the `f32` rounding of the stored factors (`6e-8` relative), so
//! factors agree to an `f32` ulp or so after a solve, and ALS-WR's ridge (`lambda * n`)
//! keeps each update well conditioned, so such differences do not grow over the rounds (on
//! these sets the factors come out bit-identical on 1, 2 and 4 ranks and in the verifier,
//! while the RMSEs differ in their last bits). Factors are O(1): `1e-5` absolute allows
//! ~100 `f32` ulps of drift, while any real difference (a missed edge, a wrong split, a
//! stale neighbour, a wrong regulariser) moves factors by far more. RMSEs, sums of
//! thousands of such terms, are compared to `1e-6` relative.

use gasket_apps::als::{self, AlsConfig, AlsReport, ITEM_BASE, Rating};
use gasket_datasets::generate::{RatingsConfig, low_rank_ratings, write_ratings};
use gasket_datasets::{EdgeList, Format, read_graph};
use gasket_engine::prelude::*;
use gasket_tests::{RANK_COUNTS, on_ranks};

const FACTOR_TOLERANCE: f32 = 1e-5;
const RMSE_TOLERANCE: f64 = 1e-6;

type Factors = Vec<(VertexId, Vec<f32>)>;

/// Checks that every rank reported the same figures, bit for bit, and returns them.
fn same_on_every_rank(reports: Vec<AlsReport>) -> AlsReport {
    let bits = |r: &AlsReport| {
        let mut v: Vec<u64> = r
            .rounds
            .iter()
            .flat_map(|&(a, b)| [a.to_bits(), b.to_bits()])
            .collect();
        v.extend([r.train_rmse, r.test_rmse, r.baseline_rmse].map(f64::to_bits));
        v.extend([r.train_ratings, r.test_ratings]);
        v
    };
    for r in &reports[1..] {
        assert_eq!(bits(r), bits(&reports[0]), "reports differ between ranks");
    }
    reports.into_iter().next().expect("at least one rank")
}

/// Every rank's factors (sorted by vertex) and the report, from edges each rank obtains
/// with `edges(comm)`.
fn run_engine(
    ranks: usize,
    config: &AlsConfig,
    edges: impl Fn(&dyn Comm) -> EdgeList + Sync,
) -> (Factors, AlsReport) {
    let per_rank = ThreadComm::run(ranks, |comm| -> Result<_, EngineError> {
        let input = als::ratings_input(config, "ratings", edges(&comm))?;
        let mut graph = build_local_graph(&comm, &HashOwnership::new(ranks), input)?;
        let out = als::run(config, &comm, &mut graph, false)?;
        Ok((out.values, out.extra))
    })
    .expect("ALS on thread ranks");
    let (values, reports): (Vec<Factors>, Vec<AlsReport>) = per_rank.into_iter().unzip();
    let mut factors: Factors = values.into_iter().flatten().collect();
    factors.sort_by_key(|(v, _)| *v);
    (factors, same_on_every_rank(reports))
}

/// `ratings` dealt round-robin to the ranks, as if each had read part of a file.
fn deal(ratings: &[(u64, u64, f64)], comm: &dyn Comm) -> EdgeList {
    let mut e = EdgeList {
        weight: Some(Vec::new()),
        ..EdgeList::default()
    };
    for &(u, i, r) in ratings.iter().skip(comm.rank()).step_by(comm.size()) {
        e.src.push(u);
        e.dst.push(i);
        e.weight.as_mut().expect("weighted").push(r);
    }
    e
}

fn assert_close_reports(got: &AlsReport, expect: &AlsReport) {
    let close = |a: f64, b: f64| (a - b).abs() <= RMSE_TOLERANCE * b.abs().max(1.0);
    assert_eq!(got.rounds.len(), expect.rounds.len(), "rounds");
    for (r, (g, e)) in got.rounds.iter().zip(&expect.rounds).enumerate() {
        assert!(
            close(g.0, e.0) && close(g.1, e.1),
            "round {r}: {g:?} vs {e:?}"
        );
    }
    assert!(
        close(got.train_rmse, expect.train_rmse),
        "{got:?} vs {expect:?}"
    );
    assert!(
        close(got.test_rmse, expect.test_rmse),
        "{got:?} vs {expect:?}"
    );
    assert!(
        close(got.baseline_rmse, expect.baseline_rmse),
        "{got:?} vs {expect:?}"
    );
    assert_eq!(
        (got.train_ratings, got.test_ratings),
        (expect.train_ratings, expect.test_ratings)
    );
}

/// Largest absolute difference between two factor sets over the same vertices.
fn max_factor_diff(got: &Factors, expect: &Factors) -> f32 {
    assert_eq!(got.len(), expect.len(), "same vertices");
    let mut worst = 0.0f32;
    for ((v, f), (ev, ef)) in got.iter().zip(expect) {
        assert_eq!(v, ev);
        assert_eq!(f.len(), ef.len());
        for (a, b) in f.iter().zip(ef) {
            assert!(a.is_finite(), "vertex {v}: {f:?}");
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

/// A user whose only rating is held out, and an item whose only rating is held out.
fn lonely_ratings(config: &AlsConfig) -> Vec<(u64, u64, f64)> {
    let user = (10_000..)
        .find(|&u| als::is_test_rating(config, u, 0))
        .expect("some user id");
    let item = (10_000..)
        .find(|&i| als::is_test_rating(config, 0, i))
        .expect("some item id");
    vec![(user, 0, 4.0), (0, item, 2.0)]
}

fn small_set(config: &AlsConfig) -> Vec<(u64, u64, f64)> {
    let mut ratings = low_rank_ratings(&RatingsConfig {
        users: 120,
        items: 70,
        rank: 3,
        ratings_per_user: 12,
        noise: 0.3,
        seed: 11,
    });
    ratings.extend(lonely_ratings(config));
    ratings
}

#[test]
fn engine_matches_the_serial_verifier() {
    let config = AlsConfig {
        rank: 6,
        iterations: 8,
        test_fraction: 0.2,
        ..AlsConfig::default()
    };
    let ratings = small_set(&config);
    let (expect, expect_report) = als::verify(&config, &ratings);
    assert_eq!(expect.len(), 120 + 70 + 2);
    assert_eq!(expect_report.rounds.len(), 9);
    assert_eq!(
        expect_report.train_ratings + expect_report.test_ratings,
        ratings.len() as u64
    );
    on_ranks(|ranks| {
        let (got, report) = run_engine(ranks, &config, |comm| deal(&ratings, comm));
        let diff = max_factor_diff(&got, &expect);
        eprintln!("{ranks} rank(s): largest factor difference {diff:e}");
        assert!(diff <= FACTOR_TOLERANCE, "factors differ by {diff}");
        assert_close_reports(&report, &expect_report);
    });
}

/// Results on 1, 2 and 4 ranks against each other and the verifier. A vertex's normal
/// equations are summed over its ratings in the order they reach its rank, and the error
/// sums per rank then over ranks, both depending on the rank count, so results are not
/// bit-identical by design: README promises ALS factors within `1e-5` (FACTOR_TOLERANCE)
/// and RMSEs within `1e-6` relative for any number of ranks. Both are asserted here
/// between every pair of rank counts and against the verifier.
#[test]
fn factors_agree_on_1_2_4_ranks_and_with_the_verifier() {
    let data = RatingsConfig {
        users: 200,
        items: 90,
        rank: 4,
        ratings_per_user: 30,
        noise: 0.2,
        seed: 5,
    };
    let config = AlsConfig {
        rank: 5,
        iterations: 6,
        test_fraction: 0.15,
        ..AlsConfig::default()
    };
    let mut ratings = low_rank_ratings(&data);
    ratings.extend(lonely_ratings(&config));
    let (expect, expect_report) = als::verify(&config, &ratings);
    assert_eq!(expect.len(), 200 + 90 + 2);
    let runs: Vec<(usize, Factors, AlsReport)> = RANK_COUNTS
        .iter()
        .map(|&ranks| {
            let (factors, report) = run_engine(ranks, &config, |comm| deal(&ratings, comm));
            (ranks, factors, report)
        })
        .collect();
    for (ranks, factors, report) in &runs {
        let diff = max_factor_diff(factors, &expect);
        eprintln!("{ranks} rank(s): largest factor difference to the verifier {diff:e}");
        assert!(
            diff <= FACTOR_TOLERANCE,
            "{ranks} rank(s): factors differ from the verifier by {diff}"
        );
        assert_close_reports(report, &expect_report);
    }
    for (i, (ranks_a, a, report_a)) in runs.iter().enumerate() {
        for (ranks_b, b, report_b) in &runs[i + 1..] {
            let diff = max_factor_diff(b, a);
            let identical = a.iter().zip(b).all(|((_, fa), (_, fb))| {
                fa.iter().zip(fb).all(|(x, y)| x.to_bits() == y.to_bits())
            });
            eprintln!(
                "{ranks_a} vs {ranks_b} rank(s): largest factor difference {diff:e} \
                 (bit-identical: {identical})"
            );
            assert!(
                diff <= FACTOR_TOLERANCE,
                "{ranks_a} vs {ranks_b} rank(s): factors differ by {diff}"
            );
            assert_close_reports(report_b, report_a);
        }
    }
}

#[test]
fn no_training_ratings_keeps_the_initial_factors() {
    // lambda = 0 also makes the systems of vertices with fewer ratings than `rank`
    // singular: they keep their factors too, and nothing turns into NaN.
    for lambda in [als::DEFAULT_LAMBDA, 0.0] {
        let config = AlsConfig {
            rank: 4,
            lambda,
            iterations: 3,
            ..AlsConfig::default()
        };
        let mut ratings = vec![(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0), (2, 1, 1.0)];
        ratings.extend(lonely_ratings(&config));
        let lonely: Vec<VertexId> = lonely_ratings(&config)
            .iter()
            .flat_map(|&(u, i, _)| [u, ITEM_BASE + i])
            .filter(|&v| v >= 10_000 && v != ITEM_BASE)
            .collect();
        assert_eq!(lonely.len(), 2);
        let (expect, expect_report) = als::verify(&config, &ratings);
        on_ranks(|ranks| {
            let (got, report) = run_engine(ranks, &config, |comm| deal(&ratings, comm));
            assert!(max_factor_diff(&got, &expect) <= FACTOR_TOLERANCE);
            for (v, f) in &got {
                assert!(f.iter().all(|x| x.is_finite()), "vertex {v}: {f:?}");
                if lonely.contains(v) {
                    assert_eq!(f, &als::initial_factors(&config, *v), "vertex {v}");
                }
            }
            assert!(report.test_rmse.is_finite() && report.train_rmse.is_finite());
            assert_close_reports(&report, &expect_report);
        });
    }
}

#[test]
fn low_rank_ratings_are_recovered_far_better_than_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ratings.txt");
    let data = RatingsConfig {
        users: 300,
        items: 200,
        rank: 5,
        ratings_per_user: 40,
        noise: 0.1,
        seed: 3,
    };
    assert_eq!(write_ratings(&data, &path).unwrap(), 12_000);
    let config = AlsConfig::default();
    let (_, expect) = als::verify(&config, &low_rank_ratings(&data));
    let mut reports = Vec::new();
    for ranks in [1, 4] {
        let (factors, report) = run_engine(ranks, &config, |comm| {
            read_graph(&path, Format::Snap, comm).expect("reading the ratings")
        });
        assert_eq!(factors.len(), 500);
        eprintln!(
            "{ranks} rank(s): test RMSE {:.4} (train {:.4}), global-mean baseline {:.4}; \
             rounds {:?}",
            report.test_rmse, report.train_rmse, report.baseline_rmse, report.rounds
        );
        assert_eq!(report.train_ratings + report.test_ratings, 12_000);
        assert!(
            (1000..1400).contains(&report.test_ratings),
            "about 10% held out: {}",
            report.test_ratings
        );
        assert!(report.baseline_rmse > 0.8, "ratings spread: {report:?}");
        assert!(
            report.test_rmse < 0.4 * report.baseline_rmse,
            "ALS should beat the mean clearly: {report:?}"
        );
        let (first, last) = (report.rounds[0], report.rounds[config.iterations]);
        assert!(last.0 < 0.2 * first.0, "training error falls: {report:?}");
        assert_close_reports(&report, &expect);
        reports.push(report);
    }
    assert_close_reports(&reports[1], &reports[0]);
}

#[test]
fn cholesky_solves_a_known_system() {
    // A = L L^T with L = [[2, 0, 0], [6, 1, 0], [-8, 5, 3]]; x = [1, -2, 3].
    let a = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
    let x = [1.0, -2.0, 3.0];
    let mut b: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| a[i * 3 + j] * x[j]).sum())
        .collect();
    let mut m = a;
    assert!(als::cholesky_solve(&mut m, &mut b));
    for (got, want) in b.iter().zip(x) {
        assert!((got - want).abs() < 1e-12, "{b:?}");
    }
    let lower = [m[0], m[3], m[4], m[6], m[7], m[8]];
    assert_eq!(lower, [2.0, 6.0, 1.0, -8.0, 5.0, 3.0], "the factor L");
    // Singular and indefinite matrices are refused, not turned into NaN.
    let mut singular = [1.0, 1.0, 1.0, 1.0];
    assert!(!als::cholesky_solve(&mut singular, &mut [1.0, 2.0]));
    let mut indefinite = [1.0, 2.0, 2.0, 1.0];
    assert!(!als::cholesky_solve(&mut indefinite, &mut [1.0, 2.0]));
    let mut zero = [0.0];
    assert!(!als::cholesky_solve(&mut zero, &mut [1.0]));
    let mut one = [4.0];
    let mut rhs = [2.0];
    assert!(als::cholesky_solve(&mut one, &mut rhs));
    assert_eq!(rhs, [0.5]);
}

#[test]
fn the_verifiers_gaussian_elimination_solves_known_systems() {
    // A zero in the first pivot position needs a row swap; x = [1, -2, 3].
    let a = [0.0, 2.0, 1.0, 3.0, 1.0, -1.0, 1.0, 4.0, 2.0];
    let x = [1.0, -2.0, 3.0];
    let b: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| a[i * 3 + j] * x[j]).sum())
        .collect();
    let got = als::verifier_solve(&mut a.clone(), &mut b.clone()).expect("non-singular");
    for (g, want) in got.iter().zip(x) {
        assert!((g - want).abs() < 1e-12, "{got:?}");
    }
    // The Cholesky test's system gives the same solution.
    let spd = [4.0, 12.0, -16.0, 12.0, 37.0, -43.0, -16.0, -43.0, 98.0];
    let mut rhs: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| spd[i * 3 + j] * x[j]).sum())
        .collect();
    let got = als::verifier_solve(&mut spd.clone(), &mut rhs.clone()).expect("non-singular");
    assert!(als::cholesky_solve(&mut spd.clone(), &mut rhs));
    for ((g, c), want) in got.iter().zip(&rhs).zip(x) {
        assert!(
            (g - want).abs() < 1e-12 && (g - c).abs() < 1e-12,
            "{got:?} {rhs:?}"
        );
    }
    // Singular systems (exactly, and up to rounding) are refused, not turned into NaN.
    assert!(als::verifier_solve(&mut [1.0, 1.0, 1.0, 1.0], &mut [1.0, 2.0]).is_none());
    assert!(als::verifier_solve(&mut [0.0], &mut [1.0]).is_none());
    let f = [0.1f64, 0.7, 0.3];
    let mut rank_one: Vec<f64> = (0..9).map(|i| f[i / 3] * f[i % 3]).collect();
    assert!(als::verifier_solve(&mut rank_one, &mut [1.0, 2.0, 3.0]).is_none());
    assert_eq!(als::verifier_solve(&mut [4.0], &mut [2.0]), Some(vec![0.5]));
}

fn config_error(result: Result<impl std::fmt::Debug, EngineError>) -> String {
    match result {
        Err(EngineError::Config(msg)) => msg,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

fn edges(src: Vec<u64>, dst: Vec<u64>, weight: Option<Vec<f64>>) -> EdgeList {
    EdgeList {
        src,
        dst,
        weight,
        vertices: Vec::new(),
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let config = AlsConfig::default();
    let input = |e| als::ratings_input(&config, "my-ratings.txt", e);

    let msg = config_error(input(edges(vec![1], vec![2], None)));
    assert!(
        msg.contains("my-ratings.txt") && msg.contains("third column"),
        "{msg}"
    );
    let msg = config_error(input(edges(
        vec![1, 2],
        vec![2, 3],
        Some(vec![1.0, f64::NAN]),
    )));
    assert!(
        msg.contains("my-ratings.txt") && msg.contains("not a finite"),
        "{msg}"
    );
    let msg = config_error(input(edges(vec![1], vec![2], Some(vec![1e300]))));
    assert!(msg.contains("not a finite"), "too large for f32: {msg}");
    let msg = config_error(input(edges(vec![ITEM_BASE], vec![2], Some(vec![1.0]))));
    assert!(
        msg.contains("my-ratings.txt") && msg.contains(&format!("user id {ITEM_BASE}")),
        "{msg}"
    );
    let msg = config_error(input(edges(vec![1], vec![u64::MAX], Some(vec![1.0]))));
    assert!(msg.contains(&format!("item id {}", u64::MAX)), "{msg}");

    // A good share: items are moved above ITEM_BASE, the split is marked.
    let good = input(edges(vec![1, 2], vec![2, 3], Some(vec![1.5, 4.0]))).unwrap();
    assert_eq!(good.src, vec![1, 2]);
    assert_eq!(good.dst, vec![ITEM_BASE + 2, ITEM_BASE + 3]);
    assert_eq!(good.data[0].value, 1.5);
    assert_eq!(good.data[1].test, als::is_test_rating(&config, 2, 3));

    // A two-column file read on two ranks: every rank names the file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.txt");
    std::fs::write(&path, "1 2\n3 4\n5 6\n").unwrap();
    let err = ThreadComm::run(2, |comm| -> Result<(), EngineError> {
        let e = read_graph(&path, Format::Snap, &comm).expect("a valid edge list");
        als::ratings_input(&config, "plain.txt", e).map(|_| ())
    })
    .unwrap_err();
    assert!(err.to_string().contains("plain.txt"), "{err}");

    let bad_configs = [
        AlsConfig {
            rank: 0,
            ..config.clone()
        },
        AlsConfig {
            rank: als::MAX_RANK + 1,
            ..config.clone()
        },
        AlsConfig {
            lambda: -0.1,
            ..config.clone()
        },
        AlsConfig {
            lambda: f64::NAN,
            ..config.clone()
        },
        AlsConfig {
            test_fraction: 1.0,
            ..config.clone()
        },
        AlsConfig {
            test_fraction: -0.1,
            ..config.clone()
        },
        AlsConfig {
            test_fraction: f64::NAN,
            ..config.clone()
        },
    ];
    for bad in bad_configs {
        let msg = config_error(bad.validate());
        assert!(msg.starts_with("ALS "), "{msg}");
        config_error(als::ratings_input(
            &bad,
            "r",
            edges(vec![1], vec![2], Some(vec![1.0])),
        ));
        let err = run_error(&bad);
        assert!(err.starts_with("ALS "), "{err}");
    }
    assert!(AlsConfig::default().validate().is_ok());
}

/// The error of `als::run` with a bad configuration (refused before touching the graph).
fn run_error(config: &AlsConfig) -> String {
    let good = AlsConfig::default();
    let input = als::ratings_input(&good, "r", edges(vec![1], vec![2], Some(vec![1.0])))
        .expect("valid input");
    let mut graph = build_local_graph(&SingleComm, &HashOwnership::new(1), input).unwrap();
    config_error(als::run(config, &SingleComm, &mut graph, false).map(|_| ()))
}

#[test]
fn ratings_cross_ranks_intact() {
    let mut buf = Vec::new();
    let r = Rating {
        value: -2.75,
        test: true,
    };
    r.encode(&mut buf);
    Rating::default().encode(&mut buf);
    assert_eq!(buf.len(), 10);
    let mut input = buf.as_slice();
    assert_eq!(Rating::decode(&mut input), r);
    assert_eq!(Rating::decode(&mut input), Rating::default());
    assert!(input.is_empty());
}

#[test]
fn the_split_and_the_start_are_deterministic() {
    let config = AlsConfig::default();
    let held: usize = (0..10_000u64)
        .filter(|&k| als::is_test_rating(&config, k % 97, k / 97))
        .count();
    assert!((800..1200).contains(&held), "about 10% held out: {held}");
    let none = AlsConfig {
        test_fraction: 0.0,
        ..config.clone()
    };
    assert!((0..1000).all(|k| !als::is_test_rating(&none, k, k)));
    let f = als::initial_factors(&config, 12);
    assert_eq!(f.len(), config.rank);
    assert_eq!(f, als::initial_factors(&config, 12));
    assert_ne!(f, als::initial_factors(&config, ITEM_BASE + 12));
    let bound = 1.0 / (config.rank as f32).sqrt();
    assert!(f.iter().all(|&x| (0.0..bound).contains(&x)), "{f:?}");
}
