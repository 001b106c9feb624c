//! The parameter-table exchange of one data-parallel MLP step, without the compute: the
//! Fashion-MNIST network's 235,146 parameters in the tables `gasket mlp` uses (dense rows,
//! Adam on the servers, BSP with eager pushes), each rank pushing a full gradient and
//! pulling every parameter back, as `TableStore` does between two training steps. On 1
//! rank and on 2 thread ranks; the figure is the time per step on rank 0, session
//! start-up excluded.
//!
//! `cargo bench -p gasket-benches --bench param`

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gasket_apps::mlp::kernels::CpuKernels;
use gasket_apps::mlp::model::Model;
use gasket_apps::mlp::net::{Activation, Net};
use gasket_apps::mlp::store::{ParamStore, TableStore, table_specs};
use gasket_engine::ThreadComm;
use gasket_engine::param::{self, Consistency, LrSchedule, ParamConfig, UpdateRule};

/// `iters` steps of push and pull on every one of `ranks` thread ranks; rank 0's time.
fn exchange_steps(net: &Net, ranks: usize, iters: u64) -> Duration {
    let rule = UpdateRule::Adam {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let specs = table_specs(net, (rule, LrSchedule::Constant), Consistency::Bsp, 1);
    let per_rank = ThreadComm::run(ranks, |comm| {
        param::run(
            &comm,
            specs.clone(),
            &ParamConfig::default(),
            |client, _| {
                let cpu = CpuKernels::new();
                let mut model = Model::new(&cpu, net.clone(), 1).expect("model");
                let mut store = TableStore::new(client, net);
                let step = |model: &mut Model<CpuKernels>, store: &mut TableStore<'_>| {
                    store.push(&cpu, model, 1).expect("push");
                    store.pull(&cpu, model).expect("pull");
                };
                // The first step fetches every row; the eager pushes serve the rest.
                store.pull(&cpu, &mut model).expect("first pull");
                step(&mut model, &mut store);
                let started = Instant::now();
                for _ in 0..iters {
                    step(&mut model, &mut store);
                }
                Ok(started.elapsed())
            },
        )
    })
    .expect("session");
    per_rank[0].value
}

fn exchange(c: &mut Criterion) {
    let net = Net::chain(&[784, 256, 128, 10], Activation::Relu).unwrap();
    let mut group = c.benchmark_group("param_exchange_mlp_235146");
    group.sample_size(20);
    for ranks in [1usize, 2] {
        group.bench_function(BenchmarkId::new("thread_ranks", ranks), |b| {
            b.iter_custom(|iters| exchange_steps(&net, ranks, iters))
        });
    }
    group.finish();
}

criterion_group!(benches, exchange);
criterion_main!(benches);
