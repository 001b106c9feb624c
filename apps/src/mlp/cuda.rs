//! The CUDA backend (feature `cuda`): cuBLAS SGEMM for the dense products and NVRTC-
//! compiled kernels for bias + activation, its derivative, bias gradients, softmax
//! cross-entropy and the optimizer step. All libraries are loaded at run time (cudarc's
//! dynamic loading), so [`CudaKernels::new`] reports a missing driver, GPU, cuBLAS or
//! NVRTC as an error the caller turns into a CPU fallback; a panic inside the bindings
//! while opening (a library of another CUDA major version lacks a symbol of the CUDA 12
//! API the bindings are built for) is caught and reported the same way.
//!
//! Row-major products map onto column-major cuBLAS as `C^T = op(B)^T op(A)^T`. Every
//! launch goes to one stream, so kernels run in order and a download waits for them.
//! The kernels mirror the CPU ones line for line (see `kernels`).

use std::sync::{Arc, Mutex};

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use gasket_engine::param::{UpdateRule, adam_bias_corrections};

use super::kernels::Kernels;
use super::net::Activation;
use crate::{AppError, Result};

/// The kernels, compiled by NVRTC when the backend opens.
const SOURCE: &str = r#"
__device__ float activate(float x, int act) {
    switch (act) {
        case 0: return fmaxf(x, 0.0f);
        case 1: return tanhf(x);
        case 2: return 1.0f / (1.0f + expf(-x));
        default: return x;
    }
}

__device__ float derivative(float y, int act) {
    switch (act) {
        case 0: return y > 0.0f ? 1.0f : 0.0f;
        case 1: return 1.0f - y * y;
        case 2: return y * (1.0f - y);
        default: return 1.0f;
    }
}

extern "C" __global__ void bias_activation(float* y, const float* bias, int rows, int cols, int act) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * cols) y[i] = activate(y[i] + bias[i % cols], act);
}

extern "C" __global__ void activation_backward(float* d, const float* y, int n, int act) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) d[i] *= derivative(y[i], act);
}

extern "C" __global__ void column_sums(const float* d, float* out, int rows, int cols) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += d[r * cols + j];
    out[j] = s;
}

extern "C" __global__ void softmax_cross_entropy(const float* z, const float* labels, float* grad,
                                                 float* per_row, int rows, int cols, float scale) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const float* zr = z + r * cols;
    float* g = grad + r * cols;
    int label = (int)labels[r];
    int best = 0;
    float mx = -3.402823466e38f;
    for (int j = 0; j < cols; j++) if (zr[j] > mx) { mx = zr[j]; best = j; }
    float sum = 0.0f;
    for (int j = 0; j < cols; j++) { float e = expf(zr[j] - mx); g[j] = e; sum += e; }
    float inv = 1.0f / sum;
    for (int j = 0; j < cols; j++) g[j] *= inv * scale;
    g[label] -= scale;
    per_row[2 * r] = logf(sum) - (zr[label] - mx);
    per_row[2 * r + 1] = best == label ? 1.0f : 0.0f;
}

// rule: 0 add, 1 sgd, 2 adagrad, 3 momentum, 4 adam; a, b, c as the host explains.
extern "C" __global__ void optimizer_step(float* w, const float* g, float* s1, float* s2, int n,
                                          int rule, float lr, float a, float b, float c, float eps) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float gi = g[i];
    switch (rule) {
        case 0: w[i] += gi; break;
        case 1: w[i] -= lr * gi; break;
        case 2: s1[i] += gi * gi; if (gi != 0.0f) w[i] -= lr * (gi / (sqrtf(s1[i]) + eps)); break;
        case 3: s1[i] = a * s1[i] + gi; w[i] -= lr * s1[i]; break;
        case 4: {
            // a = beta1, b = beta2, c = 1 - beta2^t; lr already divided by 1 - beta1^t.
            s1[i] = a * s1[i] + (1.0f - a) * gi;
            s2[i] = b * s2[i] + (1.0f - b) * gi * gi;
            w[i] -= lr * s1[i] / (sqrtf(s2[i] / c) + eps);
            break;
        }
    }
}
"#;

/// Whether a CUDA library can be loaded.
type LibraryCheck = unsafe fn() -> bool;

struct Functions {
    bias_activation: CudaFunction,
    activation_backward: CudaFunction,
    column_sums: CudaFunction,
    softmax_cross_entropy: CudaFunction,
    optimizer_step: CudaFunction,
}

/// The CUDA backend (see the module docs).
pub struct CudaKernels {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    functions: Functions,
    name: String,
    /// Per-row (loss, correct) of the last softmax, reused across steps.
    per_row: Mutex<Option<CudaSlice<f32>>>,
}

/// Adam's and momentum's state of one block on the device.
pub struct DeviceOptState {
    first: CudaSlice<f32>,
    second: CudaSlice<f32>,
    steps: u32,
}

fn fail(what: &str, e: impl std::fmt::Debug) -> AppError {
    AppError::Config(format!("cuda: {what} failed: {e:?}"))
}

fn code(act: Activation) -> i32 {
    match act {
        Activation::Relu => 0,
        Activation::Tanh => 1,
        Activation::Sigmoid => 2,
        Activation::Linear => 3,
    }
}

fn int(n: usize) -> Result<i32> {
    i32::try_from(n).map_err(|_| AppError::Config(format!("cuda: size {n} exceeds 2^31")))
}

impl CudaKernels {
    /// Opens GPU `ordinal` (`None`: this process's rank on its node, modulo the GPUs
    /// present), cuBLAS and the NVRTC-compiled kernels; `Err` says what is
    /// missing.
    ///
    /// # Errors
    ///
    /// No driver library, no GPU, no cuBLAS or NVRTC, or a failed compile or load.
    pub fn new(ordinal: Option<usize>) -> std::result::Result<CudaKernels, String> {
        // The bindings panic when a library lacks a symbol of the CUDA 12 API (another
        // major version): report it as the reason, without the panic message on stderr.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let opened = std::panic::catch_unwind(|| Self::open(ordinal));
        std::panic::set_hook(hook);
        match opened {
            Ok(result) => result,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the CUDA bindings panicked".into());
                Err(format!(
                    "a CUDA library of another version ({why}); the backend needs CUDA 12"
                ))
            }
        }
    }

    fn open(ordinal: Option<usize>) -> std::result::Result<CudaKernels, String> {
        let checks: [(LibraryCheck, &str); 3] = [
            (
                cudarc::driver::sys::is_culib_present,
                "the CUDA driver (libcuda.so)",
            ),
            (
                cudarc::cublas::sys::is_culib_present,
                "cuBLAS (libcublas.so.12)",
            ),
            (
                cudarc::nvrtc::sys::is_culib_present,
                "NVRTC (libnvrtc.so.12)",
            ),
        ];
        for (present, library) in checks {
            // SAFETY: each check only tries to load its library (dlopen), one at a time;
            // it takes no arguments and touches no memory of ours.
            if !unsafe { present() } {
                return Err(format!("{library} was not found"));
            }
        }
        let count = CudaContext::device_count().map_err(|e| format!("no CUDA device: {e:?}"))?;
        let count = count.max(0) as usize;
        if count == 0 {
            return Err("no CUDA device present".into());
        }
        let ordinal = ordinal.unwrap_or_else(|| super::device::local_rank() % count);
        if ordinal >= count {
            return Err(format!("GPU {ordinal} asked for, {count} present"));
        }
        let ctx =
            CudaContext::new(ordinal).map_err(|e| format!("cannot open GPU {ordinal}: {e:?}"))?;
        let name = ctx.name().unwrap_or_else(|_| "unknown GPU".into());
        let stream = ctx.default_stream();
        let blas = CudaBlas::new(stream.clone()).map_err(|e| format!("cuBLAS: {e:?}"))?;
        let ptx = cudarc::nvrtc::compile_ptx(SOURCE).map_err(|e| format!("NVRTC: {e:?}"))?;
        let module = ctx
            .load_module(ptx)
            .map_err(|e| format!("loading kernels: {e:?}"))?;
        let load = |f: &str| {
            module
                .load_function(f)
                .map_err(|e| format!("kernel {f}: {e:?}"))
        };
        let functions = Functions {
            bias_activation: load("bias_activation")?,
            activation_backward: load("activation_backward")?,
            column_sums: load("column_sums")?,
            softmax_cross_entropy: load("softmax_cross_entropy")?,
            optimizer_step: load("optimizer_step")?,
        };
        Ok(CudaKernels {
            stream,
            blas,
            functions,
            name: format!("cuda:{ordinal} ({name})"),
            per_row: Mutex::new(None),
        })
    }
}

impl Kernels for CudaKernels {
    type Buf = CudaSlice<f32>;
    type OptState = DeviceOptState;

    fn describe(&self) -> String {
        self.name.clone()
    }

    fn zeros(&self, len: usize) -> Result<CudaSlice<f32>> {
        // cuMemAlloc rejects zero bytes; the loss vertex's empty buffers get one value.
        self.stream
            .alloc_zeros::<f32>(len.max(1))
            .map_err(|e| fail("alloc", e))
    }

    fn upload(&self, host: &[f32], dst: &mut CudaSlice<f32>) -> Result<()> {
        let mut view = dst.slice_mut(0..host.len());
        self.stream
            .memcpy_htod(host, &mut view)
            .map_err(|e| fail("upload", e))
    }

    fn download(&self, src: &CudaSlice<f32>, host: &mut [f32]) -> Result<()> {
        let view = src.slice(0..host.len());
        self.stream
            .memcpy_dtoh(&view, host)
            .map_err(|e| fail("download", e))
    }

    fn gemm(
        &self,
        (m, n, k): (usize, usize, usize),
        a: &CudaSlice<f32>,
        ta: bool,
        b: &CudaSlice<f32>,
        tb: bool,
        beta: f32,
        c: &mut CudaSlice<f32>,
    ) -> Result<()> {
        let op = |t: bool| {
            if t {
                cublasOperation_t::CUBLAS_OP_T
            } else {
                cublasOperation_t::CUBLAS_OP_N
            }
        };
        let cfg = GemmConfig {
            transa: op(tb),
            transb: op(ta),
            m: int(n)?,
            n: int(m)?,
            k: int(k)?,
            alpha: 1.0f32,
            lda: int(if tb { k } else { n })?,
            ldb: int(if ta { m } else { k })?,
            beta,
            ldc: int(n)?,
        };
        assert!(
            a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
            "gemm buffers smaller than their shapes"
        );
        // SAFETY: the assert above keeps every element cuBLAS reads or writes (the
        // leading dimensions are the shapes' own) inside the three buffers.
        unsafe { self.blas.gemm(cfg, b, a, c) }.map_err(|e| fail("cublasSgemm", e))
    }

    fn bias_activation(
        &self,
        act: Activation,
        rows: usize,
        cols: usize,
        bias: &CudaSlice<f32>,
        y: &mut CudaSlice<f32>,
    ) -> Result<()> {
        let (r, c, a) = (int(rows)?, int(cols)?, code(act));
        assert!(y.len() >= rows * cols && bias.len() >= cols);
        let mut launch = self.stream.launch_builder(&self.functions.bias_activation);
        launch.arg(y).arg(bias).arg(&r).arg(&c).arg(&a);
        // SAFETY: the arguments match the kernel's signature; y holds rows * cols values
        // and bias cols (asserted).
        unsafe { launch.launch(LaunchConfig::for_num_elems((rows * cols) as u32)) }
            .map(|_| ())
            .map_err(|e| fail("bias_activation", e))
    }

    fn activation_backward(
        &self,
        act: Activation,
        len: usize,
        y: &CudaSlice<f32>,
        d: &mut CudaSlice<f32>,
    ) -> Result<()> {
        if act == Activation::Linear {
            return Ok(());
        }
        let (n, a) = (int(len)?, code(act));
        assert!(y.len() >= len && d.len() >= len);
        let mut launch = self
            .stream
            .launch_builder(&self.functions.activation_backward);
        launch.arg(d).arg(y).arg(&n).arg(&a);
        // SAFETY: as above; both buffers hold len values (asserted).
        unsafe { launch.launch(LaunchConfig::for_num_elems(len as u32)) }
            .map(|_| ())
            .map_err(|e| fail("activation_backward", e))
    }

    fn column_sums(
        &self,
        rows: usize,
        cols: usize,
        d: &CudaSlice<f32>,
        out: &mut CudaSlice<f32>,
    ) -> Result<()> {
        let (r, c) = (int(rows)?, int(cols)?);
        assert!(d.len() >= rows * cols && out.len() >= cols);
        let mut launch = self.stream.launch_builder(&self.functions.column_sums);
        launch.arg(d).arg(out).arg(&r).arg(&c);
        // SAFETY: as above; d holds rows * cols values and out cols (asserted).
        unsafe { launch.launch(LaunchConfig::for_num_elems(cols as u32)) }
            .map(|_| ())
            .map_err(|e| fail("column_sums", e))
    }

    fn softmax_cross_entropy(
        &self,
        rows: usize,
        cols: usize,
        logits: &CudaSlice<f32>,
        labels: &CudaSlice<f32>,
        scale: f32,
        grad: &mut CudaSlice<f32>,
    ) -> Result<(f64, usize)> {
        let mut per_row = self.per_row.lock().unwrap_or_else(|e| e.into_inner());
        if per_row.as_ref().is_none_or(|b| b.len() < 2 * rows) {
            *per_row = Some(self.zeros(2 * rows)?);
        }
        let buffer = per_row.as_mut().expect("allocated above");
        let (r, c) = (int(rows)?, int(cols)?);
        assert!(logits.len() >= rows * cols && grad.len() >= rows * cols && labels.len() >= rows);
        let mut launch = self
            .stream
            .launch_builder(&self.functions.softmax_cross_entropy);
        launch
            .arg(logits)
            .arg(labels)
            .arg(grad)
            .arg(&mut *buffer)
            .arg(&r)
            .arg(&c)
            .arg(&scale);
        // SAFETY: as above; logits and grad hold rows * cols values, labels rows (asserted)
        // and per_row 2 * rows (allocated so above).
        unsafe { launch.launch(LaunchConfig::for_num_elems(rows as u32)) }
            .map_err(|e| fail("softmax_cross_entropy", e))?;
        let mut host = vec![0.0f32; 2 * rows];
        self.download(buffer, &mut host)?;
        let loss = host.iter().step_by(2).map(|&l| f64::from(l)).sum();
        let correct = host.iter().skip(1).step_by(2).filter(|&&h| h > 0.5).count();
        Ok((loss, correct))
    }

    fn optimizer_state(&self, len: usize) -> Result<DeviceOptState> {
        Ok(DeviceOptState {
            first: self.zeros(len)?,
            second: self.zeros(len)?,
            steps: 0,
        })
    }

    fn optimizer_step(
        &self,
        rule: UpdateRule,
        len: usize,
        params: &mut CudaSlice<f32>,
        grads: &CudaSlice<f32>,
        state: &mut DeviceOptState,
    ) -> Result<()> {
        let (kind, lr, a, b, c, eps) = match rule {
            UpdateRule::Add => (0, 0.0, 0.0, 0.0, 0.0, 0.0),
            UpdateRule::Sgd { lr } => (1, lr, 0.0, 0.0, 0.0, 0.0),
            UpdateRule::Adagrad { lr, eps } => (2, lr, 0.0, 0.0, 0.0, eps),
            UpdateRule::Momentum { lr, momentum } => (3, lr, momentum, 0.0, 0.0, 0.0),
            UpdateRule::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                state.steps += 1;
                let (correct1, correct2) = adam_bias_corrections(beta1, beta2, state.steps);
                (4, lr / correct1, beta1, beta2, correct2, eps)
            }
        };
        let n = int(len)?;
        assert!(
            params.len() >= len
                && grads.len() >= len
                && state.first.len() >= len
                && state.second.len() >= len
        );
        let mut launch = self.stream.launch_builder(&self.functions.optimizer_step);
        launch
            .arg(params)
            .arg(grads)
            .arg(&mut state.first)
            .arg(&mut state.second)
            .arg(&n)
            .arg(&kind)
            .arg(&lr)
            .arg(&a)
            .arg(&b)
            .arg(&c)
            .arg(&eps);
        // SAFETY: as above; every buffer holds len values (asserted).
        unsafe { launch.launch(LaunchConfig::for_num_elems(len as u32)) }
            .map(|_| ())
            .map_err(|e| fail("optimizer_step", e))
    }
}
