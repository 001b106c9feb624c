//! The layer math behind one trait ([`Kernels`]) with two backends: the CPU here (GEMM from
//! the `gemm` crate on the rayon pool, elementwise loops split over rows) and CUDA in
//! `cuda` (cuBLAS and NVRTC kernels). Buffers are the backend's own ([`Kernels::Buf`]), so
//! activations stay on the device between layers within a step; only a batch's inputs,
//! the per-row losses and, through a parameter table, the parameters and gradients cross.
//!
//! Matrices are row-major. Labels travel as `f32` class indices (exact below 2^24).

use gasket_engine::param::{RuleState, UpdateRule};
use rayon::prelude::*;

use super::net::Activation;
use crate::Result;

/// The operations a training step needs, on buffers of `f32` owned by the backend.
pub trait Kernels: Sync {
    /// A buffer of `f32` on the device.
    type Buf: Send;
    /// The optimizer's state for one parameter block.
    type OptState: Send;

    /// What runs the kernels (for reports).
    fn describe(&self) -> String;
    /// A zeroed buffer of `len` values.
    fn zeros(&self, len: usize) -> Result<Self::Buf>;
    /// Copies `host` into the start of `dst`.
    fn upload(&self, host: &[f32], dst: &mut Self::Buf) -> Result<()>;
    /// Copies the start of `src` into `host`.
    fn download(&self, src: &Self::Buf, host: &mut [f32]) -> Result<()>;
    /// `buf` itself when the backend's buffers are host memory (the CPU's), so the
    /// parameter tables can read from and write into it without a copy; `None` otherwise.
    fn host_view<'b>(&self, _buf: &'b mut Self::Buf) -> Option<&'b mut [f32]> {
        None
    }
    /// `c = op(a) op(b) + beta c` with `op(a)` `m x k`, `op(b)` `k x n`, `c` `m x n`;
    /// `ta` means `a` is stored `k x m`, `tb` that `b` is stored `n x k`.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        &self,
        mnk: (usize, usize, usize),
        a: &Self::Buf,
        ta: bool,
        b: &Self::Buf,
        tb: bool,
        beta: f32,
        c: &mut Self::Buf,
    ) -> Result<()>;
    /// `y = act(y + bias)` for each of `rows` rows of `cols`.
    fn bias_activation(
        &self,
        act: Activation,
        rows: usize,
        cols: usize,
        bias: &Self::Buf,
        y: &mut Self::Buf,
    ) -> Result<()>;
    /// `d *= act'(.)` on the first `len` values, the derivative written in terms of the
    /// activation's output `y`.
    fn activation_backward(
        &self,
        act: Activation,
        len: usize,
        y: &Self::Buf,
        d: &mut Self::Buf,
    ) -> Result<()>;
    /// `out = sum of the rows of d` (`rows x cols`).
    fn column_sums(
        &self,
        rows: usize,
        cols: usize,
        d: &Self::Buf,
        out: &mut Self::Buf,
    ) -> Result<()>;
    /// Softmax cross-entropy of `rows x cols` logits against `labels`: writes
    /// `scale (softmax - onehot)` into `grad` and returns the summed loss and the number of
    /// rows whose largest logit is the label's.
    #[allow(clippy::too_many_arguments)]
    fn softmax_cross_entropy(
        &self,
        rows: usize,
        cols: usize,
        logits: &Self::Buf,
        labels: &Self::Buf,
        scale: f32,
        grad: &mut Self::Buf,
    ) -> Result<(f64, usize)>;
    /// Fresh optimizer state for a block of `len` values.
    fn optimizer_state(&self, len: usize) -> Result<Self::OptState>;
    /// One optimizer step on `len` values: the same math as the parameter table's server
    /// ([`UpdateRule::step_dense`]).
    fn optimizer_step(
        &self,
        rule: UpdateRule,
        len: usize,
        params: &mut Self::Buf,
        grads: &Self::Buf,
        state: &mut Self::OptState,
    ) -> Result<()>;
}

/// Rows per rayon task of the elementwise kernels.
const ROWS_PER_TASK: usize = 16;

/// GEMMs smaller than this many multiply-adds run on one thread.
const PARALLEL_GEMM_FLOPS: usize = 1 << 18;

/// The CPU backend (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct CpuKernels {
    threads: usize,
}

impl CpuKernels {
    /// Kernels on the current rayon pool's threads.
    pub fn new() -> Self {
        CpuKernels {
            threads: rayon::current_num_threads().max(1),
        }
    }
}

impl Default for CpuKernels {
    fn default() -> Self {
        CpuKernels::new()
    }
}

/// The activation's derivative from its output.
pub(crate) fn derivative(act: Activation, y: f32) -> f32 {
    match act {
        Activation::Relu => {
            if y > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
        Activation::Linear => 1.0,
    }
}

/// The activation itself.
pub(crate) fn activate(act: Activation, x: f32) -> f32 {
    match act {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Linear => x,
    }
}

/// Softmax cross-entropy of one row; returns (loss, correct).
pub(crate) fn softmax_row(
    logits: &[f32],
    label: usize,
    scale: f32,
    grad: &mut [f32],
) -> (f64, bool) {
    let (mut best, mut max) = (0, f32::NEG_INFINITY);
    for (j, &z) in logits.iter().enumerate() {
        if z > max {
            (best, max) = (j, z);
        }
    }
    let mut sum = 0.0f32;
    for (g, &z) in grad.iter_mut().zip(logits) {
        *g = (z - max).exp();
        sum += *g;
    }
    let inv = 1.0 / sum;
    for g in grad.iter_mut() {
        *g *= inv * scale;
    }
    grad[label] -= scale;
    let loss = f64::from(sum.ln()) - f64::from(logits[label] - max);
    (loss, best == label)
}

impl Kernels for CpuKernels {
    type Buf = Vec<f32>;
    type OptState = RuleState;

    fn describe(&self) -> String {
        format!(
            "cpu ({} thread{})",
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )
    }

    fn zeros(&self, len: usize) -> Result<Vec<f32>> {
        Ok(vec![0.0; len])
    }

    fn upload(&self, host: &[f32], dst: &mut Vec<f32>) -> Result<()> {
        dst[..host.len()].copy_from_slice(host);
        Ok(())
    }

    fn download(&self, src: &Vec<f32>, host: &mut [f32]) -> Result<()> {
        host.copy_from_slice(&src[..host.len()]);
        Ok(())
    }

    fn host_view<'b>(&self, buf: &'b mut Vec<f32>) -> Option<&'b mut [f32]> {
        Some(buf)
    }

    fn gemm(
        &self,
        (m, n, k): (usize, usize, usize),
        a: &Vec<f32>,
        ta: bool,
        b: &Vec<f32>,
        tb: bool,
        beta: f32,
        c: &mut Vec<f32>,
    ) -> Result<()> {
        assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
        // Strides of op(a) (m x k) and op(b) (k x n) as (column, row) strides.
        let (a_cs, a_rs) = if ta { (m as isize, 1) } else { (1, k as isize) };
        let (b_cs, b_rs) = if tb { (k as isize, 1) } else { (1, n as isize) };
        let parallelism = if m * n * k >= PARALLEL_GEMM_FLOPS && self.threads > 1 {
            gemm::Parallelism::Rayon(self.threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: the asserts above keep every index the strides reach inside the buffers,
        // and `c` does not alias `a` or `b` (distinct borrows).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                beta != 0.0,
                a.as_ptr(),
                a_cs,
                a_rs,
                b.as_ptr(),
                b_cs,
                b_rs,
                beta,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
        Ok(())
    }

    fn bias_activation(
        &self,
        act: Activation,
        rows: usize,
        cols: usize,
        bias: &Vec<f32>,
        y: &mut Vec<f32>,
    ) -> Result<()> {
        let bias = &bias[..cols];
        y[..rows * cols]
            .par_chunks_mut(cols * ROWS_PER_TASK)
            .for_each(|block| {
                for row in block.chunks_exact_mut(cols) {
                    for (v, &b) in row.iter_mut().zip(bias) {
                        *v = activate(act, *v + b);
                    }
                }
            });
        Ok(())
    }

    fn activation_backward(
        &self,
        act: Activation,
        len: usize,
        y: &Vec<f32>,
        d: &mut Vec<f32>,
    ) -> Result<()> {
        if act == Activation::Linear {
            return Ok(());
        }
        d[..len]
            .par_chunks_mut(4096)
            .zip(y[..len].par_chunks(4096))
            .for_each(|(d, y)| {
                for (d, &y) in d.iter_mut().zip(y) {
                    *d *= derivative(act, y);
                }
            });
        Ok(())
    }

    fn column_sums(
        &self,
        rows: usize,
        cols: usize,
        d: &Vec<f32>,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        let out = &mut out[..cols];
        out.fill(0.0);
        for row in d[..rows * cols].chunks_exact(cols) {
            for (o, &x) in out.iter_mut().zip(row) {
                *o += x;
            }
        }
        Ok(())
    }

    fn softmax_cross_entropy(
        &self,
        rows: usize,
        cols: usize,
        logits: &Vec<f32>,
        labels: &Vec<f32>,
        scale: f32,
        grad: &mut Vec<f32>,
    ) -> Result<(f64, usize)> {
        let (loss, correct) = grad[..rows * cols]
            .par_chunks_mut(cols)
            .zip(logits[..rows * cols].par_chunks(cols))
            .zip(&labels[..rows])
            .map(|((g, z), &label)| {
                let (loss, hit) = softmax_row(z, label as usize, scale, g);
                (loss, usize::from(hit))
            })
            .reduce(|| (0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        Ok((loss, correct))
    }

    fn optimizer_state(&self, _len: usize) -> Result<RuleState> {
        Ok(RuleState::default())
    }

    fn optimizer_step(
        &self,
        rule: UpdateRule,
        len: usize,
        params: &mut Vec<f32>,
        grads: &Vec<f32>,
        state: &mut RuleState,
    ) -> Result<()> {
        rule.step_dense(&mut params[..len], &grads[..len], state);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let x = if ta { a[p * m + i] } else { a[i * k + p] };
                    let y = if tb { b[j * k + p] } else { b[p * n + j] };
                    c[i * n + j] += x * y;
                }
            }
        }
        c
    }

    #[test]
    fn gemm_matches_the_naive_product_for_every_transpose() {
        let cpu = CpuKernels::new();
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let want = naive(m, n, k, &a, ta, &b, tb);
            let mut c = vec![1.0; m * n];
            cpu.gemm((m, n, k), &a, ta, &b, tb, 0.0, &mut c).unwrap();
            for (x, y) in c.iter().zip(&want) {
                assert!((x - y).abs() < 1e-5, "{ta} {tb}: {x} vs {y}");
            }
            let mut c2 = vec![1.0; m * n];
            cpu.gemm((m, n, k), &a, ta, &b, tb, 1.0, &mut c2).unwrap();
            for (x, y) in c2.iter().zip(&want) {
                assert!((x - (y + 1.0)).abs() < 1e-5);
            }
        }
    }
}
