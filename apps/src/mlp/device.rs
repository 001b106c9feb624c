//! Choosing the backend: `--device cpu` (default) or `--device cuda`.
//!
//! CUDA needs this binary built with the `cuda` feature, a driver library, a GPU, cuBLAS
//! and NVRTC (all loaded at run time, so a binary built with the feature still runs on a
//! machine without them). When any is missing the run says why and falls back to the CPU,
//! unless `--require-gpu` asks for an error (exit 2) instead.

use super::kernels::CpuKernels;
use crate::{AppError, Result};

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceChoice {
    /// Multi-threaded CPU kernels.
    Cpu,
    /// cuBLAS and NVRTC kernels on an NVIDIA GPU (feature `cuda`).
    Cuda,
}

/// The backend a run uses.
pub enum Selected {
    /// The CPU.
    Cpu(CpuKernels),
    /// A GPU.
    #[cfg(feature = "cuda")]
    Cuda(super::cuda::CudaKernels),
}

impl std::fmt::Debug for Selected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Selected {
    /// What runs the kernels.
    pub fn describe(&self) -> String {
        use super::kernels::Kernels;
        match self {
            Selected::Cpu(k) => k.describe(),
            #[cfg(feature = "cuda")]
            Selected::Cuda(k) => k.describe(),
        }
    }

    /// True when a GPU runs the kernels.
    pub fn is_gpu(&self) -> bool {
        !matches!(self, Selected::Cpu(_))
    }
}

/// Why CUDA cannot be used, or the CUDA backend.
#[cfg(feature = "cuda")]
fn open_cuda(ordinal: Option<usize>) -> std::result::Result<Selected, String> {
    super::cuda::CudaKernels::new(ordinal).map(Selected::Cuda)
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(_ordinal: Option<usize>) -> std::result::Result<Selected, String> {
    Err("this gasket was built without the `cuda` feature (cargo build --features cuda)".into())
}

/// This process's index among the ranks on its node, from the variables the MPI
/// launchers set (Open MPI, MPICH, Slurm); 0 outside a launcher. Several ranks on a node
/// with several GPUs then take one GPU each.
pub fn local_rank() -> usize {
    [
        "OMPI_COMM_WORLD_LOCAL_RANK",
        "MPI_LOCALRANKID",
        "SLURM_LOCALID",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
    .unwrap_or(0)
}

/// The backend for `choice` on GPU `ordinal` (`None`: by [`local_rank`]; see the module
/// docs); the fallback is
/// reported with `tracing::warn!`.
///
/// # Errors
///
/// `--device cuda --require-gpu` where CUDA cannot be used.
pub fn select(choice: DeviceChoice, ordinal: Option<usize>, require_gpu: bool) -> Result<Selected> {
    match choice {
        DeviceChoice::Cpu => Ok(Selected::Cpu(CpuKernels::new())),
        DeviceChoice::Cuda => match open_cuda(ordinal) {
            Ok(selected) => Ok(selected),
            Err(why) if require_gpu => Err(AppError::Config(format!(
                "--device cuda --require-gpu: no usable GPU: {why}"
            ))),
            Err(why) => {
                tracing::warn!("--device cuda: no usable GPU ({why}); falling back to the CPU");
                Ok(Selected::Cpu(CpuKernels::new()))
            }
        },
    }
}
