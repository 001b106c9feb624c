//! Plain text corpora: one document a line, tokenized into lowercase Unicode-alphanumeric
//! words (see the [parent module](super) for the rules).
//!
//! One pass assigns provisional ids in order of first appearance (stop words never get
//! one) and counts each word over the corpus; the words below `min_count` are then
//! dropped and the rest renumbered, preserving that order, so that the final ids also
//! follow first appearance among kept words. The provisional token lists take 4 bytes a
//! token until they are turned into sorted `(word, count)` pairs.

use std::collections::{HashMap, HashSet};

use super::{Corpus, TextOptions, bag_of_words, parse_error};
use crate::DatasetError;
use crate::source::Source;
use crate::text::is_space;

/// The part of `line` after its first `n` whitespace-separated fields.
fn skip_fields(line: &[u8], n: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..n {
        let start = rest
            .iter()
            .position(|&b| !is_space(b))
            .unwrap_or(rest.len());
        rest = &rest[start..];
        let end = rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest
}

pub(super) fn parse(
    source: &Source<'_>,
    options: &TextOptions,
    stop: &HashSet<String>,
) -> Result<Corpus, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut number = 0u64;
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut frequency: Vec<u64> = Vec::new();
    let mut raw_docs: Vec<Vec<u32>> = Vec::new();
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let text = String::from_utf8_lossy(skip_fields(line, options.skip_fields)).to_lowercase();
        let mut doc = Vec::new();
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() || stop.contains(word) {
                continue;
            }
            let id = match ids.get(word) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(frequency.len()).map_err(|_| {
                        parse_error(
                            source,
                            number,
                            line,
                            format!("more than {} distinct words", u32::MAX),
                        )
                    })?;
                    ids.insert(word.to_owned(), id);
                    frequency.push(0);
                    id
                }
            };
            frequency[id as usize] += 1;
            doc.push(id);
        }
        raw_docs.push(doc);
    }

    // Keep the words seen at least `min_count` times, renumbered in order of first
    // appearance (the provisional ids are in that order).
    let mut new_id = vec![u32::MAX; frequency.len()];
    let mut kept = 0u32;
    for (id, &f) in frequency.iter().enumerate() {
        if f >= options.min_count {
            new_id[id] = kept;
            kept += 1;
        }
    }
    let mut vocab = vec![String::new(); kept as usize];
    for (word, id) in ids {
        let new = new_id[id as usize];
        if new != u32::MAX {
            vocab[new as usize] = word;
        }
    }
    let mut docs = Vec::with_capacity(raw_docs.len());
    for (i, doc) in raw_docs.into_iter().enumerate() {
        let mut tokens: Vec<u32> = doc
            .into_iter()
            .map(|w| new_id[w as usize])
            .filter(|&w| w != u32::MAX)
            .collect();
        let pairs = bag_of_words(&mut tokens).ok_or_else(|| DatasetError::Parse {
            path: source.name().to_path_buf(),
            line: i as u64 + 1,
            text: String::new(),
            reason: format!("the document has more than {} tokens", u32::MAX),
        })?;
        docs.push(pairs);
    }
    Ok(Corpus {
        docs,
        num_words: vocab.len(),
        vocab: Some(vocab),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorpusFormat, read_corpus, read_corpus_bytes};

    #[test]
    fn fields_are_skipped() {
        assert_eq!(skip_fields(b" a\tb  c d", 2), b"  c d");
        assert_eq!(skip_fields(b"a b", 5), b"");
        assert_eq!(skip_fields(b"a b", 0), b"a b");
    }

    #[test]
    fn words_are_lowercased_split_filtered_and_numbered_by_first_appearance() {
        let opts = TextOptions {
            skip_fields: 1,
            min_count: 2,
            ..TextOptions::default()
        };
        let text = "u1 The cat, the HAT!\nu2 cat dog\nu3\n\nu5 Ünïcode ünïcode-the\n";
        let t = read_corpus_bytes("t.txt", text.as_bytes(), CorpusFormat::Text, &opts).unwrap();
        assert_eq!(
            t.vocab,
            Some(vec![
                "the".to_string(),
                "cat".to_string(),
                "ünïcode".to_string()
            ])
        );
        assert_eq!(t.num_words, 3);
        assert_eq!(
            t.docs,
            vec![
                vec![(0, 2), (1, 1)],
                vec![(1, 1)],
                vec![],
                vec![],
                vec![(0, 1), (2, 2)]
            ]
        );
        let all = read_corpus_bytes(
            "t.txt",
            b"b a b",
            CorpusFormat::Text,
            &TextOptions::default(),
        )
        .unwrap();
        assert_eq!(all.vocab, Some(vec!["b".to_string(), "a".to_string()]));
        assert_eq!(all.docs, vec![vec![(0, 2), (1, 1)]]);
    }

    #[test]
    fn stop_words_are_dropped_before_counting() {
        let dir = tempfile::tempdir().unwrap();
        let stop = dir.path().join("stop.txt");
        std::fs::write(&stop, "# common words\nThe\n\n  a  \n").unwrap();
        let corpus = dir.path().join("c.txt");
        std::fs::write(&corpus, "the a cat\nA dog the cat\n").unwrap();
        let opts = TextOptions {
            stop_words: Some(stop),
            min_count: 2,
            skip_fields: 0,
        };
        let c = read_corpus(&corpus, CorpusFormat::Text, None, &opts).unwrap();
        assert_eq!(c.vocab, Some(vec!["cat".to_string()]));
        assert_eq!(c.docs, vec![vec![(0, 1)], vec![(0, 1)]]);
        let e = read_corpus_bytes("only.txt", b"the a\n", CorpusFormat::Text, &opts).unwrap_err();
        assert_eq!(e.to_string(), "only.txt contains no tokens");
    }
}
