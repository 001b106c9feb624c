//! Ownership: which rank owns each vertex (the edge cut).
//!
//! The distributed build only needs a function `VertexId -> Rank`. Hashing is the default:
//! it needs no global knowledge, balances vertices in expectation and lets every rank
//! compute any vertex's owner locally. Better cuts (range, streaming, METIS) come from the
//! partitioning crate as a [`TableOwnership`] or another implementation of [`Ownership`].

use std::collections::HashMap;

use crate::ids::{Rank, VertexId};

/// A vertex -> rank map known to every rank.
pub trait Ownership: Send + Sync {
    /// Number of ranks the map assigns to.
    fn num_ranks(&self) -> usize;
    /// The rank owning `v`; must be `< num_ranks()` and identical on every rank.
    fn owner(&self, v: VertexId) -> Rank;
}

/// Owner = a 64-bit mix of the id, reduced to `0..num_ranks` (Lemire's multiply-shift).
#[derive(Debug, Clone, Copy)]
pub struct HashOwnership {
    num_ranks: usize,
}

impl HashOwnership {
    /// Hash ownership over `num_ranks` ranks.
    pub fn new(num_ranks: usize) -> Self {
        assert!(num_ranks > 0, "at least one rank");
        HashOwnership { num_ranks }
    }
}

/// SplitMix64's finaliser: a bijective mix, so consecutive ids spread over all ranks.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Ownership for HashOwnership {
    fn num_ranks(&self) -> usize {
        self.num_ranks
    }
    #[inline]
    fn owner(&self, v: VertexId) -> Rank {
        ((u128::from(mix64(v)) * self.num_ranks as u128) >> 64) as Rank
    }
}

/// An explicit table (e.g. read from a partition file); ids missing from it fall back to
/// hashing, so vertices the table does not know still get a well-defined owner.
#[derive(Debug, Clone)]
pub struct TableOwnership {
    table: HashMap<VertexId, Rank>,
    fallback: HashOwnership,
}

impl TableOwnership {
    /// Builds the map; every rank in `table` must be `< num_ranks`.
    pub fn new(table: HashMap<VertexId, Rank>, num_ranks: usize) -> Self {
        assert!(table.values().all(|&r| r < num_ranks), "rank out of range");
        TableOwnership {
            table,
            fallback: HashOwnership::new(num_ranks),
        }
    }
}

impl Ownership for TableOwnership {
    fn num_ranks(&self) -> usize {
        self.fallback.num_ranks
    }
    fn owner(&self, v: VertexId) -> Rank {
        self.table
            .get(&v)
            .copied()
            .unwrap_or_else(|| self.fallback.owner(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_in_range_and_balanced() {
        let own = HashOwnership::new(4);
        let mut counts = [0usize; 4];
        for v in 0..40_000u64 {
            counts[own.owner(v)] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn table_overrides_hash() {
        let own = TableOwnership::new(HashMap::from([(5, 2)]), 3);
        assert_eq!(own.owner(5), 2);
        assert_eq!(own.owner(6), HashOwnership::new(3).owner(6));
    }
}
