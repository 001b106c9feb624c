//! Corpora drawn from the LDA generative process, for tests with known topics and for
//! benchmarks of any size: `K` topics `phi_k ~ Dirichlet(beta)` over `V` words; each
//! document has `theta_d ~ Dirichlet(alpha)` and a length uniform in `[L - L/2, L + L/2]`
//! (mean `L`); each token draws a topic from `theta_d`, then a word from that topic.
//!
//! Determinism: document `d` and topic `k` each draw from their own ChaCha8 stream, seeded
//! by hashing `(seed, d)` or `(seed, 2^64 - 1 - k)` (disjoint for any feasible D and K),
//! so the corpus depends only on the configuration — not on the number of threads or the
//! order in which rayon runs the documents.
//!
//! Speed and memory: words are drawn from per-topic alias tables (`O(1)` a token); the
//! `K x V` distributions and their tables take about `20 K V` bytes (400 MB at
//! `K = 1000, V = 20000`), built once and shared by all threads. A document's tokens are
//! drawn into one buffer and counted into sorted `(word, count)` pairs, so a 50-million
//! token corpus takes seconds on a multi-core machine and only the output in memory.
//!
//! Dirichlet draws are normalised Gamma draws made in log space: for a shape `a < 1`,
//! `G(a) = G(a + 1) U^(1/a)` (the "boost"), i.e. `ln G(a + 1) + ln U / a`, which stays
//! finite where `U^(1/a)` underflows to 0 for small priors (`alpha = 0.01` over 1000
//! topics, say); the logs are exponentiated after subtracting their maximum, so the
//! largest component is never lost and no draw is ever all zeros or NaN.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Gamma, Open01};
use rayon::prelude::*;

use crate::corpus::bag_of_words;
use crate::{Corpus, DatasetError};
use gasket_engine::error::EngineError;

/// Settings of [`lda_corpus`].
#[derive(Debug, Clone)]
pub struct LdaCorpusConfig {
    /// Documents D.
    pub docs: usize,
    /// Vocabulary size V.
    pub words: usize,
    /// Topics K.
    pub topics: usize,
    /// Mean tokens per document L; lengths are uniform in `[L - L/2, L + L/2]`.
    pub doc_length: usize,
    /// Document-topic Dirichlet prior (symmetric), positive.
    pub alpha: f64,
    /// Topic-word Dirichlet prior (symmetric), positive.
    pub beta: f64,
    /// Seed; the corpus is a function of the whole configuration.
    pub seed: u64,
}

/// A drawn corpus and the topics it was drawn from.
#[derive(Debug, Clone)]
pub struct SyntheticCorpus {
    /// The corpus (`docs` documents over `words` words, no vocabulary strings).
    pub corpus: Corpus,
    /// The `K` topic-word distributions, each over the `V` words, summing to 1.
    pub topics: Vec<Vec<f64>>,
}

/// The random stream of document `index`, or of topic `u64::MAX - index`.
fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(gasket_engine::hash::mix(index, 0x1da, seed))
}

/// Draws `ln G` for `G ~ Gamma(shape, 1)` (see the module docs).
struct LogGamma {
    /// Gamma(shape) when `shape >= 1`, else Gamma(shape + 1).
    gamma: Gamma<f64>,
    /// `1 / shape` when `shape < 1`.
    boost: Option<f64>,
}

impl LogGamma {
    fn new(shape: f64) -> Option<Self> {
        if !(shape.is_finite() && shape > 0.0) {
            return None;
        }
        let (gamma_shape, boost) = if shape < 1.0 {
            (shape + 1.0, Some(1.0 / shape))
        } else {
            (shape, None)
        };
        Some(LogGamma {
            gamma: Gamma::new(gamma_shape, 1.0).ok()?,
            boost,
        })
    }

    /// Consumes the stream as `rand_distr`'s own small-shape Gamma does (the uniform
    /// first), so the draws are those of `ln Gamma(shape).sample(rng)` wherever that one
    /// does not underflow.
    fn sample<R: Rng>(&self, rng: &mut R) -> f64 {
        match self.boost {
            Some(inv) => {
                // U in (0, 1): its log is finite.
                let u: f64 = rng.sample(Open01);
                self.gamma.sample(rng).ln() + u.ln() * inv
            }
            None => self.gamma.sample(rng).ln(),
        }
    }
}

/// A draw from a symmetric Dirichlet of dimension `n` (normalised; uniform in the
/// degenerate case of no finite log draw, which needs a Gamma draw of exactly 0).
fn dirichlet<R: Rng>(n: usize, log_gamma: &LogGamma, rng: &mut R) -> Vec<f64> {
    let mut x: Vec<f64> = (0..n).map(|_| log_gamma.sample(rng)).collect();
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return vec![1.0 / n as f64; n];
    }
    let mut sum = 0.0;
    for v in &mut x {
        *v = (*v - max).exp();
        sum += *v;
    }
    // sum >= 1: the largest component is exp(0).
    x.iter_mut().for_each(|v| *v /= sum);
    x
}

fn config_error(msg: String) -> DatasetError {
    DatasetError::Engine(EngineError::Config(msg))
}

/// Draws a corpus from the LDA generative process (see the module docs): deterministic in
/// the configuration, parallel over documents.
///
/// # Errors
///
/// [`DatasetError::Engine`] with a configuration error when a size is 0 or too large for
/// 32-bit ids and counts, or a prior is not a positive finite number.
pub fn lda_corpus(config: &LdaCorpusConfig) -> Result<SyntheticCorpus, DatasetError> {
    let LdaCorpusConfig {
        docs,
        words,
        topics,
        doc_length,
        alpha,
        beta,
        seed,
    } = *config;
    if docs == 0 || words == 0 || topics == 0 || doc_length == 0 {
        return Err(config_error(format!(
            "a synthetic corpus needs positive sizes (docs, words, topics, doc_length), got \
             {docs}, {words}, {topics}, {doc_length}"
        )));
    }
    if u32::try_from(words).is_err() || u32::try_from(topics).is_err() {
        return Err(config_error(format!(
            "{words} words and {topics} topics must each fit 32-bit ids"
        )));
    }
    // Document lengths (at most 3L/2) must fit a u32 token count.
    if doc_length > (u32::MAX / 2) as usize {
        return Err(config_error(format!(
            "a mean document length of {doc_length} tokens is too large (at most {})",
            u32::MAX / 2
        )));
    }
    if topics.checked_mul(words).is_none() {
        return Err(config_error(format!(
            "{topics} topics x {words} words overflow"
        )));
    }
    let (Some(alpha_gamma), Some(beta_gamma)) = (LogGamma::new(alpha), LogGamma::new(beta)) else {
        return Err(config_error(format!(
            "the priors must be positive finite numbers, got alpha {alpha} and beta {beta}"
        )));
    };

    let phi: Vec<Vec<f64>> = (0..topics)
        .into_par_iter()
        .map(|k| dirichlet(words, &beta_gamma, &mut stream(seed, u64::MAX - k as u64)))
        .collect();
    let alias_error = |e| config_error(format!("cannot build an alias table: {e}"));
    let word_tables: Vec<WeightedAliasIndex<f64>> = phi
        .par_iter()
        .map(|p| WeightedAliasIndex::new(p.clone()).map_err(alias_error))
        .collect::<Result<_, _>>()?;
    let (lo, hi) = (doc_length - doc_length / 2, doc_length + doc_length / 2);
    let documents: Vec<Vec<(u32, u32)>> = (0..docs)
        .into_par_iter()
        .map(|d| {
            let mut rng = stream(seed, d as u64);
            let theta = dirichlet(topics, &alpha_gamma, &mut rng);
            let topic = WeightedAliasIndex::new(theta).map_err(alias_error)?;
            let len = rng.random_range(lo..=hi);
            // Word ids fit u32: `words` was checked.
            let mut tokens: Vec<u32> = (0..len)
                .map(|_| word_tables[topic.sample(&mut rng)].sample(&mut rng) as u32)
                .collect();
            // Lengths fit u32: `doc_length` was checked.
            bag_of_words(&mut tokens)
                .ok_or_else(|| config_error(format!("document {d} is too long")))
        })
        .collect::<Result<_, _>>()?;
    Ok(SyntheticCorpus {
        corpus: Corpus {
            docs: documents,
            num_words: words,
            vocab: None,
        },
        topics: phi,
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

    fn on_threads(threads: usize, config: &LdaCorpusConfig) -> SyntheticCorpus {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| lda_corpus(config).unwrap())
    }

    #[test]
    fn deterministic_for_any_thread_count_and_of_the_asked_size() {
        let a = on_threads(1, &config());
        let b = on_threads(4, &config());
        assert_eq!(a.corpus, b.corpus);
        assert_eq!(a.topics, b.topics);
        assert_eq!(a.corpus.num_docs(), 200);
        assert_eq!(a.corpus.num_words, 50);
        let tokens = a.corpus.num_tokens() as f64;
        assert!(
            (tokens / (200.0 * 40.0) - 1.0).abs() < 0.05,
            "{tokens} tokens"
        );
        for doc in &a.corpus.docs {
            assert!(doc.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(doc.iter().all(|&(w, c)| w < 50 && c >= 1));
            let len: u32 = doc.iter().map(|&(_, c)| c).sum();
            assert!((20..=60).contains(&len), "{len}");
        }
        assert_eq!(a.topics.len(), 3);
        for phi in &a.topics {
            assert_eq!(phi.len(), 50);
            assert!((phi.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        let other = lda_corpus(&LdaCorpusConfig {
            seed: 8,
            ..config()
        })
        .unwrap();
        assert_ne!(a.corpus, other.corpus);
    }

    #[test]
    fn length_one_documents_have_one_token() {
        let c = lda_corpus(&LdaCorpusConfig {
            doc_length: 1,
            ..config()
        })
        .unwrap();
        assert!(c.corpus.docs.iter().all(|d| d == &[(d[0].0, 1)]));
    }

    #[test]
    fn tiny_priors_give_sparse_but_valid_distributions() {
        let s = lda_corpus(&LdaCorpusConfig {
            docs: 50,
            words: 2000,
            topics: 100,
            doc_length: 30,
            alpha: 1e-4,
            beta: 1e-6,
            seed: 1,
        })
        .unwrap();
        for phi in &s.topics {
            assert!(phi.iter().all(|p| p.is_finite() && *p >= 0.0));
            assert!((phi.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            // Nearly all the mass on very few words.
            assert!(phi.iter().copied().fold(0.0, f64::max) > 0.5);
        }
        assert!(s.corpus.num_tokens() > 0);
    }

    #[test]
    fn topics_are_recovered_from_word_frequencies_with_one_topic() {
        let s = lda_corpus(&LdaCorpusConfig {
            docs: 2000,
            words: 20,
            topics: 1,
            doc_length: 100,
            alpha: 1.0,
            beta: 1.0,
            seed: 3,
        })
        .unwrap();
        let mut freq = [0f64; 20];
        for &(w, c) in s.corpus.docs.iter().flatten() {
            freq[w as usize] += f64::from(c);
        }
        let total = s.corpus.num_tokens() as f64;
        for (f, p) in freq.iter().zip(&s.topics[0]) {
            assert!((f / total - p).abs() < 0.01, "{} vs {p}", f / total);
        }
    }

    #[test]
    fn bad_settings_are_errors() {
        for bad in [
            LdaCorpusConfig {
                docs: 0,
                ..config()
            },
            LdaCorpusConfig {
                words: 0,
                ..config()
            },
            LdaCorpusConfig {
                topics: 0,
                ..config()
            },
            LdaCorpusConfig {
                doc_length: 0,
                ..config()
            },
            LdaCorpusConfig {
                doc_length: usize::MAX,
                ..config()
            },
            LdaCorpusConfig {
                alpha: 0.0,
                ..config()
            },
            LdaCorpusConfig {
                alpha: -1.0,
                ..config()
            },
            LdaCorpusConfig {
                alpha: f64::INFINITY,
                ..config()
            },
            LdaCorpusConfig {
                beta: f64::NAN,
                ..config()
            },
        ] {
            let e = lda_corpus(&bad).unwrap_err().to_string();
            assert!(
                e.contains("positive") || e.contains("too large"),
                "{bad:?}: {e}"
            );
        }
    }
}
