//! The longer PageRank comparison: engine vs hand-written pull loop, per iteration, on a
//! Kronecker graph of the given scale, for each thread count. Alternates the two sides
//! run by run and reports the median of each, so both see the same machine conditions.
//!
//! `cargo run --release -p gasket-benches --bin pagerank-ratio -- --scale 20`

use std::time::Instant;

use clap::Parser;
use gasket_benches::{PullBaseline, endless_pagerank, kron_local_graph, pagerank_engine};

/// Engine vs hand-written PageRank iteration times.
#[derive(Debug, Parser)]
struct Args {
    /// Kronecker scale (2^scale vertices, 16 edges per vertex).
    #[arg(long, default_value_t = 20)]
    scale: u32,
    /// Timed iterations per side and thread count.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Thread counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 2])]
    threads: Vec<usize>,
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let args = Args::parse();
    let t = Instant::now();
    let mut graph = kron_local_graph(args.scale);
    eprintln!(
        "kron scale {}: {} vertices, {} edges, built in {:.1}s",
        args.scale,
        graph.num_global_vertices(),
        graph.num_global_edges(),
        t.elapsed().as_secs_f64()
    );
    let mut baseline = PullBaseline::new(&graph);
    let program = endless_pagerank();
    let mut engine = pagerank_engine(&mut graph, &program);
    println!("threads\thand_written_ms\tengine_ms\tratio");
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (mut hand, mut eng) = (Vec::new(), Vec::new());
        pool.install(|| {
            // One warm-up iteration each, then alternate.
            baseline.iterate_parallel();
            engine.step().unwrap();
            for _ in 0..args.iterations {
                let t = Instant::now();
                if threads == 1 {
                    baseline.iterate_serial();
                } else {
                    baseline.iterate_parallel();
                }
                hand.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                engine.step().unwrap();
                eng.push(t.elapsed().as_secs_f64() * 1e3);
            }
        });
        let (h, e) = (median(&mut hand), median(&mut eng));
        println!("{threads}\t{h:.2}\t{e:.2}\t{:.3}", e / h);
    }
}
