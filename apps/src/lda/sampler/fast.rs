//! The fast sampler: Metropolis-Hastings with LightLDA's cycle of proposals (Yuan et al.,
//! WWW 2015), pipelined over a document's tokens.
//!
//! Each cycle proposes from the word, `q_w(k) ∝ n_wk + b` (the word's alias table of its
//! snapshot counts, or a uniform draw), then from the document, `q_d(k) ∝ n_dk + a` (the
//! alias table of the document's counts when it started, or a uniform draw); each proposal
//! `t` replaces the state `s` with probability `min(1, p(t) q(s) / (p(s) q(t)))` against the
//! exact conditional, so the chain's stationary distribution is that conditional. `O(1)`
//! per token whatever `K`.
//!
//! At large `K` the cost is memory, not arithmetic: every proposal reads a random line of
//! a word's alias table, then of its counts and of this task's changes to them, and one
//! token's loads used to wait on each other. No proposal depends on the chain's state, so
//! the document's tokens go through three stages [`LEAD`] tokens apart:
//! 1. **draw** every random number a token needs (mixture coins, alias buckets, uniform
//!    topics, the document proposals, acceptance coins) and prefetch the buckets;
//! 2. **resolve** the word proposals' buckets to topics and prefetch the word's counts and
//!    changes at the token's topic and at every proposal;
//! 3. **walk** the Metropolis-Hastings steps in token order, the counts now in cache.
//!
//! The chain is the one the steps would make drawn one at a time: only the order in which
//! the random stream is consumed differs.

use rand::rngs::SmallRng;
use rand::{Rng, RngCore};

use super::{DocRow, DocSampler, Priors, word_at};
use crate::lda::alias::below;
use crate::lda::counts::WordTopics;

/// Tokens between the pipeline's stages: far enough ahead for a prefetch to land.
const LEAD: usize = 8;
/// Marks a word proposal still held as an alias bucket (topics and buckets are below
/// `MAX_TOPICS`).
const FROM_ALIAS: u32 = 1 << 31;

/// A document's tokens laid out for the pipeline (buffers reused across documents).
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The edge of each token, tokens in edge order.
    edge_of: Vec<u32>,
    /// Per token and cycle: the word proposal (a bucket | `FROM_ALIAS` until resolved)
    /// and the document proposal.
    proposals: Vec<u32>,
    /// Per token and cycle: the coin that resolves the word proposal's bucket.
    keep_coins: Vec<f32>,
    /// Per token and cycle: the acceptance coins of the word and the document step.
    accept_coins: Vec<f64>,
}

impl Plan {
    /// Lays out `row`'s tokens for `cycles` cycles each; returns the number of tokens.
    fn lay_out(&mut self, row: &DocRow<'_>, cycles: usize) -> usize {
        self.edge_of.clear();
        for e in 0..row.len() {
            if word_at(row, e).is_some() {
                let tokens = row.edge(e).0.len();
                self.edge_of.extend(std::iter::repeat_n(e as u32, tokens));
            }
        }
        let n = self.edge_of.len();
        self.proposals.resize(2 * n * cycles, 0);
        self.keep_coins.resize(n * cycles, 0.0);
        self.accept_coins.resize(2 * n * cycles, 0.0);
        n
    }
}

/// A stage's place in the document: the edge, the token's position on it, the word.
struct Cursor<'a> {
    edge: usize,
    pos: usize,
    word: usize,
    counts: Option<&'a WordTopics>,
}

impl<'a> Cursor<'a> {
    fn new() -> Self {
        Cursor {
            edge: usize::MAX,
            pos: 0,
            word: 0,
            counts: None,
        }
    }

    /// Moves to the next token, which is on edge `e`; returns whether `e` is a new edge.
    #[inline]
    fn step_to(&mut self, row: &DocRow<'a>, e: u32) -> bool {
        let e = e as usize;
        if e == self.edge {
            self.pos += 1;
            return false;
        }
        let (word, counts) = word_at(row, e).expect("laid-out edges lead to words");
        *self = Cursor {
            edge: e,
            pos: 0,
            word,
            counts: Some(counts),
        };
        true
    }

    #[inline]
    fn counts(&self) -> &'a WordTopics {
        self.counts.expect("the cursor stands on a token")
    }
}

impl DocSampler {
    pub(super) fn fast_row(&mut self, row: &mut DocRow<'_>, p: &Priors, rng: &mut SmallRng) -> u64 {
        let mut plan = std::mem::take(&mut self.plan);
        let n = plan.lay_out(row, p.mh_steps);
        let (mut draw_at, mut resolve_at, mut walk_at) =
            (Cursor::new(), Cursor::new(), Cursor::new());
        for j in 0..n + 2 * LEAD {
            if j < n {
                draw_at.step_to(row, plan.edge_of[j]);
                self.draw(&mut plan, j, draw_at.counts(), p, rng);
            }
            if let Some(j) = j.checked_sub(LEAD).filter(|&j| j < n) {
                resolve_at.step_to(row, plan.edge_of[j]);
                self.resolve(&mut plan, j, &resolve_at, row, p);
            }
            if let Some(j) = j.checked_sub(2 * LEAD) {
                if walk_at.step_to(row, plan.edge_of[j]) {
                    self.select_word(walk_at.word, p.k);
                }
                let z = &mut row.edge_mut(walk_at.edge).0[walk_at.pos];
                *z = self.walk(&plan, j, *z, walk_at.counts(), p);
            }
        }
        self.plan = plan;
        n as u64
    }

    /// Stage 1 for token `j` of word `word`.
    #[inline]
    fn draw(&self, plan: &mut Plan, j: usize, word: &WordTopics, p: &Priors, rng: &mut SmallRng) {
        let k = p.k as u32;
        let word_mass = word.total as f64;
        let word_odds = word_mass + p.k as f64 * p.beta;
        let doc_mass = self.doc_len as f64;
        let doc_odds = doc_mass + p.k as f64 * p.alpha;
        for i in j * p.mh_steps..(j + 1) * p.mh_steps {
            plan.proposals[2 * i] =
                if !word.proposal.is_empty() && rng.random::<f64>() * word_odds < word_mass {
                    let bucket = word.proposal.bucket(rng);
                    word.proposal.prefetch(bucket);
                    plan.keep_coins[i] = rng.random();
                    bucket as u32 | FROM_ALIAS
                } else {
                    below(rng, k)
                };
            plan.proposals[2 * i + 1] = if rng.random::<f64>() * doc_odds < doc_mass {
                self.doc_proposal.sample(rng)
            } else {
                below(rng, k)
            };
            plan.accept_coins[2 * i] = uniform(rng);
            plan.accept_coins[2 * i + 1] = uniform(rng);
        }
    }

    /// Stage 2 for token `j`, where `at` stands.
    #[inline]
    fn resolve(
        &mut self,
        plan: &mut Plan,
        j: usize,
        at: &Cursor<'_>,
        row: &DocRow<'_>,
        p: &Priors,
    ) {
        let word = at.counts();
        let z = row.edge(at.edge).0[at.pos];
        let block = self.block_of(at.word, p.k);
        self.prefetch_word(block, word, z as usize, 1);
        for i in j * p.mh_steps..(j + 1) * p.mh_steps {
            let proposal = &mut plan.proposals[2 * i];
            if *proposal & FROM_ALIAS != 0 {
                let bucket = (*proposal & !FROM_ALIAS) as usize;
                *proposal = word.proposal.resolve(bucket, plan.keep_coins[i]);
            }
            for t in [plan.proposals[2 * i], plan.proposals[2 * i + 1]] {
                self.prefetch_word(block, word, t as usize, 1);
            }
        }
    }

    /// Stage 3 for token `j` with topic `z` of the current word (`word`); returns its new
    /// topic.
    #[inline]
    fn walk(&mut self, plan: &Plan, j: usize, z: u32, word: &WordTopics, p: &Priors) -> u32 {
        self.change(z, -1, p);
        let mut state = (z, self.conditional(z, word, p));
        for i in j * p.mh_steps..(j + 1) * p.mh_steps {
            let t = plan.proposals[2 * i];
            if t != state.0 {
                let q = |u: u32| word.counts[u as usize] as f64 + p.beta;
                let weights = (q(state.0), q(t));
                state = self.step(state, t, weights, word, p, plan.accept_coins[2 * i]);
            }
            let t = plan.proposals[2 * i + 1];
            if t != state.0 {
                let q = |u: u32| self.nd_start[u as usize] as f64 + p.alpha;
                let weights = (q(state.0), q(t));
                state = self.step(state, t, weights, word, p, plan.accept_coins[2 * i + 1]);
            }
        }
        self.change(state.0, 1, p);
        state.0
    }

    /// One Metropolis-Hastings step from `current` (topic and its conditional) to the
    /// proposal `t`, drawn with proposal weights `(q(s), q(t))`, with a uniform `coin`;
    /// returns the new state.
    #[inline(always)]
    fn step(
        &mut self,
        current: (u32, f64),
        t: u32,
        (q_s, q_t): (f64, f64),
        word: &WordTopics,
        p: &Priors,
        coin: f64,
    ) -> (u32, f64) {
        let p_t = self.conditional(t, word, p);
        self.proposed += 1;
        let (num, den) = (p_t * q_s, current.1 * q_t);
        if num >= den || coin * den < num {
            self.accepted += 1;
            (t, p_t)
        } else {
            current
        }
    }
}

/// A uniform `f64` in `[0, 1)`.
#[inline(always)]
fn uniform(rng: &mut impl RngCore) -> f64 {
    rng.random()
}
