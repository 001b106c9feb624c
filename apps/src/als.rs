//! Alternating least squares (ALS) for collaborative filtering: GraphLab's flagship toolkit.
//!
//! **What it computes.** Given ratings `r(u, i)` of items by users, a factor vector of
//! dimension `rank` per user (`x_u`) and per item (`y_i`) such that `x_u . y_i` predicts
//! `r(u, i)`. A deterministic share of the ratings (`test_fraction`, chosen by a hash of
//! `(user, item, seed)`) is held out: those edges stay in the graph but are never fitted,
//! and the root-mean-square error (RMSE) on them measures generalisation. The report gives
//! train and test RMSE after every round and the test RMSE of the global-mean baseline
//! (the mean training rating predicting every test rating).
//!
//! **Graph.** Bipartite: one edge user -> item per rating, carrying a [`Rating`]. Users and
//! items come from the same id columns and may collide, so item `i` is vertex
//! [`ITEM_BASE`]` + i`.
//!
//! **Algorithm: ALS-WR** (Zhou et al., *Large-scale parallel collaborative filtering for
//! the Netflix prize*, 2008). With the item factors fixed, each user's factors solve a
//! ridge regression over its `n_u` training ratings,
//! `(Y^T Y + lambda * n_u * I) x_u = Y^T r_u`; then the items do the same with the users
//! fixed. One users' half-step plus one items' half-step is a round.
//!
//! **Design.** Alternation is driven by signals: `init` signals the users, a user that has
//! solved signals its items (scatter over out-edges), an item signals its users (scatter
//! over in-edges), so users run exactly in the even supersteps and items in the odd ones,
//! each gathering the normal equations over its edges from neighbours' factors as the last
//! half-step left them. No vertex runs that has nothing to recompute, and the program needs
//! no global phase flag. Each users' superstep also measures, before it updates, the
//! squared errors of the model as it stands (the model after the previous round) and sums
//! them through aggregators; one last users' superstep only measures, so the final figures
//! are those of the final model. Aggregates are reduced in rank order, so every rank
//! reports identical figures. The weighted regulariser `lambda * n` of ALS-WR scales with
//! each vertex's number of ratings, so one `lambda` suits heavy and light users alike and
//! the fit does not overfit as rounds go on (the paper's observation on Netflix).
//!
//! **Numerics.** Factors are `f32` (they are the payload of every ghost update); the
//! normal equations, predictions and errors are accumulated in `f64`, and the
//! `rank x rank` system is solved by a Cholesky factorisation ([`cholesky_solve`]). A
//! vertex without training ratings (every rating held out) has no equation and keeps its
//! factors; so does a vertex whose system is not numerically positive definite (possible
//! only with `lambda = 0`). Initial factors are uniform in `[0, 1/sqrt(rank))` from a hash of
//! `(vertex, seed)`, so every rank count starts from the same model. The serial [`verify`]
//! follows the same order of updates with numerical code of its own (Gaussian elimination
//! with partial pivoting, its own error sums) and agrees with the engine up to rounding.
//!
//! This file uses only the public APIs of `gasket_engine` and `gasket_datasets`, so that it
//! compiles as well outside the crate (`#[path = ".../als.rs"] mod als;`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use gasket_engine::prelude::*;
use gasket_engine::{EdgeInput, EngineError, RankRun, SyncConfig, Wire, run_program};

/// Item `i` is vertex `ITEM_BASE + i`; user and item ids must be below it.
pub const ITEM_BASE: VertexId = 1 << 62;

/// Default factor dimension.
pub const DEFAULT_RANK: usize = 10;

/// Largest accepted factor dimension (the normal equations cost `rank^2` per rating).
pub const MAX_RANK: usize = 512;

/// Default regularisation weight (ALS-WR's `lambda`).
pub const DEFAULT_LAMBDA: f64 = 0.065;

/// Default number of rounds (a users' half-step plus an items' half-step).
pub const DEFAULT_ITERATIONS: usize = 10;

/// Default share of ratings held out for testing.
pub const DEFAULT_TEST_FRACTION: f64 = 0.1;

/// Default seed of the test split and the initial factors.
pub const DEFAULT_SEED: u64 = 42;

/// ALS settings.
#[derive(Debug, Clone, clap::Args)]
pub struct AlsConfig {
    /// Dimension of the user and item factor vectors.
    #[arg(long, default_value_t = DEFAULT_RANK)]
    pub rank: usize,
    /// Regularisation weight: each vertex solves (X^T X + lambda * n * I) w = X^T r, n being
    /// its number of training ratings (ALS-WR).
    #[arg(long, default_value_t = DEFAULT_LAMBDA)]
    pub lambda: f64,
    /// Rounds of alternation (each updates all users, then all items).
    #[arg(long = "iterations", default_value_t = DEFAULT_ITERATIONS)]
    pub iterations: usize,
    /// Share of ratings held out as the test set, in [0, 1); chosen per rating by a hash of
    /// (user, item, seed).
    #[arg(long, default_value_t = DEFAULT_TEST_FRACTION)]
    pub test_fraction: f64,
    /// Seed of the test split and of the initial factors.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

impl Default for AlsConfig {
    fn default() -> Self {
        AlsConfig {
            rank: DEFAULT_RANK,
            lambda: DEFAULT_LAMBDA,
            iterations: DEFAULT_ITERATIONS,
            test_fraction: DEFAULT_TEST_FRACTION,
            seed: DEFAULT_SEED,
        }
    }
}

impl AlsConfig {
    /// Checks the settings: `1 <= rank <= MAX_RANK`, `lambda` finite and non-negative,
    /// `test_fraction` in `[0, 1)`.
    ///
    /// # Errors
    ///
    /// [`EngineError::Config`] naming the bad value.
    pub fn validate(&self) -> Result<(), EngineError> {
        if self.rank == 0 || self.rank > MAX_RANK {
            return Err(EngineError::Config(format!(
                "ALS rank must be between 1 and {MAX_RANK}, got {}",
                self.rank
            )));
        }
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(EngineError::Config(format!(
                "ALS lambda must be a finite non-negative number, got {}",
                self.lambda
            )));
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(EngineError::Config(format!(
                "ALS test fraction must be in [0, 1), got {}",
                self.test_fraction
            )));
        }
        Ok(())
    }
}

/// The data of a rating edge: the rating and whether it is held out for testing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rating {
    /// The rating.
    pub value: f32,
    /// Held out: in the graph, measured, never fitted.
    pub test: bool,
}

impl Wire for Rating {
    fn encode(&self, out: &mut Vec<u8>) {
        self.value.encode(out);
        self.test.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let value = f32::decode(input);
        let test = bool::decode(input);
        Rating { value, test }
    }
}

/// Model quality, identical on every rank. RMSEs are `NaN` where there is nothing to
/// measure (no test ratings, or an empty graph).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct AlsReport {
    /// `(train RMSE, test RMSE)` of the model after `r` rounds, for `r = 0..=iterations`
    /// (entry 0 is the initial model).
    pub rounds: Vec<(f64, f64)>,
    /// Train RMSE of the final model.
    pub train_rmse: f64,
    /// Test RMSE of the final model.
    pub test_rmse: f64,
    /// Test RMSE of predicting every test rating by the mean training rating.
    pub baseline_rmse: f64,
    /// Number of training ratings.
    pub train_ratings: u64,
    /// Number of held-out ratings.
    pub test_ratings: u64,
}

/// SplitMix64's finaliser: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of three words, uniform in `[0, 1)` with 53 bits.
fn unit_hash(a: u64, b: u64, c: u64) -> f64 {
    let h = mix(mix(mix(a) ^ b) ^ c);
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Distinguishes the test-split hash from the initial-factor hash for the same seed.
const SPLIT_SALT: u64 = 0x7E57_5E7C_0DE5_A175;

/// Whether the rating of `item` by `user` (ids as in the file) is held out for testing.
pub fn is_test_rating(config: &AlsConfig, user: u64, item: u64) -> bool {
    config.test_fraction > 0.0
        && unit_hash(user, item, config.seed ^ SPLIT_SALT) < config.test_fraction
}

/// The initial factors of `vertex` (a user id, or `ITEM_BASE + item`): `rank` values
/// uniform in `[0, 1/sqrt(rank))`, from a hash of `(vertex, j, seed)`.
pub fn initial_factors(config: &AlsConfig, vertex: VertexId) -> Vec<f32> {
    let scale = 1.0 / (config.rank as f64).sqrt();
    (0..config.rank as u64)
        .map(|j| (unit_hash(vertex, j, config.seed) * scale) as f32)
        .collect()
}

/// Turns a reader's edges (source = user, target = item, weight = rating) into the
/// engine's input: item `i` becomes vertex `ITEM_BASE + i`, and each rating is marked as
/// training or test ([`is_test_rating`]). Declared vertices are ignored: users and items
/// exist through their ratings.
///
/// # Errors
///
/// [`EngineError::Config`], naming the file `name`, when the configuration is invalid, the
/// file has no rating column, a rating is not finite (as an `f32`), or a user or item id is
/// at least [`ITEM_BASE`].
pub fn ratings_input(
    config: &AlsConfig,
    name: &str,
    edges: gasket_datasets::EdgeList,
) -> Result<EdgeInput<Rating>, EngineError> {
    config.validate()?;
    let gasket_datasets::EdgeList {
        src, dst, weight, ..
    } = edges;
    let Some(weight) = weight else {
        return Err(EngineError::Config(format!(
            "{name}: ALS needs ratings, lines `user item rating`, but the file has no third column"
        )));
    };
    let mut data = Vec::with_capacity(src.len());
    let mut items = Vec::with_capacity(dst.len());
    for ((&user, &item), &w) in src.iter().zip(&dst).zip(&weight) {
        for (what, id) in [("user", user), ("item", item)] {
            if id >= ITEM_BASE {
                return Err(EngineError::Config(format!(
                    "{name}: {what} id {id} is too large for ALS (ids must be below 2^62)"
                )));
            }
        }
        let value = w as f32;
        if !value.is_finite() {
            return Err(EngineError::Config(format!(
                "{name}: rating {w} of item {item} by user {user} is not a finite number"
            )));
        }
        data.push(Rating {
            value,
            test: is_test_rating(config, user, item),
        });
        items.push(ITEM_BASE + item);
    }
    Ok(EdgeInput {
        src,
        dst: items,
        data,
        ..EdgeInput::default()
    })
}

/// Solves `A x = b` for a symmetric positive definite `A` by Cholesky factorisation.
///
/// `a` is the `k x k` matrix in row-major order (`k = b.len()`); only its lower triangle is
/// read, and it is overwritten by the factor `L` (`A = L L^T`). On success `b` holds `x`.
/// Returns `false`, with `a` and `b` unspecified, when `A` is not numerically positive
/// definite: a pivot is not finite or not above `1e-12` times the largest diagonal entry.
///
/// # Panics
///
/// When `a.len() != b.len()^2`.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64]) -> bool {
    let k = b.len();
    assert_eq!(a.len(), k * k, "a {k} x {k} matrix");
    let max_diag = (0..k).map(|i| a[i * k + i]).fold(0.0f64, f64::max);
    let floor = 1e-12 * max_diag;
    for j in 0..k {
        let mut d = a[j * k + j];
        for p in 0..j {
            d -= a[j * k + p] * a[j * k + p];
        }
        if !(d.is_finite() && d > floor) {
            return false;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut s = a[i * k + j];
            for p in 0..j {
                s -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = s / d;
        }
    }
    // L y = b, then L^T x = y.
    for i in 0..k {
        let mut s = b[i];
        for p in 0..i {
            s -= a[i * k + p] * b[p];
        }
        b[i] = s / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut s = b[i];
        for p in i + 1..k {
            s -= a[p * k + i] * b[p];
        }
        b[i] = s / a[i * k + i];
    }
    true
}

/// Solves the regularised normal equations `(xtx + lambda * n * I) w = xtr` (`xtx` full,
/// row-major, overwritten); `None` when there is no training rating or no solution.
fn solve(lambda: f64, n: u64, xtx: &mut [f64], xtr: &mut [f64]) -> Option<Vec<f32>> {
    if n == 0 {
        return None;
    }
    let k = xtr.len();
    let ridge = lambda * n as f64;
    for j in 0..k {
        xtx[j * k + j] += ridge;
    }
    cholesky_solve(xtx, xtr).then(|| xtr.iter().map(|&x| x as f32).collect())
}

/// `u . v` in `f64`, in index order.
fn dot(u: &[f32], v: &[f32]) -> f64 {
    u.iter()
        .zip(v)
        .map(|(&a, &b)| f64::from(a) * f64::from(b))
        .sum()
}

// Aggregator slots (all sums), filled in the users' supersteps.
const SSE_TRAIN: usize = 0;
const N_TRAIN: usize = 1;
const SSE_TEST: usize = 2;
const N_TEST: usize = 3;
const SUM_TRAIN: usize = 4;
const SUM_TEST: usize = 5;
const SUMSQ_TEST: usize = 6;
const NUM_SLOTS: usize = 7;

/// What a vertex gathers: the normal equations over its training edges and, in the users'
/// supersteps, the error sums of the current model over all its edges.
struct Normal {
    /// Upper triangle of `X^T X` row by row, then `X^T r`; empty when nothing was added.
    sys: Vec<f64>,
    /// Training ratings added.
    n: u64,
    /// Error and rating sums, by aggregator slot (`N_TRAIN` unused: it is `n`).
    stats: [f64; NUM_SLOTS],
}

/// The ALS vertex program of one rank (vertex data: the factor vector).
struct Als {
    rank: usize,
    lambda: f64,
    /// The superstep that only measures: `2 * iterations`.
    last: usize,
    /// The superstep about to run, advanced by `after_superstep` (every rank calls it with
    /// the same facts before the next superstep starts).
    superstep: AtomicUsize,
    /// This rank's copy of the report, filled by `after_superstep`.
    report: Mutex<AlsReport>,
    config: AlsConfig,
    log: bool,
}

impl Als {
    fn is_item(v: VertexId) -> bool {
        v >= ITEM_BASE
    }

    fn triangle(&self) -> usize {
        self.rank * (self.rank + 1) / 2
    }

    fn measuring_only(&self) -> bool {
        self.superstep.load(Ordering::Relaxed) >= self.last
    }
}

impl VertexProgram for Als {
    type Vertex = Vec<f32>;
    type Edge = Rating;
    type Gather = Normal;
    type Message = ();

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> Vec<f32> {
        if !Self::is_item(v.id()) && v.out_degree() > 0 {
            ctx.signal(v.handle());
        }
        initial_factors(&self.config, v.id())
    }

    fn gather_edges(&self, v: &VertexRef<'_, Vec<f32>>) -> EdgeDir {
        if Self::is_item(v.id()) {
            EdgeDir::In
        } else {
            EdgeDir::Out
        }
    }

    fn gather(&self, v: &VertexRef<'_, Vec<f32>>, edge: &Rating, other: &Vec<f32>) -> Normal {
        let mut out = Normal {
            sys: Vec::new(),
            n: 0,
            stats: [0.0; NUM_SLOTS],
        };
        let r = f64::from(edge.value);
        let user = !Self::is_item(v.id());
        if user {
            // The model as it stands: the previous round's users and items.
            let err = r - dot(v.data(), other);
            if edge.test {
                out.stats[SSE_TEST] = err * err;
                out.stats[N_TEST] = 1.0;
                out.stats[SUM_TEST] = r;
                out.stats[SUMSQ_TEST] = r * r;
            } else {
                out.stats[SSE_TRAIN] = err * err;
                out.stats[SUM_TRAIN] = r;
            }
        }
        if edge.test {
            return out;
        }
        out.n = 1;
        if user && self.measuring_only() {
            return out;
        }
        let mut sys = Vec::with_capacity(self.triangle() + self.rank);
        for (a, &xa) in other.iter().enumerate() {
            let xa = f64::from(xa);
            sys.extend(other[a..].iter().map(|&xb| xa * f64::from(xb)));
        }
        sys.extend(other.iter().map(|&x| r * f64::from(x)));
        out.sys = sys;
        out
    }

    fn combine(&self, acc: &mut Normal, x: Normal) {
        if !x.sys.is_empty() {
            if acc.sys.is_empty() {
                acc.sys = x.sys;
            } else {
                for (a, b) in acc.sys.iter_mut().zip(&x.sys) {
                    *a += b;
                }
            }
        }
        acc.n += x.n;
        for (a, b) in acc.stats.iter_mut().zip(x.stats) {
            *a += b;
        }
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, Vec<f32>>,
        total: Option<Normal>,
        ctx: &mut Context<'_, ()>,
    ) {
        let Some(mut total) = total else { return };
        let step = ctx.iteration();
        let user = !Self::is_item(v.id());
        if user != (step % 2 == 0) {
            return; // not this vertex's half-step (cannot happen with ratings_input's graphs)
        }
        if user {
            for slot in [SSE_TRAIN, SSE_TEST, N_TEST, SUM_TRAIN, SUM_TEST, SUMSQ_TEST] {
                ctx.aggregate(slot, total.stats[slot]);
            }
            ctx.aggregate(N_TRAIN, total.n as f64);
            if step >= self.last {
                return;
            }
        }
        if total.sys.is_empty() {
            return;
        }
        let k = self.rank;
        let (upper, xtr) = total.sys.split_at_mut(self.triangle());
        let mut xtx = vec![0.0; k * k];
        let mut at = 0;
        for a in 0..k {
            for b in a..k {
                xtx[a * k + b] = upper[at];
                xtx[b * k + a] = upper[at];
                at += 1;
            }
        }
        if let Some(w) = solve(self.lambda, total.n, &mut xtx, xtr) {
            *v.data_mut() = w;
        }
    }

    fn scatter_edges(&self, v: &VertexRef<'_, Vec<f32>>) -> EdgeDir {
        if self.measuring_only() {
            EdgeDir::None
        } else if Self::is_item(v.id()) {
            EdgeDir::In
        } else {
            EdgeDir::Out
        }
    }

    fn scatter(
        &self,
        _v: &VertexRef<'_, Vec<f32>>,
        _edge: &mut Rating,
        other: &Neighbor<'_, Vec<f32>>,
        ctx: &mut Context<'_, ()>,
    ) {
        // Every neighbour, test edges included: a user whose ratings are all held out
        // must still run in each users' superstep to be measured.
        ctx.signal(other.handle());
    }

    fn aggregators(&self) -> Vec<ReduceOp> {
        vec![ReduceOp::Sum; NUM_SLOTS]
    }

    fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
        self.superstep.store(info.iteration + 1, Ordering::Relaxed);
        if info.iteration % 2 == 0 {
            let a = info.aggregates;
            let m = Measure {
                sse_train: a[SSE_TRAIN],
                n_train: a[N_TRAIN],
                sse_test: a[SSE_TEST],
                n_test: a[N_TEST],
                sum_train: a[SUM_TRAIN],
                sum_test: a[SUM_TEST],
                sumsq_test: a[SUMSQ_TEST],
            };
            let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
            m.record(&mut report);
            if self.log {
                tracing::info!(
                    target: "gasket::als",
                    "round {:>3}: train RMSE {:.6}, test RMSE {:.6} (baseline {:.6})",
                    report.rounds.len() - 1,
                    report.train_rmse,
                    report.test_rmse,
                    report.baseline_rmse
                );
            }
        }
        Control::Continue
    }
}

/// Global sums of one measurement, turned into the report's figures (the engine's; the
/// verifier computes its own).
struct Measure {
    sse_train: f64,
    n_train: f64,
    sse_test: f64,
    n_test: f64,
    sum_train: f64,
    sum_test: f64,
    sumsq_test: f64,
}

impl Measure {
    fn record(&self, report: &mut AlsReport) {
        let rmse = |sse: f64, n: f64| if n > 0.0 { (sse / n).sqrt() } else { f64::NAN };
        let (train, test) = (
            rmse(self.sse_train, self.n_train),
            rmse(self.sse_test, self.n_test),
        );
        report.rounds.push((train, test));
        report.train_rmse = train;
        report.test_rmse = test;
        // sum over test of (r - mu)^2, expanded; clamped against rounding below zero.
        let mu = self.sum_train / self.n_train;
        let sse_mean = self.sumsq_test - 2.0 * mu * self.sum_test + self.n_test * mu * mu;
        report.baseline_rmse = if self.n_train > 0.0 && self.n_test > 0.0 {
            (sse_mean.max(0.0) / self.n_test).sqrt()
        } else {
            f64::NAN
        };
        report.train_ratings = self.n_train as u64;
        report.test_ratings = self.n_test as u64;
    }
}

/// Runs ALS on this rank's ratings graph (collective; build it from [`ratings_input`]).
/// Returns the factors of the users and items this rank owns (items as `ITEM_BASE + i`)
/// and the report, identical on every rank.
///
/// # Errors
///
/// [`EngineError::Config`] for an invalid configuration; the engine's errors otherwise.
pub fn run(
    config: &AlsConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<Rating>,
    progress: bool,
) -> Result<RankRun<Vec<f32>, AlsReport>, EngineError> {
    config.validate()?;
    let last = 2 * config.iterations;
    let program = Als {
        rank: config.rank,
        lambda: config.lambda,
        last,
        superstep: AtomicUsize::new(0),
        report: Mutex::new(AlsReport {
            train_rmse: f64::NAN,
            test_rmse: f64::NAN,
            baseline_rmse: f64::NAN,
            ..AlsReport::default()
        }),
        config: config.clone(),
        log: progress && comm.rank() == 0,
    };
    let sync = SyncConfig {
        max_iterations: last + 1,
        log_progress: progress,
        ..SyncConfig::default()
    };
    let out = run_program(&program, comm, graph, sync, |v| v.data().clone())?;
    let report = program
        .report
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    Ok(out.with_extra(report))
}

/// Serial reference ALS over `(user, item, rating)` triples, written without the engine
/// and without the app's numerical code: the same test split, initial factors and order of
/// updates (all users from the previous items, then all items from the new users), the
/// rating rounded to `f32` as the engine stores it, but its own normal equations (the full
/// matrix), its own solver (Gaussian elimination with partial pivoting,
/// [`verifier_solve`], instead of the app's Cholesky factorisation) and its own error sums
/// and RMSEs. Returns every vertex's factors sorted by vertex id (users, then items as
/// `ITEM_BASE + i`) and the report.
///
/// # Panics
///
/// When the configuration is invalid or an id is at least [`ITEM_BASE`].
pub fn verify(
    config: &AlsConfig,
    ratings: &[(u64, u64, f64)],
) -> (Vec<(VertexId, Vec<f32>)>, AlsReport) {
    if let Err(e) = config.validate() {
        panic!("{e}");
    }
    let k = config.rank;
    let index = |ids: &mut Vec<u64>| -> HashMap<u64, usize> {
        ids.sort_unstable();
        ids.dedup();
        ids.iter().enumerate().map(|(i, &id)| (id, i)).collect()
    };
    let mut users: Vec<u64> = ratings.iter().map(|r| r.0).collect();
    let mut items: Vec<u64> = ratings.iter().map(|r| r.1).collect();
    let (user_ix, item_ix) = (index(&mut users), index(&mut items));
    assert!(
        users.last().is_none_or(|&u| u < ITEM_BASE) && items.last().is_none_or(|&i| i < ITEM_BASE),
        "ids must be below ITEM_BASE"
    );
    // (user index, item index, rating, held out)
    let edges: Vec<(usize, usize, f64, bool)> = ratings
        .iter()
        .map(|&(u, i, r)| {
            let r = f64::from(r as f32);
            (user_ix[&u], item_ix[&i], r, is_test_rating(config, u, i))
        })
        .collect();
    let mut by_user: Vec<Vec<(usize, f64)>> = vec![Vec::new(); users.len()];
    let mut by_item: Vec<Vec<(usize, f64)>> = vec![Vec::new(); items.len()];
    for &(u, i, r, test) in &edges {
        if !test {
            by_user[u].push((i, r));
            by_item[i].push((u, r));
        }
    }
    let mut x: Vec<Vec<f32>> = users.iter().map(|&u| initial_factors(config, u)).collect();
    let mut y: Vec<Vec<f32>> = items
        .iter()
        .map(|&i| initial_factors(config, ITEM_BASE + i))
        .collect();

    // One half-step: each of `mine` with training ratings solves
    // `(F^T F + lambda * n * I) w = F^T r` over the factors `F` of its `n` neighbours;
    // a vertex without training ratings, or with a singular system, keeps its factors.
    let half_step = |mine: &mut [Vec<f32>], lists: &[Vec<(usize, f64)>], theirs: &[Vec<f32>]| {
        for (w, list) in mine.iter_mut().zip(lists) {
            if list.is_empty() {
                continue;
            }
            let mut a = vec![0.0f64; k * k];
            let mut b = vec![0.0f64; k];
            for &(j, r) in list {
                let f = &theirs[j];
                for row in 0..k {
                    for col in 0..k {
                        a[row * k + col] += f64::from(f[row]) * f64::from(f[col]);
                    }
                    b[row] += r * f64::from(f[row]);
                }
            }
            let ridge = config.lambda * list.len() as f64;
            for d in 0..k {
                a[d * k + d] += ridge;
            }
            if let Some(new) = verifier_solve(&mut a, &mut b) {
                *w = new.iter().map(|&v| v as f32).collect();
            }
        }
    };
    // The model's prediction of a rating: `x_u . y_i` in `f64`, in index order.
    let predict = |u: &[f32], i: &[f32]| -> f64 {
        let mut p = 0.0f64;
        for (&a, &b) in u.iter().zip(i) {
            p += f64::from(a) * f64::from(b);
        }
        p
    };
    // `sqrt(sse / n)`, NaN when there is nothing to measure.
    let rmse = |sse: f64, n: u64| {
        if n == 0 {
            f64::NAN
        } else {
            (sse / n as f64).sqrt()
        }
    };

    let n_test = edges.iter().filter(|e| e.3).count() as u64;
    let n_train = edges.len() as u64 - n_test;
    let mut report = AlsReport {
        train_ratings: n_train,
        test_ratings: n_test,
        ..AlsReport::default()
    };
    for round in 0..=config.iterations {
        let (mut sse_train, mut sse_test) = (0.0f64, 0.0f64);
        for &(u, i, r, test) in &edges {
            let err = r - predict(&x[u], &y[i]);
            if test {
                sse_test += err * err;
            } else {
                sse_train += err * err;
            }
        }
        report
            .rounds
            .push((rmse(sse_train, n_train), rmse(sse_test, n_test)));
        if round == config.iterations {
            break;
        }
        half_step(&mut x, &by_user, &y);
        half_step(&mut y, &by_item, &x);
    }
    (report.train_rmse, report.test_rmse) = report.rounds[config.iterations];
    // The baseline: every test rating predicted by the mean training rating.
    report.baseline_rmse = if n_train > 0 && n_test > 0 {
        let mu = edges.iter().filter(|e| !e.3).map(|e| e.2).sum::<f64>() / n_train as f64;
        let sse: f64 = (edges.iter().filter(|e| e.3))
            .map(|e| (e.2 - mu) * (e.2 - mu))
            .sum();
        rmse(sse, n_test)
    } else {
        f64::NAN
    };
    if ratings.is_empty() {
        report = AlsReport {
            train_rmse: f64::NAN,
            test_rmse: f64::NAN,
            baseline_rmse: f64::NAN,
            ..AlsReport::default()
        };
    }
    let mut factors: Vec<(VertexId, Vec<f32>)> = users.into_iter().zip(x).collect();
    factors.extend(items.into_iter().map(|i| ITEM_BASE + i).zip(y));
    (factors, report)
}

/// The verifier's solver of `A x = b`, independent of the app's [`cholesky_solve`]:
/// Gaussian elimination with partial pivoting on the full `k x k` matrix `a` (row-major,
/// `k = b.len()`, overwritten), then back substitution. Returns `x`, or `None` when `A` is
/// numerically singular: a pivot is not finite or its magnitude is not above `1e-12` times
/// the largest diagonal magnitude of `A` (the threshold the app uses, so a vertex whose
/// system the app refuses keeps its factors here too).
///
/// # Panics
///
/// When `a.len() != b.len()^2`.
pub fn verifier_solve(a: &mut [f64], b: &mut [f64]) -> Option<Vec<f64>> {
    let k = b.len();
    assert_eq!(a.len(), k * k, "a {k} x {k} matrix");
    let largest = (0..k).map(|i| a[i * k + i].abs()).fold(0.0f64, f64::max);
    let floor = 1e-12 * largest;
    for col in 0..k {
        // The row at or below `col` with the largest entry in this column.
        let mut pivot_row = col;
        for row in col + 1..k {
            if a[row * k + col].abs() > a[pivot_row * k + col].abs() {
                pivot_row = row;
            }
        }
        let pivot = a[pivot_row * k + col];
        if !(pivot.is_finite() && pivot.abs() > floor) {
            return None;
        }
        if pivot_row != col {
            for c in 0..k {
                a.swap(col * k + c, pivot_row * k + c);
            }
            b.swap(col, pivot_row);
        }
        for row in col + 1..k {
            let factor = a[row * k + col] / pivot;
            if factor == 0.0 {
                continue;
            }
            a[row * k + col] = 0.0;
            for c in col + 1..k {
                a[row * k + c] -= factor * a[col * k + c];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0f64; k];
    for row in (0..k).rev() {
        let mut s = b[row];
        for c in row + 1..k {
            s -= a[row * k + c] * x[c];
        }
        x[row] = s / a[row * k + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}
