//! Range partitioning: contiguous blocks of ascending vertex id, balanced by load.
//!
//! Algorithm. The load of a vertex is its degree (in + out, counted over the edges of all
//! ranks; a self-loop counts twice) plus one, so that both the edges a part stores and its
//! vertices are balanced. Every rank counts the loads of the ids it sees, sorts the
//! `(id, load)` pairs, and all ranks all-gather and merge them, so every rank holds the
//! same sorted load sequence `w_0..w_{n-1}` with total `L`.
//!
//! Parameters: `parts` (K) and `imbalance` from the [`PartitionRequest`]; the bound on a
//! part's load is `B = floor(imbalance * L / K)`. A part is *admissible* when its load is at
//! most `B` or it is a single vertex (a vertex heavier than `B` gets a part of its own).
//! Cut points are chosen greedily from the left: with `r` parts still to fill from
//! position `s`, the end of the current part is the position whose prefix load is closest
//! to the even share `P_s + (L - P_s) / r`, restricted to ends that keep the part
//! admissible and leave a suffix that `r - 1` admissible parts can still cover (and one
//! vertex per remaining part when there are enough vertices, so all K parts are used when
//! `n >= K`). The fewest admissible parts for every suffix come from one right-to-left
//! pass of the forward greedy fill. If no split into K admissible parts exists, `B` is
//! raised to the smallest bound for which one does (binary search), so the result is the
//! best contiguous balance possible.
//!
//! Design choice: the result is an [`Assignment`] (every vertex id with its part) rather
//! than a list of K boundaries, so it can be written out as a partition file like any
//! other method's result and ids outside the graph keep the common hash fallback. It costs
//! O(n) memory per rank, which [`all_vertex_ids`](crate::all_vertex_ids) needs anyway.

use gasket_engine::wire::{decode_all, encode_all};
use gasket_engine::{Comm, Ownership, VertexId};

use crate::{Assignment, PartitionError, PartitionRequest, Partitioner, check_parts};

/// Contiguous id ranges balanced by degree + 1 (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Range;

impl Partitioner for Range {
    fn name(&self) -> &'static str {
        "range"
    }

    fn partition(
        &self,
        comm: &dyn Comm,
        request: &PartitionRequest<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        check_parts(request.parts)?;
        let (ids, loads) = global_loads(comm, request)?;
        let parts = range_cuts(&loads, request.parts, request.imbalance);
        Ok(Box::new(Assignment::new(ids, parts, request.parts)))
    }
}

/// Every vertex (ascending) with its load `degree + 1`, identical on every rank.
fn global_loads(
    comm: &dyn Comm,
    request: &PartitionRequest<'_>,
) -> Result<(Vec<VertexId>, Vec<u64>), PartitionError> {
    let mut local: Vec<(VertexId, u64)> = request
        .src
        .iter()
        .chain(request.dst)
        .map(|&v| (v, 1))
        .chain(request.vertices.iter().map(|&v| (v, 0)))
        .collect();
    let local = merge_pairs(&mut local);
    let all = comm.all_gather(encode_all(&local))?;
    let mut pairs: Vec<(VertexId, u64)> = all
        .iter()
        .flat_map(|b| decode_all::<(VertexId, u64)>(b))
        .collect();
    let merged = merge_pairs(&mut pairs);
    Ok(merged.into_iter().map(|(v, d)| (v, d + 1)).unzip())
}

/// Sorts the pairs by id and sums the loads of equal ids.
fn merge_pairs(pairs: &mut [(VertexId, u64)]) -> Vec<(VertexId, u64)> {
    pairs.sort_unstable();
    let mut out: Vec<(VertexId, u64)> = Vec::with_capacity(pairs.len());
    for &(v, w) in pairs.iter() {
        match out.last_mut() {
            Some(last) if last.0 == v => last.1 += w,
            _ => out.push((v, w)),
        }
    }
    out
}

/// Forward greedy fill under bound `bound`: `next[i]` is the end (exclusive) of the
/// admissible part starting at `i` that takes as many vertices as fit, and `need[i]` the
/// fewest admissible parts covering the suffix `i..n` (`need[n] = 0`).
struct Fill {
    next: Vec<usize>,
    need: Vec<usize>,
}

fn fill(prefix: &[u64], bound: u64) -> Fill {
    let n = prefix.len() - 1;
    let mut next = vec![n; n + 1];
    let mut need = vec![0usize; n + 1];
    for i in (0..n).rev() {
        // Largest e with prefix[e] - prefix[i] <= bound, at least i + 1.
        let limit = prefix[i].saturating_add(bound);
        let e = prefix.partition_point(|&p| p <= limit) - 1;
        let e = e.max(i + 1);
        next[i] = e;
        need[i] = need[e] + 1;
    }
    Fill { next, need }
}

/// The part of every vertex of the load sequence `loads` cut into `k` contiguous blocks.
fn range_cuts(loads: &[u64], k: usize, imbalance: f64) -> Vec<u32> {
    let n = loads.len();
    let mut parts = vec![0u32; n];
    if n == 0 || k == 1 {
        return parts;
    }
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0u64);
    for &w in loads {
        prefix.push(prefix.last().copied().unwrap_or(0) + w);
    }
    let total = prefix[n];
    let imbalance = if imbalance.is_finite() {
        imbalance.max(1.0)
    } else {
        1.0
    };
    let mut bound = ((imbalance * total as f64 / k as f64).floor() as u64).max(1);
    let mut greedy = fill(&prefix, bound);
    if greedy.need[0] > k {
        // No admissible split into k parts: find the smallest bound that has one.
        let (mut lo, mut hi) = (bound, total);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if fill(&prefix, mid).need[0] <= k {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        bound = lo;
        greedy = fill(&prefix, bound);
    }
    let mut start = 0usize;
    for p in 0..k {
        if start == n {
            break;
        }
        let remaining = k - p;
        let end = if remaining == 1 {
            n
        } else {
            // need[] is non-increasing: the first end whose suffix fits the other parts.
            let lo = start + 1 + greedy.need[start + 1..].partition_point(|&c| c > remaining - 1);
            let hi = greedy.next[start].min(n.saturating_sub(remaining - 1));
            let hi = hi.max(start + 1);
            let lo = lo.min(hi);
            let target = prefix[start] + (total - prefix[start]) / remaining as u64;
            let below = (prefix.partition_point(|&q| q <= target) - 1).clamp(lo, hi);
            let above = (below + 1).min(hi);
            if target.abs_diff(prefix[above]) < target.abs_diff(prefix[below]) {
                above
            } else {
                below
            }
        };
        parts[start..end].fill(p as u32);
        start = end;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::range_cuts;

    fn part_loads(loads: &[u64], parts: &[u32], k: usize) -> Vec<u64> {
        let mut out = vec![0; k];
        for (&w, &p) in loads.iter().zip(parts) {
            out[p as usize] += w;
        }
        out
    }

    #[test]
    fn uniform_loads_split_evenly() {
        let loads = vec![1u64; 100];
        let parts = range_cuts(&loads, 4, 1.0);
        assert_eq!(part_loads(&loads, &parts, 4), vec![25, 25, 25, 25]);
        assert!(parts.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn heavy_vertex_gets_its_own_part() {
        let mut loads = vec![1u64; 30];
        loads[10] = 100;
        let parts = range_cuts(&loads, 3, 1.05);
        let p = parts[10];
        assert_eq!(parts.iter().filter(|&&q| q == p).count(), 1);
        assert!(parts.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*parts.last().unwrap(), 2);
    }

    #[test]
    fn more_parts_than_vertices() {
        let parts = range_cuts(&[3, 1, 2], 5, 1.05);
        assert_eq!(parts, vec![0, 1, 2]);
    }

    #[test]
    fn infeasible_bound_is_raised() {
        let loads = vec![3u64; 3];
        let parts = range_cuts(&loads, 2, 1.05);
        let pl = part_loads(&loads, &parts, 2);
        assert_eq!(pl.iter().max(), Some(&6));
        assert!(pl.iter().all(|&l| l > 0));
    }
}
