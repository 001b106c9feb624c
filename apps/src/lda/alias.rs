//! Walker's alias method (Vose's construction): after `O(n)` preparation, a draw from a
//! discrete distribution over `n` outcomes costs one uniform bucket, one coin and one
//! load. The fast sampler's proposals use it; tables are sparse (only outcomes with
//! positive weight are stored, as topic ids), so a word seen in few topics has a small
//! table whatever the number of topics. A bucket is 8 bytes (its probability and two topic
//! ids below 2^16, the most topics a model has), so a draw reads one cache line: at
//! large `K` the sampler is bound by how many lines it has in flight.

use gasket_engine::{Wire, prefetch};
use rand::{Rng, RngCore};

/// One bucket: keep `topic` with probability `keep`, else take `alias`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Bucket {
    keep: f32,
    topic: u16,
    alias: u16,
}

/// A prepared discrete distribution over topic ids (below 2^16).
#[derive(Debug, Default, PartialEq)]
pub struct Alias {
    buckets: Vec<Bucket>,
}

impl Clone for Alias {
    fn clone(&self) -> Self {
        Alias {
            buckets: self.buckets.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.buckets.clone_from(&source.buckets);
    }
}

impl Alias {
    /// Prepares the distribution proportional to the positive `weights` (topic, weight);
    /// entries with weight <= 0 are ignored. Reuses this table's memory.
    ///
    /// # Panics
    ///
    /// When a topic id is 2^16 or more.
    pub fn build(&mut self, weights: impl Iterator<Item = (u32, f64)>) {
        self.buckets.clear();
        let mut scaled: Vec<f64> = Vec::new();
        for (topic, w) in weights.filter(|&(_, w)| w > 0.0) {
            let topic = u16::try_from(topic).expect("alias outcomes are topic ids below 2^16");
            self.buckets.push(Bucket {
                keep: 1.0,
                topic,
                alias: topic,
            });
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
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            self.buckets[s].keep = scaled[s] as f32;
            self.buckets[s].alias = self.buckets[l].topic;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left holds probability 1 up to rounding (`keep` stays 1).
    }

    /// Whether the distribution has no outcome.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Draws a topic. The table must not be empty.
    #[inline]
    pub fn sample(&self, rng: &mut impl RngCore) -> u32 {
        let bucket = self.bucket(rng);
        self.resolve(bucket, rng.random::<f32>())
    }

    /// The first half of a draw: a uniform bucket. The table must not be empty.
    #[inline]
    pub fn bucket(&self, rng: &mut impl RngCore) -> usize {
        below(rng, self.buckets.len() as u32) as usize
    }

    /// Hints that `bucket` will be resolved soon.
    #[inline]
    pub fn prefetch(&self, bucket: usize) {
        prefetch::read(self.buckets.as_ptr().wrapping_add(bucket));
    }

    /// The second half of a draw: the topic of `bucket` for a uniform `coin` in `[0, 1)`.
    #[inline]
    pub fn resolve(&self, bucket: usize, coin: f32) -> u32 {
        let b = self.buckets[bucket];
        if coin < b.keep { b.topic } else { b.alias }.into()
    }
}

/// A uniform integer in `[0, n)` by multiply-shift (Lemire); the bias is below `n / 2^32`.
#[inline]
pub fn below(rng: &mut impl RngCore, n: u32) -> u32 {
    ((rng.next_u32() as u64 * n as u64) >> 32) as u32
}

impl Wire for Alias {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.buckets.len() as u64).encode(out);
        for b in &self.buckets {
            (b.keep, b.topic, b.alias).encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        let n = u64::decode(input);
        let buckets = (0..n)
            .map(|_| {
                let (keep, topic, alias) = <(f32, u16, u16)>::decode(input);
                Bucket { keep, topic, alias }
            })
            .collect();
        Alias { buckets }
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
