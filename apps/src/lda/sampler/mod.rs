//! Resampling one document's tokens inside the document's scatter, all its edges in one
//! call ([`VertexProgram::scatter_out`]).
//!
//! A [`DocSampler`] lives in the worker task's scratch ([`Context::scratch`]): for each
//! document it loads the document's counts and seeds the document's random stream from
//! `(seed, document, superstep)`. Word counts and topic totals start from the snapshot the
//! last word superstep made (see the `program` module), and the task applies its own
//! changes to them token by token (a block of `K` changes per word it touched, up to a
//! memory budget), so within a task the chain is the sequential collapsed Gibbs sampler;
//! tasks see each other's changes at the next sweep. A task covers a contiguous range of
//! a rank's documents, fixed by the rank and thread counts, so a run is reproducible for
//! given rank and thread counts.
//!
//! Two samplers:
//! - **plain** (`plain` module): the collapsed Gibbs conditional
//!   `p(k) ∝ (n_dk + a) (n_wk + b) / (n_k + V b)` over all `K` topics (`O(K)` per token),
//!   edge by edge, with the next edges' word counts prefetched.
//! - **fast** (`fast` module): Metropolis-Hastings with LightLDA's cycle of word and
//!   document proposals (Yuan et al., WWW 2015), `O(1)` per token whatever `K`, pipelined
//!   over the document's tokens so that the random loads of many tokens overlap.
//!
//! [`Context::scratch`]: gasket_engine::Context::scratch
//! [`VertexProgram::scatter_out`]: gasket_engine::VertexProgram::scatter_out

mod fast;
mod plain;

use gasket_engine::{OutEdges, VertexId, prefetch};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use smallvec::SmallVec;

use super::alias::Alias;
use super::counts::{Tokens, Topics, WordTopics};
use super::{Sampler, WORD_BASE};

/// What every draw needs to know about the model.
#[derive(Debug, Clone, Copy)]
pub struct Priors {
    /// Topics `K`.
    pub k: usize,
    /// Document-topic prior `a`.
    pub alpha: f64,
    /// Topic-word prior `b`.
    pub beta: f64,
    /// `V b`.
    pub beta_sum: f64,
    /// Metropolis-Hastings cycles (word then document proposal) per token.
    pub mh_steps: usize,
    /// Vocabulary size V.
    pub num_words: usize,
}

/// A document vertex's out-edges: its words, with the topics of its tokens of each.
pub type DocRow<'a> = OutEdges<'a, Topics, Tokens>;

/// Word-count changes a task keeps (entries of `K` counts): beyond this, further words
/// see only the snapshot plus their current edge's changes.
const WORD_DELTA_BUDGET: usize = 1 << 24;
/// `word_block` entry of a word without a block.
const NO_BLOCK: u32 = u32::MAX;

/// A worker task's state while it resamples documents.
#[derive(Default)]
pub struct DocSampler {
    /// The document in progress.
    doc: Option<VertexId>,
    rng: Option<SmallRng>,
    /// Topic totals `n_k` of the snapshot.
    totals: Vec<f64>,
    /// This task's changes to the topic totals.
    dk: Vec<i32>,
    /// The document's running counts `n_dk`.
    nd: Vec<u32>,
    /// The document's counts when it started (the document proposal's weights).
    nd_start: Vec<u32>,
    /// The document's length.
    doc_len: u32,
    /// The document proposal.
    doc_proposal: Alias,
    /// Topics whose `nd` entries may be non-zero (reset when the document ends).
    touched: Vec<u32>,
    /// Per word (by index) this task has changed: the offset of its block of `K` changes
    /// in `word_delta`, or `NO_BLOCK`. Block 0 is scratch for words beyond the budget,
    /// cleared per edge.
    word_block: Vec<u32>,
    /// This task's changes to word counts, `K` per block (its capacity is reserved up to
    /// the budget, so blocks never move and prefetched addresses stay good).
    word_delta: Vec<i32>,
    /// The current edge's block.
    block: usize,
    /// Topics changed in the scratch block by the current edge.
    scratch_topics: SmallVec<[u32; 8]>,
    /// `1 / (n_k + dk + V b)`, kept up to date by every change (a division per change
    /// instead of one per evaluation of the conditional).
    inv_den: Vec<f32>,
    /// Plain sampler: the current token's weight per topic, and their sums per group
    /// (see [`draw`]).
    weights: Vec<f32>,
    groups: Vec<f32>,
    /// Fast sampler: the document's tokens laid out for the pipeline.
    plan: fast::Plan,
    /// Fast sampler: proposals that differed from the current topic, and those accepted.
    pub proposed: u64,
    /// See `proposed`.
    pub accepted: u64,
}

/// Word index and counts of a document's edge `e` (`None` past the last edge or if its
/// target is no word).
#[inline]
fn word_at<'a>(row: &DocRow<'a>, e: usize) -> Option<(usize, &'a WordTopics)> {
    if e >= row.len() {
        return None;
    }
    let other = row.target(e);
    match other.data() {
        Topics::Word(word) => Some(((other.id() - WORD_BASE) as usize, word)),
        Topics::Doc(_) => None,
    }
}

/// Hints that the vertex data of edge `e`'s target (if any) will be read soon.
#[inline]
fn prefetch_target(row: &DocRow<'_>, e: usize) {
    if e < row.len() {
        prefetch::read_value(row.target(e).data() as *const Topics);
    }
}

impl DocSampler {
    /// Makes `doc` (with `counts`) the document in progress. `totals` is the snapshot of
    /// `n_k`, read only on the task's first document.
    pub fn enter(
        &mut self,
        doc: VertexId,
        counts: &[(u32, u32)],
        p: &Priors,
        totals: &[f64],
        stream: (u64, u64),
        sampler: Sampler,
    ) {
        if self.totals.len() != p.k {
            self.totals = totals.to_vec();
            self.dk = vec![0; p.k];
            self.nd = vec![0; p.k];
            self.nd_start = vec![0; p.k];
            let needed = (p.num_words + 1).saturating_mul(p.k);
            self.word_delta = Vec::with_capacity(needed.min(WORD_DELTA_BUDGET));
            self.word_delta.resize(p.k, 0);
            self.word_block = vec![NO_BLOCK; p.num_words];
            self.inv_den = (self.totals.iter())
                .map(|n| (1.0 / (n + p.beta_sum)) as f32)
                .collect();
            if sampler == Sampler::Plain {
                self.weights = vec![0.0; p.k];
                self.groups = vec![0.0; p.k.div_ceil(GROUP)];
            }
        } else {
            self.leave();
        }
        self.doc = Some(doc);
        self.doc_len = 0;
        for &(t, c) in counts {
            self.nd[t as usize] = c;
            self.nd_start[t as usize] = c;
            self.doc_len += c;
            self.touched.push(t);
        }
        if sampler == Sampler::Fast {
            self.doc_proposal
                .build(counts.iter().map(|&(t, c)| (t, c as f64)));
        }
        let (seed, superstep) = stream;
        self.rng = Some(SmallRng::seed_from_u64(gasket_engine::hash::mix(
            doc, superstep, seed,
        )));
    }

    /// Clears the finished document's entries.
    fn leave(&mut self) {
        debug_assert_eq!(
            self.nd.iter().map(|&c| c as u64).sum::<u64>(),
            self.doc_len as u64,
            "a document's running counts lost tokens"
        );
        for t in self.touched.drain(..) {
            self.nd[t as usize] = 0;
            self.nd_start[t as usize] = 0;
        }
    }

    /// Resamples every token of the document in progress, whose out-edges are `row`;
    /// returns the number of tokens resampled.
    pub fn sample_row(&mut self, row: &mut DocRow<'_>, p: &Priors, sampler: Sampler) -> u64 {
        let mut rng = self.rng.take().expect("enter() seeds the stream");
        let sampled = if sampler == Sampler::Fast {
            self.fast_row(row, p, &mut rng)
        } else {
            self.plain_row(row, p, &mut rng)
        };
        self.rng = Some(rng);
        sampled
    }

    /// The offset of word `word`'s block of changes, given one if the budget allows
    /// (else 0, the scratch block).
    #[inline]
    fn block_of(&mut self, word: usize, k: usize) -> usize {
        match self.word_block[word] {
            NO_BLOCK if self.word_delta.len() + k <= WORD_DELTA_BUDGET => {
                let next = self.word_delta.len();
                self.word_delta.resize(next + k, 0);
                self.word_block[word] = next as u32;
                next
            }
            NO_BLOCK => 0,
            b => b as usize,
        }
    }

    /// Selects the block of word changes for word index `word`.
    #[inline]
    fn select_word(&mut self, word: usize, k: usize) {
        for t in self.scratch_topics.drain(..) {
            self.word_delta[t as usize] = 0;
        }
        self.block = self.block_of(word, k);
    }

    /// Hints that a word's counts of topics `t..t + len` and its changes to them (in
    /// `block`, from [`block_of`](Self::block_of)) will be read soon.
    #[inline]
    fn prefetch_word(&self, block: usize, counts: &WordTopics, t: usize, len: usize) {
        prefetch::read_range(counts.counts.as_ptr().wrapping_add(t), len);
        prefetch::read_range(self.word_delta.as_ptr().wrapping_add(block + t), len);
    }

    /// The current word's count of topic `t` with this task's changes.
    #[inline(always)]
    fn nw(&self, t: u32, word: &WordTopics) -> f64 {
        let i = t as usize;
        (word.counts[i] as i64 + self.word_delta[self.block + i] as i64) as f64
    }

    /// Moves one token of the current edge into (`delta = 1`) or out of (`-1`) topic `t`.
    #[inline(always)]
    fn change(&mut self, t: u32, delta: i32, p: &Priors) {
        let i = t as usize;
        self.nd[i] = self.nd[i].wrapping_add_signed(delta);
        self.dk[i] += delta;
        self.word_delta[self.block + i] += delta;
        if self.block == 0 {
            self.scratch_topics.push(t);
        }
        if delta > 0 {
            self.touched.push(t);
        }
        self.inv_den[i] = (1.0 / (self.totals[i] + self.dk[i] as f64 + p.beta_sum)) as f32;
    }

    /// The unnormalised conditional of topic `t` for the token out of the counts.
    #[inline(always)]
    fn conditional(&self, t: u32, word: &WordTopics, p: &Priors) -> f64 {
        let i = t as usize;
        (self.nd[i] as f64 + p.alpha) * (self.nw(t, word) + p.beta) * self.inv_den[i] as f64
    }
}

/// Weights per group of the two-level walk in [`draw`].
pub(crate) const GROUP: usize = 8;

/// Draws an index with probability proportional to its weight (weights must be positive).
///
/// Stores `weights` in `store` (of the same length) and their sums per group of
/// [`GROUP`] in `groups` (of length `store.len().div_ceil(GROUP)`), then walks down from a
/// uniform draw below the total: first over the group sums, then inside the group, so the
/// chain of dependent subtractions is about `K / GROUP + GROUP` long instead of `K`. Single
/// precision: the weights differ from exact by parts in 10^7, far below the sampler's own
/// noise, and halve the work of the weight loop. Returns the last index if rounding leaves
/// none.
#[inline(always)]
pub(crate) fn draw(
    store: &mut [f32],
    groups: &mut [f32],
    weights: impl Iterator<Item = f32>,
    rng: &mut SmallRng,
) -> usize {
    for (slot, w) in store.iter_mut().zip(weights) {
        *slot = w;
    }
    for (sum, group) in groups.iter_mut().zip(store.chunks(GROUP)) {
        *sum = group.iter().sum();
    }
    let total: f32 = groups.iter().sum();
    let mut u = rng.random::<f32>() * total;
    let last = store.len() - 1;
    for (g, &sum) in groups.iter().enumerate() {
        if u < sum {
            let start = g * GROUP;
            for (i, &w) in store[start..].iter().take(GROUP).enumerate() {
                if u < w {
                    return start + i;
                }
                u -= w;
            }
            return (start + GROUP - 1).min(last);
        }
        u -= sum;
    }
    last
}
