//! Sequential references, against which the engine's samplers are tested, and inference of
//! new documents' topics with a trained model's word-topic counts held fixed.
//!
//! [`chain`] runs a sampler token after token over the whole corpus, every token seeing
//! every earlier change at once: documents in order, a document's tokens in (word,
//! occurrence) order, each document of each sweep drawing from the random stream the engine
//! gives it (seeded from the seed, the document and the superstep that resamples it). So
//! on one rank and one thread, where one task resamples every document and sees its own
//! changes at once, the engine's chain is this one draw for draw (tested bit for bit). It
//! shares no code with the engine's samplers, only the initial assignments
//! ([`initial_topic`]) and the likelihood: its own dense counts, its own walk for the plain
//! sampler's draw and its own alias tables for the fast sampler's proposals, written to
//! the same arithmetic (single-precision weights summed in groups of 8, Vose's
//! construction) so that the draws agree to the bit.

use gasket_datasets::Corpus;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use rayon::prelude::*;

use super::loglik::Likelihood;
use super::model::LdaModel;
use super::sampler::{GROUP, draw};
use super::{LdaConfig, Sampler, initial_topic};

/// What a sequential run ends with.
#[derive(Debug, Clone)]
pub struct SerialRun {
    /// `log p(w, z)` after each sweep, starting with the initial state.
    pub loglik: Vec<f64>,
    /// Word-topic counts, `word * K + topic`.
    pub word_topic: Vec<u32>,
    /// Document-topic counts, `doc * K + topic`.
    pub doc_topic: Vec<u32>,
    /// Tokens per topic, `n_k`.
    pub totals: Vec<u32>,
    /// Every token's topic: `topics[d][e]` holds those of the tokens of the `e`-th word of
    /// document `d` (in the order of `corpus.docs[d]`), in occurrence order.
    pub topics: Vec<Vec<Vec<u32>>>,
    /// Fast sampler: proposals that differed from the current topic (0 for plain).
    pub proposed: u64,
    /// Fast sampler: proposals accepted (0 for plain).
    pub accepted: u64,
}

/// The joint log-likelihood of dense counts.
fn loglik(like: &Likelihood, k: usize, word_topic: &[u32], doc_topic: &[u32]) -> f64 {
    let mut totals = vec![0f64; k];
    let mut sum = 0.0;
    for row in word_topic.chunks(k) {
        for (t, &c) in row.iter().enumerate() {
            totals[t] += c as f64;
        }
        sum += like.word_term(row.iter().copied());
    }
    for row in doc_topic.chunks(k) {
        let len = row.iter().map(|&c| c as u64).sum();
        sum += like.doc_term(row.iter().copied(), len);
    }
    sum + like.topic_term(totals.into_iter())
}

/// Runs `config.iterations` sweeps of the sequential collapsed Gibbs sampler (the plain
/// sampler's chain, whatever `config.sampler` says) from the same initial state as the
/// engine; see [`chain`].
pub fn gibbs(config: &LdaConfig, corpus: &Corpus) -> SerialRun {
    chain(
        &LdaConfig {
            sampler: Sampler::Plain,
            ..config.clone()
        },
        corpus,
    )
}

/// Runs `config.iterations` sweeps of `config.sampler`'s chain (`auto` resolved as the
/// engine resolves it), sequentially, from the same initial state as the engine and with
/// the same random streams (see the module documentation).
///
/// - **plain**: each token's topic is drawn from the collapsed Gibbs conditional
///   `(n_dk + a) (n_wk + b) / (n_k + V b)` over all topics, the counts without the token.
/// - **fast**: each token takes `config.mh_steps` Metropolis-Hastings cycles of a word
///   proposal (`n_wk + b` of the word's counts when the sweep began) and a document
///   proposal (`n_dk + a` of the document's counts when it began), every random number of
///   the token drawn before its steps, each step accepted against the same conditional.
pub fn chain(config: &LdaConfig, corpus: &Corpus) -> SerialRun {
    let k = config.topics;
    let v = corpus.num_words;
    let like = Likelihood::new(k, v, config.alpha, config.beta);
    let mut counts = Counts {
        k,
        beta_sum: v as f64 * config.beta,
        word_topic: vec![0; v * k],
        doc_topic: vec![0; corpus.num_docs() * k],
        totals: vec![0; k],
    };
    let mut topics: Vec<Vec<Vec<u32>>> = Vec::with_capacity(corpus.num_docs());
    for (d, doc) in corpus.docs.iter().enumerate() {
        let mut row = Vec::with_capacity(doc.len());
        for &(w, count) in doc {
            let zs: Vec<u32> = (0..count as u64)
                .map(|j| initial_topic(config.seed, d as u64, w as u64, j, k))
                .collect();
            for &z in &zs {
                counts.add(d, w as usize, z as usize);
            }
            row.push(zs);
        }
        topics.push(row);
    }
    let mut run = SerialRun {
        loglik: vec![loglik(&like, k, &counts.word_topic, &counts.doc_topic)],
        word_topic: Vec::new(),
        doc_topic: Vec::new(),
        totals: Vec::new(),
        topics: Vec::new(),
        proposed: 0,
        accepted: 0,
    };
    let sampler = config.sampler.resolve(k);
    for sweep in 0..config.iterations {
        if sampler == Sampler::Fast {
            fast_sweep(config, corpus, sweep, &mut counts, &mut topics, &mut run);
        } else {
            plain_sweep(config, corpus, sweep, &mut counts, &mut topics);
        }
        run.loglik
            .push(loglik(&like, k, &counts.word_topic, &counts.doc_topic));
    }
    run.word_topic = counts.word_topic;
    run.doc_topic = counts.doc_topic;
    run.totals = counts.totals;
    run.topics = topics;
    run
}

/// The dense counts of the sequential chain.
struct Counts {
    k: usize,
    /// `V b`.
    beta_sum: f64,
    word_topic: Vec<u32>,
    doc_topic: Vec<u32>,
    totals: Vec<u32>,
}

impl Counts {
    fn add(&mut self, d: usize, w: usize, t: usize) {
        self.word_topic[w * self.k + t] += 1;
        self.doc_topic[d * self.k + t] += 1;
        self.totals[t] += 1;
    }

    fn remove(&mut self, d: usize, w: usize, t: usize) {
        self.word_topic[w * self.k + t] -= 1;
        self.doc_topic[d * self.k + t] -= 1;
        self.totals[t] -= 1;
    }

    /// `1 / (n_k + V b)`, rounded to single precision as the engine keeps it.
    fn inv_den(&self, t: usize) -> f32 {
        (1.0 / (self.totals[t] as f64 + self.beta_sum)) as f32
    }
}

/// The random stream of document `doc` in sweep `sweep` (from 0): the engine seeds it
/// from the seed, the document and the superstep that resamples the document, `2 sweep + 1`
/// (each sweep is a word superstep, then a document superstep).
fn stream(seed: u64, doc: usize, sweep: usize) -> SmallRng {
    let superstep = 2 * sweep as u64 + 1;
    SmallRng::seed_from_u64(gasket_engine::hash::mix(doc as u64, superstep, seed))
}

/// One sweep of the collapsed Gibbs sampler.
fn plain_sweep(
    config: &LdaConfig,
    corpus: &Corpus,
    sweep: usize,
    counts: &mut Counts,
    topics: &mut [Vec<Vec<u32>>],
) {
    let k = config.topics;
    let (alpha, beta) = (config.alpha as f32, config.beta as f32);
    let mut weights = vec![0f32; k];
    for (d, (doc, row)) in corpus.docs.iter().zip(topics.iter_mut()).enumerate() {
        let mut rng = stream(config.seed, d, sweep);
        for (&(w, _), zs) in doc.iter().zip(row.iter_mut()) {
            let w = w as usize;
            for z in zs.iter_mut() {
                counts.remove(d, w, *z as usize);
                for (t, weight) in weights.iter_mut().enumerate() {
                    let nd = counts.doc_topic[d * k + t] as f32;
                    let nw = counts.word_topic[w * k + t] as f32;
                    *weight = (nd + alpha) * (nw + beta) * counts.inv_den(t);
                }
                let new = pick(&weights, rng.random::<f32>());
                counts.add(d, w, new);
                *z = new as u32;
            }
        }
    }
}

/// The topic that a uniform `coin` in `[0, 1)` picks out of the positive `weights`, as
/// the engine's draw picks it: the weights are summed in groups of 8 (each group in
/// order, then the group sums in order), the coin is scaled by that total, and the walk
/// finds the first group, then the first topic in it, whose weight exceeds what is left
/// of the scaled coin; rounding that leaves none gives the group's (or the table's) last
/// topic.
fn pick(weights: &[f32], coin: f32) -> usize {
    const WIDTH: usize = 8;
    let sums: Vec<f32> = weights
        .chunks(WIDTH)
        .map(|group| {
            let mut sum = 0f32;
            for &w in group {
                sum += w;
            }
            sum
        })
        .collect();
    let mut total = 0f32;
    for &sum in &sums {
        total += sum;
    }
    let mut left = coin * total;
    let last = weights.len() - 1;
    for (g, &sum) in sums.iter().enumerate() {
        if left < sum {
            let first = g * WIDTH;
            let end = (first + WIDTH).min(weights.len());
            for (t, &w) in weights.iter().enumerate().take(end).skip(first) {
                if left < w {
                    return t;
                }
                left -= w;
            }
            return (first + WIDTH - 1).min(last);
        }
        left -= sum;
    }
    last
}

/// A uniform integer in `[0, n)` from the high bits of one 32-bit draw (multiply-shift),
/// the engine's way.
fn below(rng: &mut SmallRng, n: usize) -> usize {
    ((u64::from(rng.next_u32()) * n as u64) >> 32) as usize
}

/// A discrete distribution over topics prepared for `O(1)` draws by Vose's alias method:
/// entry `i` keeps its own topic with probability `keep`, else gives its alias.
struct AliasTable {
    /// (keep, topic, alias) per entry, one entry per topic of positive weight.
    entries: Vec<(f32, usize, usize)>,
}

impl AliasTable {
    /// The distribution proportional to `weight[t]` over the topics `t` of positive weight,
    /// in topic order: weights scaled to a mean of 1, then, while some are below 1 and some
    /// at or above, the last one below 1 (a stack) keeps its scaled weight and takes as
    /// alias the last one at or above 1, which gives up the rest of the entry and moves to
    /// the small stack once below 1.
    fn new(weight: &[u32]) -> Self {
        let mut entries: Vec<(f32, usize, usize)> = Vec::new();
        let mut scaled: Vec<f64> = Vec::new();
        for (t, &w) in weight.iter().enumerate() {
            if w > 0 {
                entries.push((1.0, t, t));
                scaled.push(f64::from(w));
            }
        }
        let n = entries.len();
        let mut total = 0f64;
        for &w in &scaled {
            total += w;
        }
        let (mut small, mut large) = (Vec::new(), Vec::new());
        for (i, w) in scaled.iter_mut().enumerate() {
            *w *= n as f64 / total;
            if *w < 1.0 {
                small.push(i);
            } else {
                large.push(i);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            entries[s].0 = scaled[s] as f32;
            entries[s].2 = entries[l].1;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        AliasTable { entries }
    }

    /// A draw: a uniform entry, then a single-precision coin against its `keep`.
    fn sample(&self, rng: &mut SmallRng) -> usize {
        let (keep, topic, alias) = self.entries[below(rng, self.entries.len())];
        if rng.random::<f32>() < keep {
            topic
        } else {
            alias
        }
    }
}

/// One Metropolis-Hastings cycle's random numbers: the word and the document proposal
/// and the acceptance coin of each.
struct Cycle {
    from_word: usize,
    from_doc: usize,
    coins: (f64, f64),
}

/// One sweep of the Metropolis-Hastings sampler.
fn fast_sweep(
    config: &LdaConfig,
    corpus: &Corpus,
    sweep: usize,
    counts: &mut Counts,
    topics: &mut [Vec<Vec<u32>>],
    run: &mut SerialRun,
) {
    let k = config.topics;
    let (alpha, beta) = (config.alpha, config.beta);
    // The word counts as the sweep began: the word proposals and their weights.
    let start_words = counts.word_topic.clone();
    let word_tables: Vec<AliasTable> = start_words.chunks(k).map(AliasTable::new).collect();
    let word_mass: Vec<f64> = (start_words.chunks(k))
        .map(|row| row.iter().map(|&c| f64::from(c)).sum())
        .collect();
    let mut cycles: Vec<Cycle> = Vec::with_capacity(config.mh_steps);
    for (d, (doc, row)) in corpus.docs.iter().zip(topics.iter_mut()).enumerate() {
        let mut rng = stream(config.seed, d, sweep);
        // The document's counts as it began: the document proposal and its weights.
        let start_doc = counts.doc_topic[d * k..(d + 1) * k].to_vec();
        let doc_table = AliasTable::new(&start_doc);
        let doc_mass: f64 = start_doc.iter().map(|&c| f64::from(c)).sum();
        for (&(w, _), zs) in doc.iter().zip(row.iter_mut()) {
            let w = w as usize;
            for z in zs.iter_mut() {
                // Proposals mix the table with a uniform topic by the priors' share.
                cycles.clear();
                for _ in 0..config.mh_steps {
                    let word_odds = word_mass[w] + k as f64 * beta;
                    let from_word = if !word_tables[w].entries.is_empty()
                        && rng.random::<f64>() * word_odds < word_mass[w]
                    {
                        word_tables[w].sample(&mut rng)
                    } else {
                        below(&mut rng, k)
                    };
                    let doc_odds = doc_mass + k as f64 * alpha;
                    let from_doc = if rng.random::<f64>() * doc_odds < doc_mass {
                        doc_table.sample(&mut rng)
                    } else {
                        below(&mut rng, k)
                    };
                    let coins = (rng.random::<f64>(), rng.random::<f64>());
                    cycles.push(Cycle {
                        from_word,
                        from_doc,
                        coins,
                    });
                }
                counts.remove(d, w, *z as usize);
                let conditional = |counts: &Counts, t: usize| {
                    (f64::from(counts.doc_topic[d * k + t]) + alpha)
                        * (f64::from(counts.word_topic[w * k + t]) + beta)
                        * f64::from(counts.inv_den(t))
                };
                let mut state = (*z as usize, conditional(counts, *z as usize));
                for cycle in &cycles {
                    let q_word = |t: usize| f64::from(start_words[w * k + t]) + beta;
                    let q_doc = |t: usize| f64::from(start_doc[t]) + alpha;
                    for (t, q, coin) in [
                        (
                            cycle.from_word,
                            &q_word as &dyn Fn(usize) -> f64,
                            cycle.coins.0,
                        ),
                        (cycle.from_doc, &q_doc, cycle.coins.1),
                    ] {
                        if t == state.0 {
                            continue;
                        }
                        // Accept with probability min(1, p(t) q(s) / (p(s) q(t))).
                        let p_t = conditional(counts, t);
                        run.proposed += 1;
                        let (num, den) = (p_t * q(state.0), state.1 * q(t));
                        if num >= den || coin * den < num {
                            run.accepted += 1;
                            state = (t, p_t);
                        }
                    }
                }
                counts.add(d, w, state.0);
                *z = state.0 as u32;
            }
        }
    }
}

/// Infers the topic proportions of `corpus`'s documents under `model` (word ids in the
/// model's vocabulary): `iterations` Gibbs sweeps per document with the model's
/// word-topic counts fixed, then `theta_dk = (n_dk + alpha) / (n_d + K alpha)`. Documents
/// are independent, so they run in parallel, each with its own stream from `seed`.
///
/// # Panics
///
/// When a word id is outside the model's vocabulary (check before calling).
pub fn infer(model: &LdaModel, corpus: &Corpus, iterations: usize, seed: u64) -> Vec<Vec<f64>> {
    let k = model.topics;
    let beta_sum = model.num_words() as f64 * model.beta;
    let inv_den: Vec<f64> = model
        .totals()
        .iter()
        .map(|&n| 1.0 / (n as f64 + beta_sum))
        .collect();
    corpus
        .docs
        .par_iter()
        .enumerate()
        .map(|(d, doc)| {
            let mut rng = SmallRng::seed_from_u64(gasket_engine::hash::mix(d as u64, 0, seed));
            let mut nd = vec![0u32; k];
            let mut tokens: Vec<(usize, usize)> = Vec::new();
            for &(w, count) in doc {
                for j in 0..count as u64 {
                    let t = initial_topic(seed, d as u64, w as u64, j, k) as usize;
                    nd[t] += 1;
                    tokens.push((w as usize, t));
                }
            }
            let mut dense = vec![0u32; k];
            let mut scratch = vec![0.0; k];
            let mut groups = vec![0.0; k.div_ceil(GROUP)];
            for _ in 0..iterations {
                for (w, z) in tokens.iter_mut() {
                    dense.iter_mut().for_each(|c| *c = 0);
                    for &(t, c) in &model.word_topics[*w] {
                        dense[t as usize] = c;
                    }
                    nd[*z] -= 1;
                    let weights = (0..k).map(|t| {
                        ((nd[t] as f64 + model.alpha) * (dense[t] as f64 + model.beta) * inv_den[t])
                            as f32
                    });
                    *z = draw(&mut scratch, &mut groups, weights, &mut rng);
                    nd[*z] += 1;
                }
            }
            let den = tokens.len() as f64 + k as f64 * model.alpha;
            nd.iter().map(|&c| (c as f64 + model.alpha) / den).collect()
        })
        .collect()
}
