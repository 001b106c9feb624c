//! Breadth-first search as a user of gasket writes it, in one file against the public API:
//! the program signals through `signal_along`, so the engine pushes along the frontier's
//! out-edges while it is small and pulls over every vertex's in-edges once the frontier's
//! edges pass |E|/20 (direction-optimizing BFS); `wants_signal` lets a pulling vertex stop
//! at its first reached in-neighbour. The `main` prints the direction of every superstep
//! and checks every hop count against a serial BFS.
//!
//! ```text
//! cargo run --release --example bfs -- [GRAPH [SOURCE]]     # 1 rank; GASKET_RANKS=4 for 4
//! cargo build --release --features mpi --example bfs
//! mpirun -np 4 target/release/examples/bfs GRAPH            # 4 MPI ranks
//! ```
//!
//! Without GRAPH it uses the bundled wiki-Vote graph; SOURCE defaults to its smallest id.

use std::collections::{HashMap, VecDeque};

use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;

/// Hop distance from `source` along edge directions (`u32::MAX`: not reached).
struct Bfs {
    source: VertexId,
}

impl VertexProgram for Bfs {
    type Vertex = u32;
    type Edge = ();
    type Gather = ();
    type Message = u32; // a distance on offer

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u32>) -> u32 {
        if v.id() == self.source {
            ctx.signal_with(v.handle(), 0);
        }
        u32::MAX
    }

    fn apply(&self, v: &mut VertexMut<'_, u32>, _total: Option<()>, ctx: &mut Context<'_, u32>) {
        let offered = *ctx.message().expect("only signalled vertices run");
        let data = v.data_mut();
        *data = (*data).min(offered);
    }

    // Signals along out-edges, as a function of the two endpoints: push or pull.
    fn signal_edges(&self) -> EdgeDir {
        EdgeDir::Out
    }

    fn signal_along(&self, src: &u32, _edge: &(), dst: &u32) -> Option<u32> {
        (*dst == u32::MAX).then_some(*src + 1)
    }

    // Every vertex active in a superstep has the same distance, so the first offer is final.
    fn wants_signal(&self, dst: &u32, received: Option<&u32>) -> bool {
        *dst == u32::MAX && received.is_none()
    }

    fn combine_messages(&self, acc: &mut u32, offer: u32) {
        *acc = (*acc).min(offer);
    }
}

/// Serial BFS: the reference.
fn serial_bfs(edges: &gasket_datasets::EdgeList, source: VertexId) -> Vec<(VertexId, u32)> {
    let mut out: HashMap<VertexId, Vec<VertexId>> = HashMap::new();
    for (&s, &d) in edges.src.iter().zip(&edges.dst) {
        out.entry(s).or_default().push(d);
    }
    let mut dist: HashMap<VertexId, u32> = edges
        .src
        .iter()
        .chain(&edges.dst)
        .chain(&edges.vertices)
        .map(|&v| (v, u32::MAX))
        .collect();
    dist.insert(source, 0);
    let mut queue = VecDeque::from([source]);
    while let Some(u) = queue.pop_front() {
        for &d in out.get(&u).into_iter().flatten() {
            if dist[&d] == u32::MAX {
                dist.insert(d, dist[&u] + 1);
                queue.push_back(d);
            }
        }
    }
    let mut dist: Vec<(VertexId, u32)> = dist.into_iter().collect();
    dist.sort_unstable();
    dist
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let input = GraphInput::new(args.next().map(Into::into), None);
    let edges = input.read(&SingleComm).unwrap_or_else(|e| fail(&e));
    let source = match args.next() {
        Some(s) => s
            .to_string_lossy()
            .parse()
            .unwrap_or_else(|_| fail(&"SOURCE is not a vertex id")),
        None => edges
            .src
            .iter()
            .chain(&edges.dst)
            .copied()
            .min()
            .unwrap_or(0),
    };
    let outcome = Launcher::from_env()
        .and_then(|launcher| launcher.run(&input, &Bfs { source }, |v| *v.data()));
    let outcome = match outcome {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return, // not the process holding rank 0
        Err(e) => fail(&e),
    };
    let reached = outcome.values.iter().filter(|v| v.1 != u32::MAX).count();
    println!(
        "{}: {reached} of {} vertices reached from {source} on {} rank(s)",
        input.name(),
        outcome.values.len(),
        outcome.graph.ranks
    );
    for m in &outcome.metrics[0] {
        println!(
            "superstep {}: {} active, {} edges, {}",
            m.iteration, m.active, m.edges, m.direction
        );
    }
    if outcome.values == serial_bfs(&edges, source) {
        println!("every hop count matches the serial verifier");
    } else {
        eprintln!("error: the engine's hop counts differ from the serial verifier");
        std::process::exit(1);
    }
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}
