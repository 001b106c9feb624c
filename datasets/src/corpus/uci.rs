//! The UCI "Bag of Words" format (`docword.*.txt`): header lines D, W, NNZ, then NNZ lines
//! `docID wordID count` with 1-based ids, in any order (the UCI files are sorted by
//! document, then word; nothing here relies on it).
//!
//! Each entry is checked as it is read (ids in range, count positive); the document list
//! grows to the largest document id seen and is completed to D empty documents at the
//! end, so a header promising more documents than the body uses costs nothing until the
//! body has been read. NNZ is checked against the number of entries, and each document is
//! sorted and checked for a repeated word once the body is complete.

use rayon::prelude::*;

use super::{Vocab, doc_total, parse_count, parse_error, parse_error_reread, sort_pairs};
use crate::DatasetError;
use crate::source::Source;
use crate::text::{Tokens, parse_uint};

use super::Corpus;

/// The header lines, in order, and what each counts.
const HEADER: [(&str, &str); 3] = [
    ("D (documents)", "documents"),
    ("W (words)", "words"),
    ("NNZ (entries)", "entries"),
];

/// The largest D accepted (document ids are 32-bit).
const MAX_DOCS: u64 = u32::MAX as u64;

pub(super) fn parse(
    source: &Source<'_>,
    vocab: Option<&Vocab<'_>>,
) -> Result<Corpus, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut number = 0u64;
    let mut header = [0u64; 3];
    for (slot, (name, noun)) in header.iter_mut().zip(HEADER) {
        let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? else {
            return Err(DatasetError::Invalid {
                path: source.name().to_path_buf(),
                reason: format!(
                    "the file ends after {number} lines, before the header line {name} \
                     (a UCI corpus starts with three lines D, W and NNZ)"
                ),
            });
        };
        number += 1;
        let fail = |reason: String| parse_error(source, number, line, reason);
        let mut tokens = Tokens::new(line);
        let (Some(token), None) = (tokens.next(), tokens.next()) else {
            return Err(fail(format!(
                "expected the header line {name}: one positive integer"
            )));
        };
        let value = parse_uint(token, "header value").map_err(|r| {
            fail(format!(
                "{r}; expected the header line {name}: one positive integer"
            ))
        })?;
        if value == 0 {
            return Err(fail(format!(
                "the header line {name} must be positive (a corpus without {noun} has no \
                 tokens)"
            )));
        }
        *slot = value;
    }
    let [d, w, nnz] = header;
    if d > MAX_DOCS {
        return Err(parse_error_reread(
            source,
            1,
            format!("D = {d} documents is more than the {MAX_DOCS} supported"),
        ));
    }
    if w > u64::from(u32::MAX) {
        return Err(parse_error_reread(
            source,
            2,
            format!("W = {w} words do not fit 32-bit word ids"),
        ));
    }
    if let Some(v) = vocab
        && v.words.len() as u64 != w
    {
        return Err(parse_error_reread(
            source,
            2,
            format!(
                "the header says W = {w} words but the vocabulary {} has {} (one word a line)",
                v.path.display(),
                v.words.len()
            ),
        ));
    }

    let mut docs: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut entries = 0u64;
    let mut last_entry_line = 3u64;
    // NNZ disagreeing with the body: the first line past NNZ entries, with its text.
    let mut first_extra: Option<(u64, String)> = None;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let mut tokens = Tokens::new(line);
        let Some(first) = tokens.next() else {
            continue;
        };
        if entries == nnz {
            if first_extra.is_none() {
                first_extra = Some((number, crate::text::show_line(line)));
            }
            entries += 1;
            continue;
        }
        let fail = |reason: String| parse_error(source, number, line, reason);
        let (Some(word), Some(count), None) = (tokens.next(), tokens.next(), tokens.next()) else {
            return Err(fail("expected `docID wordID count`".into()));
        };
        let doc = parse_uint(first, "document id").map_err(&fail)?;
        let word = parse_uint(word, "word id").map_err(&fail)?;
        if doc == 0 || doc > d {
            return Err(fail(format!(
                "document id {doc} is outside 1..={d} (the header's D)"
            )));
        }
        if word == 0 || word > w {
            return Err(fail(format!(
                "word id {word} is outside 1..={w} (the header's W)"
            )));
        }
        let count = parse_count(count).map_err(&fail)?;
        // In range: doc <= D <= u32::MAX, word <= W <= u32::MAX.
        let (doc, word) = (doc as usize - 1, word as u32 - 1);
        if doc >= docs.len() {
            docs.resize_with(doc + 1, Vec::new);
        }
        docs[doc].push((word, count));
        entries += 1;
        last_entry_line = number;
    }
    if let Some((line, text)) = first_extra {
        return Err(DatasetError::Parse {
            path: source.name().to_path_buf(),
            line,
            text,
            reason: format!(
                "the header says NNZ = {nnz} entries but the body has {entries}; this is \
                 entry {}",
                nnz + 1
            ),
        });
    }
    if entries < nnz {
        return Err(parse_error_reread(
            source,
            last_entry_line,
            format!("the header says NNZ = {nnz} entries but the body ends after {entries} (here)"),
        ));
    }

    // Sort each document; the first (by document) with a repeated word or too many tokens.
    let problem = docs
        .par_iter_mut()
        .enumerate()
        .filter_map(|(i, doc)| match sort_pairs(doc) {
            Err(word) => Some((i, Problem::Repeated(word))),
            Ok(()) if doc_total(doc).is_none() => Some((i, Problem::TooLong)),
            Ok(()) => None,
        })
        .min_by_key(|&(i, _)| i);
    if let Some((doc, problem)) = problem {
        return Err(blame(source, doc as u64 + 1, problem));
    }

    let missing = d as usize - docs.len();
    docs.try_reserve_exact(missing)
        .map_err(|_| DatasetError::Invalid {
            path: source.name().to_path_buf(),
            reason: format!("the header's D = {d} documents do not fit in memory"),
        })?;
    docs.resize_with(d as usize, Vec::new);
    Ok(Corpus {
        docs,
        num_words: w as usize,
        vocab: None,
    })
}

/// What is wrong with a document, found after the pass.
#[derive(Clone, Copy)]
enum Problem {
    /// The word (0-based) is listed twice.
    Repeated(u32),
    /// More than `u32::MAX` tokens.
    TooLong,
}

/// Reads the body again to find the line at fault for `problem` in 1-based document `doc`:
/// the second entry of the repeated word, or the entry that takes the total past `u32`.
fn blame(source: &Source<'_>, doc: u64, problem: Problem) -> DatasetError {
    let (target, reason) = match problem {
        Problem::Repeated(word) => (
            Some(u64::from(word) + 1),
            format!("document {doc} lists word {} twice", u64::from(word) + 1),
        ),
        Problem::TooLong => (
            None,
            format!("document {doc} has more than {} tokens", u32::MAX),
        ),
    };
    let mut lines = match source.lines_from_start() {
        Ok(lines) => lines,
        Err(e) => return e,
    };
    let mut number = 0u64;
    let mut seen = 0u64;
    loop {
        let line = match lines.next_line() {
            Ok(Some((_, line))) => line,
            Ok(None) => {
                // Not reached: the pass found the problem in this same input.
                return DatasetError::Invalid {
                    path: source.name().to_path_buf(),
                    reason,
                };
            }
            Err(e) => return source.read_error(e),
        };
        number += 1;
        if number <= 3 {
            continue;
        }
        let mut tokens = Tokens::new(line);
        let (Some(d), Some(w), Some(c)) = (tokens.next(), tokens.next(), tokens.next()) else {
            continue;
        };
        if parse_uint(d, "").ok() != Some(doc) {
            continue;
        }
        let hit = match target {
            Some(word) => {
                if parse_uint(w, "").ok() == Some(word) {
                    seen += 1;
                }
                seen == 2
            }
            None => {
                seen += parse_uint(c, "").unwrap_or(0);
                seen > u64::from(u32::MAX)
            }
        };
        if hit {
            return parse_error(source, number, line, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{CorpusFormat, DatasetError, TextOptions, read_corpus_bytes};

    fn uci(text: &str) -> Result<crate::Corpus, DatasetError> {
        read_corpus_bytes(
            "docword.t.txt",
            text.as_bytes(),
            CorpusFormat::Uci,
            &TextOptions::default(),
        )
    }

    #[test]
    fn reads_entries_in_any_order_with_empty_documents() {
        let c = uci("4\n4\n3\n3 4 2\n1 2 3\n1 1 1\n\n").unwrap();
        assert_eq!(
            c.docs,
            vec![vec![(0, 1), (1, 3)], vec![], vec![(3, 2)], vec![]]
        );
        assert_eq!((c.num_words, c.num_tokens()), (4, 6));
    }

    #[test]
    fn bad_input_names_the_line() {
        for (text, needle) in [
            (
                "",
                "docword.t.txt: the file ends after 0 lines, before the header line D",
            ),
            ("2\n3\n", "ends after 2 lines, before the header line NNZ"),
            (
                "2 3\n3\n1\n1 1 1\n",
                "docword.t.txt:1: expected the header line D",
            ),
            (
                "2\nx\n1\n1 1 1\n",
                "docword.t.txt:2: expected a header value, found `x`",
            ),
            (
                "2\n-3\n1\n1 1 1\n",
                "docword.t.txt:2: expected a header value",
            ),
            (
                "0\n3\n1\n1 1 1\n",
                "docword.t.txt:1: the header line D (documents) must be positive",
            ),
            (
                "2\n3\n0\n",
                "docword.t.txt:3: the header line NNZ (entries) must be positive",
            ),
            (
                "5000000000\n3\n1\n1 1 1\n",
                "docword.t.txt:1: D = 5000000000 documents",
            ),
            (
                "2\n5000000000\n1\n1 1 1\n",
                "docword.t.txt:2: W = 5000000000 words",
            ),
            (
                "2\n3\n3\n1 1 2\n2 3 1\n",
                "docword.t.txt:5: the header says NNZ = 3 entries but the body ends after 2",
            ),
            (
                "2\n3\n3\n",
                "docword.t.txt:3: the header says NNZ = 3 entries but the body ends after 0",
            ),
            (
                "2\n3\n1\n1 1 2\n2 3 1\n\n1 2 1\n",
                "docword.t.txt:5: the header says NNZ = 1 entries but the body has 3",
            ),
            (
                "2\n3\n2\n1 1 2\n2 4 1\n",
                "docword.t.txt:5: word id 4 is outside 1..=3",
            ),
            (
                "2\n3\n2\n1 0 2\n2 3 1\n",
                "docword.t.txt:4: word id 0 is outside",
            ),
            (
                "2\n3\n2\n3 1 2\n2 3 1\n",
                "docword.t.txt:4: document id 3 is outside 1..=2",
            ),
            (
                "2\n3\n2\n0 1 2\n2 3 1\n",
                "docword.t.txt:4: document id 0 is outside",
            ),
            ("2\n3\n2\n1 1 0\n2 3 1\n", "docword.t.txt:4: count 0"),
            (
                "2\n3\n2\n1 1 -2\n2 3 1\n",
                "docword.t.txt:4: count `-2` is not a positive whole number",
            ),
            ("2\n3\n2\n1 1 2.5\n2 3 1\n", "docword.t.txt:4: count `2.5`"),
            (
                "2\n3\n2\n1 1 5000000000\n2 3 1\n",
                "docword.t.txt:4: count 5000000000 is too large",
            ),
            (
                "2\n3\n2\n1 1\n2 3 1\n",
                "docword.t.txt:4: expected `docID wordID count`",
            ),
            (
                "2\n3\n2\n1 1 1 1\n2 3 1\n",
                "docword.t.txt:4: expected `docID wordID count`",
            ),
            (
                "2\n3\n3\n1 1 2\n2 3 1\n1 1 1\n",
                "docword.t.txt:6: document 1 lists word 1 twice",
            ),
            (
                "2\n3\n2\n2 2 4294967295\n2 1 1\n",
                "docword.t.txt:5: document 2 has more than 4294967295 tokens",
            ),
        ] {
            let e = uci(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }
}
