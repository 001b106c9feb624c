//! A trained model: the word-topic counts with the priors (and the vocabulary when the
//! corpus had one), saved as text so it can be inspected and diffed, and loaded by
//! `gasket lda --infer` to infer the topics of new documents.
//!
//! File format (`#` lines are comments):
//!
//! ```text
//! gasket-lda-model 1
//! topics K
//! words V
//! alpha A
//! beta B
//! WORD<TAB>k:count k:count ...     (V lines, word id = line order; WORD is the
//!                                    vocabulary entry, or the id when there is none)
//! ```

use std::io::BufRead;
use std::path::Path;

use gasket_engine::VertexId;

use super::{MAX_TOPICS, Topics, WORD_BASE};
use crate::output::write_atomically;
use crate::{AppError, Result};

const MAGIC: &str = "gasket-lda-model 1";
/// The most words a model's header makes [`LdaModel::from_reader`] reserve room for
/// before it has read them.
const PREALLOCATED_WORDS: usize = 1 << 16;

/// The VALUE of a `NAME VALUE` header line, when its first field is `name`.
fn header_value<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(n), Some(value), None) if n == name => Some(value),
        _ => None,
    }
}

/// Word-topic counts and priors.
#[derive(Debug, Clone, PartialEq)]
pub struct LdaModel {
    /// Topics K.
    pub topics: usize,
    /// Document-topic prior.
    pub alpha: f64,
    /// Topic-word prior.
    pub beta: f64,
    /// Per word: (topic, count) with positive counts, ascending; length V.
    pub word_topics: Vec<Vec<(u32, u32)>>,
    /// The words, when known.
    pub vocab: Option<Vec<String>>,
}

impl LdaModel {
    /// The model from the word vertices of a run's results (other values are ignored).
    pub fn from_values(
        topics: usize,
        alpha: f64,
        beta: f64,
        num_words: usize,
        vocab: Option<Vec<String>>,
        values: &[(VertexId, Topics)],
    ) -> Self {
        let mut word_topics = vec![Vec::new(); num_words];
        for (v, t) in values {
            if let Some(w) = v.checked_sub(WORD_BASE) {
                if let Some(slot) = word_topics.get_mut(w as usize) {
                    *slot = t.nonzero();
                }
            }
        }
        LdaModel {
            topics,
            alpha,
            beta,
            word_topics,
            vocab,
        }
    }

    /// Vocabulary size V.
    pub fn num_words(&self) -> usize {
        self.word_topics.len()
    }

    /// Tokens per topic `n_k`.
    pub fn totals(&self) -> Vec<u64> {
        let mut totals = vec![0u64; self.topics];
        for pairs in &self.word_topics {
            for &(t, c) in pairs {
                totals[t as usize] += c as u64;
            }
        }
        totals
    }

    /// The word's name: its vocabulary entry, or its id.
    pub fn word_name(&self, w: usize) -> String {
        match &self.vocab {
            Some(vocab) => vocab[w].clone(),
            None => w.to_string(),
        }
    }

    /// The `n` most probable words of every topic with `phi_kw = (n_kw + b) / (n_k + V b)`,
    /// most probable first (ties by word id).
    pub fn top_words(&self, n: usize) -> Vec<Vec<(usize, f64)>> {
        let totals = self.totals();
        let beta_sum = self.num_words() as f64 * self.beta;
        let mut per_topic: Vec<Vec<(usize, u32)>> = vec![Vec::new(); self.topics];
        for (w, pairs) in self.word_topics.iter().enumerate() {
            for &(t, c) in pairs {
                per_topic[t as usize].push((w, c));
            }
        }
        per_topic
            .into_iter()
            .enumerate()
            .map(|(k, mut words)| {
                words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let den = totals[k] as f64 + beta_sum;
                words
                    .into_iter()
                    .take(n)
                    .map(|(w, c)| (w, (c as f64 + self.beta) / den))
                    .collect()
            })
            .collect()
    }

    /// Writes the model to `path` (atomically).
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, |w| {
            writeln!(w, "{MAGIC}")?;
            writeln!(w, "topics {}", self.topics)?;
            writeln!(w, "words {}", self.num_words())?;
            writeln!(w, "alpha {}", self.alpha)?;
            writeln!(w, "beta {}", self.beta)?;
            for (i, pairs) in self.word_topics.iter().enumerate() {
                write!(w, "{}\t", self.word_name(i))?;
                for (j, (t, c)) in pairs.iter().enumerate() {
                    write!(w, "{}{t}:{c}", if j == 0 { "" } else { " " })?;
                }
                writeln!(w)?;
            }
            Ok(())
        })
    }

    /// Reads a model written by [`save`](Self::save).
    ///
    /// # Errors
    ///
    /// [`AppError::Config`] naming the file and line when it cannot be read or is not a
    /// model.
    pub fn load(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path)
            .map_err(|e| AppError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_reader(&path.display().to_string(), std::io::BufReader::new(file))
    }

    /// Reads a model from `reader`, as [`load`](Self::load) does; `name` stands for the
    /// file in errors.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub fn from_reader(name: &str, reader: impl BufRead) -> Result<Self> {
        let mut lines = reader.lines().enumerate();
        let bad =
            |line: usize, reason: &str| AppError::Config(format!("{name}:{}: {reason}", line + 1));
        let mut next = |what: &str| -> Result<(usize, String)> {
            match lines.next() {
                Some((i, Ok(text))) => Ok((i, text)),
                Some((i, Err(e))) => Err(bad(i, &format!("cannot read: {e}"))),
                None => Err(AppError::Config(format!(
                    "{name}: ends before {what} (a truncated model?)"
                ))),
            }
        };
        let (i, magic) = next("the header")?;
        if magic.trim() != MAGIC {
            return Err(bad(
                i,
                &format!("not a gasket LDA model (expected `{MAGIC}`)"),
            ));
        }
        // The header's counts are whole numbers in range: topics as `--topics` allows, words
        // addressable by the corpora's 32-bit word ids.
        let mut count = |name: &str, max: usize| -> Result<usize> {
            let (i, text) = next(name)?;
            header_value(&text, name)
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|x| (1..=max).contains(x))
                .ok_or_else(|| {
                    bad(
                        i,
                        &format!("expected `{name} <whole number from 1 to {max}>`"),
                    )
                })
        };
        let topics = count("topics", MAX_TOPICS)?;
        let words = count("words", u32::MAX as usize)?;
        let mut field = |name: &str| -> Result<f64> {
            let (i, text) = next(name)?;
            header_value(&text, name)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| bad(i, &format!("expected `{name} <positive number>`")))
        };
        let alpha = field("alpha")?;
        let beta = field("beta")?;
        // The header is not trusted to size allocations: the lines that follow do.
        let mut word_topics = Vec::with_capacity(words.min(PREALLOCATED_WORDS));
        let mut vocab = Vec::with_capacity(words.min(PREALLOCATED_WORDS));
        for w in 0..words {
            let (i, text) = next(&format!("word {w} of {words}"))?;
            let (name, counts) = text
                .split_once('\t')
                .ok_or_else(|| bad(i, "expected `WORD<TAB>topic:count ...`"))?;
            let mut pairs = Vec::new();
            for pair in counts.split_whitespace() {
                let parsed = pair
                    .split_once(':')
                    .and_then(|(t, c)| Some((t.parse::<u32>().ok()?, c.parse::<u32>().ok()?)));
                match parsed {
                    Some((t, c)) if (t as usize) < topics && c > 0 => pairs.push((t, c)),
                    _ => {
                        return Err(bad(
                            i,
                            &format!(
                                "`{pair}` is not topic:count with topic < {topics}, count > 0"
                            ),
                        ));
                    }
                }
            }
            pairs.sort_unstable();
            vocab.push(name.to_string());
            word_topics.push(pairs);
        }
        let is_ids = vocab.iter().enumerate().all(|(i, w)| *w == i.to_string());
        Ok(LdaModel {
            topics,
            alpha,
            beta,
            word_topics,
            vocab: (!is_ids).then_some(vocab),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<LdaModel> {
        LdaModel::from_reader("model.txt", text)
    }

    #[test]
    fn a_saved_model_reads_back() {
        let model = LdaModel {
            topics: 2,
            alpha: 0.1,
            beta: 0.01,
            word_topics: vec![vec![(1, 2)], vec![], vec![(0, 1), (1, 3)]],
            vocab: Some(vec!["cat".into(), "dog".into(), "mat".into()]),
        };
        let path =
            std::env::temp_dir().join(format!("gasket-lda-model-{}.txt", std::process::id()));
        model.save(&path).unwrap();
        let back = LdaModel::load(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.unwrap(), model);
    }

    /// The fuzz target `lda_model` found this input: its header claims more words than
    /// fit in memory, and reserving room for them before reading them panicked (capacity
    /// overflow) where a smaller claim would have aborted on a failed allocation.
    #[test]
    fn a_header_claiming_too_many_words_is_an_error_not_an_allocation() {
        let found = b"gasket-lda-model 1\ntopics 2\nwords 72222222222222222222222222222\n\
            alpha 0.1\nbeta 0.01\n\x00\x00cat\t1:2\nsat\t 1:1\non2\x00\x00at\t1:1\n\
            dog\r0:\t0:b\n1one\t0:=\n";
        let err = read(found).unwrap_err().to_string();
        assert!(
            err.starts_with("model.txt:3: expected `words <whole number from 1 to 4294967295>`"),
            "{err}"
        );
        // A claim within range, on a file that then ends, is a truncated model.
        let err = read(b"gasket-lda-model 1\ntopics 2\nwords 4000000000\nalpha 0.1\nbeta 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ends before word 0 of 4000000000 (a truncated model?)"),
            "{err}"
        );
    }

    #[test]
    fn header_counts_are_whole_numbers_in_range() {
        let header = |topics: &str, words: &str| {
            let text = format!(
                "gasket-lda-model 1\ntopics {topics}\nwords {words}\nalpha 0.1\nbeta 0.1\n0\t0:1\n"
            );
            read(text.as_bytes()).map_err(|e| e.to_string())
        };
        assert!(header("2", "1").is_ok());
        for (topics, line) in [("0", 2), ("2.5", 2), ("1e300", 2), ("65537", 2), ("-1", 2)] {
            let err = header(topics, "1").unwrap_err();
            assert!(
                err.starts_with(&format!(
                    "model.txt:{line}: expected `topics <whole number from 1 to 65536>`"
                )),
                "{topics}: {err}"
            );
        }
        for words in ["0", "1.0", "4294967296"] {
            let err = header("2", words).unwrap_err();
            assert!(
                err.starts_with("model.txt:3: expected `words"),
                "{words}: {err}"
            );
        }
    }
}
