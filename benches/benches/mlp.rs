//! One training step of the Fashion-MNIST network (784-256-128-10, batch 128, Adam) on
//! the CPU kernels, parameters on the device, on 1 and 2 threads: forward, backward and
//! the optimizer step. Random inputs: the step's cost does not depend on the values.
//!
//! `cargo bench -p gasket-benches --bench mlp`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use gasket_apps::mlp::kernels::CpuKernels;
use gasket_apps::mlp::model::Model;
use gasket_apps::mlp::net::{Activation, Net};
use gasket_apps::mlp::store::{LocalStore, ParamStore, initial_blocks, table_specs};
use gasket_engine::param::{Consistency, LrSchedule, UpdateRule};

const BATCH: usize = 128;

fn training_step(c: &mut Criterion) {
    let net = Net::chain(&[784, 256, 128, 10], Activation::Relu).unwrap();
    let rule = UpdateRule::Adam {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let plan = (rule, LrSchedule::Constant);
    let specs = table_specs(&net, plan, Consistency::Bsp, 1);
    let features: Vec<f32> = (0..BATCH * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let labels: Vec<f32> = (0..BATCH).map(|i| (i % 10) as f32).collect();
    let mut group = c.benchmark_group("mlp_step_784_256_128_10_batch128");
    group.sample_size(50);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let cpu = pool.install(CpuKernels::new);
        let mut model = Model::new(&cpu, net.clone(), BATCH).unwrap();
        let mut store =
            LocalStore::new(&cpu, &mut model, plan, &initial_blocks(&net, &specs)).unwrap();
        group.bench_function(BenchmarkId::new("cpu", threads), |b| {
            b.iter(|| {
                pool.install(|| {
                    let scale = 1.0 / BATCH as f32;
                    model.train_step(&cpu, &features, &labels, scale).unwrap();
                    store.push(&cpu, &mut model, BATCH).unwrap();
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, training_step);
criterion_main!(benches);
