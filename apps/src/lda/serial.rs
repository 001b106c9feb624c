//! Sequential references: the textbook collapsed Gibbs sampler (every token sees every
//! earlier change at once), against which the engine's samplers are tested, and
//! inference of new documents' topics with a trained model's word-topic counts held
//! fixed.

use gasket_datasets::Corpus;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rayon::prelude::*;

use super::loglik::Likelihood;
use super::model::LdaModel;
use super::sampler::{GROUP, draw};
use super::{LdaConfig, initial_topic};

/// What the sequential sampler ends with.
#[derive(Debug, Clone)]
pub struct SerialRun {
    /// `log p(w, z)` after each sweep, starting with the initial state.
    pub loglik: Vec<f64>,
    /// Word-topic counts, `word * K + topic`.
    pub word_topic: Vec<u32>,
    /// Document-topic counts, `doc * K + topic`.
    pub doc_topic: Vec<u32>,
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

/// Runs `config.iterations` sweeps of the sequential collapsed Gibbs sampler from the
/// same initial state as the engine (documents in order, tokens in (word, occurrence)
/// order).
pub fn gibbs(config: &LdaConfig, corpus: &Corpus) -> SerialRun {
    let k = config.topics;
    let v = corpus.num_words;
    let (alpha, beta) = (config.alpha, config.beta);
    let beta_sum = v as f64 * beta;
    let like = Likelihood::new(k, v, alpha, beta);
    let mut word_topic = vec![0u32; v * k];
    let mut doc_topic = vec![0u32; corpus.num_docs() * k];
    let mut totals = vec![0u32; k];
    // (doc, word, topic) per token.
    let mut tokens: Vec<(usize, usize, u32)> = Vec::new();
    for (d, doc) in corpus.docs.iter().enumerate() {
        for &(w, count) in doc {
            for j in 0..count as u64 {
                let t = initial_topic(config.seed, d as u64, w as u64, j, k);
                tokens.push((d, w as usize, t));
                word_topic[w as usize * k + t as usize] += 1;
                doc_topic[d * k + t as usize] += 1;
                totals[t as usize] += 1;
            }
        }
    }
    let mut trajectory = vec![loglik(&like, k, &word_topic, &doc_topic)];
    let mut rng = SmallRng::seed_from_u64(config.seed);
    let mut scratch = vec![0.0; k];
    let mut groups = vec![0.0; k.div_ceil(GROUP)];
    for _ in 0..config.iterations {
        for (d, w, z) in tokens.iter_mut() {
            let (wi, di, old) = (*w * k, *d * k, *z as usize);
            word_topic[wi + old] -= 1;
            doc_topic[di + old] -= 1;
            totals[old] -= 1;
            let weights = (0..k).map(|t| {
                ((doc_topic[di + t] as f64 + alpha) * (word_topic[wi + t] as f64 + beta)
                    / (totals[t] as f64 + beta_sum)) as f32
            });
            let new = draw(&mut scratch, &mut groups, weights, &mut rng);
            word_topic[wi + new] += 1;
            doc_topic[di + new] += 1;
            totals[new] += 1;
            *z = new as u32;
        }
        trajectory.push(loglik(&like, k, &word_topic, &doc_topic));
    }
    SerialRun {
        loglik: trajectory,
        word_topic,
        doc_topic,
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
