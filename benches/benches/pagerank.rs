//! One PageRank iteration on a Kronecker scale-16 graph: the engine against the
//! hand-written pull loop over the same CSR, on 1 and 2 threads.
//!
//! `cargo bench -p gasket-benches --bench pagerank`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gasket_benches::{PullBaseline, endless_pagerank, kron_local_graph, pagerank_engine};

const SCALE: u32 = 16;

fn pagerank_iteration(c: &mut Criterion) {
    let mut graph = kron_local_graph(SCALE);
    let mut baseline = PullBaseline::new(&graph);
    let program = endless_pagerank();
    let mut engine = pagerank_engine(&mut graph, &program);
    let mut group = c.benchmark_group(format!("pagerank_iteration_kron{SCALE}"));
    group.sample_size(40);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_function(BenchmarkId::new("hand_written", threads), |b| {
            pool.install(|| {
                b.iter(|| {
                    if threads == 1 {
                        baseline.iterate_serial()
                    } else {
                        baseline.iterate_parallel()
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("engine", threads), |b| {
            pool.install(|| b.iter(|| engine.step().unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, pagerank_iteration);
criterion_main!(benches);
