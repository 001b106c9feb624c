//! Triangle counting, as a user of gasket writes it: the vertex program lives in
//! `apps/src/triangles.rs` (written against gasket's public API only, and compiled into
//! this file as a module), and this `main` loads a graph, runs the program through the
//! launcher and checks every vertex against the serial verifier.
//!
//! ```text
//! cargo run --release --example triangles -- [GRAPH]        # 1 rank; GASKET_RANKS=4 for 4
//! cargo build --release --features mpi --example triangles
//! mpirun -np 4 target/release/examples/triangles GRAPH      # 4 MPI ranks
//! ```
//!
//! Without GRAPH it uses the bundled wiki-Vote graph (608,389 triangles).

#[allow(dead_code)] // the example uses part of the module's API
#[path = "../src/triangles.rs"]
mod triangles;

use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;

fn main() {
    let input = GraphInput::new(std::env::args_os().nth(1).map(Into::into), None);
    let config = triangles::TrianglesConfig { per_vertex: true };
    let outcome = Launcher::from_env().and_then(|launcher| {
        launcher.run_with(&input, |comm, graph| {
            triangles::run(&config, comm, graph, false)
        })
    });
    let outcome = match outcome {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return, // not the process holding rank 0
        Err(e) => fail(&e),
    };
    println!(
        "{}: {} triangles on {} rank(s)",
        input.name(),
        triangles::total(&outcome.values),
        outcome.graph.ranks
    );

    let edges = input.read(&SingleComm).unwrap_or_else(|e| fail(&e));
    let pairs: Vec<(u64, u64)> = edges
        .src
        .iter()
        .copied()
        .zip(edges.dst.iter().copied())
        .collect();
    if outcome.values == triangles::verify(&pairs, &edges.vertices) {
        println!("every vertex's count matches the serial verifier");
    } else {
        eprintln!("error: the engine's counts differ from the serial verifier");
        std::process::exit(1);
    }
}
