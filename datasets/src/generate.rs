//! Synthetic graphs: Graph500 Kronecker (R-MAT) and uniform random, and low-rank ratings
//! for collaborative filtering, generated deterministically from a seed, in parallel.
//!
//! **Kronecker** (as in the Graph500 benchmark): `N = 2^scale` vertices and
//! `edge_factor * N` directed edges. Each edge descends `scale` levels of the adjacency
//! matrix, choosing at each level the quadrant top-left, top-right, bottom-left or
//! bottom-right with probabilities `A = 0.57`, `B = 0.19`, `C = 0.19`, `D = 0.05`
//! ([`KRONECKER_PROBABILITIES`]); this gives the skewed, power-law-like degree distribution
//! of real networks. The raw ids would put the high-degree vertices at small ids, so both
//! endpoints are then passed through a seeded bijection of `[0, N)` (three rounds of
//! multiply, xor-shift and add, all modulo `N`), as Graph500 scrambles its vertex labels.
//! Graph500's per-level noise is not applied.
//!
//! **Uniform** (Erdős–Rényi style, `G(n, m)` with replacement): both endpoints of every
//! edge are uniform in `[0, N)`.
//!
//! Self-loops and duplicate edges are kept in both, as Graph500 generates them; the engine
//! or the application decides what to do with them.
//!
//! Determinism: edge `k` depends only on the configuration and `k`. Edges are cut into fixed
//! blocks of [`BLOCK_EDGES`]; block `b` draws from a ChaCha8 generator keyed from the seed,
//! on stream `b`, and every edge uses a fixed number of draws, so any edge can be reached
//! directly by setting the generator's word position. Blocks are generated in parallel with
//! rayon, so the output is the same for any split into ranges, any number of ranks and any
//! number of threads.
//!
//! **Low-rank ratings** ([`low_rank_ratings`], for collaborative filtering): hidden user
//! and item factors of dimension `rank` with standard normal entries; user `u` rates
//! `ratings_per_user` distinct items chosen uniformly, and the rating of item `i` is
//! `3 + u.v / sqrt(rank)` (mean 3, standard deviation 1, so mostly within 1..5) plus
//! Gaussian noise. Unclipped, so the matrix of noise-free ratings has rank `rank + 1` (the
//! constant 3 is one more rank-one term) and a factor model can recover it.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr;

use gasket_engine::error::EngineError;
use gasket_engine::output::{replace_atomically, sync};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

mod lda_corpus;

pub use lda_corpus::{LdaCorpusConfig, SyntheticCorpus, lda_corpus};

use crate::format::UnknownName;
use crate::{DatasetError, EdgeList};

/// Edges per vertex unless configured otherwise (Graph500's value).
pub const DEFAULT_EDGE_FACTOR: u32 = 16;

/// The seed used unless configured otherwise.
pub const DEFAULT_SEED: u64 = 27_491_095;

/// The largest supported scale (`2^48` vertices).
pub const MAX_SCALE: u32 = 48;

/// Kronecker quadrant probabilities `[A, B, C, D]` (Graph500).
pub const KRONECKER_PROBABILITIES: [f64; 4] = [0.57, 0.19, 0.19, 0.05];

/// Edges per generator block. Part of the definition of the generated graphs: changing it
/// changes every graph.
pub const BLOCK_EDGES: u64 = 1 << 16;

/// Edges formatted per parallel batch when writing a file.
const WRITE_BATCH_EDGES: u64 = 1 << 22;

/// Which random graph model to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generator {
    /// Graph500 Kronecker / R-MAT: skewed degrees.
    Kronecker,
    /// Uniform endpoints: binomial degrees.
    Uniform,
    /// A 2D grid of `2^(scale/2)` rows by `2^(scale - scale/2)` columns, vertex ids
    /// row-major, every grid edge in both directions (no randomness; the edge factor and
    /// seed are ignored). The planar reference case for partitioners.
    Grid,
}

impl Generator {
    /// The command-line name (`kron`, `uniform`).
    pub fn name(self) -> &'static str {
        match self {
            Generator::Kronecker => "kron",
            Generator::Uniform => "uniform",
            Generator::Grid => "grid",
        }
    }
}

impl fmt::Display for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Generator {
    type Err = UnknownName;

    /// Accepts `kron` (or `kronecker`), `uniform` and `grid`, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "kron" | "kronecker" => Ok(Generator::Kronecker),
            "uniform" => Ok(Generator::Uniform),
            "grid" => Ok(Generator::Grid),
            _ => Err(UnknownName {
                what: "generator",
                name: s.to_string(),
                expected: "kron, uniform or grid",
            }),
        }
    }
}

/// Everything that determines a generated graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GeneratorConfig {
    /// The random graph model.
    pub kind: Generator,
    /// `2^scale` vertices; at most [`MAX_SCALE`].
    pub scale: u32,
    /// `edge_factor * 2^scale` edges.
    pub edge_factor: u32,
    /// The seed; the same seed gives the same graph.
    pub seed: u64,
}

impl GeneratorConfig {
    /// A configuration with [`DEFAULT_EDGE_FACTOR`] and [`DEFAULT_SEED`].
    pub fn new(kind: Generator, scale: u32) -> Self {
        GeneratorConfig {
            kind,
            scale,
            edge_factor: DEFAULT_EDGE_FACTOR,
            seed: DEFAULT_SEED,
        }
    }

    /// Checks that the graph's size is representable: `scale <= MAX_SCALE`.
    ///
    /// # Errors
    ///
    /// [`DatasetError::Engine`] with a configuration error naming the bad value.
    pub fn validate(&self) -> Result<(), DatasetError> {
        if self.scale > MAX_SCALE {
            return Err(EngineError::Config(format!(
                "generator scale {} is too large (at most {MAX_SCALE})",
                self.scale
            ))
            .into());
        }
        Ok(())
    }

    fn assert_valid(&self) {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
    }
}

/// Number of vertices, `2^scale`.
///
/// # Panics
///
/// When the configuration fails [`GeneratorConfig::validate`].
pub fn num_vertices(cfg: &GeneratorConfig) -> u64 {
    cfg.assert_valid();
    1 << cfg.scale
}

/// Number of edges, `edge_factor * 2^scale`.
///
/// # Panics
///
/// When the configuration fails [`GeneratorConfig::validate`].
pub fn num_edges(cfg: &GeneratorConfig) -> u64 {
    cfg.assert_valid();
    match cfg.kind {
        Generator::Grid => {
            let (rows, cols) = grid_shape(cfg.scale);
            2 * (rows * (cols - 1) + (rows - 1) * cols)
        }
        _ => u64::from(cfg.edge_factor) << cfg.scale,
    }
}

/// Rows and columns of the grid of `2^scale` vertices.
fn grid_shape(scale: u32) -> (u64, u64) {
    (1 << (scale / 2), 1 << (scale - scale / 2))
}

/// Grid edge `k`: edges `2e` and `2e + 1` are the two directions of undirected grid edge
/// `e`; horizontal edges come first, row by row, then vertical ones.
fn grid_edge(scale: u32, k: u64) -> (u64, u64) {
    let (rows, cols) = grid_shape(scale);
    let e = k / 2;
    let horizontal = rows * (cols - 1);
    let (u, v) = if e < horizontal {
        let (r, c) = (e / (cols - 1), e % (cols - 1));
        (r * cols + c, r * cols + c + 1)
    } else {
        let e = e - horizontal;
        let (r, c) = (e / cols, e % cols);
        (r * cols + c, (r + 1) * cols + c)
    };
    if k % 2 == 0 { (u, v) } else { (v, u) }
}

/// The bijection of `[0, 2^scale)` that hides the Kronecker structure in the ids.
#[derive(Debug, Clone, Copy)]
struct Scramble {
    mask: u64,
    shift: u32,
    mul: [u64; 3],
    add: [u64; 3],
}

impl Scramble {
    fn new(scale: u32, keys: &mut SplitMix) -> Self {
        let mut mul = [0; 3];
        let mut add = [0; 3];
        for r in 0..3 {
            mul[r] = keys.next() | 1;
            add[r] = keys.next();
        }
        Scramble {
            mask: (1u64 << scale) - 1,
            shift: scale.div_ceil(2).max(1),
            mul,
            add,
        }
    }

    /// Each step is a bijection modulo `2^scale`: multiplying by an odd number, xoring with
    /// a right shift of itself, adding a constant.
    #[inline]
    fn apply(&self, mut x: u64) -> u64 {
        for r in 0..3 {
            x = x.wrapping_mul(self.mul[r]) & self.mask;
            x ^= x >> self.shift;
            x = x.wrapping_add(self.add[r]) & self.mask;
        }
        x
    }
}

/// SplitMix64, to derive independent keys from one seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Everything derived from a configuration once per call.
struct Plan {
    kind: Generator,
    scale: u32,
    mask: u64,
    key: [u8; 32],
    scramble: Scramble,
    /// Cumulative quadrant thresholds `A`, `A+B`, `A+B+C` on the `u32` range.
    thresholds: [u32; 3],
}

impl Plan {
    fn new(cfg: &GeneratorConfig) -> Self {
        cfg.assert_valid();
        let mut keys = SplitMix(cfg.seed);
        let mut key = [0u8; 32];
        for chunk in key.chunks_exact_mut(8) {
            chunk.copy_from_slice(&keys.next().to_le_bytes());
        }
        let scramble = Scramble::new(cfg.scale, &mut keys);
        let [a, b, c, _] = KRONECKER_PROBABILITIES;
        let to_u32 = |p: f64| (p * 4_294_967_296.0) as u32;
        Plan {
            kind: cfg.kind,
            scale: cfg.scale,
            mask: (1u64 << cfg.scale) - 1,
            key,
            scramble,
            thresholds: [to_u32(a), to_u32(a + b), to_u32(a + b + c)],
        }
    }

    /// 64-bit draws per edge (fixed, so any edge can be reached by position). A Kronecker
    /// level needs 32 random bits, so one draw serves two levels.
    fn draws_per_edge(&self) -> u64 {
        match self.kind {
            Generator::Kronecker => u64::from(self.scale.div_ceil(2)),
            Generator::Uniform => 2,
            Generator::Grid => 0,
        }
    }

    /// The quadrant `(row bit, column bit)` that 32 random bits choose.
    #[inline]
    fn quadrant(&self, r: u32) -> (u64, u64) {
        let [ta, tab, tabc] = self.thresholds;
        if r < ta {
            (0, 0)
        } else if r < tab {
            (0, 1)
        } else if r < tabc {
            (1, 0)
        } else {
            (1, 1)
        }
    }

    /// Edges `[lo, hi)`, all inside block `lo / BLOCK_EDGES`.
    fn block(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let block = lo / BLOCK_EDGES;
        debug_assert!(hi <= (block + 1) * BLOCK_EDGES);
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(block);
        // One draw is two 32-bit words of the ChaCha stream.
        rng.set_word_pos(
            u128::from(lo - block * BLOCK_EDGES) * u128::from(self.draws_per_edge()) * 2,
        );
        let mut out = Vec::with_capacity((hi - lo) as usize);
        match self.kind {
            Generator::Kronecker => {
                for _ in lo..hi {
                    let (mut u, mut v) = (0u64, 0u64);
                    let mut level = 0;
                    while level < self.scale {
                        let r = rng.next_u64();
                        for half in [r as u32, (r >> 32) as u32] {
                            if level == self.scale {
                                break;
                            }
                            let (bu, bv) = self.quadrant(half);
                            u = (u << 1) | bu;
                            v = (v << 1) | bv;
                            level += 1;
                        }
                    }
                    out.push((self.scramble.apply(u), self.scramble.apply(v)));
                }
            }
            Generator::Grid => out.extend((lo..hi).map(|k| grid_edge(self.scale, k))),
            Generator::Uniform => {
                for _ in lo..hi {
                    let u = rng.next_u64() & self.mask;
                    let v = rng.next_u64() & self.mask;
                    out.push((u, v));
                }
            }
        }
        out
    }
}

/// Edges `k` in `[lo, hi)` of the graph, in order of `k`.
///
/// Edge `k` is the same whatever range it is asked in and however many threads run.
///
/// # Panics
///
/// When the configuration fails [`GeneratorConfig::validate`], or unless
/// `lo <= hi <= num_edges(cfg)`.
pub fn edges_range(cfg: &GeneratorConfig, lo: u64, hi: u64) -> Vec<(u64, u64)> {
    let total = num_edges(cfg);
    assert!(
        lo <= hi && hi <= total,
        "edge range {lo}..{hi} is outside 0..{total}"
    );
    if lo == hi {
        return Vec::new();
    }
    let plan = Plan::new(cfg);
    let first = lo / BLOCK_EDGES;
    let last = (hi - 1) / BLOCK_EDGES;
    let parts: Vec<Vec<(u64, u64)>> = (first..=last)
        .into_par_iter()
        .map(|b| {
            let from = (b * BLOCK_EDGES).max(lo);
            let to = ((b + 1) * BLOCK_EDGES).min(hi);
            plan.block(from, to)
        })
        .collect();
    let mut out = Vec::with_capacity((hi - lo) as usize);
    for part in parts {
        out.extend_from_slice(&part);
    }
    out
}

/// This rank's share of the graph: the contiguous edge range
/// `[E*rank/num_ranks, E*(rank+1)/num_ranks)`, and the vertex block
/// `[N*rank/num_ranks, N*(rank+1)/num_ranks)` declared in [`EdgeList::vertices`] so that
/// vertices without edges exist. No weights.
///
/// # Panics
///
/// When the configuration fails [`GeneratorConfig::validate`], or unless
/// `rank < num_ranks`.
pub fn edges_for_rank(cfg: &GeneratorConfig, rank: usize, num_ranks: usize) -> EdgeList {
    assert!(rank < num_ranks, "rank {rank} of {num_ranks}");
    let part = |total: u64, r: usize| (u128::from(total) * r as u128 / num_ranks as u128) as u64;
    let (e, n) = (num_edges(cfg), num_vertices(cfg));
    let edges = edges_range(cfg, part(e, rank), part(e, rank + 1));
    let (src, dst) = edges.into_iter().unzip();
    EdgeList {
        src,
        dst,
        weight: None,
        vertices: (part(n, rank)..part(n, rank + 1)).collect(),
    }
}

/// Writes the whole graph to `path` as a SNAP edge list (a `#` comment header, then one
/// `src<TAB>dst` line per edge) and returns the number of edges.
///
/// The file is written under a temporary name in the same directory and renamed into
/// place at the end, so a failed or interrupted run never leaves a partial file at `path`.
///
/// # Errors
///
/// [`DatasetError::Write`] when the file cannot be written; [`DatasetError::Engine`] when
/// the configuration is invalid.
pub fn write_edge_list(cfg: &GeneratorConfig, path: &Path) -> Result<u64, DatasetError> {
    cfg.validate()?;
    replace_atomically(path, |tmp| write_to(cfg, tmp)).map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn write_to(cfg: &GeneratorConfig, tmp: &Path) -> io::Result<u64> {
    let mut file = File::create(tmp)?;
    let (n, e) = (num_vertices(cfg), num_edges(cfg));
    write!(
        file,
        "# gasket synthetic graph: generator {} scale {} edge factor {} seed {}\n\
         # Nodes: {n} Edges: {e}\n\
         # FromNodeId\tToNodeId\n",
        cfg.kind, cfg.scale, cfg.edge_factor, cfg.seed
    )?;
    let mut lo = 0;
    while lo < e {
        let hi = (lo + WRITE_BATCH_EDGES).min(e);
        let edges = edges_range(cfg, lo, hi);
        let texts: Vec<Vec<u8>> = edges
            .par_chunks(BLOCK_EDGES as usize)
            .map(|chunk| {
                let mut text = Vec::with_capacity(chunk.len() * 16);
                for &(u, v) in chunk {
                    push_decimal(&mut text, u);
                    text.push(b'\t');
                    push_decimal(&mut text, v);
                    text.push(b'\n');
                }
                text
            })
            .collect();
        for text in &texts {
            file.write_all(text)?;
        }
        lo = hi;
    }
    sync(&file)?;
    Ok(e)
}

fn push_decimal(out: &mut Vec<u8>, mut x: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Everything that determines a synthetic ratings set ([`low_rank_ratings`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingsConfig {
    /// Users, with ids `0..users`.
    pub users: u64,
    /// Items, with ids `0..items`.
    pub items: u64,
    /// Dimension of the hidden factors.
    pub rank: usize,
    /// Distinct items each user rates; at most `items`.
    pub ratings_per_user: u64,
    /// Standard deviation of the Gaussian noise added to every rating.
    pub noise: f64,
    /// The seed; the same seed gives the same ratings.
    pub seed: u64,
}

impl Default for RatingsConfig {
    /// 1000 users, 500 items, rank 5, 25 ratings per user, noise 0.25, [`DEFAULT_SEED`].
    fn default() -> Self {
        RatingsConfig {
            users: 1000,
            items: 500,
            rank: 5,
            ratings_per_user: 25,
            noise: 0.25,
            seed: DEFAULT_SEED,
        }
    }
}

impl RatingsConfig {
    /// Checks the sizes: at least one user, item and factor dimension, at most `items`
    /// ratings per user, and a finite, non-negative noise.
    ///
    /// # Errors
    ///
    /// [`DatasetError::Engine`] with a configuration error naming the bad value.
    pub fn validate(&self) -> Result<(), DatasetError> {
        let problem = if self.users == 0 || self.items == 0 || self.rank == 0 {
            Some(format!(
                "ratings generator needs at least one user, item and factor dimension \
                 (users {}, items {}, rank {})",
                self.users, self.items, self.rank
            ))
        } else if self.ratings_per_user > self.items {
            Some(format!(
                "ratings generator: {} ratings per user but only {} items",
                self.ratings_per_user, self.items
            ))
        } else if !(self.noise.is_finite() && self.noise >= 0.0) {
            Some(format!(
                "ratings generator noise {} is not a finite non-negative number",
                self.noise
            ))
        } else {
            None
        };
        match problem {
            Some(msg) => Err(EngineError::Config(msg).into()),
            None => Ok(()),
        }
    }
}

/// A standard normal draw (Box-Muller, the cosine half).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // 53-bit uniforms: `u1` in (0, 1] keeps the logarithm finite.
    let u1 = ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
    let u2 = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A uniform draw from `0..=hi` (rejection sampling, so exactly uniform).
fn uniform_upto(rng: &mut ChaCha8Rng, hi: u64) -> u64 {
    if hi == u64::MAX {
        return rng.next_u64();
    }
    let n = hi + 1;
    let zone = u64::MAX - (u64::MAX % n + 1) % n;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return x % n;
        }
    }
}

/// The ratings of a low-rank model (see the module docs): `(user, item, rating)` sorted by
/// user, then item; `users * ratings_per_user` of them, each user's items distinct.
///
/// Deterministic per configuration: the item factors come from ChaCha8 stream 0 and user
/// `u`'s factors, items and noise from stream `u + 1`, so users are generated in parallel
/// and the result does not depend on the number of threads.
///
/// # Panics
///
/// When the configuration fails [`RatingsConfig::validate`].
pub fn low_rank_ratings(cfg: &RatingsConfig) -> Vec<(u64, u64, f64)> {
    if let Err(e) = cfg.validate() {
        panic!("{e}");
    }
    // Independent of the graph generators' keys for the same seed.
    let mut keys = SplitMix(cfg.seed ^ 0x5241_5449_4E47_5321);
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&keys.next().to_le_bytes());
    }
    let k = cfg.rank;
    let mut rng = ChaCha8Rng::from_seed(key);
    let item_factors: Vec<f64> = (0..cfg.items as usize * k)
        .map(|_| normal(&mut rng))
        .collect();
    let scale = 1.0 / (k as f64).sqrt();
    let per_user: Vec<Vec<(u64, u64, f64)>> = (0..cfg.users)
        .into_par_iter()
        .map(|u| {
            let mut rng = ChaCha8Rng::from_seed(key);
            rng.set_stream(u + 1);
            let factors: Vec<f64> = (0..k).map(|_| normal(&mut rng)).collect();
            // Floyd's algorithm: `m` distinct items out of `n` in `m` draws.
            let (n, m) = (cfg.items, cfg.ratings_per_user);
            let mut chosen = std::collections::HashSet::with_capacity(m as usize);
            let mut items = Vec::with_capacity(m as usize);
            for j in n - m..n {
                let t = uniform_upto(&mut rng, j);
                let pick = if chosen.contains(&t) { j } else { t };
                chosen.insert(pick);
                items.push(pick);
            }
            items.sort_unstable();
            items
                .into_iter()
                .map(|i| {
                    let v = &item_factors[i as usize * k..(i as usize + 1) * k];
                    let dot: f64 = factors.iter().zip(v).map(|(a, b)| a * b).sum();
                    (u, i, 3.0 + dot * scale + cfg.noise * normal(&mut rng))
                })
                .collect()
        })
        .collect();
    per_user.into_iter().flatten().collect()
}

/// Writes [`low_rank_ratings`] to `path` as a 3-column SNAP file (a `#` comment header,
/// then one `user<TAB>item<TAB>rating` line per rating, the rating printed so that it
/// reads back exactly) and returns the number of ratings. [`crate::read_graph`] with
/// [`crate::Format::Snap`] reads it back with the ratings as weights.
///
/// Like [`write_edge_list`], the file appears at `path` only when complete.
///
/// # Errors
///
/// [`DatasetError::Write`] when the file cannot be written; [`DatasetError::Engine`] when
/// the configuration is invalid.
pub fn write_ratings(cfg: &RatingsConfig, path: &Path) -> Result<u64, DatasetError> {
    cfg.validate()?;
    let ratings = low_rank_ratings(cfg);
    let write = |tmp: &Path| -> io::Result<u64> {
        let mut file = io::BufWriter::new(File::create(tmp)?);
        write!(
            file,
            "# gasket synthetic ratings: users {} items {} rank {} ratings per user {} \
             noise {} seed {}\n\
             # Ratings: {}\n\
             # UserId\tItemId\tRating\n",
            cfg.users,
            cfg.items,
            cfg.rank,
            cfg.ratings_per_user,
            cfg.noise,
            cfg.seed,
            ratings.len()
        )?;
        for &(u, i, r) in &ratings {
            writeln!(file, "{u}\t{i}\t{r}")?;
        }
        sync(&file.into_inner().map_err(io::IntoInnerError::into_error)?)?;
        Ok(ratings.len() as u64)
    };
    replace_atomically(path, write).map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod ratings_tests {
    use super::*;
    use gasket_engine::comm::{SingleComm, ThreadComm};

    fn small() -> RatingsConfig {
        RatingsConfig {
            users: 60,
            items: 40,
            rank: 3,
            ratings_per_user: 12,
            noise: 0.1,
            seed: 7,
        }
    }

    #[test]
    fn generate_ratings_have_the_configured_shape() {
        let cfg = small();
        let r = low_rank_ratings(&cfg);
        assert_eq!(r.len(), 60 * 12);
        for (u, chunk) in r.chunks(12).enumerate() {
            let items: Vec<u64> = chunk.iter().map(|&(_, i, _)| i).collect();
            assert!(chunk.iter().all(|&(user, _, _)| user == u as u64));
            assert!(items.windows(2).all(|w| w[0] < w[1]), "distinct, sorted");
            assert!(items.iter().all(|&i| i < 40));
        }
        let n = r.len() as f64;
        let mean = r.iter().map(|x| x.2).sum::<f64>() / n;
        let var = r.iter().map(|x| (x.2 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 3.0).abs() < 0.3, "mean {mean}");
        assert!((0.5..1.6).contains(&var.sqrt()), "std dev {}", var.sqrt());
        // Every item can be rated by everyone.
        let all = RatingsConfig {
            ratings_per_user: 40,
            ..cfg
        };
        let r = low_rank_ratings(&all);
        assert!(r.chunks(40).all(|c| c.iter().map(|x| x.1).eq(0..40)));
    }

    #[test]
    fn generate_ratings_are_low_rank_plus_noise() {
        // Without noise and with every item rated, the rating matrix minus 3 has rank
        // `rank`: Gaussian elimination with partial pivoting finds exactly that many
        // pivots above rounding level.
        let exact = RatingsConfig {
            noise: 0.0,
            ..small()
        };
        let full = RatingsConfig {
            ratings_per_user: exact.items,
            ..exact
        };
        let (rows, cols) = (full.users as usize, full.items as usize);
        let mut m: Vec<f64> = low_rank_ratings(&full).iter().map(|r| r.2 - 3.0).collect();
        let mut rank = 0;
        for c in 0..cols {
            let Some(p) = (rank..rows)
                .max_by(|&a, &b| m[a * cols + c].abs().total_cmp(&m[b * cols + c].abs()))
            else {
                break;
            };
            if m[p * cols + c].abs() < 1e-9 {
                continue;
            }
            for j in 0..cols {
                m.swap(p * cols + j, rank * cols + j);
            }
            for r in rank + 1..rows {
                let f = m[r * cols + c] / m[rank * cols + c];
                for j in c..cols {
                    m[r * cols + j] -= f * m[rank * cols + j];
                }
            }
            rank += 1;
        }
        assert_eq!(
            rank, full.rank,
            "noise-free ratings have the configured rank"
        );
        // Noise is drawn after the item choice, with the configured size.
        let noisy = RatingsConfig {
            noise: 0.5,
            ..small()
        };
        let (a, b) = (low_rank_ratings(&exact), low_rank_ratings(&noisy));
        let same_items = a.iter().zip(&b).all(|(x, y)| (x.0, x.1) == (y.0, y.1));
        assert!(same_items, "noise draws come after the item choice");
        let n = a.len() as f64;
        let rms = (a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x.2 - y.2).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        assert!((0.4..0.6).contains(&rms), "noise rms {rms}");
    }

    #[test]
    fn generate_ratings_are_deterministic() {
        let cfg = small();
        let whole = low_rank_ratings(&cfg);
        assert_eq!(whole, low_rank_ratings(&cfg));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(pool.install(|| low_rank_ratings(&cfg)), whole);
        let other = RatingsConfig { seed: 8, ..cfg };
        assert_ne!(low_rank_ratings(&other), whole);
        // More users leave the first users' ratings unchanged.
        let more = RatingsConfig { users: 90, ..cfg };
        assert_eq!(low_rank_ratings(&more)[..whole.len()], whole[..]);
    }

    #[test]
    fn generate_ratings_validate() {
        let bad = [
            RatingsConfig {
                users: 0,
                ..small()
            },
            RatingsConfig { rank: 0, ..small() },
            RatingsConfig {
                ratings_per_user: 41,
                ..small()
            },
            RatingsConfig {
                noise: -1.0,
                ..small()
            },
            RatingsConfig {
                noise: f64::NAN,
                ..small()
            },
        ];
        for cfg in bad {
            let err = cfg.validate().unwrap_err();
            assert!(
                err.to_string().starts_with("invalid configuration"),
                "{err}"
            );
        }
        assert!(RatingsConfig::default().validate().is_ok());
    }

    #[test]
    fn generate_ratings_file_reads_back_with_weights() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ratings.txt");
        let cfg = small();
        let expect = low_rank_ratings(&cfg);
        assert_eq!(write_ratings(&cfg, &path).unwrap(), expect.len() as u64);
        let g = crate::read_graph(&path, crate::Format::Snap, &SingleComm).unwrap();
        let w = g.weight.as_ref().expect("a weighted file");
        let read: Vec<(u64, u64, f64)> = (0..g.len()).map(|k| (g.src[k], g.dst[k], w[k])).collect();
        assert_eq!(read, expect, "ratings read back exactly");
        // Three ranks read disjoint shares of the same ratings.
        let shares = ThreadComm::run(3, |comm| {
            crate::read_graph(&path, crate::Format::Snap, &comm)
        })
        .unwrap();
        let mut all: Vec<(u64, u64, u64)> = shares
            .iter()
            .flat_map(|g| {
                let w = g.weight.as_ref().expect("weighted on every rank");
                (0..g.len()).map(move |k| (g.src[k], g.dst[k], w[k].to_bits()))
            })
            .collect();
        all.sort_unstable();
        let expect: Vec<_> = expect
            .iter()
            .map(|&(u, i, r)| (u, i, r.to_bits()))
            .collect();
        assert_eq!(all, expect);
        let bad = dir.path().join("missing").join("r.txt");
        assert!(matches!(
            write_ratings(&cfg, &bad),
            Err(DatasetError::Write { .. })
        ));
    }
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn grid_has_every_neighbour_pair_in_both_directions() {
        let cfg = GeneratorConfig::new(Generator::Grid, 4); // 4 x 4
        let mut edges = edges_range(&cfg, 0, num_edges(&cfg));
        assert_eq!(edges.len(), 48);
        edges.sort_unstable();
        edges.dedup();
        assert_eq!(edges.len(), 48, "no duplicates");
        for (u, v) in edges {
            let (ru, cu, rv, cv) = (u / 4, u % 4, v / 4, v % 4);
            assert_eq!(
                ru.abs_diff(rv) + cu.abs_diff(cv),
                1,
                "{u} -> {v} are grid neighbours"
            );
        }
        assert_eq!("grid".parse::<Generator>().unwrap(), Generator::Grid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gasket_engine::comm::SingleComm;

    fn kron(scale: u32) -> GeneratorConfig {
        GeneratorConfig::new(Generator::Kronecker, scale)
    }

    #[test]
    fn names_parse() {
        assert_eq!("kron".parse(), Ok(Generator::Kronecker));
        assert_eq!("Kronecker".parse(), Ok(Generator::Kronecker));
        assert_eq!("uniform".parse(), Ok(Generator::Uniform));
        assert_eq!(
            "rmat".parse::<Generator>().unwrap_err().to_string(),
            "unknown generator `rmat` (expected kron, uniform or grid)"
        );
        assert_eq!(Generator::Kronecker.to_string(), "kron");
    }

    #[test]
    fn sizes() {
        let cfg = kron(10);
        assert_eq!(num_vertices(&cfg), 1024);
        assert_eq!(num_edges(&cfg), 16384);
        let cfg = GeneratorConfig {
            edge_factor: 3,
            ..GeneratorConfig::new(Generator::Uniform, 4)
        };
        assert_eq!(num_edges(&cfg), 48);
        assert!(kron(MAX_SCALE).validate().is_ok());
        let err = kron(MAX_SCALE + 1).validate().unwrap_err();
        assert!(err.to_string().contains("scale 49 is too large"), "{err}");
    }

    #[test]
    fn push_decimal_writes_digits() {
        let mut out = Vec::new();
        for x in [0, 7, 10, 12345, u64::MAX] {
            out.clear();
            push_decimal(&mut out, x);
            assert_eq!(out, x.to_string().as_bytes());
        }
    }

    #[test]
    fn scramble_is_a_bijection() {
        for scale in [0, 1, 2, 5, 10, 13] {
            let s = Scramble::new(scale, &mut SplitMix(42));
            let n = 1u64 << scale;
            let mut images: Vec<u64> = (0..n).map(|x| s.apply(x)).collect();
            images.sort_unstable();
            assert_eq!(images, (0..n).collect::<Vec<_>>(), "scale {scale}");
        }
    }

    #[test]
    fn kronecker_scale_10_has_the_right_size_and_skew() {
        let cfg = kron(10);
        let edges = edges_range(&cfg, 0, num_edges(&cfg));
        assert_eq!(edges.len(), 16384);
        assert!(edges.iter().all(|&(u, v)| u < 1024 && v < 1024));
        let mut degree = vec![0u64; 1024];
        for &(u, v) in &edges {
            degree[u as usize] += 1;
            degree[v as usize] += 1;
        }
        let mean = 2.0 * 16384.0 / 1024.0;
        let max = *degree.iter().max().unwrap() as f64;
        assert!(max > 8.0 * mean, "max degree {max}, mean {mean}");
        // Scrambled: the hubs are not simply the smallest ids.
        let hub = degree
            .iter()
            .enumerate()
            .max_by_key(|&(_, d)| *d)
            .unwrap()
            .0;
        assert_ne!(hub, 0);
    }

    #[test]
    fn uniform_degrees_are_not_skewed() {
        let cfg = GeneratorConfig::new(Generator::Uniform, 10);
        let edges = edges_range(&cfg, 0, num_edges(&cfg));
        assert_eq!(edges.len(), 16384);
        let mut degree = vec![0u64; 1024];
        for &(u, v) in &edges {
            assert!(u < 1024 && v < 1024);
            degree[u as usize] += 1;
            degree[v as usize] += 1;
        }
        let max = *degree.iter().max().unwrap();
        assert!(max < 3 * 32, "max degree {max}");
    }

    #[test]
    fn same_seed_same_graph_other_seed_other_graph() {
        for kind in [Generator::Kronecker, Generator::Uniform] {
            let cfg = GeneratorConfig::new(kind, 8);
            let e = num_edges(&cfg);
            assert_eq!(edges_range(&cfg, 0, e), edges_range(&cfg, 0, e));
            let other = GeneratorConfig { seed: 1, ..cfg };
            assert_ne!(edges_range(&cfg, 0, e), edges_range(&other, 0, e));
        }
    }

    #[test]
    fn ranges_split_anywhere_and_threads_do_not_matter() {
        for kind in [Generator::Kronecker, Generator::Uniform] {
            let cfg = GeneratorConfig {
                edge_factor: 50,
                ..GeneratorConfig::new(kind, 12)
            };
            let e = num_edges(&cfg);
            assert!(e > 2 * BLOCK_EDGES);
            let whole = edges_range(&cfg, 0, e);
            for cut in [1, 777, BLOCK_EDGES, BLOCK_EDGES + 1, e - 1] {
                let mut two = edges_range(&cfg, 0, cut);
                two.extend(edges_range(&cfg, cut, e));
                assert_eq!(two, whole, "{kind} cut at {cut}");
            }
            assert_eq!(edges_range(&cfg, 5, 9), whole[5..9].to_vec());
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            assert_eq!(pool.install(|| edges_range(&cfg, 0, e)), whole);
            for ranks in [1, 3, 7] {
                let mut src = Vec::new();
                let mut vertices = Vec::new();
                for r in 0..ranks {
                    let part = edges_for_rank(&cfg, r, ranks);
                    assert_eq!(part.src.len(), part.dst.len());
                    src.extend(part.src.iter().zip(&part.dst).map(|(&u, &v)| (u, v)));
                    vertices.extend(part.vertices);
                }
                assert_eq!(src, whole);
                assert_eq!(vertices, (0..num_vertices(&cfg)).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn scale_zero_is_one_vertex_with_self_loops() {
        let cfg = GeneratorConfig {
            edge_factor: 5,
            ..kron(0)
        };
        assert_eq!(edges_range(&cfg, 0, 5), vec![(0, 0); 5]);
    }

    #[test]
    fn written_files_read_back_as_the_same_graph() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kron.txt");
        let cfg = kron(9);
        assert_eq!(write_edge_list(&cfg, &path).unwrap(), num_edges(&cfg));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("kron.txt")],
            "no temporary left"
        );
        let g = crate::read_graph(&path, crate::Format::Snap, &SingleComm).unwrap();
        let read: Vec<(u64, u64)> = g.src.iter().copied().zip(g.dst.iter().copied()).collect();
        assert_eq!(read, edges_range(&cfg, 0, num_edges(&cfg)));
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("g.txt");
        let err = write_edge_list(&kron(4), &path).unwrap_err();
        assert!(matches!(err, DatasetError::Write { .. }), "{err}");
        assert!(err.to_string().starts_with("cannot write "), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
