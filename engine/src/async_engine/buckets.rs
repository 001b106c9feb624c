//! The priority scheduler's queue: ordered buckets, a relaxed priority queue (as
//! delta-stepping and Galois's OBIM order work). One MPMC channel per eighth of an octave
//! of the priority (the exponent and the top three mantissa bits of the double), and a
//! bitmask of the buckets that may hold entries, so a push and a pop cost a channel
//! operation and an atomic OR or bit scan, with no lock shared by all workers. A pop takes
//! from the highest non-empty bucket, first in first out within it.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::ids::LocalId;

/// Buckets per power of two of the priority (the top mantissa bits that pick one).
const SUB_BITS: u32 = 3;

/// Buckets of [`Buckets`]: `2^SUB_BITS` per power of two of the priority from 2^-63 to
/// 2^63 (smaller priorities, zero and non-numbers share the lowest; larger, the highest).
const BUCKETS: usize = 128 << SUB_BITS;

/// The bucket of a priority: `(floor(log2(priority)) + 64)` octaves of `2^SUB_BITS`
/// buckets, the top mantissa bits picking one within the octave, clamped to the buckets.
/// Monotone: a larger priority never gets a lower bucket.
pub(super) fn bucket_of(priority: f64) -> usize {
    if priority.is_nan() || priority <= 0.0 {
        return 0;
    }
    // A positive double's bits, read as an integer, grow with its value: the biased
    // exponent (floor(log2) + 1023; subnormals 0) above the mantissa.
    let top = (priority.to_bits() >> (52 - SUB_BITS)) as i64;
    let lowest = (1023 - 64) << SUB_BITS;
    (top - lowest).clamp(0, BUCKETS as i64 - 1) as usize
}

/// Ordered buckets of vertices (see the module docs).
pub(super) struct Buckets {
    queues: Vec<(Sender<LocalId>, Receiver<LocalId>)>,
    /// Bit `b` set: bucket `b` may hold entries (set after each push; cleared by a pop that
    /// found the bucket empty, which then looks again).
    nonempty: [AtomicU64; BUCKETS / 64],
}

impl Buckets {
    pub(super) fn new() -> Self {
        Buckets {
            queues: (0..BUCKETS).map(|_| unbounded()).collect(),
            nonempty: Default::default(),
        }
    }

    pub(super) fn push(&self, priority: f64, v: LocalId) {
        let b = bucket_of(priority);
        // Send, then set the bit: a pop that clears the bit of a bucket it found empty
        // looks again after clearing, so it either sees this entry or leaves the bit set
        // (setting the bit first could lose the entry to a clear between the two steps).
        self.queues[b]
            .0
            .send(v)
            .expect("the queue lives as long as its receiver");
        self.nonempty[b / 64].fetch_or(1 << (b % 64), Ordering::AcqRel);
    }

    /// An entry of the highest non-empty bucket, if any.
    pub(super) fn pop(&self) -> Option<LocalId> {
        for word in (0..BUCKETS / 64).rev() {
            let mut bits = self.nonempty[word].load(Ordering::Acquire);
            while bits != 0 {
                let high = 63 - bits.leading_zeros() as usize;
                let b = word * 64 + high;
                if let Ok(v) = self.queues[b].1.try_recv() {
                    return Some(v);
                }
                // Found empty: clear its bit, then look again in case a push raced in
                // between (the pusher sets the bit before sending).
                self.nonempty[word].fetch_and(!(1 << high), Ordering::AcqRel);
                if let Ok(v) = self.queues[b].1.try_recv() {
                    self.nonempty[word].fetch_or(1 << high, Ordering::AcqRel);
                    return Some(v);
                }
                bits &= !(1 << high);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_eighths_of_octaves() {
        let per_octave = 1 << SUB_BITS;
        assert_eq!(per_octave, 8);
        assert_eq!(bucket_of(1.0), 64 * per_octave);
        assert_eq!(bucket_of(1.124), 64 * per_octave);
        assert_eq!(bucket_of(1.125), 64 * per_octave + 1);
        assert_eq!(bucket_of(1.99), 64 * per_octave + 7);
        assert_eq!(bucket_of(2.0), 65 * per_octave);
        assert_eq!(bucket_of(0.5), 63 * per_octave);
        assert_eq!(bucket_of(1e300), BUCKETS - 1);
        assert_eq!(bucket_of(1e-300), 0);
        for p in [0.0, -1.0, f64::NAN] {
            assert_eq!(bucket_of(p), 0);
        }
        // Monotone over a sweep of magnitudes.
        let mut last = 0;
        for i in -700..700 {
            let b = bucket_of(1.07f64.powi(i));
            assert!(b >= last, "1.07^{i}");
            last = b;
        }
    }
}
