//! Walker's alias method (Vose's construction): after `O(n)` preparation, a draw from a
//! discrete distribution over `n` outcomes costs one uniform bucket, one coin and at most
//! two loads. The fast sampler's proposals use it; tables are sparse (only outcomes with
//! positive weight are stored, as topic ids), so a word seen in few topics has a small
//! table whatever the number of topics.

use gasket_engine::Wire;
use rand::{Rng, RngCore};

/// A prepared discrete distribution over topic ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alias {
    /// Per bucket: the topic it stands for.
    topic: Vec<u32>,
    /// Per bucket: the other topic it holds.
    alias: Vec<u32>,
    /// Per bucket: the probability of keeping `topic` (else `alias`).
    keep: Vec<f32>,
}

impl Alias {
    /// Prepares the distribution proportional to the positive `weights` (topic, weight);
    /// entries with weight <= 0 are ignored. Reuses this table's memory.
    pub fn build(&mut self, weights: impl Iterator<Item = (u32, f64)>) {
        self.topic.clear();
        self.alias.clear();
        self.keep.clear();
        let mut scaled: Vec<f64> = Vec::new();
        for (topic, w) in weights.filter(|&(_, w)| w > 0.0) {
            self.topic.push(topic);
            scaled.push(w);
        }
        let n = scaled.len();
        if n == 0 {
            return;
        }
        let total: f64 = scaled.iter().sum();
        let mut small = Vec::new();
        let mut large = Vec::new();
        for (i, w) in scaled.iter_mut().enumerate() {
            *w *= n as f64 / total;
            if *w < 1.0 { &mut small } else { &mut large }.push(i);
        }
        self.alias.extend_from_slice(&self.topic);
        self.keep.resize(n, 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            self.keep[s] = scaled[s] as f32;
            self.alias[s] = self.topic[l];
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds probability 1 up to rounding.
        for i in small.into_iter().chain(large) {
            self.keep[i] = 1.0;
        }
    }

    /// Whether the distribution has no outcome.
    pub fn is_empty(&self) -> bool {
        self.topic.is_empty()
    }

    /// Draws a topic. The table must not be empty.
    #[inline]
    pub fn sample(&self, rng: &mut impl RngCore) -> u32 {
        let bucket = below(rng, self.topic.len() as u32) as usize;
        if rng.random::<f32>() < self.keep[bucket] {
            self.topic[bucket]
        } else {
            self.alias[bucket]
        }
    }
}

/// A uniform integer in `[0, n)` by multiply-shift (Lemire); the bias is below `n / 2^32`.
#[inline]
pub fn below(rng: &mut impl RngCore, n: u32) -> u32 {
    ((rng.next_u32() as u64 * n as u64) >> 32) as u32
}

impl Wire for Alias {
    fn encode(&self, out: &mut Vec<u8>) {
        self.topic.encode(out);
        self.alias.encode(out);
        self.keep.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        Alias {
            topic: Vec::decode(input),
            alias: Vec::decode(input),
            keep: Vec::decode(input),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn draws_follow_the_weights() {
        let weights = [(3u32, 1.0), (7, 0.0), (9, 3.0), (11, 6.0)];
        let mut table = Alias::default();
        table.build(weights.iter().copied());
        let mut rng = SmallRng::seed_from_u64(5);
        let mut seen = std::collections::HashMap::new();
        let n = 200_000;
        for _ in 0..n {
            *seen.entry(table.sample(&mut rng)).or_insert(0u32) += 1;
        }
        assert!(!seen.contains_key(&7), "a zero weight was drawn");
        for (topic, w) in [(3, 0.1), (9, 0.3), (11, 0.6)] {
            let share = seen[&topic] as f64 / n as f64;
            assert!((share - w).abs() < 0.01, "topic {topic}: {share} vs {w}");
        }
    }

    #[test]
    fn empty_and_round_trip() {
        let mut table = Alias::default();
        table.build(std::iter::empty());
        assert!(table.is_empty());
        table.build([(1, 2.0), (4, 1.0)].into_iter());
        let mut buf = Vec::new();
        table.encode(&mut buf);
        assert_eq!(Alias::decode(&mut &buf[..]), table);
    }
}
