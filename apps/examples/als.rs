//! Collaborative filtering by alternating least squares (GraphLab's flagship toolkit), as
//! a user of gasket writes it: the vertex program lives in `apps/src/als.rs` (written
//! against gasket's public API only, and compiled into this file as a module; vertex data
//! is a factor vector), and this `main` runs it through the launcher on a ratings file,
//! checks it against the serial verifier, and compares its held-out RMSE with the
//! global-mean baseline.
//!
//! ```text
//! cargo run --release --example als -- RATINGS              # 1 rank; GASKET_RANKS=4 for 4
//! cargo build --release --features mpi --example als
//! mpirun -np 4 target/release/examples/als RATINGS          # 4 MPI ranks
//! ```
//!
//! RATINGS holds `user item rating` lines (`gasket generate-ratings` writes one).

#[allow(dead_code)] // the example uses part of the module's API
#[path = "../src/als.rs"]
mod als;

use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;

fn main() {
    let config = als::AlsConfig::default();
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!(
            "usage: als RATINGS   (`gasket generate-ratings -o RATINGS` makes a synthetic set)"
        );
        std::process::exit(2);
    };
    let input = GraphInput::file(&path);
    let ratings = input
        .clone()
        .with_edges(|name, edges| als::ratings_input(&config, name, edges));
    let outcome = Launcher::from_env().and_then(|launcher| {
        launcher.run_with(&ratings, |comm, graph| {
            als::run(&config, comm, graph, false)
        })
    });
    let outcome = match outcome {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return, // not the process holding rank 0
        Err(e) => fail(&e),
    };
    let report = &outcome.extra;
    println!(
        "{}: {} ratings on {} rank(s); test RMSE {:.4}, global-mean baseline {:.4}",
        input.name(),
        report.train_ratings + report.test_ratings,
        outcome.graph.ranks,
        report.test_rmse,
        report.baseline_rmse
    );

    let edges = input.read(&SingleComm).unwrap_or_else(|e| fail(&e));
    let weights = edges.weight.unwrap_or_default();
    let triples: Vec<(u64, u64, f64)> = (0..edges.src.len())
        .map(|k| (edges.src[k], edges.dst[k], weights[k]))
        .collect();
    let (_, expected) = als::verify(&config, &triples);
    let close = (report.test_rmse - expected.test_rmse).abs() <= 1e-6 * expected.test_rmse;
    if close && report.test_rmse < report.baseline_rmse {
        println!("matches the serial verifier and beats the baseline");
    } else {
        eprintln!(
            "error: test RMSE {} (serial verifier {}, baseline {})",
            report.test_rmse, expected.test_rmse, report.baseline_rmse
        );
        std::process::exit(1);
    }
}
