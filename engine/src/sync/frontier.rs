//! The active set of a superstep, sparse when small and dense when large (Ligra's switch).
//!
//! Membership is always answered by a bitset over the owned vertices. Iteration uses a
//! sorted list of active ids when fewer than 1/`SPARSE_DIVISOR` of the vertices are active
//! (work proportional to the active vertices, plus one binary search per chunk), and the
//! bitset words otherwise (sequential sweeps, no list to build). Clearing follows the same
//! rule: a sparse frontier clears only its own bits.

use crate::ids::LocalId;

/// Below `num_owned / SPARSE_DIVISOR` active vertices, the frontier is a sorted list.
pub const SPARSE_DIVISOR: usize = 20;

/// A fixed-size bitset.
#[derive(Debug, Clone, Default)]
pub struct Bitset {
    words: Vec<u64>,
}

impl Bitset {
    /// An all-zero bitset of `n` bits.
    pub fn new(n: usize) -> Self {
        Bitset {
            words: vec![0; n.div_ceil(64)],
        }
    }
    /// Reads bit `i`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        self.words[i / 64] >> (i % 64) & 1 != 0
    }
    /// Reads bit `i` without a bounds check.
    ///
    /// # Safety
    /// `i < self.len()`.
    #[inline(always)]
    pub unsafe fn get_unchecked(&self, i: usize) -> bool {
        debug_assert!(i < self.len());
        // SAFETY: `i / 64 < words.len()` when `i < len()`, by the caller's contract.
        unsafe { *self.words.get_unchecked(i / 64) >> (i % 64) & 1 != 0 }
    }
    /// Number of bits (a multiple of 64: the words' bits).
    pub fn len(&self) -> usize {
        self.words.len() * 64
    }
    /// Sets bit `i`; returns true when it was clear before.
    #[inline]
    pub fn insert(&mut self, i: usize) -> bool {
        let w = &mut self.words[i / 64];
        let mask = 1u64 << (i % 64);
        let was_clear = *w & mask == 0;
        *w |= mask;
        was_clear
    }
    /// Clears bit `i`.
    #[inline]
    pub fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1u64 << (i % 64));
    }
    /// The bits as words (bit `i` is bit `i % 64` of word `i / 64`), for tasks that set
    /// bits of disjoint word ranges in parallel.
    pub fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }
    /// Sets every bit in `lo..hi`.
    pub fn insert_range(&mut self, lo: usize, hi: usize) {
        for i in lo..hi.min(lo.next_multiple_of(64)) {
            self.insert(i);
        }
        let mut i = lo.next_multiple_of(64);
        while i + 64 <= hi {
            self.words[i / 64] = u64::MAX;
            i += 64;
        }
        for j in i.max(lo)..hi {
            self.insert(j);
        }
    }
    /// Clears every bit.
    pub fn clear_all(&mut self) {
        self.words.fill(0);
    }
    /// Calls `f` for each set bit in `lo..hi`, ascending.
    #[inline]
    pub fn for_each_in(&self, lo: usize, hi: usize, mut f: impl FnMut(usize)) {
        if lo >= hi {
            return;
        }
        let (first, last) = (lo / 64, (hi - 1) / 64);
        for wi in first..=last {
            let mut w = self.words[wi];
            if wi == first {
                w &= u64::MAX << (lo % 64);
            }
            if wi == last && hi % 64 != 0 {
                w &= u64::MAX >> (64 - hi % 64);
            }
            while w != 0 {
                f(wi * 64 + w.trailing_zeros() as usize);
                w &= w - 1;
            }
        }
    }
}

/// A fixed-size bitset that tasks set concurrently.
#[derive(Debug, Default)]
pub struct AtomicBitset {
    words: Vec<std::sync::atomic::AtomicU64>,
}

impl AtomicBitset {
    /// An all-zero bitset of `n` bits.
    pub fn new(n: usize) -> Self {
        AtomicBitset {
            words: (0..n.div_ceil(64)).map(|_| Default::default()).collect(),
        }
    }
    /// Sets bit `i`; returns true for the one caller that found it clear.
    #[inline]
    pub fn claim(&self, i: usize) -> bool {
        let mask = 1u64 << (i % 64);
        self.words[i / 64].fetch_or(mask, std::sync::atomic::Ordering::Relaxed) & mask == 0
    }
    /// Clears bit `i`.
    #[inline]
    pub fn release(&self, i: usize) {
        self.words[i / 64].fetch_and(!(1u64 << (i % 64)), std::sync::atomic::Ordering::Relaxed);
    }
}

/// How the active vertices of a superstep are enumerated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontierKind {
    /// Every owned vertex.
    All,
    /// A sorted list.
    Sparse,
    /// The bitset.
    Dense,
}

/// The active owned vertices of one superstep.
#[derive(Debug, Clone)]
pub struct Frontier {
    kind: FrontierKind,
    list: Vec<LocalId>,
    bits: Bitset,
    count: usize,
}

impl Frontier {
    /// Every one of `n` vertices active.
    pub fn all(n: usize) -> Self {
        Frontier {
            kind: FrontierKind::All,
            list: Vec::new(),
            bits: Bitset::new(0),
            count: n,
        }
    }

    /// The frontier of the vertices whose bits are set in `bits`, given the same vertices
    /// as an unsorted, duplicate-free `list`. Chooses sparse or dense by size.
    pub fn from_signals(bits: Bitset, mut list: Vec<LocalId>, num_owned: usize) -> Self {
        let count = list.len();
        let kind = if count * SPARSE_DIVISOR < num_owned {
            list.sort_unstable();
            FrontierKind::Sparse
        } else {
            list = Vec::new();
            FrontierKind::Dense
        };
        Frontier {
            kind,
            list,
            bits,
            count,
        }
    }

    /// How the frontier is enumerated.
    pub fn kind(&self) -> FrontierKind {
        self.kind
    }
    /// Number of active vertices.
    pub fn count(&self) -> usize {
        self.count
    }
    /// Whether `v` is active.
    #[inline]
    pub fn contains(&self, v: LocalId) -> bool {
        self.kind == FrontierKind::All || self.bits.get(v as usize)
    }
    /// Calls `f` for each active vertex in `lo..hi`, ascending.
    #[inline]
    pub fn for_each_in(&self, lo: usize, hi: usize, mut f: impl FnMut(LocalId)) {
        match self.kind {
            FrontierKind::All => (lo..hi).for_each(|v| f(v as LocalId)),
            FrontierKind::Dense => self.bits.for_each_in(lo, hi, |v| f(v as LocalId)),
            FrontierKind::Sparse => {
                let start = self.list.partition_point(|&v| (v as usize) < lo);
                for &v in &self.list[start..] {
                    if v as usize >= hi {
                        break;
                    }
                    f(v);
                }
            }
        }
    }
    /// Sets the bits of the active vertices in `bits` (a bitset over at least the owned
    /// vertices).
    pub fn mark(&self, bits: &mut Bitset) {
        match self.kind {
            FrontierKind::All => bits.insert_range(0, self.count),
            FrontierKind::Dense => {
                for (w, &x) in bits.words.iter_mut().zip(&self.bits.words) {
                    *w |= x;
                }
            }
            FrontierKind::Sparse => {
                for &v in &self.list {
                    bits.insert(v as usize);
                }
            }
        }
    }
    /// Gives back the bitset, cleared, for reuse.
    pub fn into_cleared_bits(self, num_owned: usize) -> Bitset {
        let mut bits = self.bits;
        match self.kind {
            FrontierKind::All => Bitset::new(num_owned),
            FrontierKind::Sparse => {
                for &v in &self.list {
                    bits.remove(v as usize);
                }
                bits
            }
            FrontierKind::Dense => {
                bits.clear_all();
                bits
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitset_iterates_ranges() {
        let mut b = Bitset::new(200);
        for i in [0, 5, 63, 64, 127, 128, 199] {
            assert!(b.insert(i));
        }
        assert!(!b.insert(5));
        let mut seen = Vec::new();
        b.for_each_in(5, 128, |i| seen.push(i));
        assert_eq!(seen, vec![5, 63, 64, 127]);
        seen.clear();
        b.for_each_in(0, 200, |i| seen.push(i));
        assert_eq!(seen.len(), 7);
    }

    #[test]
    fn sparse_and_dense_agree() {
        let n = 1000;
        for count in [3usize, 400] {
            let mut bits = Bitset::new(n);
            let mut list = Vec::new();
            for k in 0..count {
                let v = (k * 7919) % n;
                if bits.insert(v) {
                    list.push(v as LocalId);
                }
            }
            let f = Frontier::from_signals(bits, list.clone(), n);
            assert_eq!(
                f.kind(),
                if count < 50 {
                    FrontierKind::Sparse
                } else {
                    FrontierKind::Dense
                }
            );
            let mut seen = Vec::new();
            f.for_each_in(100, 900, |v| seen.push(v));
            let mut expect: Vec<_> = list
                .into_iter()
                .filter(|&v| (100..900).contains(&v))
                .collect();
            expect.sort_unstable();
            assert_eq!(seen, expect);
            let cleared = f.into_cleared_bits(n);
            let mut any = false;
            cleared.for_each_in(0, n, |_| any = true);
            assert!(!any);
        }
    }
}
