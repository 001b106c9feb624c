//! Latent Dirichlet allocation by collapsed Gibbs sampling, as a vertex program on the
//! document-word graph (GraphLab's topic-modelling toolkit).
//!
//! **Model.** Each document `d` mixes `K` topics with proportions drawn from
//! Dirichlet(`alpha`); each topic is a distribution over the `V` words drawn from
//! Dirichlet(`beta`); each token has a topic `z`. The collapsed Gibbs sampler (Griffiths
//! and Steyvers 2004) resamples each token's topic from
//! `p(z = k) ∝ (n_dk + alpha) (n_wk + beta) / (n_k + V beta)`, the counts taken without
//! the token.
//!
//! **Graph.** Document `d` is vertex `d`, word `w` is vertex [`WORD_BASE`]` + w`, and an
//! edge document -> word carries the topics of that word's tokens in the document
//! ([`Tokens`]). Documents hold sparse counts, words dense ones ([`Topics`]). The global
//! totals `n_k` are aggregators, exact as of every word superstep.
//!
//! **Schedule and correctness.** See the `program` module: a sweep is a document
//! superstep (resampling, exact within each document) plus a word superstep (new word
//! counts and totals); documents see other documents' changes one sweep late (AD-LDA).
//! Samplers: `plain` (the reference, `O(K)` per token) and `fast` (Metropolis-Hastings
//! with alias-table proposals, `O(1)` per token); see the `sampler` module.
//!
//! **Reported.** The joint log-likelihood `log p(w, z)` after every sweep (the PyPI `lda`
//! package's `loglikelihood()`), and tokens per second. [`serial`] holds the sequential
//! reference sampler and inference for new documents with a saved [`model`].

mod alias;
pub mod command;
mod counts;
mod loglik;
pub mod model;
mod program;
mod sampler;
pub mod serial;

pub use counts::{Tokens, TopicList, Topics, WordTopics};
pub use loglik::Likelihood;

use gasket_datasets::Corpus;
use gasket_engine::prelude::*;
use gasket_engine::{EdgeInput, GraphSource, RankRun, SyncConfig, run_program};
use serde::Serialize;

use self::program::Lda;
use self::sampler::Priors;

/// Word `w` is vertex `WORD_BASE + w`; documents are `0..D`.
pub const WORD_BASE: VertexId = 1 << 62;
/// Default document-topic prior.
pub const DEFAULT_ALPHA: f64 = 0.1;
/// Default topic-word prior.
pub const DEFAULT_BETA: f64 = 0.01;
/// Default number of topics.
pub const DEFAULT_TOPICS: usize = 20;
/// Default number of sweeps.
pub const DEFAULT_ITERATIONS: usize = 100;
/// Default Metropolis-Hastings cycles per token of the fast sampler.
pub const DEFAULT_MH_STEPS: usize = 2;
/// Largest number of topics (the totals travel as `2K` aggregators every superstep).
pub const MAX_TOPICS: usize = 1 << 16;

/// Which conditional sampler resamples a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Sampler {
    /// `plain` up to [`AUTO_PLAIN_MAX_TOPICS`] topics, `fast` beyond.
    #[default]
    Auto,
    /// The exact conditional over all topics (`O(K)` per token).
    Plain,
    /// Metropolis-Hastings with word and document alias proposals (`O(1)` per token).
    Fast,
}

/// Up to this many topics `auto` picks the plain sampler: its `O(K)` loop is then cheaper
/// than the fast sampler's random accesses, and it mixes better per sweep.
pub const AUTO_PLAIN_MAX_TOPICS: usize = 64;

impl Sampler {
    /// The sampler that runs for `topics` topics (`Auto` resolved).
    pub fn resolve(self, topics: usize) -> Sampler {
        match self {
            Sampler::Auto if topics <= AUTO_PLAIN_MAX_TOPICS => Sampler::Plain,
            Sampler::Auto => Sampler::Fast,
            s => s,
        }
    }
}

/// Settings of a run.
#[derive(Debug, Clone, clap::Args)]
pub struct LdaConfig {
    /// Number of topics K.
    #[arg(long, short = 'k', default_value_t = DEFAULT_TOPICS)]
    pub topics: usize,
    /// Gibbs sweeps over the corpus.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS)]
    pub iterations: usize,
    /// Document-topic Dirichlet prior.
    #[arg(long, default_value_t = DEFAULT_ALPHA)]
    pub alpha: f64,
    /// Topic-word Dirichlet prior.
    #[arg(long, default_value_t = DEFAULT_BETA)]
    pub beta: f64,
    /// plain (exact conditional, O(K) per token), fast (Metropolis-Hastings, O(1)), or
    /// auto (plain up to 64 topics, fast beyond).
    #[arg(long, value_enum, default_value_t = Sampler::Auto)]
    pub sampler: Sampler,
    /// Metropolis-Hastings cycles per token (fast sampler).
    #[arg(long, default_value_t = DEFAULT_MH_STEPS)]
    pub mh_steps: usize,
    /// Seed of the initial assignments and of every draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Checkpoints and resuming.
    #[command(flatten)]
    pub checkpoint: crate::checkpointing::CheckpointArgs,
}

impl Default for LdaConfig {
    fn default() -> Self {
        LdaConfig {
            topics: DEFAULT_TOPICS,
            iterations: DEFAULT_ITERATIONS,
            alpha: DEFAULT_ALPHA,
            beta: DEFAULT_BETA,
            sampler: Sampler::Auto,
            mh_steps: DEFAULT_MH_STEPS,
            seed: 1,
            checkpoint: Default::default(),
        }
    }
}

impl LdaConfig {
    /// Checks the ranges.
    ///
    /// # Errors
    ///
    /// [`EngineError::Config`] naming the option.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |msg: String| Err(EngineError::Config(msg));
        if self.topics == 0 || self.topics > MAX_TOPICS {
            return bad(format!(
                "--topics must be between 1 and {MAX_TOPICS}, got {}",
                self.topics
            ));
        }
        for (name, x) in [("--alpha", self.alpha), ("--beta", self.beta)] {
            if !(x.is_finite() && x > 0.0) {
                return bad(format!("{name} must be a positive number, got {x}"));
            }
        }
        if self.mh_steps == 0 {
            return bad("--mh-steps must be at least 1".into());
        }
        Ok(())
    }

    fn priors(&self, num_words: usize) -> Priors {
        Priors {
            k: self.topics,
            alpha: self.alpha,
            beta: self.beta,
            beta_sum: num_words as f64 * self.beta,
            mh_steps: self.mh_steps,
            num_words,
        }
    }
}

/// One point of the trajectory: the state after `iteration` sweeps (0 = the random
/// initial state).
#[derive(Debug, Clone, Serialize)]
pub struct IterationPoint {
    /// Sweeps done.
    pub iteration: usize,
    /// `log p(w, z)`.
    pub loglik: f64,
    /// `log p(w, z)` per token.
    pub loglik_per_token: f64,
    /// Seconds since the run started, at the end of the sweep.
    pub seconds: f64,
    /// Tokens resampled per second in this sweep (0 for the initial state).
    pub tokens_per_second: f64,
}

/// What a run reports (identical on every rank).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LdaReport {
    /// Documents in the corpus.
    pub docs: usize,
    /// Vocabulary size V.
    pub words: usize,
    /// Tokens.
    pub tokens: u64,
    /// Topics K.
    pub topics: usize,
    /// The sampler that ran.
    pub sampler: Sampler,
    /// One point per sweep, starting with the initial state.
    pub iterations: Vec<IterationPoint>,
    /// Fast sampler: proposals that differed from the current topic.
    pub proposed: u64,
    /// Fast sampler: proposals accepted.
    pub accepted: u64,
}

/// The topic of token `j` of word `word` in document `doc` before the first sweep:
/// uniform from a hash, so every rank count starts from the same state.
pub fn initial_topic(seed: u64, doc: u64, word: u64, j: u64, topics: usize) -> u32 {
    let h = gasket_engine::hash::mix(gasket_engine::hash::mix(doc, word, seed), j, seed);
    (((h >> 32) * topics as u64) >> 32) as u32
}

/// A corpus as the document-word graph, each rank taking documents `d` with
/// `d % ranks == rank` (every rank holds the whole corpus in memory).
#[derive(Debug, Clone, Copy)]
pub struct CorpusGraph<'c> {
    /// The corpus.
    pub corpus: &'c Corpus,
    /// A name for messages.
    pub name: &'c str,
    /// Topics (for the initial assignments).
    pub topics: usize,
    /// Seed of the initial assignments.
    pub seed: u64,
}

impl GraphSource<Tokens> for CorpusGraph<'_> {
    fn name(&self) -> String {
        self.name.to_string()
    }

    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<Tokens>, EngineError> {
        let (rank, size) = (comm.rank(), comm.size());
        // Documents in id order: scatter tasks take contiguous runs of documents, and a
        // degree order would give the first task all the long ones.
        let mut input = EdgeInput {
            order: LocalOrder::ById,
            ..EdgeInput::default()
        };
        for (d, doc) in self.corpus.docs.iter().enumerate().skip(rank).step_by(size) {
            let d = d as u64;
            if doc.is_empty() {
                input.vertices.push(d);
            }
            for &(w, count) in doc {
                let w = w as u64;
                input.src.push(d);
                input.dst.push(WORD_BASE + w);
                input.data.push(Tokens(
                    (0..count as u64)
                        .map(|j| initial_topic(self.seed, d, w, j, self.topics))
                        .collect(),
                ));
            }
        }
        Ok(input)
    }
}

/// Runs LDA on this rank's share of the document-word graph of `corpus` (collective;
/// build the graph from a [`CorpusGraph`] with the same seed and topics). Returns the
/// counts of the vertices this rank owns and the report, identical on every rank.
///
/// # Errors
///
/// [`EngineError::Config`] for an invalid configuration or when the counts diverge (an
/// internal error); the engine's errors otherwise.
pub fn run(
    config: &LdaConfig,
    corpus: &Corpus,
    comm: &dyn Comm,
    graph: &mut LocalGraph<Tokens>,
    progress: bool,
) -> Result<RankRun<Topics, LdaReport>, EngineError> {
    config.validate()?;
    let report = LdaReport {
        docs: corpus.num_docs(),
        words: corpus.num_words,
        tokens: corpus.num_tokens(),
        topics: config.topics,
        sampler: config.sampler.resolve(config.topics),
        ..LdaReport::default()
    };
    // One scatter task per thread over this rank's share of the documents: a task sees
    // its own changes at once, so fewer tasks sample closer to the sequential chain.
    let docs_here = corpus.num_docs().div_ceil(comm.size());
    let mut program = Lda::new(
        config.priors(corpus.num_words),
        config.sampler.resolve(config.topics),
        config.seed,
        config.iterations,
        report,
        progress && comm.rank() == 0,
    );
    program.scatter_chunk = docs_here.div_ceil(rayon::current_num_threads()).max(1);
    let sync = SyncConfig {
        max_iterations: 2 * config.iterations + 2,
        log_progress: false,
        checkpoint: config.checkpoint.settings(2),
        ..SyncConfig::default()
    };
    let out = run_program(&program, comm, graph, sync, |v| v.data().without_proposal())?;
    let tracker = program
        .tracker
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(error) = tracker.error {
        return Err(EngineError::Config(error));
    }
    Ok(out.with_extra(tracker.report))
}
