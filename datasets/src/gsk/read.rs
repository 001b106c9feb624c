//! Reading a `.gsk` (see the format's module docs): the whole graph as stored for a run on
//! one rank ([`read_built`]), or this rank's rows as an edge list ([`read`]).

use std::path::Path;

use gasket_engine::comm::Comm;
use gasket_engine::graph::{Csr, WholeGraph};
use gasket_engine::{EngineError, LocalGraph};
use rayon::prelude::*;

use super::{GskFile, Section};
use crate::EdgeList;
use crate::error::DatasetError;

/// Edge data a graph can be loaded with as stored: nothing, or the file's weights.
pub(crate) trait StoredEdge: Sized + Send + Sync {
    /// The data of every edge in out-CSR order and the in-CSR's edge ids, or `None` when
    /// the file cannot supply them (weights asked of a file without).
    #[allow(clippy::type_complexity)]
    fn stored(file: &GskFile) -> Result<Option<(Vec<Self>, Vec<usize>)>, DatasetError>;
}

impl StoredEdge for () {
    fn stored(file: &GskFile) -> Result<Option<(Vec<()>, Vec<usize>)>, DatasetError> {
        Ok(Some((vec![(); file.header.edges as usize], Vec::new())))
    }
}

impl StoredEdge for f64 {
    fn stored(file: &GskFile) -> Result<Option<(Vec<f64>, Vec<usize>)>, DatasetError> {
        if !file.header.weighted {
            return Ok(None);
        }
        let weights: Vec<f64> = file.section(Section::Weights, f64_from_le)?;
        check_finite(file, &weights)?;
        let ids = file.positions(Section::InEdgeIds)?;
        Ok(Some((weights, ids)))
    }
}

/// The whole graph in `path` as stored, for a run on one rank; `None` when the file does
/// not hold the edge data `E` asks for.
pub(crate) fn read_built<E: StoredEdge>(
    path: &Path,
) -> Result<Option<LocalGraph<E>>, DatasetError> {
    let file = GskFile::open(path)?;
    let Some((edge_data, in_edge_ids)) = E::stored(&file)? else {
        return Ok(None);
    };
    let csr = |offsets, neighbors| -> Result<Csr, DatasetError> {
        Ok(Csr {
            offsets: file.positions(offsets)?,
            neighbors: file.section(neighbors, u32::from_le)?,
        })
    };
    let whole = WholeGraph {
        global_ids: file.section(Section::Ids, u64::from_le)?,
        out_csr: csr(Section::OutOffsets, Section::OutTargets)?,
        in_csr: csr(Section::InOffsets, Section::InSources)?,
        in_edge_ids,
        edge_data,
    };
    LocalGraph::from_whole(whole)
        .map(Some)
        .map_err(|e| match e {
            EngineError::Build(reason) => file.invalid(reason),
            other => file.invalid(other.to_string()),
        })
}

/// Reads this rank's rows of a `.gsk` file as original ids: a contiguous run of rows
/// holding about `m / R` edges. Returns the edges and the file's edge count. A rank that
/// fails returns at once; the others learn of it at their next collective.
pub(crate) fn read(path: &Path, comm: &dyn Comm) -> Result<(EdgeList, u64), DatasetError> {
    let (rank, ranks) = (comm.rank(), comm.size());
    let file = GskFile::open(path)?;
    let h = file.header;
    let (n, m) = (h.vertices as usize, h.edges as usize);
    let ids: Vec<u64> = file.section(Section::Ids, u64::from_le)?;
    check_distinct(&file, &ids)?;
    let offsets = file.positions(Section::OutOffsets)?;
    if offsets[0] != 0 || offsets[n] != m {
        return Err(file.invalid(format!(
            "the out-offsets run from {} to {}, not from 0 to the {m} edges",
            offsets[0], offsets[n]
        )));
    }
    if let Some(v) = (0..n)
        .into_par_iter()
        .find_first(|&v| offsets[v] > offsets[v + 1])
    {
        return Err(file.invalid(format!(
            "the out-offsets of compact id {v} ({}..{}) decrease",
            offsets[v],
            offsets[v + 1]
        )));
    }
    // Rank r's rows start at the first row whose edges start at or after m r / R.
    let start = |r: usize| match r {
        0 => 0,
        r if r == ranks => n,
        r => offsets[..n].partition_point(|&o| o < m * r / ranks),
    };
    let (lo, hi) = (start(rank), start(rank + 1));
    let (first, end) = (offsets[lo], offsets[hi]);
    let count = (end - first) as u64;
    let targets: Vec<u32> = file.words(Section::OutTargets, first as u64, count, u32::from_le)?;
    // A rank that read a whole section checks its checksum too.
    let whole = count == h.edges;
    if whole {
        file.verify(Section::OutTargets, &targets)?;
    }
    if let Some(&t) = targets.par_iter().find_any(|&&t| t as usize >= n) {
        return Err(file.invalid(format!(
            "an edge targets compact id {t}, but there are {n} vertices"
        )));
    }
    let weight = if h.weighted {
        let w: Vec<f64> = file.words(Section::Weights, first as u64, count, f64_from_le)?;
        if whole {
            file.verify(Section::Weights, &w)?;
        }
        check_finite(&file, &w)?;
        Some(w)
    } else {
        None
    };
    let mut src = vec![0u64; targets.len()];
    // Each row fills its own slice of `src`.
    let mut slices: Vec<&mut [u64]> = Vec::with_capacity(hi - lo);
    let mut rest = src.as_mut_slice();
    for v in lo..hi {
        let (row, tail) = rest.split_at_mut(offsets[v + 1] - offsets[v]);
        slices.push(row);
        rest = tail;
    }
    slices
        .into_par_iter()
        .zip(lo..hi)
        .for_each(|(row, v)| row.fill(ids[v]));
    let dst: Vec<u64> = targets.par_iter().map(|&t| ids[t as usize]).collect();
    let edges = EdgeList {
        src,
        dst,
        weight,
        vertices: ids[lo..hi].to_vec(),
    };
    Ok((edges, h.edges))
}

fn f64_from_le(x: f64) -> f64 {
    f64::from_bits(u64::from_le(x.to_bits()))
}

fn check_finite(file: &GskFile, weights: &[f64]) -> Result<(), DatasetError> {
    match weights.par_iter().find_any(|x| !x.is_finite()) {
        Some(x) => Err(file.invalid(format!("an edge weight is {x}, not a finite number"))),
        None => Ok(()),
    }
}

/// Every compact id names a different vertex (the whole-graph path has the engine check it).
fn check_distinct(file: &GskFile, ids: &[u64]) -> Result<(), DatasetError> {
    let mut sorted = ids.to_vec();
    sorted.par_sort_unstable();
    match sorted.par_windows(2).find_any(|w| w[0] == w[1]) {
        Some(w) => Err(file.invalid(format!("vertex {} appears twice", w[0]))),
        None => Ok(()),
    }
}
