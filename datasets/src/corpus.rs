//! Bag-of-words corpora for topic models: UCI "Bag of Words" (`docword.*.txt`), LDA-C
//! (`.ldac`) and plain text, plain or gzip, read whole into a [`Corpus`] (a topic model
//! samples every token every sweep, so every rank keeps the corpus it works on).
//!
//! - **UCI**: three header lines D, W, NNZ, then NNZ lines `docID wordID count` (1-based).
//!   Documents absent from the body are empty. The header is checked against the body.
//! - **LDA-C**: one document a line, `N id:count ...` with 0-based word ids and N the
//!   number of pairs.
//! - **Text**: one document a line; the first `skip_fields` whitespace-separated fields
//!   are dropped (a URL and a label, say), the rest is lowercased and split on
//!   non-alphanumeric characters; stop words are dropped, then words seen fewer than
//!   `min_count` times in the corpus. Word ids follow first appearance.
//!
//! Every error names the file and, where a line is at fault, its 1-based line number.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::DatasetError;
use crate::source::Source;
use crate::text::{Tokens, parse_uint, show_line, show_token};

/// A bag-of-words corpus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Corpus {
    /// Per document: (word id, count) with count >= 1, word ids distinct and ascending,
    /// ids below `num_words`.
    pub docs: Vec<Vec<(u32, u32)>>,
    /// Vocabulary size V.
    pub num_words: usize,
    /// The word strings (`num_words` of them) when known.
    pub vocab: Option<Vec<String>>,
}

impl Corpus {
    /// Documents (empty ones included).
    pub fn num_docs(&self) -> usize {
        self.docs.len()
    }

    /// Tokens: the sum of all counts.
    pub fn num_tokens(&self) -> u64 {
        self.docs
            .iter()
            .flatten()
            .map(|&(_, c)| u64::from(c))
            .sum()
    }

    /// The vocabulary entry of word `w`, or its id as text.
    pub fn word_name(&self, w: u32) -> String {
        match self.vocab.as_ref().and_then(|v| v.get(w as usize)) {
            Some(word) => word.clone(),
            None => w.to_string(),
        }
    }
}

/// Corpus file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusFormat {
    /// UCI bag of words.
    Uci,
    /// LDA-C.
    Ldac,
    /// Plain text, one document a line.
    Text,
}

impl CorpusFormat {
    /// From the file name: `docword*` is UCI, `*.ldac` LDA-C, anything else text (`.gz`
    /// is looked through).
    pub fn detect(path: &Path) -> CorpusFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.starts_with("docword") {
            CorpusFormat::Uci
        } else if name.ends_with(".ldac") {
            CorpusFormat::Ldac
        } else {
            CorpusFormat::Text
        }
    }
}

/// Options of the text format.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// A file of stop words, one per line.
    pub stop_words: Option<PathBuf>,
    /// Drop words seen fewer times than this in the corpus.
    pub min_count: u64,
    /// Leading fields of each line that are not words.
    pub skip_fields: usize,
}

/// Reads a corpus, with an optional vocabulary file (one word per line; for UCI it must
/// have W lines, for LDA-C it fixes V).
///
/// # Errors
///
/// Unreadable files, malformed lines (file:line and reason), headers disagreeing with the
/// body, and [`DatasetError::EmptyCorpus`] when there is no token.
pub fn read_corpus(
    path: &Path,
    format: CorpusFormat,
    vocab: Option<&Path>,
    text: &TextOptions,
) -> Result<Corpus, DatasetError> {
    let vocab = vocab.map(|v| read_vocab(v).map(|words| (v, words))).transpose()?;
    let stop_words = match &text.stop_words {
        Some(p) => read_vocab(p)?.into_iter().map(|w| w.to_lowercase()).collect(),
        None => Vec::new(),
    };
    let mut corpus = parse(&Source::file(path)?, format, text, &stop_words)?;
    if let Some((vpath, words)) = vocab {
        attach_vocab(&mut corpus, path, format, vpath, words)?;
    }
    Ok(corpus)
}

/// Reads a corpus from memory; `name` stands for the file in errors.
///
/// # Errors
///
/// As [`read_corpus`].
pub fn read_corpus_bytes(
    name: &str,
    bytes: &[u8],
    format: CorpusFormat,
    text: &TextOptions,
) -> Result<Corpus, DatasetError> {
    parse(&Source::bytes(name, bytes), format, text, &[])
}

/// Reads a vocabulary: one word per line, surrounding blanks trimmed.
///
/// # Errors
///
/// An unreadable file, or an empty line (file:line).
pub fn read_vocab(path: &Path) -> Result<Vec<String>, DatasetError> {
    let source = Source::file(path)?;
    let mut lines = source.lines_from_start()?;
    let mut words = Vec::new();
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        let word = String::from_utf8_lossy(line).trim().to_string();
        if word.is_empty() {
            return Err(DatasetError::Parse {
                path: path.to_path_buf(),
                line: words.len() as u64 + 1,
                text: String::new(),
                reason: "empty line in a vocabulary (one word per line)".into(),
            });
        }
        words.push(word);
    }
    Ok(words)
}

fn attach_vocab(
    corpus: &mut Corpus,
    path: &Path,
    format: CorpusFormat,
    vocab_path: &Path,
    words: Vec<String>,
) -> Result<(), DatasetError> {
    let invalid = |reason: String| DatasetError::Invalid {
        path: vocab_path.to_path_buf(),
        reason,
    };
    match format {
        CorpusFormat::Uci if words.len() != corpus.num_words => Err(invalid(format!(
            "has {} words but {} says W = {}",
            words.len(),
            path.display(),
            corpus.num_words
        ))),
        CorpusFormat::Ldac if words.len() < corpus.num_words => Err(invalid(format!(
            "has {} words but {} uses word id {}",
            words.len(),
            path.display(),
            corpus.num_words - 1
        ))),
        CorpusFormat::Text => Err(invalid(
            "a text corpus makes its own vocabulary; --vocab applies to UCI and LDA-C".into(),
        )),
        _ => {
            corpus.num_words = words.len();
            corpus.vocab = Some(words);
            Ok(())
        }
    }
}

/// An error at line `line` of `source`.
fn at(source: &Source<'_>, line: u64, text: &[u8], reason: String) -> DatasetError {
    DatasetError::Parse {
        path: source.name().to_path_buf(),
        line,
        text: show_line(text),
        reason,
    }
}

fn parse(
    source: &Source<'_>,
    format: CorpusFormat,
    text: &TextOptions,
    stop_words: &[String],
) -> Result<Corpus, DatasetError> {
    let corpus = match format {
        CorpusFormat::Uci => parse_uci(source)?,
        CorpusFormat::Ldac => parse_ldac(source)?,
        CorpusFormat::Text => parse_text(source, text, stop_words)?,
    };
    if corpus.num_tokens() == 0 {
        return Err(DatasetError::EmptyCorpus {
            path: source.name().to_path_buf(),
        });
    }
    Ok(corpus)
}

/// Sorts a document's pairs and rejects a repeated word.
fn finish_doc(pairs: &mut [(u32, u32)]) -> Result<(), u32> {
    pairs.sort_unstable();
    match pairs.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(w) => Err(w[0].0),
        None => Ok(()),
    }
}

fn parse_count(token: &[u8]) -> Result<u32, String> {
    let count = parse_uint(token, "count").map_err(|_| {
        format!(
            "count `{}` is not a positive whole number",
            show_token(token)
        )
    })?;
    match u32::try_from(count) {
        Ok(0) => Err("count 0: every listed word must occur at least once".into()),
        Ok(c) => Ok(c),
        Err(_) => Err(format!("count {count} is too large")),
    }
}

fn parse_uci(source: &Source<'_>) -> Result<Corpus, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut number = 0u64;
    let mut header = [0u64; 3];
    let names = ["D (documents)", "W (words)", "NNZ (entries)"];
    for (slot, name) in header.iter_mut().zip(names) {
        let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? else {
            return Err(DatasetError::Invalid {
                path: source.name().to_path_buf(),
                reason: format!("ends before the header line {name}"),
            });
        };
        number += 1;
        let mut tokens = Tokens::new(line);
        *slot = match (tokens.next(), tokens.next()) {
            (Some(t), None) => parse_uint(t, "header value").map_err(|r| at(source, number, line, r))?,
            _ => {
                return Err(at(
                    source,
                    number,
                    line,
                    format!("expected the header value {name}, one number"),
                ));
            }
        };
    }
    let [d, w, nnz] = header;
    if w > u64::from(u32::MAX) || d > 1 << 40 {
        return Err(at(source, 2, b"", format!("header D = {d}, W = {w} is too large")));
    }
    let mut docs: Vec<Vec<(u32, u32)>> = vec![Vec::new(); d as usize];
    let mut entries = 0u64;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let mut tokens = Tokens::new(line);
        let Some(first) = tokens.next() else {
            continue;
        };
        let fail = |reason: String| at(source, number, line, reason);
        let (Some(word), Some(count), None) = (tokens.next(), tokens.next(), tokens.next()) else {
            return Err(fail("expected `docID wordID count`".into()));
        };
        let doc = parse_uint(first, "document id").map_err(&fail)?;
        let word = parse_uint(word, "word id").map_err(&fail)?;
        if doc == 0 || doc > d {
            return Err(fail(format!("document id {doc} is outside 1..={d} (the header's D)")));
        }
        if word == 0 || word > w {
            return Err(fail(format!("word id {word} is outside 1..={w} (the header's W)")));
        }
        let count = parse_count(count).map_err(&fail)?;
        entries += 1;
        if entries > nnz {
            return Err(fail(format!(
                "the header says NNZ = {nnz} entries but the body has more"
            )));
        }
        docs[doc as usize - 1].push((word as u32 - 1, count));
    }
    if entries != nnz {
        return Err(DatasetError::Invalid {
            path: source.name().to_path_buf(),
            reason: format!("the header says NNZ = {nnz} entries but the body has {entries}"),
        });
    }
    for (i, doc) in docs.iter_mut().enumerate() {
        if let Err(word) = finish_doc(doc) {
            return Err(DatasetError::Invalid {
                path: source.name().to_path_buf(),
                reason: format!("document {} lists word {} twice", i + 1, word + 1),
            });
        }
    }
    Ok(Corpus {
        docs,
        num_words: w as usize,
        vocab: None,
    })
}

fn parse_ldac(source: &Source<'_>) -> Result<Corpus, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut number = 0u64;
    let mut docs = Vec::new();
    let mut num_words = 0usize;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let fail = |reason: String| at(source, number, line, reason);
        let mut tokens = Tokens::new(line);
        let Some(first) = tokens.next() else {
            continue;
        };
        let n = parse_uint(first, "number of pairs").map_err(&fail)?;
        let mut pairs = Vec::new();
        for token in tokens {
            let Some(colon) = token.iter().position(|&b| b == b':') else {
                return Err(fail(format!("expected `word:count`, found `{}`", show_token(token))));
            };
            let word = parse_uint(&token[..colon], "word id").map_err(&fail)?;
            let word = u32::try_from(word).map_err(|_| fail(format!("word id {word} is too large")))?;
            let count = parse_count(&token[colon + 1..]).map_err(&fail)?;
            num_words = num_words.max(word as usize + 1);
            pairs.push((word, count));
        }
        if pairs.len() as u64 != n {
            return Err(fail(format!(
                "the line says {n} pairs but lists {}",
                pairs.len()
            )));
        }
        finish_doc(&mut pairs).map_err(|w| fail(format!("word {w} appears twice")))?;
        docs.push(pairs);
    }
    Ok(Corpus {
        docs,
        num_words,
        vocab: None,
    })
}

fn parse_text(
    source: &Source<'_>,
    options: &TextOptions,
    stop_words: &[String],
) -> Result<Corpus, DatasetError> {
    let stop: std::collections::HashSet<&str> = stop_words.iter().map(String::as_str).collect();
    let mut lines = source.lines_from_start()?;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut words: Vec<String> = Vec::new();
    let mut frequency: Vec<u64> = Vec::new();
    let mut raw_docs: Vec<Vec<u32>> = Vec::new();
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        let mut tokens = Tokens::new(line);
        for _ in 0..options.skip_fields {
            tokens.next();
        }
        let rest: Vec<&[u8]> = tokens.collect();
        let text = String::from_utf8_lossy(&rest.join(&b' ')).to_lowercase();
        let mut doc = Vec::new();
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            if stop.contains(word) {
                continue;
            }
            let id = *ids.entry(word.to_string()).or_insert_with(|| {
                words.push(word.to_string());
                frequency.push(0);
                words.len() as u32 - 1
            });
            frequency[id as usize] += 1;
            doc.push(id);
        }
        raw_docs.push(doc);
    }
    // Keep words seen at least `min_count` times, renumbered in order of first appearance.
    let mut new_id = vec![u32::MAX; words.len()];
    let mut vocab = Vec::new();
    for (id, word) in words.into_iter().enumerate() {
        if frequency[id] >= options.min_count {
            new_id[id] = vocab.len() as u32;
            vocab.push(word);
        }
    }
    let docs = raw_docs
        .into_iter()
        .map(|doc| {
            let mut kept: Vec<u32> = doc
                .into_iter()
                .map(|w| new_id[w as usize])
                .filter(|&w| w != u32::MAX)
                .collect();
            kept.sort_unstable();
            let mut pairs: Vec<(u32, u32)> = Vec::new();
            for w in kept {
                match pairs.last_mut() {
                    Some((last, c)) if *last == w => *c += 1,
                    _ => pairs.push((w, 1)),
                }
            }
            pairs
        })
        .collect();
    Ok(Corpus {
        docs,
        num_words: vocab.len(),
        vocab: Some(vocab),
    })
}

/// Writes `corpus` in UCI format (gzip when the name ends in `.gz`), to a temporary name
/// renamed when complete.
///
/// # Errors
///
/// [`DatasetError::Write`] when the file cannot be written.
pub fn write_uci(corpus: &Corpus, path: &Path) -> Result<(), DatasetError> {
    let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let body = |w: &mut dyn Write| -> std::io::Result<()> {
        let nnz: usize = corpus.docs.iter().map(Vec::len).sum();
        writeln!(w, "{}\n{}\n{nnz}", corpus.num_docs(), corpus.num_words)?;
        for (d, doc) in corpus.docs.iter().enumerate() {
            for &(word, count) in doc {
                writeln!(w, "{} {} {count}", d + 1, word + 1)?;
            }
        }
        Ok(())
    };
    gasket_engine::output::write_atomically(path, |w| {
        if gz {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::fast());
            body(&mut enc)?;
            enc.finish()?;
            Ok(())
        } else {
            body(w)
        }
    })
    .map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uci(text: &str) -> Result<Corpus, DatasetError> {
        read_corpus_bytes("docword.t.txt", text.as_bytes(), CorpusFormat::Uci, &TextOptions::default())
    }

    #[test]
    fn reads_the_three_formats() {
        let c = uci("3\n4\n3\n1 2 3\n1 1 1\n3 4 2\n").unwrap();
        assert_eq!(c.docs, vec![vec![(0, 1), (1, 3)], vec![], vec![(3, 2)]]);
        assert_eq!((c.num_words, c.num_tokens()), (4, 6));
        let l = read_corpus_bytes("c.ldac", b"2 3:1 0:2\n\n1 1:4\n", CorpusFormat::Ldac, &TextOptions::default()).unwrap();
        assert_eq!(l.docs, vec![vec![(0, 2), (3, 1)], vec![(1, 4)]]);
        assert_eq!(l.num_words, 4);
        let opts = TextOptions {
            skip_fields: 1,
            min_count: 2,
            ..TextOptions::default()
        };
        let t = read_corpus_bytes("t.txt", "u1 The cat, the HAT!\nu2 cat dog\nu3\n".as_bytes(), CorpusFormat::Text, &opts).unwrap();
        assert_eq!(t.vocab, Some(vec!["the".to_string(), "cat".to_string()]));
        assert_eq!(t.docs, vec![vec![(0, 2), (1, 1)], vec![(1, 1)], vec![]]);
    }

    #[test]
    fn bad_input_names_the_line() {
        for (text, needle) in [
            ("2\n3\n3\n1 1 2\n2 3 1\n", "NNZ = 3 entries but the body has 2"),
            ("2\n3\n1\n1 1 2\n2 3 1\n", "docword.t.txt:5: the header says NNZ = 1"),
            ("2\n3\n2\n1 1 2\n2 4 1\n", "docword.t.txt:5: word id 4 is outside 1..=3"),
            ("2\n3\n2\n3 1 2\n2 3 1\n", "docword.t.txt:4: document id 3 is outside"),
            ("2\n3\n2\n1 1 0\n2 3 1\n", "docword.t.txt:4: count 0"),
            ("2\n3\n2\n1 1 -2\n2 3 1\n", "docword.t.txt:4: count `-2`"),
            ("2\n3\n2\n1 1 2\n1 1 1\n", "lists word 1 twice"),
            ("2\nx\n", "docword.t.txt:2"),
        ] {
            let e = uci(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        for (text, needle) in [
            ("2 0:1\n", "c.ldac:1: the line says 2 pairs but lists 1"),
            ("1 0-1\n", "c.ldac:1: expected `word:count`"),
            ("2 0:1 0:2\n", "c.ldac:1: word 0 appears twice"),
            ("1 0:0\n", "c.ldac:1: count 0"),
        ] {
            let e = read_corpus_bytes("c.ldac", text.as_bytes(), CorpusFormat::Ldac, &TextOptions::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        let e = uci("2\n3\n0\n").unwrap_err().to_string();
        assert!(e.contains("contains no tokens"), "{e}");
    }

    #[test]
    fn uci_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = uci("3\n4\n3\n1 2 3\n1 1 1\n3 4 2\n").unwrap();
        for name in ["docword.a.txt", "docword.b.txt.gz"] {
            let path = dir.path().join(name);
            write_uci(&c, &path).unwrap();
            let back = read_corpus(&path, CorpusFormat::detect(&path), None, &TextOptions::default()).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn real_corpora_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets");
        let kos = dir.join("docword.kos.txt.gz");
        if !kos.is_file() {
            eprintln!("shared data sets absent: skipping");
            return;
        }
        let c = read_corpus(&kos, CorpusFormat::detect(&kos), None, &TextOptions::default()).unwrap();
        assert_eq!((c.num_docs(), c.num_words, c.num_tokens()), (3430, 6906, 467_714));
        let r = read_corpus(&dir.join("reuters.ldac"), CorpusFormat::Ldac, Some(&dir.join("reuters.tokens")), &TextOptions::default()).unwrap();
        assert_eq!((r.num_docs(), r.num_words, r.num_tokens()), (395, 4258, 84_010));
        let opts = TextOptions {
            skip_fields: 2,
            ..TextOptions::default()
        };
        let y = read_corpus(&dir.join("ydir_1k.txt.gz"), CorpusFormat::Text, None, &opts).unwrap();
        assert_eq!(y.num_docs(), 1000);
    }
}
