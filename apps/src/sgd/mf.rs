//! Matrix factorization by SGD on the parameter table: `r(u, i) ~ mu + x_u . y_i`.
//!
//! Ratings are sharded by user (`user % ranks`), so each worker owns its users' factors
//! `x_u` locally and only the item factors `y_i` live in the table (one dense row per
//! item, the Petuum MF layout). A clock processes one batch of the worker's ratings: it
//! reads the batch's items with one `get_many`, runs plain SGD over the batch on a local
//! copy (so later ratings in the batch see earlier steps: the worker reads its own
//! writes), and sends each item's summed step with `inc` (add rule). `mu` is the global
//! mean of the training ratings. The objective is the mean squared error of each batch's
//! ratings before their step; the held-out RMSE uses the model after the last clock.

use std::collections::HashMap;

use gasket_engine::param::{Init, Row, TableClient, TableSpec};

use super::SgdConfig;
use gasket_engine::Result;
use gasket_engine::hash::{mix, unit as unit_hash};
use gasket_engine::wire::{decode_f32s, encode_f32s};

/// Half-width of the uniform initial factors (users and items): large enough that SGD
/// leaves the saddle at zero within the first pass.
pub const INIT_SCALE: f32 = 0.3;

/// One rating `(user, item, value)`.
pub type Rating = (u64, u64, f32);

/// A worker's share of the problem and its users' factors.
pub struct MfWorker {
    dims: usize,
    lr: f32,
    lambda: f32,
    mu: f32,
    /// Training ratings in the order batches take them.
    pub train: Vec<Rating>,
    /// Held-out ratings.
    pub test: Vec<Rating>,
    users: HashMap<u64, Vec<f32>>,
}

/// The table of item factors.
pub fn table(config: &SgdConfig) -> TableSpec {
    TableSpec::dense("items", config.dims).init(Init::Uniform {
        scale: INIT_SCALE,
        seed: config.seed,
    })
}

/// Whether `(user, item)` is held out.
pub fn is_test(config: &SgdConfig, user: u64, item: u64) -> bool {
    unit_hash(user, item, config.seed ^ 0x7E57) < config.test_fraction
}

impl MfWorker {
    /// Splits the worker's ratings (every rating of users `u % ranks == rank`) into train
    /// and test and fixes the batch order: sorted, then permuted by a hash of the seed, so
    /// the order depends neither on the file's layout nor on how ranks read it.
    pub fn new(config: &SgdConfig, mut ratings: Vec<Rating>, mu: f32) -> Self {
        ratings.sort_by_key(|r| (r.0, r.1));
        ratings.sort_by_key(|&(u, i, _)| mix(u, i, config.seed));
        let (test, train): (Vec<Rating>, Vec<Rating>) = ratings
            .into_iter()
            .partition(|&(u, i, _)| is_test(config, u, i));
        MfWorker {
            dims: config.dims,
            lr: config.learning_rate() as f32,
            lambda: config.lambda as f32,
            mu,
            train,
            test,
            users: HashMap::new(),
        }
    }

    fn user(&mut self, user: u64) -> &mut Vec<f32> {
        let dims = self.dims;
        self.users.entry(user).or_insert_with(|| {
            (0..dims as u64)
                .map(|j| (2.0 * unit_hash(user, j, 0x05E5) - 1.0) as f32 * INIT_SCALE)
                .collect()
        })
    }

    /// One clock over `batch`: returns the summed squared error before each step and the
    /// summed item steps (`items` holds the rows read, updated in place).
    pub fn step(
        &mut self,
        batch: std::ops::Range<usize>,
        items: &mut HashMap<u64, (Vec<f32>, Vec<f32>)>,
    ) -> f64 {
        let (lr, lambda, mu) = (self.lr, self.lambda, self.mu);
        let mut squared = 0.0f64;
        for k in batch {
            let (u, i, r) = self.train[k];
            let x = self.user(u).clone();
            let (y, step) = items.get_mut(&i).expect("batch items were read");
            let e = r - mu - x.iter().zip(y.iter()).map(|(a, b)| a * b).sum::<f32>();
            squared += f64::from(e) * f64::from(e);
            let xu = self.users.get_mut(&u).expect("created above");
            for j in 0..x.len() {
                let dy = lr * (e * x[j] - lambda * y[j]);
                xu[j] += lr * (e * y[j] - lambda * x[j]);
                y[j] += dy;
                step[j] += dy;
            }
        }
        squared
    }

    /// The distinct items of `batch`, sorted.
    pub fn batch_items(&self, batch: std::ops::Range<usize>) -> Vec<u64> {
        let mut items: Vec<u64> = self.train[batch].iter().map(|r| r.1).collect();
        items.sort_unstable();
        items.dedup();
        items
    }

    /// A clock on the table: read, step, send. Returns the batch's squared error.
    pub fn clock(&mut self, tables: &TableClient, batch: std::ops::Range<usize>) -> Result<f64> {
        let ids = self.batch_items(batch.clone());
        let rows = tables.get_many(0, &ids)?;
        let mut items: HashMap<u64, (Vec<f32>, Vec<f32>)> = ids
            .iter()
            .zip(rows)
            .map(|(&i, row)| {
                let y = row.into_dense().expect("dense table");
                let zeros = vec![0.0; y.len()];
                (i, (y, zeros))
            })
            .collect();
        let squared = self.step(batch, &mut items);
        for i in ids {
            let (_, step) = items.remove(&i).expect("read");
            tables.inc(0, i, Row::Dense(step))?;
        }
        Ok(squared)
    }

    /// The users' factors as checkpoint records, keyed by user id.
    pub fn user_records(&self) -> Vec<(u64, Vec<u8>)> {
        let mut records: Vec<(u64, Vec<u8>)> = self
            .users
            .iter()
            .map(|(&user, factors)| {
                let mut bytes = Vec::new();
                encode_f32s(factors, &mut bytes);
                (user, bytes)
            })
            .collect();
        records.sort_unstable_by_key(|(user, _)| *user);
        records
    }

    /// Takes the factors of this worker's users (`user % ranks == rank`) from a
    /// checkpoint's records.
    ///
    /// # Errors
    ///
    /// A record of another width (a checkpoint of another `--dims`).
    pub fn restore_users(
        &mut self,
        records: &[(u64, Vec<u8>)],
        (rank, ranks): (usize, usize),
    ) -> std::result::Result<(), String> {
        for (user, bytes) in records {
            if user % ranks as u64 != rank as u64 {
                continue;
            }
            let factors = decode_f32s(&mut bytes.as_slice());
            if factors.len() != self.dims {
                return Err(format!(
                    "the checkpoint holds {}-dimensional user factors; this run has --dims {}",
                    factors.len(),
                    self.dims
                ));
            }
            self.users.insert(*user, factors);
        }
        Ok(())
    }

    /// Squared error summed over the held-out ratings, with the table as it is now.
    pub fn test_error(&mut self, tables: &TableClient) -> Result<f64> {
        let mut ids: Vec<u64> = self.test.iter().map(|r| r.1).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows: HashMap<u64, Row> = ids.iter().copied().zip(tables.get_many(0, &ids)?).collect();
        let mut squared = 0.0;
        for k in 0..self.test.len() {
            let (u, i, r) = self.test[k];
            let x = self.user(u).clone();
            let y = rows[&i].as_dense().expect("dense");
            let e = r - self.mu - x.iter().zip(y).map(|(a, b)| a * b).sum::<f32>();
            squared += f64::from(e) * f64::from(e);
        }
        Ok(squared)
    }
}
