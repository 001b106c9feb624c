//! The plain sampler: each token's exact collapsed Gibbs conditional over all `K` topics.
//!
//! The weights are computed into an array in one loop without a dependency between topics
//! (the compiler vectorises it; `1 / (n_k + V b)` is kept and patched for the two topics a
//! token change touches) and the topic is found by [`draw`]'s two-level walk. A document's
//! edges are visited in order; the word data of the edge [`AHEAD`] places on and the
//! counts of the one half as far are prefetched, since each edge is another word's.

use rand::rngs::SmallRng;

use super::{DocRow, DocSampler, Priors, draw, prefetch_target, word_at};
use crate::lda::counts::WordTopics;

/// Edges between prefetching a word's vertex data and sampling its tokens (its counts are
/// prefetched half-way).
const AHEAD: usize = 8;

/// Counts of a word (and changes) prefetched: the first 64 topics, four cache lines' worth,
/// enough for the topic counts the plain sampler is used at; longer rows stream.
const PREFETCHED: usize = 64;

impl DocSampler {
    pub(super) fn plain_row(
        &mut self,
        row: &mut DocRow<'_>,
        p: &Priors,
        rng: &mut SmallRng,
    ) -> u64 {
        let mut sampled = 0;
        for e in 0..row.len() {
            prefetch_target(row, e + AHEAD);
            if let Some((w, word)) = word_at(row, e + AHEAD / 2) {
                let block = self.block_of(w, p.k);
                self.prefetch_word(block, word, 0, p.k.min(PREFETCHED));
            }
            let Some((w, word)) = word_at(row, e) else {
                continue;
            };
            self.select_word(w, p.k);
            let topics = &mut row.edge_mut(e).0;
            self.plain(topics, word, p, rng);
            sampled += topics.len() as u64;
        }
        sampled
    }

    /// Resamples `topics`, the tokens of the current edge's word (counts `word`).
    fn plain(&mut self, topics: &mut [u32], word: &WordTopics, p: &Priors, rng: &mut SmallRng) {
        let k = p.k;
        let (alpha, beta) = (p.alpha as f32, p.beta as f32);
        for z in topics.iter_mut() {
            self.change(*z, -1, p);
            let delta = &self.word_delta[self.block..self.block + k];
            let weights = self.nd[..k]
                .iter()
                .zip(&word.counts[..k])
                .zip(delta.iter().zip(&self.inv_den[..k]))
                .map(|((&n, &w), (&d, &inv))| {
                    // Counts and their changes stay far below 2^31.
                    (n as i32 as f32 + alpha) * ((w as i32 + d) as f32 + beta) * inv
                });
            let new = draw(&mut self.weights, &mut self.groups, weights, rng) as u32;
            self.change(new, 1, p);
            *z = new;
        }
    }
}
