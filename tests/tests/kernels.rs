//! The MLP's kernels, backend against backend: every kernel of [`Kernels`] (GEMM in its
//! four transpose cases, bias + activation forward and backward for each activation,
//! column sums, softmax cross-entropy, each optimizer rule over several steps) and three
//! training steps of a [`Model`] run on fixed inputs, and the outputs of two backends must
//! agree within [`TOLERANCE`].
//!
//! Without a GPU the CPU is compared with itself (the harness cannot rot, and a nudged
//! output is caught). With the `cuda` feature, `cuda_kernels_equal_the_cpu_kernels`
//! compares the CUDA backend with the CPU; it needs a GPU, so it is ignored by a plain
//! `cargo test` and run with `--ignored` by `scripts/device-check`, where a missing GPU,
//! driver, cuBLAS or NVRTC fails it.

use gasket_apps::mlp::kernels::{CpuKernels, Kernels};
use gasket_apps::mlp::model::Model;
use gasket_apps::mlp::net::{Activation, Net};
use gasket_apps::mlp::store::{LocalStore, ParamStore};
use gasket_engine::param::{LrSchedule, UpdateRule};

/// Two backends agree when `|a - b| <= TOLERANCE * max(1, |b|)` for every value.
const TOLERANCE: f32 = 1e-4;

/// Deterministic values in `[-1, 1)`.
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn upload<K: Kernels>(k: &K, host: &[f32]) -> K::Buf {
    let mut buf = k.zeros(host.len()).unwrap();
    k.upload(host, &mut buf).unwrap();
    buf
}

fn download<K: Kernels>(k: &K, buf: &K::Buf, len: usize) -> Vec<f32> {
    let mut host = vec![0.0; len];
    k.download(buf, &mut host).unwrap();
    host
}

const ACTIVATIONS: [Activation; 4] = [
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Linear,
];

const RULES: [UpdateRule; 5] = [
    UpdateRule::Add,
    UpdateRule::Sgd { lr: 0.1 },
    UpdateRule::Adagrad { lr: 0.1, eps: 1e-8 },
    UpdateRule::Momentum {
        lr: 0.1,
        momentum: 0.9,
    },
    UpdateRule::Adam {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    },
];

/// Every kernel's output on fixed inputs, named.
fn kernel_outputs<K: Kernels>(k: &K) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    // Odd shapes, so no kernel gets by on a multiple of its block size.
    let (m, n, kk) = (37, 29, 53);
    let a = upload(k, &values(m * kk, 1));
    let b = upload(k, &values(kk * n, 2));
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        for beta in [0.0, 1.0] {
            let mut c = upload(k, &values(m * n, 3));
            k.gemm((m, n, kk), &a, ta, &b, tb, beta, &mut c).unwrap();
            out.push((
                format!("gemm ta={ta} tb={tb} beta={beta}"),
                download(k, &c, m * n),
            ));
        }
    }

    let (rows, cols) = (33, 19);
    let bias = upload(k, &values(cols, 4));
    for act in ACTIVATIONS {
        let mut y = upload(k, &values(rows * cols, 5));
        k.bias_activation(act, rows, cols, &bias, &mut y).unwrap();
        out.push((
            format!("bias_activation {act:?}"),
            download(k, &y, rows * cols),
        ));
        let mut d = upload(k, &values(rows * cols, 6));
        k.activation_backward(act, rows * cols, &y, &mut d).unwrap();
        out.push((
            format!("activation_backward {act:?}"),
            download(k, &d, rows * cols),
        ));
    }

    let d = upload(k, &values(rows * cols, 7));
    let mut sums = k.zeros(cols).unwrap();
    k.column_sums(rows, cols, &d, &mut sums).unwrap();
    out.push(("column_sums".into(), download(k, &sums, cols)));

    let logits: Vec<f32> = values(rows * cols, 8).iter().map(|x| 4.0 * x).collect();
    let logits = upload(k, &logits);
    let labels: Vec<f32> = (0..rows).map(|r| ((r * 7) % cols) as f32).collect();
    let labels = upload(k, &labels);
    let mut grad = k.zeros(rows * cols).unwrap();
    let (loss, correct) = k
        .softmax_cross_entropy(rows, cols, &logits, &labels, 0.25, &mut grad)
        .unwrap();
    out.push((
        "softmax_cross_entropy gradient".into(),
        download(k, &grad, rows * cols),
    ));
    out.push((
        "softmax_cross_entropy loss and correct".into(),
        vec![loss as f32, correct as f32],
    ));

    let len = 301;
    for rule in RULES {
        let mut params = upload(k, &values(len, 9));
        let mut state = k.optimizer_state(len).unwrap();
        for step in 0..3 {
            let grads = upload(k, &values(len, 10 + step));
            k.optimizer_step(rule, len, &mut params, &grads, &mut state)
                .unwrap();
            out.push((
                format!("optimizer_step {rule:?} step {step}"),
                download(k, &params, len),
            ));
        }
    }
    out.extend(training_steps(k));
    out
}

/// Three training steps of a small network with momentum: the loss of each step and the
/// parameters after it.
fn training_steps<K: Kernels>(k: &K) -> Vec<(String, Vec<f32>)> {
    let net = Net::chain(&[12, 16, 8, 5], Activation::Tanh).unwrap();
    let batch = 24;
    let mut model = Model::new(k, net.clone(), batch).unwrap();
    let initial: Vec<Vec<f32>> = net
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            values(b.len(), 20 + i as u64)
                .iter()
                .map(|x| 0.3 * x)
                .collect()
        })
        .collect();
    let rule = UpdateRule::Momentum {
        lr: 0.05,
        momentum: 0.9,
    };
    let mut store = LocalStore::new(k, &mut model, (rule, LrSchedule::Constant), &initial).unwrap();
    let mut out = Vec::new();
    for step in 0..3u64 {
        let features = values(batch * 12, 30 + step);
        let labels: Vec<f32> = (0..batch).map(|r| ((r as u64 + step) % 5) as f32).collect();
        store.pull(k, &mut model).unwrap();
        let (loss, _) = model
            .train_step(k, &features, &labels, 1.0 / batch as f32)
            .unwrap();
        store.push(k, &mut model, batch).unwrap();
        out.push((format!("training step {step} loss"), vec![loss as f32]));
        for (b, params) in model.to_host(k, false).unwrap().into_iter().enumerate() {
            out.push((format!("training step {step} block {b}"), params));
        }
    }
    out
}

/// Where two backends' outputs differ beyond [`TOLERANCE`]: `(kernel, index, a, b)`.
fn mismatches(
    a: &[(String, Vec<f32>)],
    b: &[(String, Vec<f32>)],
) -> Vec<(String, usize, f32, f32)> {
    assert_eq!(a.len(), b.len());
    let mut bad = Vec::new();
    for ((name, x), (other, y)) in a.iter().zip(b) {
        assert_eq!(name, other);
        assert_eq!(x.len(), y.len(), "{name}");
        for (i, (&p, &q)) in x.iter().zip(y).enumerate() {
            let close = (p - q).abs() <= TOLERANCE * q.abs().max(1.0);
            if !close || p.is_nan() != q.is_nan() {
                bad.push((name.clone(), i, p, q));
            }
        }
    }
    bad
}

#[test]
fn the_harness_covers_every_kernel_and_catches_a_nudged_value() {
    let cpu = CpuKernels::new();
    let outputs = kernel_outputs(&cpu);
    // 8 GEMMs, 4 activations forward and backward, column sums, 2 softmax outputs,
    // 5 rules x 3 steps, 3 training steps x (loss + 6 blocks).
    assert_eq!(outputs.len(), 8 + 8 + 1 + 2 + 15 + 3 * 7);
    assert!(outputs.iter().all(|(_, v)| v.iter().all(|x| x.is_finite())));
    assert!(mismatches(&outputs, &kernel_outputs(&cpu)).is_empty());
    // The training steps learn: the loss of the third step is below the first's.
    let loss = |step: usize| outputs[outputs.len() - 21 + 7 * step].1[0];
    assert!(loss(2) < loss(0), "{} then {}", loss(0), loss(2));
    let mut nudged = outputs.clone();
    nudged[3].1[5] += 1e-3 * nudged[3].1[5].abs().max(1.0);
    let found = mismatches(&nudged, &outputs);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        (outputs[3].0.as_str(), 5)
    );
}

/// The CUDA backend against the CPU, on a machine with a GPU (`scripts/device-check`).
#[cfg(feature = "cuda")]
#[test]
#[ignore = "needs an NVIDIA GPU with the CUDA 12 driver, cuBLAS and NVRTC"]
fn cuda_kernels_equal_the_cpu_kernels() {
    use gasket_apps::mlp::cuda::CudaKernels;
    let gpu = CudaKernels::new(Some(0)).unwrap_or_else(|why| panic!("no usable GPU: {why}"));
    eprintln!("comparing {} with the CPU", gpu.describe());
    let found = mismatches(&kernel_outputs(&gpu), &kernel_outputs(&CpuKernels::new()));
    assert!(
        found.is_empty(),
        "{} values differ beyond {TOLERANCE}, first: {:?}",
        found.len(),
        &found[..found.len().min(10)]
    );
}
