//! The LDA vertex program. Supersteps alternate:
//!
//! - **word supersteps** (even): every word gathers the topics on its edges and stores
//!   its dense counts (and, for the fast sampler, its proposal's alias table); the words
//!   sum the global topic totals `n_k` and their likelihood terms through aggregators;
//! - **document supersteps** (odd): every document gathers its sparse counts, sums its
//!   likelihood term and its own copy of the totals (checked against the words' copy),
//!   then resamples its tokens in scatter, all its edges in one call
//!   ([`VertexProgram::scatter_out`]), against the word counts and totals of the word
//!   superstep just before it.
//!
//! Every vertex is active in every superstep ([`Activation::All`]) and one kind sits out
//! each (no edges to gather, data kept): the schedule is fixed, so signalling the other
//! kind along every edge would only cost a pass over the edges.
//!
//! So one Gibbs sweep is a document superstep plus a word superstep, and each sweep starts
//! from one consistent snapshot of `n_wk` and `n_k`, exact as of the previous sweep. The
//! scatter runs one task per thread over each rank's documents
//! ([`VertexProgram::scatter_chunk`]), and a task applies its own changes to the counts at
//! once (see the `sampler` module): the approximate distributed Gibbs sampler of Newman
//! et al. (AD-LDA, JMLR 2009) with one processor per task. With one rank and one thread it
//! is the sequential collapsed Gibbs sampler; Newman et al. found AD-LDA's perplexity
//! indistinguishable from the sequential sampler's, and the tests compare the two.
//!
//! Counts are recomputed from the assignments by every vertex that runs, so they equal
//! the sums over assignments by construction; the two copies of the totals (summed over
//! words and over documents) and the token count are compared after every document
//! superstep, and a mismatch stops the run with an error.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gasket_engine::prelude::*;

use super::alias::Alias;
use super::counts::{Tally, Tokens, TopicList, Topics, WordTopics};
use super::loglik::Likelihood;
use super::sampler::{DocSampler, Priors};
use super::{IterationPoint, LdaReport, Sampler, WORD_BASE};

/// Aggregator slots after the `2K` totals (words' copy, then documents' copy).
const WORD_TERM: usize = 0;
const DOC_TERM: usize = 1;
const SAMPLED: usize = 2;
const PROPOSED: usize = 3;
const ACCEPTED: usize = 4;
const EXTRA_SLOTS: usize = 5;

/// What after_superstep accumulates.
pub(crate) struct Tracker {
    pub report: LdaReport,
    /// The words' totals and term of the last word superstep.
    word_totals: Vec<f64>,
    word_term: f64,
    /// When the last word superstep ended, and the one before it.
    word_done: Instant,
    previous_word_done: Instant,
    start: Instant,
    pub error: Option<String>,
}

pub(crate) struct Lda {
    pub priors: Priors,
    pub sampler: Sampler,
    pub seed: u64,
    pub sweeps: usize,
    pub num_tokens: u64,
    pub likelihood: Likelihood,
    pub superstep: AtomicUsize,
    pub tracker: Mutex<Tracker>,
    pub log: bool,
    /// Owned vertices per scatter task.
    pub scatter_chunk: usize,
}

fn is_word(v: VertexId) -> bool {
    v >= WORD_BASE
}

/// Whether superstep `s` is the turn of words (even) or documents (odd) of vertex `v`.
fn turn_of(v: VertexId, s: usize) -> bool {
    is_word(v) == (s % 2 == 0)
}

impl Lda {
    pub(crate) fn new(
        priors: Priors,
        sampler: Sampler,
        seed: u64,
        sweeps: usize,
        report: LdaReport,
        log: bool,
    ) -> Self {
        let now = Instant::now();
        Lda {
            likelihood: Likelihood::new(priors.k, report.words, priors.alpha, priors.beta),
            num_tokens: report.tokens,
            priors,
            sampler,
            seed,
            sweeps,
            superstep: AtomicUsize::new(0),
            tracker: Mutex::new(Tracker {
                report,
                word_totals: Vec::new(),
                word_term: 0.0,
                word_done: now,
                previous_word_done: now,
                start: now,
                error: None,
            }),
            log,
            scatter_chunk: gasket_engine::program::DEFAULT_SCATTER_CHUNK,
        }
    }

    fn slot(&self, extra: usize) -> usize {
        2 * self.priors.k + extra
    }

    /// Whether document supersteps still resample (the last one only measures).
    fn sampling(&self, superstep: usize) -> bool {
        superstep < 2 * self.sweeps
    }

    fn word_superstep(&self, info: &SuperstepInfo<'_>, t: &mut Tracker) {
        let k = self.priors.k;
        t.word_totals = info.aggregates[..k].to_vec();
        t.word_term = info.aggregates[self.slot(WORD_TERM)];
        t.previous_word_done = t.word_done;
        t.word_done = Instant::now();
    }

    fn doc_superstep(&self, info: &SuperstepInfo<'_>, t: &mut Tracker) {
        let k = self.priors.k;
        let sweep = info.iteration / 2;
        let doc_totals = &info.aggregates[k..2 * k];
        let sum: f64 = t.word_totals.iter().sum();
        if doc_totals != &t.word_totals[..] || sum != self.num_tokens as f64 {
            t.error = Some(format!(
                "internal error: topic counts diverged after sweep {sweep} (the words count \
                 {sum} tokens, the corpus has {}, and the documents' totals {} the words')",
                self.num_tokens,
                if doc_totals == &t.word_totals[..] {
                    "equal"
                } else {
                    "differ from"
                }
            ));
            return;
        }
        let loglik = t.word_term
            + info.aggregates[self.slot(DOC_TERM)]
            + self.likelihood.topic_term(t.word_totals.iter().copied());
        // Sweep `sweep` was sampled by the document superstep between the last two word
        // supersteps.
        let tokens_per_second = if sweep == 0 {
            0.0
        } else {
            self.num_tokens as f64 / (t.word_done - t.previous_word_done).as_secs_f64()
        };
        let point = IterationPoint {
            iteration: sweep,
            loglik,
            loglik_per_token: loglik / self.num_tokens as f64,
            seconds: (t.word_done - t.start).as_secs_f64(),
            tokens_per_second,
        };
        if self.log {
            tracing::info!(
                "lda iteration {sweep}/{}: log-likelihood {:.6e} ({:.4}/token), {:.3e} tokens/s",
                self.sweeps,
                point.loglik,
                point.loglik_per_token,
                point.tokens_per_second
            );
        }
        t.report.iterations.push(point);
        if self.sampling(info.iteration) {
            let sampled = info.aggregates[self.slot(SAMPLED)];
            if sampled != self.num_tokens as f64 {
                t.error = Some(format!(
                    "internal error: sweep {} resampled {sampled} tokens of {}",
                    sweep + 1,
                    self.num_tokens
                ));
            }
            t.report.proposed += info.aggregates[self.slot(PROPOSED)] as u64;
            t.report.accepted += info.aggregates[self.slot(ACCEPTED)] as u64;
        }
    }
}

impl VertexProgram for Lda {
    type Vertex = Topics;
    type Edge = Tokens;
    type Gather = Tally;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }

    fn init(&self, v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> Topics {
        if is_word(v.id()) {
            Topics::Word(WordTopics::default())
        } else {
            Topics::Doc(Vec::new())
        }
    }

    fn gather_edges(&self, v: &VertexRef<'_, Topics>) -> EdgeDir {
        if !turn_of(v.id(), self.superstep.load(Ordering::Relaxed)) {
            EdgeDir::None
        } else if is_word(v.id()) {
            EdgeDir::In
        } else {
            EdgeDir::Out
        }
    }

    fn gather(&self, _v: &VertexRef<'_, Topics>, edge: &Tokens, _other: &Topics) -> Tally {
        // `from_slice` copies; `clone` would push the topics one by one.
        Tally::List(TopicList::from_slice(&edge.0))
    }

    fn combine(&self, acc: &mut Tally, x: Tally) {
        acc.absorb(x, self.priors.k);
    }

    fn gather_into(&self, acc: &mut Tally, _v: &VertexRef<'_, Topics>, edge: &Tokens, _: &Topics) {
        acc.add(&edge.0, self.priors.k);
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, Topics>,
        total: Option<Tally>,
        ctx: &mut Context<'_, ()>,
    ) {
        if !turn_of(v.id(), ctx.iteration()) {
            return;
        }
        let tally = total.unwrap_or_else(|| Tally::List(Default::default()));
        let k = self.priors.k;
        if is_word(v.id()) {
            let (counts, total) = tally.into_dense(k);
            for (t, &c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                ctx.aggregate(t, c as f64);
            }
            let term = self.likelihood.word_term(counts.iter().copied());
            ctx.aggregate(self.slot(WORD_TERM), term);
            let mut proposal = Alias::default();
            if self.sampler == Sampler::Fast {
                proposal.build(
                    counts
                        .iter()
                        .enumerate()
                        .map(|(t, &c)| (t as u32, c as f64)),
                );
            }
            *v.data_mut() = Topics::Word(WordTopics {
                counts,
                total,
                proposal,
            });
        } else {
            let (pairs, total) = tally.into_sparse();
            for &(t, c) in &pairs {
                ctx.aggregate(k + t as usize, c as f64);
            }
            let term = self
                .likelihood
                .doc_term(pairs.iter().map(|&(_, c)| c), total as u64);
            ctx.aggregate(self.slot(DOC_TERM), term);
            *v.data_mut() = Topics::Doc(pairs);
        }
    }

    fn scatter_edges(&self, v: &VertexRef<'_, Topics>) -> EdgeDir {
        let s = self.superstep.load(Ordering::Relaxed);
        if !is_word(v.id()) && turn_of(v.id(), s) && self.sampling(s) {
            EdgeDir::Out
        } else {
            EdgeDir::None
        }
    }

    fn scatter_out(
        &self,
        v: &VertexRef<'_, Topics>,
        mut edges: OutEdges<'_, Topics, Tokens>,
        ctx: &mut Context<'_, ()>,
    ) {
        let Topics::Doc(counts) = v.data() else {
            return;
        };
        let stream = (self.seed, ctx.iteration() as u64);
        let totals = &ctx.aggregates()[..self.priors.k];
        let sampler = ctx.scratch::<DocSampler>();
        sampler.enter(v.id(), counts, &self.priors, totals, stream, self.sampler);
        let sampled = sampler.sample_row(&mut edges, &self.priors, self.sampler);
        let (proposed, accepted) = (
            std::mem::take(&mut sampler.proposed),
            std::mem::take(&mut sampler.accepted),
        );
        ctx.aggregate(self.slot(SAMPLED), sampled as f64);
        if proposed > 0 {
            ctx.aggregate(self.slot(PROPOSED), proposed as f64);
            ctx.aggregate(self.slot(ACCEPTED), accepted as f64);
        }
    }

    fn scatter_chunk(&self, _owned: usize) -> usize {
        self.scatter_chunk
    }

    fn aggregators(&self) -> Vec<ReduceOp> {
        vec![ReduceOp::Sum; self.slot(EXTRA_SLOTS)]
    }

    fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
        let mut t = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        if info.iteration % 2 == 0 {
            self.word_superstep(info, &mut t);
        } else {
            self.doc_superstep(info, &mut t);
        }
        self.superstep.store(info.iteration + 1, Ordering::Relaxed);
        if t.error.is_some() || info.iteration > 2 * self.sweeps {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    /// The trajectory so far, the last word superstep's totals and the superstep count.
    fn save_state(&self) -> Vec<u8> {
        let t = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        (self.superstep.load(Ordering::Relaxed) as u64).encode(&mut out);
        t.word_totals.encode(&mut out);
        t.word_term.encode(&mut out);
        t.word_done.elapsed().as_secs_f64().encode(&mut out);
        t.report.proposed.encode(&mut out);
        t.report.accepted.encode(&mut out);
        (t.report.iterations.len() as u64).encode(&mut out);
        for p in &t.report.iterations {
            let point = (p.iteration as u64, p.loglik, p.loglik_per_token, p.seconds);
            (point, p.tokens_per_second).encode(&mut out);
        }
        out
    }

    fn restore_state(&self, state: &[u8]) -> Result<(), String> {
        let mut input = state;
        let superstep = u64::decode(&mut input) as usize;
        let mut t = self.tracker.lock().unwrap_or_else(|e| e.into_inner());
        t.word_totals = Vec::decode(&mut input);
        if !t.word_totals.is_empty() && t.word_totals.len() != self.priors.k {
            return Err(format!(
                "the checkpoint is of a {}-topic model, this run has {} topics",
                t.word_totals.len(),
                self.priors.k
            ));
        }
        t.word_term = f64::decode(&mut input);
        let since_word_done = f64::decode(&mut input);
        t.report.proposed = u64::decode(&mut input);
        t.report.accepted = u64::decode(&mut input);
        t.report.iterations = (0..u64::decode(&mut input))
            .map(|_| {
                let ((iteration, loglik, loglik_per_token, seconds), tokens_per_second) =
                    <((u64, f64, f64, f64), f64)>::decode(&mut input);
                IterationPoint {
                    iteration: iteration as usize,
                    loglik,
                    loglik_per_token,
                    seconds,
                    tokens_per_second,
                }
            })
            .collect();
        // Times continue from the checkpoint's, as if the run had not stopped.
        let now = Instant::now();
        let back = |seconds: f64| {
            now.checked_sub(std::time::Duration::from_secs_f64(seconds.max(0.0)))
                .unwrap_or(now)
        };
        let elapsed = t.report.iterations.last().map_or(0.0, |p| p.seconds);
        t.start = back(elapsed + since_word_done);
        t.word_done = back(since_word_done);
        t.previous_word_done = t.word_done;
        self.superstep.store(superstep, Ordering::Relaxed);
        Ok(())
    }
}
