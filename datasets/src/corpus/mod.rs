//! Bag-of-words corpora for topic models, plain or gzip: UCI "Bag of Words"
//! (`docword.*.txt`), LDA-C (`.ldac`) and plain text, one document a line.
//!
//! - **UCI** ([`CorpusFormat::Uci`]): three header lines D, W, NNZ (positive integers),
//!   then NNZ lines `docID wordID count` with 1-based ids. Documents absent from the body
//!   are empty documents, so the corpus has exactly D of them. A vocabulary file
//!   (`vocab.*.txt`) must have exactly W lines.
//! - **LDA-C** ([`CorpusFormat::Ldac`]): one document a line, `N id:count ...` with
//!   0-based word ids and N the number of pairs; blank lines are skipped. V is the
//!   vocabulary's length when one is given (every id must be below it), else the largest
//!   id + 1.
//! - **Text** ([`CorpusFormat::Text`]): one document a line. The first `skip_fields`
//!   whitespace-separated fields are dropped (a URL and a label, say), the rest is
//!   lowercased and split on characters that are not Unicode alphanumeric; stop words are
//!   dropped, then words seen fewer than `min_count` times in the whole corpus. Word ids
//!   follow first appearance among the kept words; lines left without words are empty
//!   documents.
//!
//! Design: a corpus is read whole, on one thread, into per-document sorted `(word, count)`
//! pairs — a collapsed Gibbs sampler visits every token every sweep, so every rank keeps
//! the documents it samples in memory, and corpora that fit a topic model fit a
//! sequential parse. Reading shares the graph readers' machinery ([`Source`] for files,
//! bytes and transparent gzip, [`Lines`](crate::text::Lines) for block line reading, the
//! byte-level tokenizer and integer parser), and their error style: every error names the
//! file, and a line at fault is reported as [`DatasetError::Parse`] with its 1-based line
//! number and text. Checks that need the whole file (NNZ against the body, repeated
//! `(doc, word)` pairs in an unsorted UCI body) are made after the pass; only when one
//! fails is the file read again to find the line to blame, so the common path keeps no
//! line numbers. Counts are `u32`, and a document's total must fit one too (the topic
//! model counts a document's tokens in `u32`); totals are summed with checked arithmetic.

mod ldac;
mod text;
mod uci;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::DatasetError;
use crate::source::Source;
use crate::text::{parse_uint, show_line, show_token};

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
        self.docs.iter().flatten().map(|&(_, c)| u64::from(c)).sum()
    }

    /// The vocabulary entry of word `w`, or its id as text when there is no vocabulary.
    pub fn word_name(&self, w: u32) -> String {
        match self.vocab.as_ref().and_then(|v| v.get(w as usize)) {
            Some(word) => word.clone(),
            None => w.to_string(),
        }
    }
}

/// Corpus file formats; each may be gzip-compressed (recognised by its magic bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusFormat {
    /// UCI bag of words (`docword.*.txt`): three header lines D, W, NNZ (positive
    /// integers), then NNZ lines `docID wordID count` with 1-based ids. Documents absent
    /// from the body are empty; a vocabulary file must have exactly W lines.
    Uci,
    /// LDA-C (`.ldac`): one document a line, `N id:count ...` with 0-based word ids and N
    /// the number of pairs; blank lines are skipped. V is the vocabulary's length when one
    /// is given, else the largest id + 1.
    Ldac,
    /// Plain text, one document a line: the first [`TextOptions::skip_fields`] fields are
    /// dropped, the rest is lowercased and split on characters that are not Unicode
    /// alphanumeric; stop words are dropped, then words seen fewer than
    /// [`TextOptions::min_count`] times. Word ids follow first appearance among kept
    /// words; lines left without words are empty documents.
    Text,
}

impl CorpusFormat {
    /// Guesses the format from the file name alone: a name containing `docword` is UCI,
    /// one ending in `.ldac` is LDA-C, anything else is text. A trailing `.gz` is looked
    /// through and case is ignored.
    pub fn detect(path: &Path) -> CorpusFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.contains("docword") {
            CorpusFormat::Uci
        } else if name.ends_with(".ldac") {
            CorpusFormat::Ldac
        } else {
            CorpusFormat::Text
        }
    }
}

/// Options of the text format (ignored by the others).
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// A file of stop words, one per line (lowercased; blank lines and lines starting with
    /// `#` are skipped).
    pub stop_words: Option<PathBuf>,
    /// Drop words seen fewer times than this in the whole corpus (0 and 1 keep all).
    pub min_count: u64,
    /// Leading whitespace-separated fields of each line that are not text.
    pub skip_fields: usize,
}

/// A vocabulary file given with a UCI or LDA-C corpus.
struct Vocab<'v> {
    path: &'v Path,
    words: Vec<String>,
}

/// Reads a corpus file (plain or gzip, recognised by its magic bytes), with an optional
/// vocabulary file for UCI and LDA-C (one word per line; for UCI it must have W lines,
/// for LDA-C it fixes V and bounds the word ids).
///
/// # Errors
///
/// [`DatasetError::Io`] / [`DatasetError::Gzip`] for unreadable files;
/// [`DatasetError::Parse`] (file, line, reason) for a malformed line, a header that
/// disagrees with the body or with the vocabulary, a repeated word in a document or an
/// id out of range; [`DatasetError::Invalid`] for a vocabulary given with a text corpus or
/// a file that ends inside its header; [`DatasetError::EmptyCorpus`] when there is no
/// token at all.
pub fn read_corpus(
    path: &Path,
    format: CorpusFormat,
    vocab: Option<&Path>,
    text: &TextOptions,
) -> Result<Corpus, DatasetError> {
    let start = Instant::now();
    if format == CorpusFormat::Text
        && let Some(v) = vocab
    {
        return Err(DatasetError::Invalid {
            path: v.to_path_buf(),
            reason: "a text corpus makes its own vocabulary; a vocabulary file applies to \
                     UCI and LDA-C corpora only"
                .into(),
        });
    }
    let vocab = match vocab {
        Some(v) => Some(Vocab {
            path: v,
            words: read_vocab(v)?,
        }),
        None => None,
    };
    let source = Source::file(path)?;
    let corpus = parse(&source, format, vocab, text)?;
    tracing::info!(
        file = %path.display(),
        ?format,
        gzip = source.is_gzip(),
        docs = corpus.num_docs(),
        words = corpus.num_words,
        tokens = corpus.num_tokens(),
        seconds = start.elapsed().as_secs_f64(),
        "corpus read"
    );
    Ok(corpus)
}

/// Reads a corpus held in memory: plain text, or gzip when `bytes` start with the gzip
/// magic bytes. `name` stands for the file in errors. There is no vocabulary file (the
/// text format still builds its own, and still reads `text.stop_words` when set).
///
/// # Errors
///
/// As [`read_corpus`] (except the vocabulary's).
pub fn read_corpus_bytes(
    name: &str,
    bytes: &[u8],
    format: CorpusFormat,
    text: &TextOptions,
) -> Result<Corpus, DatasetError> {
    parse(&Source::bytes(name, bytes), format, None, text)
}

/// Reads a vocabulary: one word per line (plain or gzip), surrounding blanks trimmed; the
/// word on line `i` is word id `i - 1`.
///
/// # Errors
///
/// [`DatasetError::Io`] / [`DatasetError::Gzip`] when the file cannot be read, and
/// [`DatasetError::Parse`] for an empty line (file and line number).
pub fn read_vocab(path: &Path) -> Result<Vec<String>, DatasetError> {
    let source = Source::file(path)?;
    let mut lines = source.lines_from_start()?;
    let mut words = Vec::new();
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        let word = String::from_utf8_lossy(line).trim().to_string();
        if word.is_empty() {
            return Err(parse_error(
                &source,
                words.len() as u64 + 1,
                line,
                "empty line in a vocabulary (expected one word per line)".into(),
            ));
        }
        words.push(word);
    }
    Ok(words)
}

/// Reads a stop-word file: one word per line, trimmed and lowercased; blank lines and
/// `#` comment lines are skipped.
fn read_stop_words(path: &Path) -> Result<HashSet<String>, DatasetError> {
    let source = Source::file(path)?;
    let mut lines = source.lines_from_start()?;
    let mut words = HashSet::new();
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        let word = String::from_utf8_lossy(line).trim().to_lowercase();
        if !word.is_empty() && !word.starts_with('#') {
            words.insert(word);
        }
    }
    Ok(words)
}

/// Parses `source`, attaches the vocabulary and rejects a corpus without tokens.
fn parse(
    source: &Source<'_>,
    format: CorpusFormat,
    vocab: Option<Vocab<'_>>,
    options: &TextOptions,
) -> Result<Corpus, DatasetError> {
    let mut corpus = match format {
        CorpusFormat::Uci => uci::parse(source, vocab.as_ref())?,
        CorpusFormat::Ldac => ldac::parse(source, vocab.as_ref())?,
        CorpusFormat::Text => {
            let stop = match &options.stop_words {
                Some(p) => read_stop_words(p)?,
                None => HashSet::new(),
            };
            text::parse(source, options, &stop)?
        }
    };
    if let Some(v) = vocab {
        // The parsers have checked the ids against the vocabulary's length.
        corpus.num_words = v.words.len();
        corpus.vocab = Some(v.words);
    }
    if corpus.docs.iter().all(Vec::is_empty) {
        return Err(DatasetError::EmptyCorpus {
            path: source.name().to_path_buf(),
        });
    }
    Ok(corpus)
}

/// A parse error at 1-based line `line` of `source`.
fn parse_error(source: &Source<'_>, line: u64, text: &[u8], reason: String) -> DatasetError {
    DatasetError::Parse {
        path: source.name().to_path_buf(),
        line,
        text: show_line(text),
        reason,
    }
}

/// A parse error at line `line` of `source`, whose text is fetched by reading the input
/// again (the error path of checks made after the pass).
fn parse_error_reread(source: &Source<'_>, line: u64, reason: String) -> DatasetError {
    let mut lines = match source.lines_from_start() {
        Ok(lines) => lines,
        Err(e) => return e,
    };
    let mut number = 0u64;
    loop {
        match lines.next_line() {
            Ok(Some((_, text))) => {
                number += 1;
                if number == line {
                    return parse_error(source, line, text, reason);
                }
            }
            Ok(None) => return parse_error(source, line, b"", reason),
            Err(e) => return source.read_error(e),
        }
    }
}

/// Parses a token count: a whole number in `1..=u32::MAX`.
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
        Err(_) => Err(format!(
            "count {count} is too large (at most {} per word and document)",
            u32::MAX
        )),
    }
}

/// Sorts a document's pairs by word; the first repeated word is an error.
fn sort_pairs(pairs: &mut [(u32, u32)]) -> Result<(), u32> {
    if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
        pairs.sort_unstable();
    }
    match pairs.windows(2).find(|w| w[0].0 == w[1].0) {
        Some(w) => Err(w[0].0),
        None => Ok(()),
    }
}

/// A document's token total, if it fits a `u32`.
fn doc_total(pairs: &[(u32, u32)]) -> Option<u32> {
    pairs
        .iter()
        .try_fold(0u32, |sum, &(_, c)| sum.checked_add(c))
}

/// Turns a document's word ids (in any order) into sorted `(word, count)` pairs; `None`
/// when the document has more than `u32::MAX` tokens.
pub(crate) fn bag_of_words(tokens: &mut [u32]) -> Option<Vec<(u32, u32)>> {
    u32::try_from(tokens.len()).ok()?;
    tokens.sort_unstable();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for &w in tokens.iter() {
        match pairs.last_mut() {
            Some((last, c)) if *last == w => *c += 1,
            _ => pairs.push((w, 1)),
        }
    }
    Some(pairs)
}

/// Checks that `corpus` can be written as a valid file: ids ascending and below
/// `num_words`, counts positive, totals within `u32`.
fn check_writable(corpus: &Corpus, path: &Path) -> Result<(), DatasetError> {
    let invalid = |reason: String| DatasetError::Invalid {
        path: path.to_path_buf(),
        reason: format!("cannot write the corpus: {reason}"),
    };
    if u32::try_from(corpus.num_words).is_err() {
        return Err(invalid(format!(
            "{} words exceed u32 ids",
            corpus.num_words
        )));
    }
    for (d, doc) in corpus.docs.iter().enumerate() {
        if let Some(w) = doc.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(invalid(format!(
                "document {d}: word ids {} and {} are not ascending and distinct",
                w[0].0, w[1].0
            )));
        }
        if let Some(&(w, c)) = doc
            .iter()
            .find(|&&(w, c)| w as usize >= corpus.num_words || c == 0)
        {
            return Err(invalid(format!(
                "document {d}: pair ({w}, {c}) has a word id not below {} or a zero count",
                corpus.num_words
            )));
        }
        if doc_total(doc).is_none() {
            return Err(invalid(format!(
                "document {d} has more than {} tokens",
                u32::MAX
            )));
        }
    }
    Ok(())
}

/// The UCI text of `corpus`.
fn write_uci_to(corpus: &Corpus, w: &mut dyn Write) -> std::io::Result<()> {
    let nnz: usize = corpus.docs.iter().map(Vec::len).sum();
    writeln!(w, "{}\n{}\n{nnz}", corpus.num_docs(), corpus.num_words)?;
    for (d, doc) in corpus.docs.iter().enumerate() {
        for &(word, count) in doc {
            writeln!(w, "{} {} {count}", d + 1, u64::from(word) + 1)?;
        }
    }
    Ok(())
}

/// Writes `corpus` in UCI format — gzip when the name ends in `.gz` — to a temporary file
/// in the same directory, renamed to `path` when complete. The vocabulary, if any, is not
/// written.
///
/// # Errors
///
/// [`DatasetError::Invalid`] when the corpus breaks [`Corpus`]'s invariants (it would not
/// read back), and [`DatasetError::Write`] when the file cannot be written.
pub fn write_uci(corpus: &Corpus, path: &Path) -> Result<(), DatasetError> {
    check_writable(corpus, path)?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    gasket_engine::output::write_atomically(path, |w| {
        if gz {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            write_uci_to(corpus, &mut enc)?;
            enc.finish()?;
            Ok(())
        } else {
            write_uci_to(corpus, w)
        }
    })
    .map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use proptest::prelude::*;

    use super::*;

    fn opts() -> TextOptions {
        TextOptions::default()
    }

    #[test]
    fn format_detection_looks_at_the_name() {
        for (name, format) in [
            ("docword.kos.txt.gz", CorpusFormat::Uci),
            ("data/nips.docword.txt", CorpusFormat::Uci),
            ("DOCWORD.TXT", CorpusFormat::Uci),
            ("reuters.ldac", CorpusFormat::Ldac),
            ("reuters.LDAC.gz", CorpusFormat::Ldac),
            ("ydir_1k.txt.gz", CorpusFormat::Text),
            ("x.ldac.txt", CorpusFormat::Text),
        ] {
            assert_eq!(CorpusFormat::detect(Path::new(name)), format, "{name}");
        }
    }

    #[test]
    fn word_names_fall_back_to_ids() {
        let mut c = Corpus {
            docs: vec![vec![(0, 2), (1, 1)]],
            num_words: 2,
            vocab: None,
        };
        assert_eq!((c.num_docs(), c.num_tokens()), (1, 3));
        assert_eq!(c.word_name(1), "1");
        c.vocab = Some(vec!["a".into(), "b".into()]);
        assert_eq!(c.word_name(1), "b");
        assert_eq!(c.word_name(7), "7");
    }

    #[test]
    fn bags_of_words_are_sorted_and_counted() {
        assert_eq!(
            bag_of_words(&mut [5, 1, 5, 3, 1, 5]),
            Some(vec![(1, 2), (3, 1), (5, 3)])
        );
        assert_eq!(bag_of_words(&mut []), Some(vec![]));
        assert_eq!(doc_total(&[(0, u32::MAX), (1, 1)]), None);
        assert_eq!(doc_total(&[(0, 3), (1, 1)]), Some(4));
    }

    #[test]
    fn invalid_corpora_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docword.bad.txt");
        for docs in [
            vec![vec![(1, 1), (0, 1)]],
            vec![vec![(0, 1), (0, 2)]],
            vec![vec![(3, 1)]],
            vec![vec![(0, 0)]],
        ] {
            let c = Corpus {
                docs,
                num_words: 3,
                vocab: None,
            };
            let e = write_uci(&c, &path).unwrap_err().to_string();
            assert!(e.contains("docword.bad.txt: cannot write"), "{e}");
            assert!(!path.exists());
        }
    }

    /// Random corpora satisfying the invariants, with at least one token.
    fn corpora() -> impl Strategy<Value = Corpus> {
        (1usize..40).prop_flat_map(|num_words| {
            let doc = proptest::collection::btree_map(0..num_words as u32, 1u32..1000, 0..8)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>());
            (
                proptest::collection::vec(doc, 1..12),
                Just(num_words),
                0..num_words as u32,
                1u32..5,
            )
                .prop_map(|(mut docs, num_words, w, c)| {
                    if docs.iter().all(Vec::is_empty) {
                        docs[0].push((w, c));
                    }
                    Corpus {
                        docs,
                        num_words,
                        vocab: None,
                    }
                })
        })
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    proptest! {
        #[test]
        fn uci_bytes_round_trip(corpus in corpora()) {
            let mut bytes = Vec::new();
            write_uci_to(&corpus, &mut bytes).unwrap();
            let back = read_corpus_bytes("docword.p.txt", &bytes, CorpusFormat::Uci, &opts()).unwrap();
            prop_assert_eq!(&back, &corpus);
            let back = read_corpus_bytes("docword.p.txt.gz", &gzip(&bytes), CorpusFormat::Uci, &opts()).unwrap();
            prop_assert_eq!(&back, &corpus);
        }

        #[test]
        fn ldac_bytes_round_trip(corpus in corpora()) {
            let mut text = String::new();
            for doc in &corpus.docs {
                text.push_str(&doc.len().to_string());
                // Pairs in reverse: the reader sorts them.
                for &(w, c) in doc.iter().rev() {
                    text.push_str(&format!(" {w}:{c}"));
                }
                text.push('\n');
            }
            let back = read_corpus_bytes("c.ldac", text.as_bytes(), CorpusFormat::Ldac, &opts()).unwrap();
            prop_assert_eq!(&back.docs, &corpus.docs);
            let max_id = corpus.docs.iter().flatten().map(|&(w, _)| w as usize + 1).max();
            prop_assert_eq!(Some(back.num_words), max_id);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for format in [CorpusFormat::Uci, CorpusFormat::Ldac, CorpusFormat::Text] {
                let _ = read_corpus_bytes("fuzz", &bytes, format, &opts());
            }
        }
    }
}
