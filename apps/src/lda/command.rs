//! `gasket lda`: reads a corpus (UCI docword, LDA-C, plain text, or a synthetic one drawn
//! from the LDA generative process), runs the sampler on thread or MPI ranks, prints the
//! log-likelihood per sweep and the top words per topic, and writes the model, the
//! document-topic proportions and the trajectory to `--output DIR`. With `--infer MODEL`
//! it infers the topics of the input's documents under a saved model instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use gasket_datasets::generate::LdaCorpusConfig;
use gasket_datasets::{Corpus, CorpusFormat, TextOptions, lda_corpus, read_corpus};
use gasket_engine::Backend;
use gasket_partitioning::{Method, Partitioning};

use super::model::LdaModel;
use super::{CorpusGraph, LdaConfig, LdaReport, serial};
use crate::output::write_atomically;
use crate::run::run_on_ranks;
use crate::{AppError, Result};

/// Corpus file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// UCI bag of words: header D, W, NNZ, then `doc word count` lines (1-based).
    Uci,
    /// LDA-C: `N word:count ...` per document (0-based word ids).
    Ldac,
    /// Plain text, one document a line.
    Text,
}

impl From<FormatArg> for CorpusFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Uci => CorpusFormat::Uci,
            FormatArg::Ldac => CorpusFormat::Ldac,
            FormatArg::Text => CorpusFormat::Text,
        }
    }
}

/// Options of `gasket lda`.
#[derive(Debug, Clone, clap::Args)]
pub struct LdaArgs {
    /// Sampler settings.
    #[command(flatten)]
    pub config: LdaConfig,
    /// The corpus (plain or .gz).
    #[arg(long, short, conflicts_with = "synthetic")]
    pub input: Option<PathBuf>,
    /// Its format (default: `docword*` = uci, `*.ldac` = ldac, else text).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Vocabulary file, one word per line (UCI `vocab.*.txt`, LDA-C tokens file).
    #[arg(long)]
    pub vocab: Option<PathBuf>,
    /// Text: a file of stop words to drop, one per line.
    #[arg(long)]
    pub stop_words: Option<PathBuf>,
    /// Text: drop words seen fewer times than this in the whole corpus.
    #[arg(long, default_value_t = 1)]
    pub min_count: u64,
    /// Text: leading fields of each line that are not words (2 for `url category words`).
    #[arg(long, default_value_t = 0)]
    pub skip_fields: usize,
    /// A corpus drawn from the LDA generative process instead of a file:
    /// DOCS,WORDS,TOPICS,TOKENS_PER_DOC (drawn with --alpha, --beta and --seed).
    #[arg(long)]
    pub synthetic: Option<String>,
    /// Thread ranks (under mpirun each process is one rank instead).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub ranks: u32,
    /// Worker threads shared by the ranks (default: one per core; `RAYON_NUM_THREADS`
    /// too). Draws depend on the thread count: fix it to reproduce a run.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// How documents and words are assigned to ranks.
    #[arg(long, default_value_t = Method::Hash)]
    pub partition: Method,
    /// Words printed per topic.
    #[arg(long, default_value_t = 10)]
    pub top_words: usize,
    /// Directory for model.txt, doc_topics.tsv, topics.txt and loglik.tsv (created if
    /// missing).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write the report (trajectory, acceptance, graph) as JSON.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Write the corpus (read or drawn) in UCI format to this file (`.gz` compresses) and
    /// stop: converts text or LDA-C corpora, or saves a synthetic one for other tools.
    #[arg(long)]
    pub write_corpus: Option<PathBuf>,
    /// Infer the topics of the input's documents under this saved model (word ids or
    /// words in its vocabulary); writes doc_topics.tsv to --output or prints it.
    #[arg(long, conflicts_with = "synthetic")]
    pub infer: Option<PathBuf>,
}

/// Parses `DOCS,WORDS,TOPICS,TOKENS_PER_DOC`.
fn synthetic(text: &str, config: &LdaConfig) -> Result<LdaCorpusConfig> {
    let parts: Vec<Option<usize>> = text.split(',').map(|p| p.trim().parse().ok()).collect();
    match parts[..] {
        [Some(docs), Some(words), Some(topics), Some(doc_length)]
            if docs > 0 && words > 0 && topics > 0 && doc_length > 0 =>
        {
            Ok(LdaCorpusConfig {
                docs,
                words,
                topics,
                doc_length,
                alpha: config.alpha,
                beta: config.beta,
                seed: config.seed,
            })
        }
        _ => Err(AppError::Config(format!(
            "--synthetic expects DOCS,WORDS,TOPICS,TOKENS_PER_DOC, all positive (e.g. \
             100000,20000,1000,500), got `{text}`"
        ))),
    }
}

/// Reads or draws the corpus and gives it a name for messages.
fn load(args: &LdaArgs) -> Result<(Corpus, String)> {
    let text = TextOptions {
        stop_words: args.stop_words.clone(),
        min_count: args.min_count,
        skip_fields: args.skip_fields,
    };
    match (&args.input, &args.synthetic) {
        (Some(path), _) => {
            let format = args
                .format
                .map_or_else(|| CorpusFormat::detect(path), CorpusFormat::from);
            let corpus = read_corpus(path, format, args.vocab.as_deref(), &text)?;
            Ok((corpus, path.display().to_string()))
        }
        (None, Some(spec)) => {
            let cfg = synthetic(spec, &args.config)?;
            let name = format!("synthetic LDA corpus {spec}");
            Ok((lda_corpus(&cfg)?.corpus, name))
        }
        (None, None) => Err(AppError::Config(
            "lda needs a corpus: --input FILE (UCI docword, .ldac or text), or --synthetic \
             DOCS,WORDS,TOPICS,TOKENS_PER_DOC"
                .into(),
        )),
    }
}

/// Creates `dir` (and parents) for the output files.
fn output_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| AppError::Output {
        path: dir.to_path_buf(),
        source,
    })
}

/// Runs `gasket lda` on `backend`.
///
/// # Errors
///
/// Bad options or input (with file and line), or a failed rank.
pub fn execute(args: &LdaArgs, backend: Backend, progress: bool) -> Result<()> {
    args.config.validate()?;
    crate::run::size_thread_pool(args.threads);
    if let Some(model) = &args.infer {
        return infer(args, model);
    }
    let (corpus, name) = load(args)?;
    if let Some(path) = &args.write_corpus {
        gasket_datasets::write_uci(&corpus, path)?;
        println!(
            "# wrote {name} to {}: {} documents, {} words, {} tokens",
            path.display(),
            corpus.num_docs(),
            corpus.num_words,
            corpus.num_tokens()
        );
        return Ok(());
    }
    if let Some(dir) = &args.output {
        output_dir(dir)?;
    }
    if progress {
        tracing::info!(
            "{name}: {} documents, {} words, {} tokens; K = {}, {:?} sampler",
            corpus.num_docs(),
            corpus.num_words,
            corpus.num_tokens(),
            args.config.topics,
            args.config.sampler.resolve(args.config.topics)
        );
    }
    let source = CorpusGraph {
        corpus: &corpus,
        name: &name,
        topics: args.config.topics,
        seed: args.config.seed,
    };
    let placement = Partitioning::from(args.partition);
    let out = run_on_ranks(backend, &source, &placement, progress, |comm, g| {
        Ok(super::run(&args.config, &corpus, comm, g, progress)?)
    })?;
    let Some(out) = out else {
        return Ok(());
    };
    let report = &out.extra.app;
    let config = &args.config;
    let model = LdaModel::from_values(
        config.topics,
        config.alpha,
        config.beta,
        corpus.num_words,
        corpus.vocab.clone(),
        &out.values,
    );
    let print = |e: std::io::Error| AppError::Config(format!("cannot print: {e}"));
    let mut stdout = std::io::stdout().lock();
    let ranks = out.metrics.len().max(1);
    writeln!(
        stdout,
        "# lda on {name}: {} documents, {} words, {} tokens; K = {}, alpha {}, beta {}, {:?} \
         sampler, {ranks} rank(s)",
        report.docs,
        report.words,
        report.tokens,
        config.topics,
        config.alpha,
        config.beta,
        report.sampler
    )
    .map_err(print)?;
    write_trajectory(&mut stdout, report).map_err(print)?;
    summary(&mut stdout, report).map_err(print)?;
    for (k, words) in model.top_words(args.top_words).iter().enumerate() {
        let list: Vec<String> = words.iter().map(|&(w, _)| model.word_name(w)).collect();
        writeln!(stdout, "topic {k}: {}", list.join(" ")).map_err(print)?;
    }
    if let Some(dir) = &args.output {
        model.save(&dir.join("model.txt"))?;
        write_atomically(&dir.join("loglik.tsv"), |w| write_trajectory(w, report))?;
        write_atomically(&dir.join("topics.txt"), |w| {
            for (k, words) in model.top_words(args.top_words).iter().enumerate() {
                write!(w, "topic {k}")?;
                for &(word, p) in words {
                    write!(w, "\t{}:{p:.5}", model.word_name(word))?;
                }
                writeln!(w)?;
            }
            Ok(())
        })?;
        let theta = doc_proportions(config, corpus.num_docs(), &out.values);
        write_doc_topics(&dir.join("doc_topics.tsv"), &theta)?;
        tracing::info!(
            "wrote model.txt, loglik.tsv, topics.txt, doc_topics.tsv to {}",
            dir.display()
        );
    }
    if let Some(path) = &args.metrics {
        let doc = serde_json::json!({
            "app": "lda",
            "input": name,
            "ranks": ranks,
            "report": report,
            "edge_cut": out.extra.partition.edge_cut_fraction,
            "replication": out.extra.partition.replication_factor,
            "read_seconds": out.graph.read_seconds,
            "per_rank_supersteps": out.metrics,
        });
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
    }
    Ok(())
}

/// `iteration loglik loglik/token seconds tokens/s` lines.
fn write_trajectory(w: &mut dyn Write, report: &LdaReport) -> std::io::Result<()> {
    writeln!(
        w,
        "iteration\tloglik\tloglik_per_token\tseconds\ttokens_per_s"
    )?;
    for p in &report.iterations {
        writeln!(
            w,
            "{}\t{:.2}\t{:.5}\t{:.3}\t{:.4e}",
            p.iteration, p.loglik, p.loglik_per_token, p.seconds, p.tokens_per_second
        )?;
    }
    Ok(())
}

/// One line: final likelihood, mean speed and (fast sampler) acceptance.
fn summary(w: &mut dyn Write, report: &LdaReport) -> std::io::Result<()> {
    let Some(last) = report.iterations.last() else {
        return Ok(());
    };
    let sweeps = report.iterations.len().saturating_sub(1);
    let mut line = format!(
        "# final log-likelihood {:.2} ({:.5}/token) after {sweeps} sweep(s)",
        last.loglik, last.loglik_per_token
    );
    if sweeps > 0 {
        let first = &report.iterations[0];
        let rate = report.tokens as f64 * sweeps as f64 / (last.seconds - first.seconds).max(1e-9);
        line += &format!(", {rate:.3e} tokens/s");
    }
    if report.proposed > 0 {
        line += &format!(
            ", {:.1}% of proposals accepted",
            100.0 * report.accepted as f64 / report.proposed as f64
        );
    }
    writeln!(w, "{line}")
}

/// `theta_dk = (n_dk + alpha) / (n_d + K alpha)` for every document `0..docs`.
fn doc_proportions(
    config: &LdaConfig,
    docs: usize,
    values: &[(gasket_engine::VertexId, super::Topics)],
) -> Vec<Vec<f64>> {
    let k = config.topics;
    let mut theta = vec![vec![1.0 / k as f64; k]; docs];
    for (v, topics) in values {
        if let (super::Topics::Doc(pairs), Some(row)) = (topics, theta.get_mut(*v as usize)) {
            let den = topics.total() as f64 + k as f64 * config.alpha;
            row.iter_mut().for_each(|x| *x = config.alpha / den);
            for &(t, c) in pairs {
                row[t as usize] = (c as f64 + config.alpha) / den;
            }
        }
    }
    theta
}

fn write_doc_topics(path: &Path, theta: &[Vec<f64>]) -> Result<()> {
    write_atomically(path, |w| write_theta(w, theta))
}

fn write_theta(w: &mut dyn Write, theta: &[Vec<f64>]) -> std::io::Result<()> {
    writeln!(w, "# document\ttopic proportions (topic 0 first)")?;
    for (d, row) in theta.iter().enumerate() {
        write!(w, "{d}")?;
        for x in row {
            write!(w, "\t{x:.5}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// `gasket lda --infer MODEL`: new documents' topic proportions under a saved model.
fn infer(args: &LdaArgs, model_path: &Path) -> Result<()> {
    let model = LdaModel::load(model_path)?;
    let (mut corpus, name) = load(args)?;
    if let (Some(model_vocab), Some(vocab)) = (&model.vocab, &corpus.vocab) {
        // Text (or a vocabulary file): map words by name, dropping unknown ones.
        let index: std::collections::HashMap<&str, u32> = model_vocab
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), i as u32))
            .collect();
        let mut unknown = 0u64;
        for doc in &mut corpus.docs {
            let mut mapped: Vec<(u32, u32)> = Vec::with_capacity(doc.len());
            for &(w, c) in doc.iter() {
                match index.get(vocab[w as usize].as_str()) {
                    Some(&m) => mapped.push((m, c)),
                    None => unknown += c as u64,
                }
            }
            mapped.sort_unstable();
            *doc = mapped;
        }
        if unknown > 0 {
            tracing::warn!(
                "{name}: {unknown} token(s) of words outside the model's vocabulary were ignored"
            );
        }
    } else if let Some(w) = corpus
        .docs
        .iter()
        .flatten()
        .map(|&(w, _)| w as usize)
        .find(|&w| w >= model.num_words())
    {
        return Err(AppError::Config(format!(
            "{name}: word id {w} is outside the vocabulary of the model {} ({} words)",
            model_path.display(),
            model.num_words()
        )));
    }
    let theta = serial::infer(&model, &corpus, args.config.iterations, args.config.seed);
    match &args.output {
        Some(dir) => {
            output_dir(dir)?;
            write_doc_topics(&dir.join("doc_topics.tsv"), &theta)
        }
        None => write_theta(&mut std::io::stdout().lock(), &theta)
            .map_err(|e| AppError::Config(format!("cannot print: {e}"))),
    }
}
