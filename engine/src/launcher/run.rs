//! One rank's run of a program on its built graph, and what it hands back.

use crate::async_engine::{AsyncConfig, AsyncEngine, AsyncMetrics, Consistency};
use crate::comm::Comm;
use crate::error::Result;
use crate::graph::LocalGraph;
use crate::ids::VertexId;
use crate::program::{VertexProgram, VertexRef};
use crate::sync::{RunSummary, StopReason, SuperstepMetrics, SyncConfig, SyncEngine};

/// One rank's outcome: its owned vertices' results, the engine's figures, and anything
/// else the rank computed (`extra`; only rank 0's reaches the caller of the launcher).
#[derive(Debug, Clone)]
pub struct RankRun<T, X = ()> {
    /// `(vertex id, result)` of the vertices this rank owns.
    pub values: Vec<(VertexId, T)>,
    /// How the run ended.
    pub summary: RunSummary,
    /// Per-superstep figures of this rank (synchronous engine; empty for an asynchronous
    /// run).
    pub metrics: Vec<SuperstepMetrics>,
    /// The asynchronous engine's figures of this rank (`None` for a synchronous run).
    pub async_metrics: Option<AsyncMetrics>,
    /// Any other per-rank result (a quality report, a global error measure, ...).
    pub extra: X,
}

impl<T, X> RankRun<T, X> {
    /// The same run with `extra` replaced.
    pub fn with_extra<Y>(self, extra: Y) -> RankRun<T, Y> {
        self.map_extra(|_| extra)
    }

    /// The same run with `extra` mapped through `f`.
    pub fn map_extra<Y>(self, f: impl FnOnce(X) -> Y) -> RankRun<T, Y> {
        RankRun {
            values: self.values,
            summary: self.summary,
            metrics: self.metrics,
            async_metrics: self.async_metrics,
            extra: f(self.extra),
        }
    }
}

/// Runs `program` to completion with the synchronous engine on this rank's graph
/// (collective) and maps each owned vertex to its result with `value`.
pub fn run_program<P: VertexProgram, T>(
    program: &P,
    comm: &dyn Comm,
    graph: &mut LocalGraph<P::Edge>,
    config: SyncConfig,
    value: impl Fn(&VertexRef<'_, P::Vertex>) -> T,
) -> Result<RankRun<T>> {
    let mut engine = SyncEngine::new(program, graph, comm, config)?;
    let summary = engine.run()?;
    let mut values = Vec::with_capacity(engine.topology().num_owned());
    engine.for_each_owned(|v| values.push((v.id(), value(v))));
    Ok(RankRun {
        values,
        summary,
        metrics: engine.metrics().to_vec(),
        async_metrics: None,
        extra: (),
    })
}

/// Runs `program` to completion with the asynchronous engine on this rank's graph
/// (collective) and maps each owned vertex to its result with `value`. The summary counts
/// exchange rounds as iterations. Edge and full consistency on several ranks run by the
/// chromatic schedule ([`run_chromatic`](crate::chromatic::run_chromatic); figures are then
/// per superstep, one colour each).
pub fn run_program_async<P: VertexProgram, T>(
    program: &P,
    comm: &dyn Comm,
    graph: &mut LocalGraph<P::Edge>,
    config: AsyncConfig,
    value: impl Fn(&VertexRef<'_, P::Vertex>) -> T,
) -> Result<RankRun<T>> {
    if comm.size() > 1 && config.consistency != Consistency::Vertex {
        return crate::chromatic::run_chromatic(
            program,
            comm,
            graph,
            config.consistency,
            usize::MAX,
            config.log_progress,
            value,
        );
    }
    let mut engine = AsyncEngine::new(program, graph, comm, config)?;
    let metrics = engine.run()?;
    let mut values = Vec::with_capacity(engine.topology().num_owned());
    engine.for_each_owned(|v| values.push((v.id(), value(v))));
    Ok(RankRun {
        values,
        summary: RunSummary {
            iterations: metrics.rounds as usize,
            stopped_because: metrics
                .stopped_because
                .unwrap_or(StopReason::NoActiveVertices),
            seconds: metrics.seconds,
        },
        metrics: Vec::new(),
        async_metrics: Some(metrics),
        extra: (),
    })
}
