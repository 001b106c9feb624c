//! Resampling one document's tokens, edge by edge, inside the document's scatter.
//!
//! A [`DocSampler`] lives in the worker task's scratch ([`Context::scratch`]) and follows
//! the document whose edges the task is visiting: on the first edge of a document it
//! loads the document's counts and seeds the document's random stream from
//! `(seed, document, superstep)`. Word counts and topic totals start from the snapshot the
//! last word superstep made (see the `program` module), and the task applies its own
//! changes to them token by token (a block of `K` changes per word it touched, up to a
//! memory budget), so within a task the chain is the sequential collapsed Gibbs sampler;
//! tasks see each other's changes at the next sweep. A task covers a contiguous range of
//! a rank's documents, fixed by the rank and thread counts, so a run is reproducible for
//! given rank and thread counts.
//!
//! Two samplers:
//! - **plain**: the collapsed Gibbs conditional
//!   `p(k) ∝ (n_dk + a) (n_wk + b) / (n_k + V b)` over all `K` topics (`O(K)` per token).
//!   The weights are computed into an array in one loop without a dependency between
//!   topics (the compiler vectorises it; `1 / (n_k + V b)` is kept and patched for the two
//!   topics a token change touches), summed in four lanes, and the topic found by walking
//!   the weights down from a uniform draw, which stops half-way on average. A running
//!   prefix sum instead is one chain of `K` dependent additions per token.
//! - **fast**: Metropolis-Hastings with LightLDA's cycle of proposals (Yuan et al., WWW
//!   2015): a word proposal `q_w(k) ∝ n_wk + b` (a mixture of the word's alias table and a
//!   uniform draw) and a document proposal `q_d(k) ∝ n_dk + a` (the document's alias table
//!   made when it starts, and a uniform draw), each accepted with probability
//!   `min(1, p(t) q(s) / (p(s) q(t)))` against the exact conditional. `O(1)` per token
//!   whatever `K`; the chain's stationary distribution is the same conditional.
//!
//! [`Context::scratch`]: gasket_engine::Context::scratch

use gasket_engine::{VertexId, prefetch};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use smallvec::SmallVec;

use super::Sampler;
use super::alias::{Alias, below};
use super::counts::WordTopics;

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
    /// This task's changes to word counts, `K` per block.
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
    /// Fast sampler: proposals that differed from the current topic, and those accepted.
    pub proposed: u64,
    /// See `proposed`.
    pub accepted: u64,
}

impl DocSampler {
    /// Makes `doc` (with `counts`) the document in progress unless it already is.
    /// `totals` is the snapshot of `n_k`, read only on the task's first document.
    pub fn enter(
        &mut self,
        doc: VertexId,
        counts: &[(u32, u32)],
        p: &Priors,
        totals: &[f64],
        stream: (u64, u64),
        sampler: Sampler,
    ) {
        if self.doc == Some(doc) {
            return;
        }
        if self.totals.len() != p.k {
            self.totals = totals.to_vec();
            self.dk = vec![0; p.k];
            self.nd = vec![0; p.k];
            self.nd_start = vec![0; p.k];
            self.word_delta = vec![0; p.k];
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

    /// Selects the block of word changes for word index `word`.
    #[inline]
    fn select_word(&mut self, word: usize, k: usize) {
        for t in self.scratch_topics.drain(..) {
            self.word_delta[t as usize] = 0;
        }
        let next = self.word_delta.len();
        self.block = match self.word_block[word] {
            NO_BLOCK if next + k <= WORD_DELTA_BUDGET => {
                self.word_delta.resize(next + k, 0);
                self.word_block[word] = next as u32;
                next
            }
            NO_BLOCK => 0,
            b => b as usize,
        };
    }

    /// Resamples the tokens of one edge of the document in progress (`topics`, of the word
    /// with index `word_index` and counts `word`).
    #[inline]
    pub fn sample_edge(
        &mut self,
        topics: &mut [u32],
        word_index: usize,
        word: &WordTopics,
        p: &Priors,
        sampler: Sampler,
    ) {
        let mut rng = self.rng.take().expect("enter() seeds the stream");
        self.select_word(word_index, p.k);
        if sampler == Sampler::Fast {
            self.fast(topics, word, p, &mut rng);
        } else {
            self.plain(topics, word, p, &mut rng);
        }
        self.rng = Some(rng);
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

    fn plain(&mut self, topics: &mut [u32], word: &WordTopics, p: &Priors, rng: &mut SmallRng) {
        let k = p.k;
        let (alpha, beta) = (p.alpha as f32, p.beta as f32);
        for z in topics.iter_mut() {
            self.change(*z, -1, p);
            let delta = &self.word_delta[self.block..self.block + k];
            let weights = self.nd[..k]
                .iter()
                .zip(&word.counts[..k])
                .zip(delta.iter().zip(&self.inv_den[..k]))
                .map(|((&n, &w), (&d, &inv))| {
                    // Counts and their changes stay far below 2^31.
                    (n as i32 as f32 + alpha) * ((w as i32 + d) as f32 + beta) * inv
                });
            let new = draw(&mut self.weights, &mut self.groups, weights, rng) as u32;
            self.change(new, 1, p);
            *z = new;
        }
    }

    /// The unnormalised conditional of topic `t` for the token out of the counts.
    #[inline(always)]
    fn conditional(&self, t: u32, word: &WordTopics, p: &Priors) -> f64 {
        let i = t as usize;
        (self.nd[i] as f64 + p.alpha) * (self.nw(t, word) + p.beta) * self.inv_den[i] as f64
    }
    /// One Metropolis-Hastings step from `current` (topic and its conditional) to the
    /// proposal `t`, drawn with proposal weights `(q(s), q(t))`; returns the new state.
    #[inline(always)]
    fn step(
        &mut self,
        current: (u32, f64),
        t: u32,
        (q_s, q_t): (f64, f64),
        word: &WordTopics,
        p: &Priors,
        rng: &mut SmallRng,
    ) -> (u32, f64) {
        let p_t = self.conditional(t, word, p);
        self.proposed += 1;
        if accept(p_t * q_s, current.1 * q_t, rng) {
            self.accepted += 1;
            (t, p_t)
        } else {
            current
        }
    }

    fn fast(&mut self, topics: &mut [u32], word: &WordTopics, p: &Priors, rng: &mut SmallRng) {
        let k = p.k as u32;
        let word_mass = word.total as f64;
        let word_odds = word_mass + p.k as f64 * p.beta;
        let doc_mass = self.doc_len as f64;
        let doc_odds = doc_mass + p.k as f64 * p.alpha;
        for z in topics.iter_mut() {
            let mut s = *z;
            self.change(s, -1, p);
            let mut p_s = self.conditional(s, word, p);
            for _ in 0..p.mh_steps {
                // Both proposals are drawn first (neither depends on the state), so the
                // loads of their counts overlap instead of waiting on each other.
                let t_word =
                    if !word.proposal.is_empty() && rng.random::<f64>() * word_odds < word_mass {
                        word.proposal.sample(rng)
                    } else {
                        below(rng, k)
                    };
                let t_doc = if rng.random::<f64>() * doc_odds < doc_mass {
                    self.doc_proposal.sample(rng)
                } else {
                    below(rng, k)
                };
                for t in [t_word, t_doc] {
                    let i = t as usize;
                    prefetch::read(word.counts.as_ptr().wrapping_add(i));
                    prefetch::read(self.word_delta.as_ptr().wrapping_add(self.block + i));
                }
                if t_word != s {
                    let q = |u: u32| word.counts[u as usize] as f64 + p.beta;
                    let weights = (q(s), q(t_word));
                    (s, p_s) = self.step((s, p_s), t_word, weights, word, p, rng);
                }
                if t_doc != s {
                    let q = |u: u32| self.nd_start[u as usize] as f64 + p.alpha;
                    let weights = (q(s), q(t_doc));
                    (s, p_s) = self.step((s, p_s), t_doc, weights, word, p, rng);
                }
            }
            self.change(s, 1, p);
            *z = s;
        }
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

/// Metropolis-Hastings acceptance of a move with ratio `num / den`.
#[inline]
fn accept(num: f64, den: f64, rng: &mut SmallRng) -> bool {
    num >= den || rng.random::<f64>() * den < num
}
