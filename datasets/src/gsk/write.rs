//! Writing a `.gsk`: the engine builds the whole graph on one rank (hub-first local ids,
//! both CSRs, edge ids), and its arrays are written as they are, after a header that holds
//! each section's checksum (computed first, in parallel).

use std::io::Write;
use std::path::Path;

use gasket_engine::graph::{EdgeInput, LocalGraph, build_local_graph};
use gasket_engine::{EngineError, HashOwnership, SingleComm, Wire};

use super::{GskHeader, Section, as_u64s, crc_le, le_bytes, piece_words};
use crate::EdgeList;
use crate::error::DatasetError;

/// Writes the whole graph `graph` (every edge and declared vertex, as one rank read it)
/// to `path` as `.gsk`, atomically. Returns the header written.
///
/// # Errors
///
/// [`DatasetError::Invalid`] when the graph has 2^32 - 1 vertices or more (compact ids are
/// 32-bit); [`DatasetError::Write`] when the file cannot be written.
pub fn write_gsk(path: &Path, graph: EdgeList) -> Result<GskHeader, DatasetError> {
    let EdgeList {
        src,
        dst,
        weight,
        vertices,
    } = graph;
    match weight {
        Some(weights) => {
            let graph = build(path, src, dst, weights, vertices)?;
            write_built(path, &graph, Some(graph.edge_data()))
        }
        None => {
            let units = vec![(); src.len()];
            write_built(path, &build(path, src, dst, units, vertices)?, None)
        }
    }
}

/// The engine's one-rank build of the whole graph.
fn build<E: Wire + Send + Sync>(
    path: &Path,
    src: Vec<u64>,
    dst: Vec<u64>,
    data: Vec<E>,
    vertices: Vec<u64>,
) -> Result<LocalGraph<E>, DatasetError> {
    let input = EdgeInput {
        src,
        dst,
        data,
        vertices,
        ..EdgeInput::default()
    };
    build_local_graph(&SingleComm, &HashOwnership::new(1), input).map_err(|e| {
        let reason = match e {
            // The one limit a build on one rank can hit: local ids are 32-bit.
            EngineError::Build(_) => {
                "more than 2^32-2 vertices; the binary format holds fewer".to_string()
            }
            other => format!("cannot store this graph: {other}"),
        };
        DatasetError::Invalid {
            path: path.to_path_buf(),
            reason,
        }
    })
}

/// Writes the sections of a built graph; `weights` are its edge data when it has them.
fn write_built<E>(
    path: &Path,
    graph: &LocalGraph<E>,
    weights: Option<&[f64]>,
) -> Result<GskHeader, DatasetError> {
    let topo = graph.topology();
    let (out_csr, in_csr) = (topo.out_csr(), topo.in_csr());
    let out_offsets = as_u64s(&out_csr.offsets);
    let in_offsets = as_u64s(&in_csr.offsets);
    let in_edge_ids = weights.map(|_| as_u64s(topo.in_edge_ids()));
    let mut checksums = [0u32; 7];
    checksums[Section::Ids as usize] = crc_le(topo.global_ids());
    checksums[Section::OutOffsets as usize] = crc_le(&out_offsets);
    checksums[Section::OutTargets as usize] = crc_le(&out_csr.neighbors);
    checksums[Section::InOffsets as usize] = crc_le(&in_offsets);
    checksums[Section::InSources as usize] = crc_le(&in_csr.neighbors);
    if let (Some(weights), Some(ids)) = (weights, &in_edge_ids) {
        checksums[Section::Weights as usize] = crc_le(weights);
        checksums[Section::InEdgeIds as usize] = crc_le(ids);
    }
    let header = GskHeader {
        vertices: topo.num_owned() as u64,
        edges: out_csr.num_entries() as u64,
        weighted: weights.is_some(),
        checksums,
    };
    let written = gasket_engine::output::write_atomically(path, |w| {
        w.write_all(&header.encode())?;
        write_le(w, topo.global_ids())?;
        write_le(w, &out_offsets)?;
        write_le(w, &out_csr.neighbors)?;
        if let Some(weights) = weights {
            write_le(w, weights)?;
        }
        write_le(w, &in_offsets)?;
        write_le(w, &in_csr.neighbors)?;
        if let Some(ids) = &in_edge_ids {
            write_le(w, ids)?;
        }
        Ok(())
    });
    written.map_err(|source| DatasetError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(header)
}

/// Writes the little-endian bytes of `words`, a piece at a time.
fn write_le<T: bytemuck::Pod>(w: &mut dyn Write, words: &[T]) -> std::io::Result<()> {
    for piece in words.chunks(piece_words::<T>()) {
        w.write_all(&le_bytes(piece))?;
    }
    Ok(())
}
