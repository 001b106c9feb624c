//! Binary logistic regression by minibatch SGD on the parameter table.
//!
//! Examples (libsvm, labels `-1/+1` or `0/1`) are dealt to ranks round robin by line. The
//! weights live in the table in blocks of [`BLOCK`] features (one dense row per block, so
//! a sparse example touches few rows) plus a bias row. A clock reads the blocks its batch
//! touches, computes the batch's mean gradient of the logistic loss and sends it; the
//! server applies it with the table's rule (Adagrad by default, or plain SGD), so workers
//! never need the learning rate. The objective is the batch's mean logistic loss before
//! its step; the held-out figure is accuracy.

use std::collections::HashMap;

use gasket_engine::param::{Row, TableClient, TableSpec, UpdateRule};

use super::{SgdConfig, Update};
use crate::{AppError, Result};
use gasket_engine::hash::{mix, unit as unit_hash};

/// Features per table row.
pub const BLOCK: u32 = 64;
/// The row holding the bias (column 0).
pub const BIAS_ROW: u64 = u64::MAX;

/// One example: label in `{0, 1}` and sparse features.
pub type Example = (f32, Vec<(u32, f32)>);

/// The weight table.
pub fn table(config: &SgdConfig) -> TableSpec {
    let rule = match config.update {
        Update::Sgd => UpdateRule::Sgd {
            lr: config.learning_rate() as f32,
        },
        Update::Adagrad => UpdateRule::Adagrad {
            lr: config.learning_rate() as f32,
            eps: 1e-6,
        },
    };
    TableSpec::dense("weights", BLOCK as usize).update(rule)
}

/// Turns libsvm labels into `{0, 1}`: `+1`/`1` is positive, `-1`/`0` negative.
///
/// # Errors
///
/// [`AppError::Config`] naming the file and line of any other label.
pub fn binary_labels(path: &str, ex: &gasket_datasets::SparseExamples) -> Result<Vec<f32>> {
    ex.labels
        .iter()
        .zip(&ex.lines)
        .map(|(&y, &line)| match y {
            1.0 => Ok(1.0),
            -1.0 | 0.0 => Ok(0.0),
            other => Err(AppError::Config(format!(
                "{path}:{line}: label {other} is not binary: logistic regression needs -1/+1 or 0/1"
            ))),
        })
        .collect()
}

/// A worker's examples.
pub struct LogregWorker {
    /// Training examples in batch order.
    pub train: Vec<Example>,
    /// Held-out examples.
    pub test: Vec<Example>,
}

fn rows_of(examples: &[Example]) -> Vec<u64> {
    let mut rows: Vec<u64> = examples
        .iter()
        .flat_map(|(_, f)| f.iter().map(|&(j, _)| u64::from(j / BLOCK)))
        .chain([BIAS_ROW])
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

fn margin(weights: &HashMap<u64, Row>, features: &[(u32, f32)]) -> f32 {
    features
        .iter()
        .fold(weights[&BIAS_ROW].value(0), |acc, &(j, x)| {
            acc + x * weights[&u64::from(j / BLOCK)].value(j % BLOCK)
        })
}

impl LogregWorker {
    /// `examples` are `(line, label, features)`; the split and order come from the seed.
    pub fn new(config: &SgdConfig, mut examples: Vec<(u64, Example)>) -> Self {
        examples.sort_by_key(|(line, _)| mix(*line, 0, config.seed));
        let (test, train): (Vec<_>, Vec<_>) = examples.into_iter().partition(|(line, _)| {
            unit_hash(*line, 1, config.seed ^ 0x7E57) < config.test_fraction
        });
        LogregWorker {
            train: train.into_iter().map(|(_, e)| e).collect(),
            test: test.into_iter().map(|(_, e)| e).collect(),
        }
    }

    /// A clock on the table: returns the batch's summed logistic loss.
    pub fn clock(
        &mut self,
        tables: &TableClient,
        batch: std::ops::Range<usize>,
    ) -> gasket_engine::Result<f64> {
        let examples = &self.train[batch];
        if examples.is_empty() {
            return Ok(0.0);
        }
        let ids = rows_of(examples);
        let weights: HashMap<u64, Row> =
            ids.iter().copied().zip(tables.get_many(0, &ids)?).collect();
        let mut grads: HashMap<u64, Vec<f32>> = HashMap::new();
        let scale = 1.0 / examples.len() as f32;
        let mut loss = 0.0f64;
        for (y, features) in examples {
            let z = margin(&weights, features);
            let p = 1.0 / (1.0 + (-z).exp());
            // log(1 + e^z) - y z, computed without overflow.
            loss += f64::from(z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z);
            let g = (p - y) * scale;
            grads
                .entry(BIAS_ROW)
                .or_insert_with(|| vec![0.0; BLOCK as usize])[0] += g;
            for &(j, x) in features {
                grads
                    .entry(u64::from(j / BLOCK))
                    .or_insert_with(|| vec![0.0; BLOCK as usize])[(j % BLOCK) as usize] += g * x;
            }
        }
        let mut rows: Vec<_> = grads.into_iter().collect();
        rows.sort_by_key(|(r, _)| *r);
        for (row, g) in rows {
            tables.inc(0, row, Row::Dense(g))?;
        }
        Ok(loss)
    }

    /// Correctly classified held-out examples, with the table as it is now.
    pub fn test_correct(&mut self, tables: &TableClient) -> gasket_engine::Result<f64> {
        if self.test.is_empty() {
            return Ok(0.0);
        }
        let ids = rows_of(&self.test);
        let weights: HashMap<u64, Row> =
            ids.iter().copied().zip(tables.get_many(0, &ids)?).collect();
        Ok(self
            .test
            .iter()
            .filter(|(y, f)| (margin(&weights, f) > 0.0) == (*y > 0.5))
            .count() as f64)
    }
}
