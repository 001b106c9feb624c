//! `gasket lda` and its library: both samplers recover the topics of a corpus drawn from
//! known ones and follow the sequential sampler's log-likelihood; on one rank and one
//! thread both samplers' chains are the sequential ones bit for bit, every token's topic
//! and every count; counts stay equal to the sums over assignments on 1, 2 and 4 ranks; a
//! fixed seed on one rank reproduces a run; real corpora in every format run end to end
//! with model, inference and outputs; every class of bad input is a clear error with exit
//! code 2.

use std::collections::HashMap;
use std::sync::Mutex;

use gasket_apps::lda::{self, CorpusGraph, LdaConfig, LdaReport, Sampler, Topics, WORD_BASE};
use gasket_apps::run::run_on_ranks;
use gasket_datasets::generate::LdaCorpusConfig;
use gasket_datasets::{
    Corpus, CorpusFormat, SyntheticCorpus, TextOptions, lda_corpus, read_corpus,
};
use gasket_engine::{Backend, LocalId, VertexId};
use gasket_partitioning::Partitioning;
use gasket_tests::{gasket, on_ranks, shared_dataset};

fn known_topics() -> SyntheticCorpus {
    lda_corpus(&LdaCorpusConfig {
        docs: 400,
        words: 60,
        topics: 4,
        doc_length: 80,
        alpha: 0.2,
        beta: 0.05,
        seed: 11,
    })
    .unwrap()
}

fn config(sampler: Sampler, topics: usize, iterations: usize) -> LdaConfig {
    LdaConfig {
        topics,
        iterations,
        alpha: 0.2,
        beta: 0.05,
        sampler,
        seed: 3,
        ..LdaConfig::default()
    }
}

/// Runs the engine on `ranks` thread ranks; every vertex's counts and the report.
fn train(
    corpus: &Corpus,
    config: &LdaConfig,
    ranks: usize,
) -> (Vec<(VertexId, Topics)>, LdaReport) {
    let source = CorpusGraph {
        corpus,
        name: "test corpus",
        topics: config.topics,
        seed: config.seed,
    };
    let out = run_on_ranks(
        Backend::Threads(ranks),
        &source,
        &Partitioning::default(),
        false,
        |comm, g| Ok(lda::run(config, corpus, comm, g, false)?),
    )
    .unwrap()
    .expect("thread ranks return rank 0's view");
    (out.values, out.extra.app)
}

/// Topic-word distributions `phi_kw = (n_kw + b) / (n_k + V b)` from the word vertices.
fn phi(values: &[(VertexId, Topics)], k: usize, v: usize, beta: f64) -> Vec<Vec<f64>> {
    let mut counts = vec![vec![0f64; v]; k];
    for (id, t) in values {
        if let Some(w) = id.checked_sub(WORD_BASE) {
            for (topic, c) in t.nonzero() {
                counts[topic as usize][w as usize] = c as f64;
            }
        }
    }
    counts
        .into_iter()
        .map(|row| {
            let den: f64 = row.iter().sum::<f64>() + v as f64 * beta;
            row.iter().map(|c| (c + beta) / den).collect()
        })
        .collect()
}

/// The smallest mean L1 distance between learned and true topics over all matchings.
fn matched_l1(learned: &[Vec<f64>], truth: &[Vec<f64>]) -> f64 {
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                all.push(q);
            }
        }
        all
    }
    let l1 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>();
    permutations(truth.len())
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .map(|(i, &j)| l1(&learned[i], &truth[j]))
                .sum::<f64>()
                / truth.len() as f64
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn both_samplers_recover_known_topics_and_track_the_sequential_sampler() {
    let data = known_topics();
    let corpus = &data.corpus;
    // Long enough for every chain to settle: the fast sampler's Metropolis-Hastings steps
    // mix more slowly per sweep than exact draws, but sample the same distribution.
    let iterations = 150;
    let reference = lda::serial::gibbs(&config(Sampler::Plain, 4, iterations), corpus);
    let tokens = corpus.num_tokens() as f64;
    let serial_final = reference.loglik[iterations] / tokens;
    let mut finals = Vec::new();
    for sampler in [Sampler::Plain, Sampler::Fast] {
        let cfg = config(sampler, 4, iterations);
        let (values, report) = train(corpus, &cfg, 2);
        let learned = phi(&values, 4, corpus.num_words, cfg.beta);
        let distance = matched_l1(&learned, &data.topics);
        assert!(
            distance < 0.25,
            "{sampler:?}: mean L1 distance to the true topics {distance}"
        );
        assert_eq!(report.iterations.len(), iterations + 1);
        // The initial state is the same for every sampler and the sequential one.
        let initial = report.iterations[0].loglik;
        assert!(
            (initial - reference.loglik[0]).abs() < 1e-6 * initial.abs(),
            "{sampler:?}: initial log-likelihood {initial} vs {}",
            reference.loglik[0]
        );
        let last = report.iterations[iterations].loglik_per_token;
        assert!(
            (last - serial_final).abs() < 0.01 * serial_final.abs(),
            "{sampler:?}: final log-likelihood/token {last} vs sequential {serial_final}"
        );
        // It improved on the random start.
        assert!(last > report.iterations[0].loglik_per_token + 0.2);
        finals.push(last);
    }
    assert!(
        (finals[0] - finals[1]).abs() < 0.01 * finals[0].abs(),
        "plain {} vs fast {}",
        finals[0],
        finals[1]
    );
}

/// The topics of every token after a run: `(document, word)` -> the topics of that word's
/// tokens in the document, in occurrence order.
type Assignments = HashMap<(u64, u64), Vec<u32>>;

/// Runs the engine on one thread rank and returns every vertex's counts, the report, and
/// the topic of every token, read from the edges of the rank's graph after the run.
fn train_keeping_assignments(
    corpus: &Corpus,
    config: &LdaConfig,
) -> (Vec<(VertexId, Topics)>, LdaReport, Assignments) {
    let source = CorpusGraph {
        corpus,
        name: "test corpus",
        topics: config.topics,
        seed: config.seed,
    };
    let assignments = Mutex::new(Assignments::new());
    let out = run_on_ranks(
        Backend::Threads(1),
        &source,
        &Partitioning::default(),
        false,
        |comm, g| {
            let run = lda::run(config, corpus, comm, g, false)?;
            let mut tokens = assignments.lock().unwrap();
            for v in 0..g.num_owned() as LocalId {
                let doc = g.global_id(v);
                if doc >= WORD_BASE {
                    continue;
                }
                for e in g.out_csr().range(v) {
                    let word = g.global_id(g.out_csr().neighbors[e]) - WORD_BASE;
                    let previous = tokens.insert((doc, word), g.out_edge(e).0.to_vec());
                    assert!(previous.is_none(), "edge ({doc}, {word}) twice");
                }
            }
            Ok(run)
        },
    )
    .unwrap()
    .expect("thread ranks return rank 0's view");
    let assignments = assignments.into_inner().unwrap();
    (out.values, out.extra.app, assignments)
}

/// Whether this process is the one-thread child of
/// `one_rank_one_thread_is_the_sequential_chain_bit_for_bit`.
const ONE_THREAD_CHILD: &str = "GASKET_TEST_LDA_ONE_THREAD_CHILD";

/// README: "with one rank and one thread the chain is exactly the sequential sampler".
/// The engine on one rank with a worker pool of one thread (one scatter task resamples
/// every document and sees its own changes at once) against `lda::serial::chain`, a plain
/// sequential loop over documents and tokens with its own dense counts, its own draw and
/// alias tables, and the random stream the engine documents for each (document, sweep):
/// every token's topic, every document-topic and word-topic count, the topic totals, the
/// Metropolis-Hastings proposal and acceptance counts (fast) are compared bit for bit, for
/// both samplers, on the bundled Reuters corpus (K = 20: three groups of the two-level
/// draw, the last one partial) and a synthetic one (K = 5, one partial group).
///
/// The test runs itself again in a child process with `RAYON_NUM_THREADS=1`, which sizes
/// that process's global pool, the one thread ranks run their workers on.
#[test]
fn one_rank_one_thread_is_the_sequential_chain_bit_for_bit() {
    const NAME: &str = "one_rank_one_thread_is_the_sequential_chain_bit_for_bit";
    if std::env::var_os(ONE_THREAD_CHILD).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--nocapture", "--test-threads", "1"])
            .env("RAYON_NUM_THREADS", "1")
            .env(ONE_THREAD_CHILD, "1")
            .output()
            .expect("running this test again in a child process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "the one-thread run failed:\n{stdout}\n{stderr}"
        );
        eprint!("{stderr}");
        return;
    }
    let reuters = read_corpus(
        &shared_dataset("reuters.ldac.gz"),
        CorpusFormat::Ldac,
        None,
        &TextOptions::default(),
    )
    .expect("the bundled Reuters corpus");
    let synthetic = lda_corpus(&LdaCorpusConfig {
        docs: 150,
        words: 40,
        topics: 4,
        doc_length: 60,
        alpha: 0.2,
        beta: 0.05,
        seed: 8,
    })
    .unwrap()
    .corpus;
    for (name, corpus, k) in [("reuters", &reuters, 20), ("synthetic", &synthetic, 5)] {
        for sampler in [Sampler::Plain, Sampler::Fast] {
            let config = LdaConfig {
                topics: k,
                iterations: 4,
                alpha: 0.1,
                beta: 0.01,
                sampler,
                mh_steps: 2,
                seed: 17,
                ..LdaConfig::default()
            };
            let what = format!("{name}, {sampler:?}, K = {k}");
            let (values, report, tokens) = train_keeping_assignments(corpus, &config);
            let serial = lda::serial::chain(&config, corpus);

            // Every token's topic.
            let entries: usize = corpus.docs.iter().map(Vec::len).sum();
            assert_eq!(tokens.len(), entries, "{what}: edges");
            let mut differ = Vec::new();
            let mut changed = 0u64;
            for (d, doc) in corpus.docs.iter().enumerate() {
                for (e, &(w, c)) in doc.iter().enumerate() {
                    let got = &tokens[&(d as u64, w as u64)];
                    let expect = &serial.topics[d][e];
                    assert_eq!(got.len(), c as usize, "{what}: tokens of ({d}, {w})");
                    if got != expect {
                        differ.push((d, w, got.clone(), expect.clone()));
                    }
                    changed += (0..c as u64)
                        .filter(|&j| {
                            expect[j as usize]
                                != lda::initial_topic(config.seed, d as u64, w as u64, j, k)
                        })
                        .count() as u64;
                }
            }
            assert!(
                differ.is_empty(),
                "{what}: {} of {entries} (document, word) pairs have other topics than the \
                 sequential chain's, first (doc, word, engine, sequential): {:?}",
                differ.len(),
                &differ[..differ.len().min(5)]
            );
            // The chain moved: the comparison is not of two untouched initial states.
            assert!(
                changed > corpus.num_tokens() / 4,
                "{what}: only {changed} tokens changed topic"
            );

            // Every count, and the totals.
            let mut seen_docs = 0;
            let mut seen_words = 0;
            let mut totals = vec![0u32; k];
            for (id, t) in &values {
                let dense = |pairs: Vec<(u32, u32)>| {
                    let mut row = vec![0u32; k];
                    for (topic, c) in pairs {
                        row[topic as usize] = c;
                    }
                    row
                };
                match (id.checked_sub(WORD_BASE), t) {
                    (Some(w), Topics::Word(word)) => {
                        let w = w as usize;
                        let expect = &serial.word_topic[w * k..(w + 1) * k];
                        assert_eq!(word.counts, expect, "{what}: counts of word {w}");
                        assert_eq!(
                            word.total,
                            expect.iter().sum::<u32>(),
                            "{what}: total of word {w}"
                        );
                        for (sum, c) in totals.iter_mut().zip(&word.counts) {
                            *sum += c;
                        }
                        seen_words += 1;
                    }
                    (None, Topics::Doc(_)) => {
                        let d = *id as usize;
                        let expect = &serial.doc_topic[d * k..(d + 1) * k];
                        assert_eq!(dense(t.nonzero()), expect, "{what}: counts of doc {d}");
                        seen_docs += 1;
                    }
                    _ => panic!("{what}: vertex {id} holds {t:?}"),
                }
            }
            assert_eq!(seen_docs, corpus.num_docs(), "{what}");
            let used_words = serial
                .word_topic
                .chunks(k)
                .filter(|r| r.iter().any(|&c| c > 0));
            assert_eq!(seen_words, used_words.count(), "{what}");
            assert_eq!(totals, serial.totals, "{what}: topic totals");

            // The fast sampler's proposals and acceptances, one by one in number.
            assert_eq!(
                (report.proposed, report.accepted),
                (serial.proposed, serial.accepted),
                "{what}: proposals and acceptances"
            );
            if sampler == Sampler::Fast {
                assert!(serial.proposed > 0 && serial.accepted > 0, "{what}");
            }
            // Equal states have equal likelihoods (summed in another order).
            assert_eq!(report.iterations.len(), config.iterations + 1);
            for (p, &expect) in report.iterations.iter().zip(&serial.loglik) {
                assert!(
                    (p.loglik - expect).abs() <= 1e-9 * expect.abs(),
                    "{what}: sweep {}: log-likelihood {} vs {expect}",
                    p.iteration,
                    p.loglik
                );
            }
            eprintln!(
                "{what}: {} tokens, {changed} moved; engine and sequential chain equal \
                 bit for bit after {} sweeps",
                corpus.num_tokens(),
                config.iterations
            );
        }
    }
}

#[test]
fn counts_equal_the_sums_over_assignments_on_1_2_4_ranks() {
    let corpus = &known_topics().corpus;
    on_ranks(|ranks| {
        for sampler in [Sampler::Plain, Sampler::Fast] {
            let cfg = config(sampler, 5, 6);
            let (values, report) = train(corpus, &cfg, ranks);
            let mut doc_totals = vec![0u64; 5];
            let mut word_totals = vec![0u64; 5];
            let mut word_freq = vec![0u64; corpus.num_words];
            for doc in &corpus.docs {
                for &(w, c) in doc {
                    word_freq[w as usize] += c as u64;
                }
            }
            let mut docs_seen = 0;
            for (id, t) in &values {
                let into = match id.checked_sub(WORD_BASE) {
                    Some(w) => {
                        assert_eq!(t.total(), word_freq[w as usize], "word {w}");
                        &mut word_totals
                    }
                    None => {
                        let len: u64 = corpus.docs[*id as usize].iter().map(|p| p.1 as u64).sum();
                        assert_eq!(t.total(), len, "document {id}");
                        docs_seen += 1;
                        &mut doc_totals
                    }
                };
                let pairs = t.nonzero();
                assert_eq!(
                    pairs.iter().map(|p| p.1 as u64).sum::<u64>(),
                    t.total(),
                    "vertex {id}: per-topic counts do not add up to its total"
                );
                for (topic, c) in pairs {
                    into[topic as usize] += c as u64;
                }
            }
            assert_eq!(docs_seen, corpus.num_docs());
            assert_eq!(doc_totals, word_totals, "{sampler:?}");
            assert_eq!(doc_totals.iter().sum::<u64>(), corpus.num_tokens());
            assert_eq!(report.iterations.len(), 7);
        }
    });
}

#[test]
fn a_fixed_seed_on_one_rank_reproduces_the_run() {
    let corpus = &known_topics().corpus;
    for sampler in [Sampler::Plain, Sampler::Fast] {
        let cfg = config(sampler, 4, 5);
        let (a, ra) = train(corpus, &cfg, 1);
        let (b, rb) = train(corpus, &cfg, 1);
        assert_eq!(a, b, "{sampler:?}");
        let ll = |r: &LdaReport| r.iterations.iter().map(|p| p.loglik).collect::<Vec<_>>();
        assert_eq!(ll(&ra), ll(&rb));
        let other = LdaConfig {
            seed: 4,
            ..cfg.clone()
        };
        let (c, _) = train(corpus, &other, 1);
        assert_ne!(a, c, "{sampler:?}: another seed gave the same state");
    }
}

fn run_ok(args: &[&str]) -> String {
    let out = gasket(args);
    assert!(
        out.status.success(),
        "gasket {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn real_corpora_run_end_to_end_with_model_and_inference() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("reuters");
    let ldac = shared_dataset("reuters.ldac.gz");
    let tokens = shared_dataset("reuters.tokens");
    let stdout = run_ok(&[
        "lda",
        "--input",
        ldac.to_str().unwrap(),
        "--vocab",
        tokens.to_str().unwrap(),
        "-k",
        "5",
        "--iterations",
        "8",
        "--ranks",
        "2",
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("395 documents, 4258 words, 84010 tokens"),
        "{stdout}"
    );
    assert!(stdout.contains("topic 4:"), "{stdout}");
    for file in ["model.txt", "loglik.tsv", "topics.txt", "doc_topics.tsv"] {
        assert!(out_dir.join(file).is_file(), "{file} missing");
    }
    let theta = std::fs::read_to_string(out_dir.join("doc_topics.tsv")).unwrap();
    let rows: Vec<&str> = theta.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows.len(), 395);
    for row in &rows {
        let sum: f64 = row
            .split('\t')
            .skip(1)
            .map(|x| x.parse::<f64>().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-3, "proportions sum to {sum}");
    }
    // Inference with the saved model on the same documents.
    let model = out_dir.join("model.txt");
    let inferred = run_ok(&[
        "lda",
        "--infer",
        model.to_str().unwrap(),
        "--input",
        ldac.to_str().unwrap(),
        "--vocab",
        tokens.to_str().unwrap(),
        "--iterations",
        "10",
    ]);
    assert_eq!(
        inferred.lines().filter(|l| !l.starts_with('#')).count(),
        395
    );
}

/// The shared data sets are not bundled (too large); this test runs where they are present
/// (`../shared/datasets`, or `GASKET_DATASETS`), as `.ci/run` does with `--ignored`.
#[test]
#[ignore = "needs the shared data sets docword.kos.txt.gz and ydir_1k.txt.gz"]
fn shared_corpora_run_end_to_end() {
    // UCI (KOS, a few sweeps) and text (ydir, url and category skipped).
    let kos = shared_dataset("docword.kos.txt.gz");
    let kos = kos.to_str().unwrap();
    let stdout = run_ok(&["lda", "-i", kos, "-k", "4", "--iterations", "2"]);
    assert!(
        stdout.contains("3430 documents, 6906 words, 467714 tokens"),
        "{stdout}"
    );
    let ydir = shared_dataset("ydir_1k.txt.gz");
    let stdout = run_ok(&[
        "lda",
        "-i",
        ydir.to_str().unwrap(),
        "--format",
        "text",
        "--skip-fields",
        "2",
        "--min-count",
        "3",
        "-k",
        "4",
        "--iterations",
        "2",
        "--sampler",
        "plain",
    ]);
    assert!(stdout.contains("1000 documents"), "{stdout}");
}

fn fails_with(args: &[&str], needle: &str) {
    let out = gasket(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "gasket {args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "gasket {args:?}: expected `{needle}` in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let nnz = write("docword.nnz.txt", "2\n3\n3\n1 1 2\n2 3 1\n");
    fails_with(&["lda", "-i", &nnz], "docword.nnz.txt");
    let range = write("docword.range.txt", "2\n3\n2\n1 1 2\n2 4 1\n");
    fails_with(&["lda", "-i", &range], "docword.range.txt:5");
    let zero = write("docword.zero.txt", "2\n3\n2\n1 1 0\n2 3 1\n");
    fails_with(&["lda", "-i", &zero], "docword.zero.txt:4");
    let negative = write("docword.neg.txt", "2\n3\n2\n1 1 -2\n2 3 1\n");
    fails_with(&["lda", "-i", &negative], "docword.neg.txt:4");
    let ldac = write("c.ldac", "2 0:1 1:2\n3 0:1\n");
    fails_with(&["lda", "-i", &ldac], "c.ldac:2");
    let empty = write("empty.txt", "\n\n");
    fails_with(&["lda", "-i", &empty, "--format", "text"], "no tokens");
    let good = write("docword.good.txt", "2\n3\n2\n1 1 2\n2 3 1\n");
    fails_with(&["lda", "-i", &good, "-k", "0"], "--topics");
    fails_with(&["lda", "-i", &good, "--alpha=-1"], "--alpha");
    fails_with(&["lda", "--synthetic", "10,5,x,3"], "--synthetic");
    fails_with(&["lda"], "needs a corpus");
    let model = write(
        "model.txt",
        "gasket-lda-model 1\ntopics 2\nwords 3\nalpha 0.1\n",
    );
    fails_with(&["lda", "-i", &good, "--infer", &model], "model.txt");
    let not_model = write("notmodel.txt", "hello\n");
    fails_with(
        &["lda", "-i", &good, "--infer", &not_model],
        "notmodel.txt:1",
    );
}

/// `--threads` sizes the pool the ranks share: draws depend on the thread count, so
/// `--threads 3` repeats a run with `RAYON_NUM_THREADS=3` and differs from one thread.
#[test]
fn threads_flag_sizes_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, threads: Option<&str>, env: Option<&str>| -> Vec<u8> {
        let out = dir.path().join(name);
        let mut cmd = std::process::Command::new(gasket_tests::gasket_bin());
        cmd.args(["lda", "--synthetic", "400,300,5,60", "--iterations", "3"])
            .args(["--output", out.to_str().unwrap()])
            .env("GASKET_LOG", "warn")
            .env_remove("RAYON_NUM_THREADS");
        if let Some(t) = threads {
            cmd.args(["--threads", t]);
        }
        if let Some(t) = env {
            cmd.env("RAYON_NUM_THREADS", t);
        }
        let result = cmd.output().unwrap();
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        std::fs::read(out.join("model.txt")).unwrap()
    };
    let flag = run("flag", Some("3"), None);
    assert!(
        flag == run("env", None, Some("3")),
        "--threads 3 and RAYON_NUM_THREADS=3 wrote different models"
    );
    assert!(
        flag != run("one", Some("1"), None),
        "one thread wrote the model three did: the thread count would not matter"
    );
    fails_with(
        &["lda", "--synthetic", "40,30,3,10", "--threads", "0"],
        "--threads",
    );
}
