//! Corpora drawn from the LDA generative process, for tests with known topics and for
//! benchmarks of any size: `K` topics `phi_k ~ Dirichlet(beta)` over `V` words; each
//! document has `theta_d ~ Dirichlet(alpha)` and a length uniform in `[L/2, 3L/2]`; each
//! token draws a topic from `theta_d`, then a word from that topic. Documents are drawn in
//! parallel, each from its own stream seeded by `(seed, document)`, so the corpus depends
//! only on the configuration, not on the number of threads. Token draws use alias tables
//! (`O(1)` each), so tens of millions of tokens take seconds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

use crate::{Corpus, DatasetError};
use gasket_engine::error::EngineError;

/// Settings of [`lda_corpus`].
#[derive(Debug, Clone)]
pub struct LdaCorpusConfig {
    /// Documents.
    pub docs: usize,
    /// Vocabulary size V.
    pub words: usize,
    /// Topics K.
    pub topics: usize,
    /// Mean tokens per document L.
    pub doc_length: usize,
    /// Document-topic prior.
    pub alpha: f64,
    /// Topic-word prior.
    pub beta: f64,
    /// Seed.
    pub seed: u64,
}

/// A drawn corpus and the topics it was drawn from.
#[derive(Debug, Clone)]
pub struct SyntheticCorpus {
    /// The corpus (no vocabulary).
    pub corpus: Corpus,
    /// The `K` topic-word distributions, each over the `V` words, summing to 1.
    pub topics: Vec<Vec<f64>>,
}

fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(gasket_engine::hash::mix(index, 0x1da, seed))
}

/// A draw from Dirichlet(`concentration`) of dimension `n`, renormalised; uniform if
/// every component underflows (possible for tiny concentrations).
fn dirichlet(n: usize, gamma: &Gamma<f64>, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut x: Vec<f64> = (0..n).map(|_| gamma.sample(rng)).collect();
    let sum: f64 = x.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        x.iter_mut().for_each(|v| *v /= sum);
    } else {
        x.iter_mut().for_each(|v| *v = 1.0 / n as f64);
    }
    x
}

/// Draws a corpus (see the module docs).
///
/// # Errors
///
/// [`DatasetError::Engine`] with a configuration error when a size is 0 or a prior is not
/// a positive number.
pub fn lda_corpus(config: &LdaCorpusConfig) -> Result<SyntheticCorpus, DatasetError> {
    let bad = |msg: String| Err(DatasetError::Engine(EngineError::Config(msg)));
    if config.docs == 0 || config.words == 0 || config.topics == 0 || config.doc_length == 0 {
        return bad(format!("a synthetic corpus needs positive sizes, got {config:?}"));
    }
    if config.words > u32::MAX as usize {
        return bad(format!("{} words do not fit 32-bit word ids", config.words));
    }
    let (alpha, beta) = match (Gamma::new(config.alpha, 1.0), Gamma::new(config.beta, 1.0)) {
        (Ok(a), Ok(b)) if config.alpha.is_finite() && config.beta.is_finite() => (a, b),
        _ => {
            return bad(format!(
                "the priors must be positive numbers, got alpha {} and beta {}",
                config.alpha, config.beta
            ));
        }
    };
    let topics: Vec<Vec<f64>> = (0..config.topics)
        .into_par_iter()
        .map(|k| dirichlet(config.words, &beta, &mut stream(config.seed, u64::MAX - k as u64)))
        .collect();
    let words: Vec<WeightedAliasIndex<f64>> = topics
        .par_iter()
        .map(|phi| WeightedAliasIndex::new(phi.clone()).expect("a distribution with positive mass"))
        .collect();
    let (lo, hi) = (config.doc_length / 2, config.doc_length * 3 / 2);
    let docs: Vec<Vec<(u32, u32)>> = (0..config.docs)
        .into_par_iter()
        .map(|d| {
            let mut rng = stream(config.seed, d as u64);
            let theta = dirichlet(config.topics, &alpha, &mut rng);
            let topic = WeightedAliasIndex::new(theta).expect("a distribution with positive mass");
            let len = rng.random_range(lo..=hi.max(lo));
            let mut tokens: Vec<u32> = (0..len)
                .map(|_| words[topic.sample(&mut rng)].sample(&mut rng) as u32)
                .collect();
            tokens.sort_unstable();
            let mut pairs: Vec<(u32, u32)> = Vec::new();
            for w in tokens {
                match pairs.last_mut() {
                    Some((last, c)) if *last == w => *c += 1,
                    _ => pairs.push((w, 1)),
                }
            }
            pairs
        })
        .collect();
    Ok(SyntheticCorpus {
        corpus: Corpus {
            docs,
            num_words: config.words,
            vocab: None,
        },
        topics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> LdaCorpusConfig {
        LdaCorpusConfig {
            docs: 200,
            words: 50,
            topics: 3,
            doc_length: 40,
            alpha: 0.1,
            beta: 0.01,
            seed: 7,
        }
    }

    #[test]
    fn deterministic_and_of_the_asked_size() {
        let a = lda_corpus(&config()).unwrap();
        let b = lda_corpus(&config()).unwrap();
        assert_eq!(a.corpus, b.corpus);
        let tokens = a.corpus.num_tokens() as f64;
        assert!((tokens / (200.0 * 40.0) - 1.0).abs() < 0.1, "{tokens} tokens");
        for phi in &a.topics {
            assert!((phi.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        let other = lda_corpus(&LdaCorpusConfig {
            seed: 8,
            ..config()
        })
        .unwrap();
        assert_ne!(a.corpus, other.corpus);
        for doc in &a.corpus.docs {
            assert!(doc.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn bad_settings_are_errors() {
        for bad in [
            LdaCorpusConfig { topics: 0, ..config() },
            LdaCorpusConfig { alpha: 0.0, ..config() },
            LdaCorpusConfig { beta: f64::NAN, ..config() },
        ] {
            assert!(lda_corpus(&bad).is_err(), "{bad:?}");
        }
    }
}
