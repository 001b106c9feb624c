//! Finite-difference checks of every CPU kernel's gradient and of a whole network's.
//!
//! Each check compares an analytic gradient with the central difference
//! `(f(x + h) - f(x - h)) / 2h` of a scalar function of the kernel's output, in `f64`
//! sums over `f32` kernels, so tolerances are relative and loose enough for `f32`.

use super::kernels::{CpuKernels, Kernels};
use super::model::Model;
use super::net::{Activation, Net};

const H: f32 = 1e-2;

fn close(numeric: f64, analytic: f64, what: &str) {
    let tolerance = 2e-2 * numeric.abs().max(analytic.abs()) + 2e-3;
    assert!(
        (numeric - analytic).abs() <= tolerance,
        "{what}: finite difference {numeric} vs analytic {analytic}"
    );
}

fn values(n: usize, seed: f32) -> Vec<f32> {
    (0..n).map(|i| ((i as f32 + 1.0) * seed).sin()).collect()
}

/// Central difference of `f` at every coordinate of `x`.
fn numeric_gradient(x: &[f32], f: &dyn Fn(&[f32]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += H;
            down[i] -= H;
            (f(&up) - f(&down)) / (2.0 * f64::from(H))
        })
        .collect()
}

#[test]
fn gemm_gradients_match_finite_differences() {
    let cpu = CpuKernels::new();
    let (m, n, k) = (3, 4, 5);
    let a = values(m * k, 0.7);
    let b = values(k * n, 1.3);
    let weights = values(m * n, 0.4); // f = sum(weights * (a b))
    let f = |a: &[f32], b: &[f32]| {
        let mut c = vec![0.0; m * n];
        cpu.gemm(
            (m, n, k),
            &a.to_vec(),
            false,
            &b.to_vec(),
            false,
            0.0,
            &mut c,
        )
        .unwrap();
        c.iter()
            .zip(&weights)
            .map(|(c, w)| f64::from(c * w))
            .sum::<f64>()
    };
    // df/da = W b^T (m x k), df/db = a^T W (k x n): the backward pass's two GEMMs.
    let mut da = vec![0.0; m * k];
    cpu.gemm((m, k, n), &weights, false, &b, true, 0.0, &mut da)
        .unwrap();
    let mut db = vec![0.0; k * n];
    cpu.gemm((k, n, m), &a, true, &weights, false, 0.0, &mut db)
        .unwrap();
    for (i, g) in numeric_gradient(&a, &|x| f(x, &b)).into_iter().enumerate() {
        close(g, f64::from(da[i]), "d/da");
    }
    for (i, g) in numeric_gradient(&b, &|x| f(&a, x)).into_iter().enumerate() {
        close(g, f64::from(db[i]), "d/db");
    }
}

#[test]
fn activation_and_bias_gradients_match_finite_differences() {
    let cpu = CpuKernels::new();
    let (rows, cols) = (3, 4);
    let x = values(rows * cols, 0.9);
    let bias = values(cols, 2.1);
    let weights = values(rows * cols, 0.3);
    for act in [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Linear,
    ] {
        let f = |x: &[f32], bias: &[f32]| {
            let mut y = x.to_vec();
            cpu.bias_activation(act, rows, cols, &bias.to_vec(), &mut y)
                .unwrap();
            y.iter()
                .zip(&weights)
                .map(|(y, w)| f64::from(y * w))
                .sum::<f64>()
        };
        let mut y = x.clone();
        cpu.bias_activation(act, rows, cols, &bias, &mut y).unwrap();
        let mut d = weights.clone();
        cpu.activation_backward(act, rows * cols, &y, &mut d)
            .unwrap();
        let mut dbias = vec![0.0; cols];
        cpu.column_sums(rows, cols, &d, &mut dbias).unwrap();
        for (i, g) in numeric_gradient(&x, &|x| f(x, &bias))
            .into_iter()
            .enumerate()
        {
            // ReLU has a kink at 0; the inputs here stay away from it by more than H.
            close(g, f64::from(d[i]), &format!("{act} d/dx"));
        }
        for (i, g) in numeric_gradient(&bias, &|b| f(&x, b))
            .into_iter()
            .enumerate()
        {
            close(g, f64::from(dbias[i]), &format!("{act} d/dbias"));
        }
    }
}

#[test]
fn softmax_cross_entropy_gradient_matches_finite_differences() {
    let cpu = CpuKernels::new();
    let (rows, cols) = (4, 5);
    let logits: Vec<f32> = values(rows * cols, 1.7).iter().map(|v| 3.0 * v).collect();
    let labels = vec![0.0, 4.0, 2.0, 2.0];
    let scale = 0.25;
    let f = |z: &[f32]| {
        let mut g = vec![0.0; rows * cols];
        cpu.softmax_cross_entropy(rows, cols, &z.to_vec(), &labels, scale, &mut g)
            .unwrap()
            .0
            * f64::from(scale)
    };
    let mut grad = vec![0.0; rows * cols];
    let (loss, correct) = cpu
        .softmax_cross_entropy(rows, cols, &logits, &labels, scale, &mut grad)
        .unwrap();
    assert!(loss > 0.0 && correct <= rows);
    for (i, g) in numeric_gradient(&logits, &f).into_iter().enumerate() {
        close(g, f64::from(grad[i]), "d/dlogits");
    }
}

#[test]
fn a_whole_dag_network_matches_finite_differences() {
    let text = "input 4 - -\na 5 tanh input\nb 3 sigmoid input,a\nout 3 linear a,b\n";
    let net = Net::parse("net", text).unwrap();
    let cpu = CpuKernels::new();
    let blocks: Vec<Vec<f32>> = net
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            values(b.len(), 0.37 + i as f32 * 0.11)
                .iter()
                .map(|v| v * 0.8)
                .collect()
        })
        .collect();
    let rows = 6;
    let features = values(rows * 4, 0.53);
    let labels = vec![0.0, 1.0, 2.0, 1.0, 0.0, 2.0];
    let scale = 1.0 / rows as f32;
    let loss = |blocks: &[Vec<f32>]| {
        let mut model = Model::new(&cpu, net.clone(), rows).unwrap();
        model.set_params(&cpu, blocks).unwrap();
        model.evaluate(&cpu, &features, &labels).unwrap().0 * f64::from(scale)
    };
    let mut model = Model::new(&cpu, net.clone(), rows).unwrap();
    model.set_params(&cpu, &blocks).unwrap();
    model.train_step(&cpu, &features, &labels, scale).unwrap();
    let grads = model.to_host(&cpu, true).unwrap();
    for (b, block) in blocks.iter().enumerate() {
        let numeric = numeric_gradient(block, &|x| {
            let mut changed = blocks.clone();
            changed[b] = x.to_vec();
            loss(&changed)
        });
        for (i, g) in numeric.into_iter().enumerate() {
            close(
                g,
                f64::from(grads[b][i]),
                &format!("block {} [{i}]", net.blocks[b].name),
            );
        }
    }
}
