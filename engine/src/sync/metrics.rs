//! Per-superstep figures of the synchronous engine (written by `--metrics FILE.json`).

use serde::Serialize;

/// What one superstep did on this rank.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SuperstepMetrics {
    /// Superstep number (0-based).
    pub iteration: usize,
    /// Vertices that ran on this rank.
    pub active: usize,
    /// Whether the active set was enumerated as a list ("sparse"), bitset ("dense") or
    /// all vertices ("all").
    pub frontier: &'static str,
    /// How signals travelled: "push" along the active vertices' edges or "pull" over every
    /// vertex's edges from active neighbours (programs that signal through
    /// `signal_along`), or "scatter" (the program's own scatter).
    pub direction: &'static str,
    /// Edges the signal pass read on this rank: the active vertices' edges when pushing or
    /// scattering, the edges read before each vertex's early exit when pulling.
    pub edges: u64,
    /// Ghost updates sent (vertex payloads).
    pub ghost_updates_sent: u64,
    /// Remote signals sent.
    pub remote_signals_sent: u64,
    /// Cut-edge updates sent.
    pub edge_updates_sent: u64,
    /// Payload bytes this rank sent to other ranks in the superstep.
    pub bytes_sent: u64,
    /// Non-empty messages this rank sent.
    pub messages_sent: u64,
    /// Seconds in gather + apply + scatter.
    pub compute_seconds: f64,
    /// Seconds in exchanges and reductions (including waiting for peers).
    pub comm_seconds: f64,
    /// Reduced aggregator values.
    pub aggregates: Vec<f64>,
}

/// Summary of a finished run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Supersteps executed.
    pub iterations: usize,
    /// Why the run ended.
    pub stopped_because: StopReason,
    /// Wall-clock seconds of the run (excluding graph build).
    pub seconds: f64,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// No vertex was signalled.
    NoActiveVertices,
    /// The program (its `after_superstep` or a vertex's stop vote) asked to stop.
    ProgramStopped,
    /// The iteration limit was reached.
    IterationLimit,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::NoActiveVertices => "no vertex is active",
            StopReason::ProgramStopped => "the program converged",
            StopReason::IterationLimit => "the iteration limit was reached",
        })
    }
}

/// The frontier kinds `SuperstepMetrics::frontier` names, in wire order.
const FRONTIER_NAMES: [&str; 3] = ["all", "sparse", "dense"];
/// The directions `SuperstepMetrics::direction` names, in wire order.
const DIRECTION_NAMES: [&str; 3] = ["scatter", "push", "pull"];

fn wire_index(names: &[&str], name: &str) -> u8 {
    names
        .iter()
        .position(|&n| n == name)
        .expect("a name the engine uses") as u8
}

impl crate::wire::Wire for SuperstepMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        let frontier = wire_index(&FRONTIER_NAMES, self.frontier);
        let direction = wire_index(&DIRECTION_NAMES, self.direction);
        (self.iteration, self.active, frontier).encode(out);
        (direction, self.edges).encode(out);
        (self.ghost_updates_sent, self.remote_signals_sent).encode(out);
        (self.edge_updates_sent, self.bytes_sent, self.messages_sent).encode(out);
        (self.compute_seconds, self.comm_seconds).encode(out);
        self.aggregates.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (iteration, active, frontier) = <(usize, usize, u8)>::decode(input);
        let (direction, edges) = <(u8, u64)>::decode(input);
        let (ghost_updates_sent, remote_signals_sent) = <(u64, u64)>::decode(input);
        let (edge_updates_sent, bytes_sent, messages_sent) = <(u64, u64, u64)>::decode(input);
        let (compute_seconds, comm_seconds) = <(f64, f64)>::decode(input);
        SuperstepMetrics {
            iteration,
            active,
            frontier: FRONTIER_NAMES[frontier as usize],
            direction: DIRECTION_NAMES[direction as usize],
            edges,
            ghost_updates_sent,
            remote_signals_sent,
            edge_updates_sent,
            bytes_sent,
            messages_sent,
            compute_seconds,
            comm_seconds,
            aggregates: Vec::decode(input),
        }
    }
}
