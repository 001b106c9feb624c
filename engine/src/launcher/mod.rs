//! The launcher: one call from a user's `main` to a finished run.

mod run;

pub use run::{RankRun, run_program};
