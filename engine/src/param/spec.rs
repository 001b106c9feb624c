//! What a table is: its rows' shape, its consistency, how the server folds updates in, and
//! its rows' initial values.

use super::row::{Row, RowShape};
use crate::error::{EngineError, Result};

/// Index of a table in the list given to [`run`](super::run).
pub type TableId = u16;

/// How fresh the rows a worker reads must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// Bulk synchronous: at clock `c` a read contains exactly the updates of clocks
    /// `< c` of every worker. The server applies a clock's updates when every worker has
    /// finished it, worker by worker in rank order, so runs are bit-reproducible.
    Bsp,
    /// Stale synchronous with staleness `s`: at clock `c` a read contains every update of
    /// clocks `<= c - s - 1` (and possibly of later completed clocks), plus the worker's
    /// own updates. `Ssp(0)` is `Bsp`.
    Ssp(u32),
    /// No guarantee: a read never waits for other workers. The worker's cache is dropped at
    /// each clock (unless rows are pushed eagerly: then a changed row is pushed after every
    /// worker's clock), so a row is re-read once per clock.
    Async,
}

impl Consistency {
    /// The staleness bound, `None` for [`Async`](Consistency::Async).
    pub fn staleness(self) -> Option<u64> {
        match self {
            Consistency::Bsp => Some(0),
            Consistency::Ssp(s) => Some(u64::from(s)),
            Consistency::Async => None,
        }
    }

    /// The oldest server clock a read at worker clock `clock` may be served from.
    pub(crate) fn required_stamp(self, clock: u64) -> u64 {
        self.staleness().map_or(0, |s| clock.saturating_sub(s))
    }
}

impl std::fmt::Display for Consistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Consistency::Bsp => write!(f, "bsp"),
            Consistency::Ssp(s) => write!(f, "ssp({s})"),
            Consistency::Async => write!(f, "async"),
        }
    }
}

/// How the server folds an `inc` into a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpdateRule {
    /// `row += delta`: counts, and SGD whose step the worker computes.
    Add,
    /// The delta is a gradient: `row -= lr * delta`.
    Sgd {
        /// Learning rate.
        lr: f32,
    },
    /// Adagrad (Duchi et al. 2011) on the server: `h += delta^2`,
    /// `row -= lr * delta / (sqrt(h) + eps)`, per column.
    Adagrad {
        /// Learning rate.
        lr: f32,
        /// Added to the root of the accumulated squares.
        eps: f32,
    },
    /// SGD with heavy-ball momentum on the server: `v = momentum * v + g`,
    /// `row -= lr * v`; one step per clock with the clock's summed gradient.
    Momentum {
        /// Learning rate.
        lr: f32,
        /// Momentum coefficient in `[0, 1)`.
        momentum: f32,
    },
    /// Adam (Kingma and Ba 2015) on the server, one step per clock with the clock's summed
    /// gradient.
    Adam {
        /// Learning rate.
        lr: f32,
        /// Decay of the first moment, in `[0, 1)`.
        beta1: f32,
        /// Decay of the second moment, in `[0, 1)`.
        beta2: f32,
        /// Added to the root of the second moment.
        eps: f32,
    },
}

/// How the learning rate of an optimizer rule changes with the clock of the update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LrSchedule {
    /// The rule's learning rate throughout.
    Constant,
    /// Cosine annealing (Loshchilov and Hutter 2017) from the rule's rate at clock 0 to 0
    /// at clock `clocks`: `lr (1 + cos(pi c / clocks)) / 2`, then 0.
    Cosine {
        /// Clocks of the whole run.
        clocks: u64,
    },
}

impl LrSchedule {
    /// The factor on the learning rate of an update of clock `clock`.
    pub fn factor(self, clock: u64) -> f32 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine { clocks } => {
                let progress = (clock as f64 / clocks.max(1) as f64).min(1.0);
                (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())) as f32
            }
        }
    }
}

/// A row's value before any update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// All zero.
    Zeros,
    /// Dense columns uniform in `[-scale, scale)`, from a hash of `(row, column, seed)`,
    /// so every rank count starts from the same table.
    Uniform {
        /// Half-width of the interval.
        scale: f32,
        /// Seed of the hash.
        seed: u64,
    },
}

/// One table of a parameter session.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Name used in messages and metrics.
    pub name: String,
    /// Dense of a fixed width, or sparse.
    pub shape: RowShape,
    /// Read freshness.
    pub consistency: Consistency,
    /// How the server applies updates.
    pub update: UpdateRule,
    /// Initial values of every row.
    pub init: Init,
    /// Eager push (ESSP): whenever every worker has finished a clock, the server sends the
    /// rows a worker has read before to that worker, so later reads hit the cache.
    pub eager: bool,
    /// The learning-rate schedule of an optimizer rule, by the clock of the update.
    pub schedule: LrSchedule,
}

impl TableSpec {
    /// A dense table of `width` columns: BSP, plain add, zeros, no eager push.
    pub fn dense(name: impl Into<String>, width: usize) -> Self {
        TableSpec {
            name: name.into(),
            shape: RowShape::Dense(width),
            consistency: Consistency::Bsp,
            update: UpdateRule::Add,
            init: Init::Zeros,
            eager: false,
            schedule: LrSchedule::Constant,
        }
    }

    /// A sparse table: BSP, plain add, no eager push.
    pub fn sparse(name: impl Into<String>) -> Self {
        TableSpec {
            shape: RowShape::Sparse,
            ..TableSpec::dense(name, 0)
        }
    }

    /// Sets the consistency.
    pub fn consistency(mut self, consistency: Consistency) -> Self {
        self.consistency = consistency;
        self
    }

    /// Sets the server's update rule.
    pub fn update(mut self, update: UpdateRule) -> Self {
        self.update = update;
        self
    }

    /// Sets the initial values.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Sets the learning-rate schedule.
    pub fn schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Turns eager push on or off.
    pub fn eager(mut self, eager: bool) -> Self {
        self.eager = eager;
        self
    }

    /// Checks the settings that a caller could get wrong.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |why: &str| Err(EngineError::Config(format!("table `{}`: {why}", self.name)));
        if self.shape == RowShape::Dense(0) {
            return bad("a dense table needs at least one column");
        }
        match self.update {
            UpdateRule::Add => {}
            UpdateRule::Sgd { lr } if !(lr.is_finite() && lr > 0.0) => {
                return bad("the learning rate must be a positive number");
            }
            UpdateRule::Adagrad { lr, eps } if !(lr.is_finite() && lr > 0.0 && eps >= 0.0) => {
                return bad("Adagrad needs a positive learning rate and eps >= 0");
            }
            UpdateRule::Momentum { lr, momentum }
                if !(lr.is_finite() && lr > 0.0 && (0.0..1.0).contains(&momentum)) =>
            {
                return bad("momentum needs a positive learning rate and momentum in [0, 1)");
            }
            UpdateRule::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } if !(lr.is_finite()
                && lr > 0.0
                && (0.0..1.0).contains(&beta1)
                && (0.0..1.0).contains(&beta2)
                && eps >= 0.0) =>
            {
                return bad("Adam needs a positive learning rate, betas in [0, 1) and eps >= 0");
            }
            _ => {}
        }
        if self.update.steps_per_clock() && self.shape == RowShape::Sparse {
            return bad("momentum and Adam tables must be dense");
        }
        if matches!(self.init, Init::Uniform { scale, .. } if !scale.is_finite()) {
            return bad("the initial scale must be finite");
        }
        Ok(())
    }

    /// The value `row` has before any update.
    pub fn initial_row(&self, row: u64) -> Row {
        match (self.init, self.shape) {
            (Init::Uniform { scale, seed }, RowShape::Dense(width)) => Row::Dense(
                (0..width as u64)
                    .map(|c| (2.0 * crate::hash::unit(row, c, seed) - 1.0) as f32 * scale)
                    .collect(),
            ),
            _ => Row::zeros(self.shape),
        }
    }
}

/// The rank whose server holds `row` of `table`.
pub(crate) fn owner_of(table: TableId, row: u64, ranks: usize) -> usize {
    let mut h = row ^ (u64::from(table) << 48);
    h = (h ^ (h >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h = (h ^ (h >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^= h >> 33;
    (h % ranks as u64) as usize
}
