//! Community detection by label propagation, as a user of gasket writes it: the vertex
//! program lives in `apps/src/labelprop.rs` (written against gasket's public API only, and
//! compiled into this file as a module), and this `main` loads a graph, runs the program
//! through the launcher and checks every label against the serial verifier.
//!
//! ```text
//! cargo run --release --example labelprop -- [GRAPH]        # 1 rank; GASKET_RANKS=4 for 4
//! cargo build --release --features mpi --example labelprop
//! mpirun -np 4 target/release/examples/labelprop GRAPH      # 4 MPI ranks
//! ```
//!
//! Without GRAPH it uses the bundled wiki-Vote graph.

#[allow(dead_code)] // the example uses part of the module's API
#[path = "../src/labelprop.rs"]
mod labelprop;

use std::collections::HashSet;

use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;

fn main() {
    let input = GraphInput::new(std::env::args_os().nth(1).map(Into::into), None);
    let config = labelprop::LabelPropConfig::default();
    let outcome = Launcher::from_env().and_then(|launcher| {
        launcher.run_with(&input, |comm, graph| {
            labelprop::run(&config, comm, graph, false)
        })
    });
    let outcome = match outcome {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return, // not the process holding rank 0
        Err(e) => fail(&e),
    };
    let communities: HashSet<u64> = outcome.values.iter().map(|&(_, label)| label).collect();
    println!(
        "{}: {} communities after {} superstep(s) on {} rank(s)",
        input.name(),
        communities.len(),
        outcome.summary.iterations,
        outcome.graph.ranks
    );

    let edges = input.read(&SingleComm).unwrap_or_else(|e| fail(&e));
    let pairs: Vec<(u64, u64)> = edges
        .src
        .iter()
        .copied()
        .zip(edges.dst.iter().copied())
        .collect();
    if outcome.values == labelprop::verify(&pairs, &edges.vertices, &config) {
        println!("every label matches the serial verifier");
    } else {
        eprintln!("error: the engine's labels differ from the serial verifier");
        std::process::exit(1);
    }
}
