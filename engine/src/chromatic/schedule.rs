//! The chromatic schedule: edge (or full) consistency across ranks without locks.
//!
//! The graph is coloured so that no two adjacent vertices (edge consistency: distance-1
//! colouring) or no two vertices within two hops (full consistency: distance-2) share a
//! colour. The synchronous engine then runs one colour per superstep, in turn: a signalled
//! vertex of another colour keeps its signal (and its message) until its colour's turn.
//! Within a superstep no running vertex has a running neighbour (or, for full, a running
//! vertex at distance 2), and gather reads neighbours' newest values (all of them finished
//! in earlier supersteps), so every run sees what an edge-consistent (full-consistent)
//! asynchronous run would: GraphLab's chromatic engine. This is how `--engine async` gives
//! edge and full consistency on several ranks; on one rank the asynchronous engine's locks
//! give it directly.
//!
//! The schedule keeps the asynchronous engine's meaning of [`Activation::All`]: every
//! vertex runs once at the start, without a message (a message-free activation in `init`,
//! carried over by `apply` until the vertex's colour's turn), then only when signalled.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Colouring, Distance, colour_graph};
use crate::async_engine::Consistency;
use crate::comm::{Comm, ReduceOp};
use crate::error::Result;
use crate::graph::LocalGraph;
use crate::launcher::RankRun;
use crate::program::{
    Activation, Context, Control, EdgeDir, Neighbor, OutEdges, SuperstepInfo, VertexMut,
    VertexProgram, VertexRef,
};
use crate::sync::{SyncConfig, SyncEngine};

/// Seed of the colouring's priorities (any fixed value: results do not depend on it; the
/// number of colours and supersteps does, a little).
pub const COLOURING_SEED: u64 = 0x5eed_c010;

/// `P` run one colour class per superstep.
struct ByColour<'p, P> {
    inner: &'p P,
    colours: Vec<u32>,
    num_colours: usize,
    /// The colour whose turn it is (advanced after each superstep).
    turn: AtomicUsize,
}

impl<P> ByColour<'_, P> {
    fn my_turn(&self, local: u32) -> bool {
        self.colours[local as usize] as usize == self.turn.load(Ordering::Relaxed)
    }
}

impl<P: VertexProgram> VertexProgram for ByColour<'_, P> {
    type Vertex = P::Vertex;
    type Edge = P::Edge;
    type Gather = P::Gather;
    type Message = P::Message;

    /// The schedule itself runs signalled (a vertex runs at its colour's turn when it has
    /// work); the inner program's [`Activation::All`] means, as in the asynchronous
    /// engine, that every vertex runs once at the start without a message.
    fn activation(&self) -> Activation {
        Activation::Signalled
    }
    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, P::Message>) -> P::Vertex {
        if self.inner.activation() == Activation::All {
            ctx.activate(v.handle());
        }
        self.inner.init(v, ctx)
    }
    fn gather_edges(&self, v: &VertexRef<'_, P::Vertex>) -> EdgeDir {
        if self.my_turn(v.local()) {
            self.inner.gather_edges(v)
        } else {
            EdgeDir::None
        }
    }
    fn gather(&self, v: &VertexRef<'_, P::Vertex>, e: &P::Edge, other: &P::Vertex) -> P::Gather {
        self.inner.gather(v, e, other)
    }
    fn combine(&self, acc: &mut P::Gather, x: P::Gather) {
        self.inner.combine(acc, x)
    }
    fn gather_into(
        &self,
        acc: &mut P::Gather,
        v: &VertexRef<'_, P::Vertex>,
        e: &P::Edge,
        other: &P::Vertex,
    ) {
        self.inner.gather_into(acc, v, e, other)
    }
    fn apply(
        &self,
        v: &mut VertexMut<'_, P::Vertex>,
        total: Option<P::Gather>,
        ctx: &mut Context<'_, P::Message>,
    ) {
        let local = v.handle().0;
        if self.my_turn(local) {
            self.inner.apply(v, total, ctx);
        } else if let Some(msg) = ctx.message.take() {
            // Not this colour's turn: keep the signal and its message for a later superstep.
            ctx.signal_with(v.handle(), msg);
        } else {
            // Likewise for a run without a message (the first run of `Activation::All`).
            ctx.activate(v.handle());
        }
    }
    fn scatter_edges(&self, v: &VertexRef<'_, P::Vertex>) -> EdgeDir {
        if self.my_turn(v.local()) {
            self.inner.scatter_edges(v)
        } else {
            EdgeDir::None
        }
    }
    fn scatter(
        &self,
        v: &VertexRef<'_, P::Vertex>,
        e: &mut P::Edge,
        other: &Neighbor<'_, P::Vertex>,
        ctx: &mut Context<'_, P::Message>,
    ) {
        self.inner.scatter(v, e, other, ctx)
    }
    fn scatter_out(
        &self,
        v: &VertexRef<'_, P::Vertex>,
        edges: OutEdges<'_, P::Vertex, P::Edge>,
        ctx: &mut Context<'_, P::Message>,
    ) {
        self.inner.scatter_out(v, edges, ctx)
    }
    fn scatter_chunk(&self, owned: usize) -> usize {
        self.inner.scatter_chunk(owned)
    }
    /// None, whatever the inner program names: a push or pull would send the signals of
    /// every active vertex, including those whose colour's turn it is not. The inner
    /// program's `signal_along` still runs, through its default `scatter`, gated by turn
    /// in `scatter_edges`.
    fn signal_edges(&self) -> EdgeDir {
        EdgeDir::None
    }
    fn wants_signal(&self, dst: &P::Vertex, received: Option<&P::Message>) -> bool {
        self.inner.wants_signal(dst, received)
    }
    fn combine_messages(&self, acc: &mut P::Message, msg: P::Message) {
        self.inner.combine_messages(acc, msg)
    }
    fn priority(&self, msg: &P::Message, out_degree: usize) -> f64 {
        self.inner.priority(msg, out_degree)
    }
    fn save_state(&self) -> Vec<u8> {
        self.inner.save_state()
    }
    fn restore_state(&self, state: &[u8]) -> std::result::Result<(), String> {
        self.inner.restore_state(state)
    }
    fn aggregators(&self) -> Vec<ReduceOp> {
        self.inner.aggregators()
    }
    fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
        self.turn.store(
            (info.iteration + 1) % self.num_colours.max(1),
            Ordering::Relaxed,
        );
        self.inner.after_superstep(info)
    }
}

/// Runs `program` (signal-driven: `Activation::Signalled`) with edge or full consistency
/// across ranks by the chromatic schedule (collective). `max_iterations` bounds the
/// supersteps, one colour each.
pub fn run_chromatic<P: VertexProgram, T>(
    program: &P,
    comm: &dyn Comm,
    graph: &mut LocalGraph<P::Edge>,
    consistency: Consistency,
    max_iterations: usize,
    log_progress: bool,
    value: impl Fn(&VertexRef<'_, P::Vertex>) -> T,
) -> Result<RankRun<T>> {
    let distance = match consistency {
        Consistency::Full => Distance::Two,
        _ => Distance::One,
    };
    let Colouring {
        colours,
        num_colours,
        supersteps,
    } = colour_graph(comm, graph, distance, COLOURING_SEED)?;
    if log_progress && comm.rank() == 0 {
        tracing::info!(
            "chromatic schedule: {num_colours} colours in {supersteps} supersteps \
             ({consistency} consistency)"
        );
    }
    let wrapped = ByColour {
        inner: program,
        colours,
        num_colours: num_colours as usize,
        turn: AtomicUsize::new(0),
    };
    let config = SyncConfig {
        max_iterations,
        log_progress,
        ..SyncConfig::default()
    };
    let mut engine = SyncEngine::new(&wrapped, graph, comm, config)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A program whose hooks answer distinctively.
    struct Marked;

    impl VertexProgram for Marked {
        type Vertex = u8;
        type Edge = ();
        type Gather = ();
        type Message = u8;
        fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, u8>) -> u8 {
            0
        }
        fn apply(&self, _v: &mut VertexMut<'_, u8>, _t: Option<()>, _c: &mut Context<'_, u8>) {}
        fn scatter_chunk(&self, owned: usize) -> usize {
            owned + 17
        }
        fn wants_signal(&self, dst: &u8, received: Option<&u8>) -> bool {
            *dst == 3 && received.is_none()
        }
        fn combine_messages(&self, acc: &mut u8, msg: u8) {
            *acc = acc.wrapping_add(msg)
        }
        fn priority(&self, msg: &u8, out_degree: usize) -> f64 {
            f64::from(*msg) * 2.0 + out_degree as f64
        }
        fn signal_edges(&self) -> EdgeDir {
            EdgeDir::Out
        }
        fn save_state(&self) -> Vec<u8> {
            vec![4, 2]
        }
        fn restore_state(&self, state: &[u8]) -> std::result::Result<(), String> {
            if state == [4, 2] {
                Ok(())
            } else {
                Err(format!("not mine: {state:?}"))
            }
        }
    }

    #[test]
    fn by_colour_forwards_the_hooks_and_keeps_signals_on_the_colour_schedule() {
        let wrapped = ByColour {
            inner: &Marked,
            colours: vec![0],
            num_colours: 1,
            turn: AtomicUsize::new(0),
        };
        assert_eq!(wrapped.scatter_chunk(3), 20);
        assert!(wrapped.wants_signal(&3, None));
        assert!(!wrapped.wants_signal(&3, Some(&1)));
        let mut acc = 5;
        wrapped.combine_messages(&mut acc, 6);
        assert_eq!(acc, 11);
        assert_eq!(wrapped.priority(&4, 3), 11.0);
        assert_eq!(wrapped.save_state(), vec![4, 2]);
        assert!(wrapped.restore_state(&[4, 2]).is_ok());
        assert!(wrapped.restore_state(&[1]).is_err());
        // Signals go through the turn-gated scatter, never a push or pull of every vertex.
        assert_eq!(wrapped.signal_edges(), EdgeDir::None);
    }
}
