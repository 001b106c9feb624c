//! The LDA-C format of Blei's `lda-c` (also written by gensim's `BleiCorpus`): one
//! document a line, `N id:count id:count ...`, with 0-based word ids and `N` the number of
//! pairs. Blank lines are skipped (as `lda-c`'s `fscanf` skips them); a document without
//! words is the line `0`. Every line is checked on its own, so every error has a line.

use super::{Corpus, Vocab, doc_total, parse_count, parse_error, sort_pairs};
use crate::DatasetError;
use crate::source::Source;
use crate::text::{Tokens, parse_uint, show_token};

/// Pairs reserved up front at most, whatever a line's `N` claims.
const MAX_RESERVE: u64 = 1 << 16;

pub(super) fn parse(
    source: &Source<'_>,
    vocab: Option<&Vocab<'_>>,
) -> Result<Corpus, DatasetError> {
    let mut lines = source.lines_from_start()?;
    let mut number = 0u64;
    let mut docs = Vec::new();
    // One more than the largest word id seen.
    let mut num_words = 0usize;
    while let Some((_, line)) = lines.next_line().map_err(|e| source.read_error(e))? {
        number += 1;
        let fail = |reason: String| parse_error(source, number, line, reason);
        let mut tokens = Tokens::new(line);
        let Some(first) = tokens.next() else {
            continue;
        };
        let n = parse_uint(first, "number of pairs")
            .map_err(|r| fail(format!("{r} (a line is `N word:count ...`)")))?;
        let mut pairs = Vec::with_capacity(n.min(MAX_RESERVE) as usize);
        for token in tokens {
            let Some(colon) = token.iter().position(|&b| b == b':') else {
                return Err(fail(format!(
                    "expected `word:count`, found `{}`",
                    show_token(token)
                )));
            };
            let word = parse_uint(&token[..colon], "word id").map_err(&fail)?;
            let word = u32::try_from(word)
                .map_err(|_| fail(format!("word id {word} does not fit 32 bits")))?;
            if let Some(v) = vocab
                && word as usize >= v.words.len()
            {
                return Err(fail(format!(
                    "word id {word} is outside the vocabulary {} of {} words (ids are \
                     0-based)",
                    v.path.display(),
                    v.words.len()
                )));
            }
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
        sort_pairs(&mut pairs).map_err(|w| fail(format!("word {w} appears twice")))?;
        if doc_total(&pairs).is_none() {
            return Err(fail(format!(
                "the document has more than {} tokens",
                u32::MAX
            )));
        }
        docs.push(pairs);
    }
    Ok(Corpus {
        docs,
        num_words,
        vocab: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::{CorpusFormat, TextOptions, read_corpus_bytes};

    fn ldac(text: &str) -> Result<crate::Corpus, crate::DatasetError> {
        read_corpus_bytes(
            "c.ldac",
            text.as_bytes(),
            CorpusFormat::Ldac,
            &TextOptions::default(),
        )
    }

    #[test]
    fn reads_documents_sorting_pairs_and_skipping_blank_lines() {
        let c = ldac("2 3:1 0:2\n\n0\n1 1:4\r\n").unwrap();
        assert_eq!(c.docs, vec![vec![(0, 2), (3, 1)], vec![], vec![(1, 4)]]);
        assert_eq!((c.num_words, c.num_tokens()), (4, 7));
    }

    #[test]
    fn bad_input_names_the_line() {
        for (text, needle) in [
            (
                "1 0:1\n2 0:1\n",
                "c.ldac:2: the line says 2 pairs but lists 1",
            ),
            (
                "1 0:1\n1 0:1 1:1\n",
                "c.ldac:2: the line says 1 pairs but lists 2",
            ),
            ("x 0:1\n", "c.ldac:1: expected a number of pairs, found `x`"),
            ("1 0-1\n", "c.ldac:1: expected `word:count`, found `0-1`"),
            ("1 :1\n", "c.ldac:1: expected a word id, found nothing"),
            ("1 a:1\n", "c.ldac:1: expected a word id, found `a`"),
            (
                "1 0:\n",
                "c.ldac:1: count `` is not a positive whole number",
            ),
            ("1 0:1:2\n", "c.ldac:1: count `1:2`"),
            ("1 -1:2\n", "c.ldac:1: expected a word id, found `-1`"),
            (
                "1 5000000000:2\n",
                "c.ldac:1: word id 5000000000 does not fit 32 bits",
            ),
            ("2 0:1 0:2\n", "c.ldac:1: word 0 appears twice"),
            ("1 0:0\n", "c.ldac:1: count 0"),
            ("1 0:-3\n", "c.ldac:1: count `-3`"),
            (
                "2 0:4294967295 1:1\n",
                "c.ldac:1: the document has more than 4294967295 tokens",
            ),
            ("0\n\n0\n", "c.ldac contains no tokens"),
        ] {
            let e = ldac(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }
}
