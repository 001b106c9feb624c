//! The joint log-likelihood `log p(w, z)` of a state of the sampler, split the way the
//! graph holds the counts (Griffiths and Steyvers 2004, eq. 2 and 3):
//!
//! ```text
//! log p(w | z) = K lgamma(V b) - sum_k lgamma(V b + n_k)
//!              + sum_w sum_k [n_wk > 0] (lgamma(n_wk + b) - lgamma(b))
//! log p(z)     = sum_d (lgamma(K a) - lgamma(K a + n_d)
//!              + sum_k [n_dk > 0] (lgamma(n_dk + a) - lgamma(a)))
//! ```
//!
//! with `a = alpha`, `b = beta`, `V` the vocabulary size and `K` the number of topics: the
//! quantity the PyPI `lda` package reports as `loglikelihood()`, so figures compare
//! directly. Word vertices sum their terms, document vertices theirs, and the topic term
//! comes from the global totals. Counts are integers, so `lgamma(n + a)` for small `n` is
//! read from a table made once per run.

/// `lgamma(n + offset)` for integer `n`, tabulated below a bound.
#[derive(Debug, Clone)]
pub struct LgammaTable {
    offset: f64,
    values: Vec<f64>,
}

/// Counts below this are read from the table.
const TABLE_LEN: usize = 1 << 12;

impl LgammaTable {
    /// The table of `lgamma(n + offset)`, `offset > 0`.
    pub fn new(offset: f64) -> Self {
        LgammaTable {
            offset,
            values: (0..TABLE_LEN)
                .map(|n| libm::lgamma(n as f64 + offset))
                .collect(),
        }
    }

    /// `lgamma(n + offset)`.
    #[inline]
    pub fn at(&self, n: u64) -> f64 {
        match self.values.get(n as usize) {
            Some(&v) => v,
            None => libm::lgamma(n as f64 + self.offset),
        }
    }

    /// `sum over positive counts of lgamma(n + offset) - lgamma(offset)`.
    pub fn sum_over(&self, counts: impl Iterator<Item = u32>) -> f64 {
        let base = self.values[0];
        counts
            .filter(|&n| n > 0)
            .map(|n| self.at(n as u64) - base)
            .sum()
    }
}

/// Tables and constants of one run's likelihood.
#[derive(Debug, Clone)]
pub struct Likelihood {
    alpha: LgammaTable,
    beta: LgammaTable,
    k: usize,
    alpha_sum: f64,
    beta_sum: f64,
}

impl Likelihood {
    /// For `topics` topics, a vocabulary of `num_words` and the priors.
    pub fn new(topics: usize, num_words: usize, alpha: f64, beta: f64) -> Self {
        Likelihood {
            alpha: LgammaTable::new(alpha),
            beta: LgammaTable::new(beta),
            k: topics,
            alpha_sum: topics as f64 * alpha,
            beta_sum: num_words as f64 * beta,
        }
    }

    /// One word's term from its per-topic counts.
    pub fn word_term(&self, counts: impl Iterator<Item = u32>) -> f64 {
        self.beta.sum_over(counts)
    }

    /// One document's term from its per-topic counts and length.
    pub fn doc_term(&self, counts: impl Iterator<Item = u32>, length: u64) -> f64 {
        libm::lgamma(self.alpha_sum) - libm::lgamma(self.alpha_sum + length as f64)
            + self.alpha.sum_over(counts)
    }

    /// The topic term from the global totals `n_k`.
    pub fn topic_term(&self, totals: impl Iterator<Item = f64>) -> f64 {
        self.k as f64 * libm::lgamma(self.beta_sum)
            - totals.map(|n| libm::lgamma(self.beta_sum + n)).sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_lgamma() {
        let t = LgammaTable::new(0.1);
        for n in [0u64, 1, 7, 4095, 4096, 100_000] {
            assert!((t.at(n) - libm::lgamma(n as f64 + 0.1)).abs() < 1e-9);
        }
    }

    #[test]
    fn tiny_corpus_by_hand() {
        // One document "a a b", K = 2, V = 2, all tokens in topic 0.
        let (a, b) = (0.5, 0.25);
        let l = Likelihood::new(2, 2, a, b);
        let lg = libm::lgamma;
        let words = l.word_term([2, 0].into_iter()) + l.word_term([1, 0].into_iter());
        let doc = l.doc_term([3, 0].into_iter(), 3);
        let topic = l.topic_term([3.0, 0.0].into_iter());
        let expected = 2.0 * lg(0.5) - lg(0.5 + 3.0) - lg(0.5)
            + (lg(2.25) - lg(0.25))
            + (lg(1.25) - lg(0.25))
            + lg(1.0)
            - lg(1.0 + 3.0)
            + (lg(3.5) - lg(0.5));
        assert!((words + doc + topic - expected).abs() < 1e-12);
    }
}
