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

use super::{Topics, WORD_BASE};
use crate::output::write_atomically;
use crate::{AppError, Result};

const MAGIC: &str = "gasket-lda-model 1";

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
        let mut lines = std::io::BufReader::new(file).lines().enumerate();
        let bad = |line: usize, reason: &str| {
            AppError::Config(format!("{}:{}: {reason}", path.display(), line + 1))
        };
        let mut next = |what: &str| -> Result<(usize, String)> {
            match lines.next() {
                Some((i, Ok(text))) => Ok((i, text)),
                Some((i, Err(e))) => Err(bad(i, &format!("cannot read: {e}"))),
                None => Err(AppError::Config(format!(
                    "{}: ends before {what} (a truncated model?)",
                    path.display()
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
        let mut field = |name: &str| -> Result<f64> {
            let (i, text) = next(name)?;
            let mut parts = text.split_whitespace();
            match (
                parts.next(),
                parts.next().map(str::parse::<f64>),
                parts.next(),
            ) {
                (Some(n), Some(Ok(x)), None) if n == name && x.is_finite() && x > 0.0 => Ok(x),
                _ => Err(bad(i, &format!("expected `{name} <positive number>`"))),
            }
        };
        let topics = field("topics")? as usize;
        let words = field("words")? as usize;
        let alpha = field("alpha")?;
        let beta = field("beta")?;
        let mut word_topics = Vec::with_capacity(words);
        let mut vocab = Vec::with_capacity(words);
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
