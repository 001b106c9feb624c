//! [`GraphInput`]: a graph file (or the bundled graph) as a launcher
//! [`GraphSource`], so a user's `main` reads any supported format with one value.
//!
//! Edge data is made from what the file carries: `()` for programs without edge data,
//! `f64` for weighted programs (the file's weights, 1 where it has none), or anything else
//! through [`GraphInput::with_edges`], which hands the caller this rank's [`EdgeList`].
//! A binary graph file (`.gsk`) on one rank is handed to the launcher already built when
//! it holds the edge data asked for.

use std::path::PathBuf;

use gasket_engine::comm::Comm;
use gasket_engine::{EdgeInput, EngineError, GraphSource, LocalGraph};

use crate::gsk::{self, read::StoredEdge};
use crate::{EdgeList, Format, bundled, read_graph, read_graph_bytes};

/// Where a graph comes from.
#[derive(Debug, Clone)]
pub enum GraphInput {
    /// A file in a known format (plain or gzip).
    File {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// The small real graph bundled with gasket (SNAP wiki-Vote).
    Bundled,
}

impl GraphInput {
    /// A file, its format detected from the name (`.graph`/`.metis` = METIS, `.mtx` =
    /// Matrix Market, `.gsk` = gasket's binary graph, anything else a SNAP edge list; `.gz`
    /// is looked through).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let format = Format::detect(&path);
        GraphInput::File { path, format }
    }

    /// The file, or the bundled graph when `path` is `None`; the format is detected from
    /// the name unless given.
    pub fn new(path: Option<PathBuf>, format: Option<Format>) -> Self {
        match path {
            None => GraphInput::Bundled,
            Some(path) => {
                let format = format.unwrap_or_else(|| Format::detect(&path));
                GraphInput::File { path, format }
            }
        }
    }

    /// A name for messages.
    pub fn name(&self) -> String {
        match self {
            GraphInput::File { path, .. } => path.display().to_string(),
            GraphInput::Bundled => bundled::WIKI_VOTE_NAME.to_string(),
        }
    }

    /// Reads this rank's share of the edges (collective).
    pub fn read(&self, comm: &dyn Comm) -> Result<EdgeList, crate::DatasetError> {
        match self {
            GraphInput::File { path, format } => read_graph(path, *format, comm),
            GraphInput::Bundled => read_graph_bytes(
                bundled::WIKI_VOTE_NAME,
                bundled::wiki_vote(),
                Format::Snap,
                comm,
            ),
        }
    }

    /// This input with edge data made by `make` from this rank's [`EdgeList`] (given with
    /// the input's name for messages). `make` may also rename vertices or drop edges.
    pub fn with_edges<E, F>(self, make: F) -> WithEdges<F>
    where
        F: Fn(&str, EdgeList) -> Result<EdgeInput<E>, EngineError> + Sync,
    {
        WithEdges { input: self, make }
    }
}

impl GraphInput {
    /// The whole graph as a binary graph file stores it (see [`crate::gsk`]), when this is
    /// one that holds the edge data `E` (nothing, or weights).
    fn stored_graph<E: StoredEdge>(&self) -> Result<Option<LocalGraph<E>>, EngineError> {
        match self {
            GraphInput::File {
                path,
                format: Format::Gsk,
            } => Ok(gsk::read_built(path)?),
            _ => Ok(None),
        }
    }
}

/// The engine's input from this rank's edges and `data`.
fn edge_input<E>(edges: EdgeList, data: Vec<E>) -> EdgeInput<E> {
    EdgeInput {
        src: edges.src,
        dst: edges.dst,
        data,
        vertices: edges.vertices,
        ..EdgeInput::default()
    }
}

impl GraphSource<()> for GraphInput {
    fn name(&self) -> String {
        GraphInput::name(self)
    }
    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<()>, EngineError> {
        let edges = GraphInput::read(self, comm)?;
        let data = vec![(); edges.len()];
        Ok(edge_input(edges, data))
    }
    fn read_built(&self, _comm: &dyn Comm) -> Result<Option<LocalGraph<()>>, EngineError> {
        self.stored_graph()
    }
}

impl GraphSource<f64> for GraphInput {
    fn name(&self) -> String {
        GraphInput::name(self)
    }
    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<f64>, EngineError> {
        let mut edges = GraphInput::read(self, comm)?;
        let data = edges
            .weight
            .take()
            .unwrap_or_else(|| vec![1.0; edges.len()]);
        Ok(edge_input(edges, data))
    }
    fn read_built(&self, _comm: &dyn Comm) -> Result<Option<LocalGraph<f64>>, EngineError> {
        self.stored_graph()
    }
}

/// A [`GraphInput`] whose edge data a function makes; see [`GraphInput::with_edges`].
#[derive(Debug, Clone)]
pub struct WithEdges<F> {
    input: GraphInput,
    make: F,
}

impl<E, F> GraphSource<E> for WithEdges<F>
where
    F: Fn(&str, EdgeList) -> Result<EdgeInput<E>, EngineError> + Sync,
{
    fn name(&self) -> String {
        self.input.name()
    }
    fn read(&self, comm: &dyn Comm) -> Result<EdgeInput<E>, EngineError> {
        let edges = self.input.read(comm)?;
        (self.make)(&self.input.name(), edges)
    }
}

impl GraphInput {
    /// Whether the input may carry edge weights, from its header or first data line
    /// (nothing else is read): `false` only when it surely has none (a SNAP list whose
    /// first edge has two columns, a `pattern` Matrix Market file, a METIS graph whose
    /// `fmt` names no edge weights, an unweighted binary graph, the bundled graph). Apps
    /// whose edge data is a weight use it to run without edge data on unweighted graphs;
    /// any doubt (an unreadable or malformed start) answers `true`, and the reader then
    /// reports the problem with its file and line.
    pub fn may_have_weights(&self) -> bool {
        let GraphInput::File { path, format } = self else {
            return false;
        };
        if *format == Format::Gsk {
            return gsk::is_weighted(path).unwrap_or(true);
        }
        let Ok(source) = crate::source::Source::file(path) else {
            return true;
        };
        let Ok(mut lines) = source.lines_from_start() else {
            return true;
        };
        let comment =
            |line: &[u8]| matches!(crate::text::first_non_space(line), None | Some(b'#' | b'%'));
        let mut first = true;
        while let Ok(Some((_, line))) = lines.next_line() {
            match format {
                Format::Mtx if first => {
                    return crate::mtx::parse_banner(line).map_or(true, |(valued, _)| valued);
                }
                Format::Metis if !comment(line) => {
                    return crate::metis::parse_header(line).map_or(true, |h| h.edge_weights);
                }
                Format::Snap if !comment(line) => {
                    return crate::text::Tokens::new(line).count() != 2;
                }
                _ => {}
            }
            first = false;
        }
        true
    }
}
