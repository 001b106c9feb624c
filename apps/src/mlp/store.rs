//! Where the parameters live between steps.
//!
//! - [`LocalStore`] (one rank): on the device, next to the model; the optimizer step is
//!   the backend's kernel. Nothing crosses to the host.
//! - [`TableStore`] (data parallel): in the parameter table, one dense table per block
//!   (rows of up to [`CHUNK`] values), with the optimizer as the table's server-side rule.
//!   A step pulls every row (as fresh as the table's consistency demands), uploads it,
//!   computes the gradient of this rank's share of the global batch, pushes it and ends
//!   the clock. The tables push eagerly (ESSP): when a clock completes, each server
//!   sends its changed rows to every rank, so the next pull is served from the cache
//!   without a round trip per table. Under BSP the servers sum a clock's gradients and take one step, so the
//!   parameters follow the same trajectory as one rank on the whole batch.
//!
//! Both start from [`initial_blocks`]: Glorot-uniform weights drawn from a hash of
//! `(row, column, seed)`, so every rank count starts from the same network.

use gasket_engine::param::{Consistency, Init, LrSchedule, TableClient, TableSpec, UpdateRule};

use super::kernels::Kernels;
use super::model::Model;
use super::net::Net;
use crate::Result;

/// Values per table row.
pub const CHUNK: usize = 4096;

/// The table of every parameter block (see the module docs).
pub fn table_specs(
    net: &Net,
    (rule, schedule): (UpdateRule, LrSchedule),
    consistency: Consistency,
    seed: u64,
) -> Vec<TableSpec> {
    net.blocks
        .iter()
        .enumerate()
        .map(|(b, block)| {
            let init = if block.init_scale > 0.0 {
                Init::Uniform {
                    scale: block.init_scale,
                    seed: seed ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                }
            } else {
                Init::Zeros
            };
            TableSpec::dense(block.name.clone(), block.len().min(CHUNK))
                .init(init)
                .update(rule)
                .schedule(schedule)
                .consistency(consistency)
                .eager(true)
        })
        .collect()
}

fn rows_of(len: usize) -> u64 {
    len.div_ceil(CHUNK) as u64
}

/// The starting value of every block, as the tables of [`table_specs`] hold it.
pub fn initial_blocks(net: &Net, specs: &[TableSpec]) -> Vec<Vec<f32>> {
    net.blocks
        .iter()
        .zip(specs)
        .map(|(block, spec)| {
            let mut values: Vec<f32> = (0..rows_of(block.len()))
                .flat_map(|row| spec.initial_row(row).into_dense().expect("dense tables"))
                .collect();
            values.truncate(block.len());
            values
        })
        .collect()
}

/// Keeps a model's parameters current across steps. Every [`push`](Self::push) is one
/// step (a clock of the tables), which the learning-rate schedule counts.
pub trait ParamStore<K: Kernels> {
    /// Makes the model's parameters those of the next step.
    ///
    /// # Errors
    ///
    /// A failed copy or table read (a lost rank).
    fn pull(&mut self, kernels: &K, model: &mut Model<K>) -> Result<()>;
    /// Applies the gradients the model holds, computed on `rows` examples (none: this
    /// rank had no share of the batch and only ends the step).
    ///
    /// # Errors
    ///
    /// A failed kernel or table update.
    fn push(&mut self, kernels: &K, model: &mut Model<K>, rows: usize) -> Result<()>;
}

/// Parameters and optimizer state on the device (one rank).
pub struct LocalStore<K: Kernels> {
    rule: UpdateRule,
    schedule: LrSchedule,
    states: Vec<K::OptState>,
    /// Steps taken (the clock a table would be at).
    steps: u64,
}

impl<K: Kernels> LocalStore<K> {
    /// Loads `initial` into the model and keeps the optimizer state beside it.
    ///
    /// # Errors
    ///
    /// A failed allocation or copy.
    pub fn new(
        kernels: &K,
        model: &mut Model<K>,
        (rule, schedule): (UpdateRule, LrSchedule),
        initial: &[Vec<f32>],
    ) -> Result<Self> {
        model.set_params(kernels, initial)?;
        let states = model
            .net()
            .blocks
            .iter()
            .map(|b| kernels.optimizer_state(b.len()))
            .collect::<Result<_>>()?;
        Ok(LocalStore {
            rule,
            schedule,
            states,
            steps: 0,
        })
    }
}

impl<K: Kernels> ParamStore<K> for LocalStore<K> {
    fn pull(&mut self, _kernels: &K, _model: &mut Model<K>) -> Result<()> {
        Ok(())
    }

    fn push(&mut self, kernels: &K, model: &mut Model<K>, rows: usize) -> Result<()> {
        let rule = self.rule.with_lr_factor(self.schedule.factor(self.steps));
        self.steps += 1;
        if rows == 0 {
            return Ok(());
        }
        let lens: Vec<usize> = model.net().blocks.iter().map(|b| b.len()).collect();
        for (b, len) in lens.into_iter().enumerate() {
            let (params, grads) = (&mut model.params[b], &model.grads[b]);
            kernels.optimizer_step(rule, len, params, grads, &mut self.states[b])?;
        }
        Ok(())
    }
}

/// Parameters in the parameter table (data parallel).
pub struct TableStore<'a> {
    client: &'a TableClient,
    /// Per block, where values pass between the tables and a device that is not host
    /// memory; unused when the backend lends its buffers ([`Kernels::host_view`]).
    host: Vec<Vec<f32>>,
    /// Copy through `host` even when the backend lends its buffers (tests of that path).
    through_host: bool,
}

impl<'a> TableStore<'a> {
    /// A store over the tables of [`table_specs`] (table `b` holds block `b`).
    pub fn new(client: &'a TableClient, net: &Net) -> Self {
        TableStore {
            client,
            host: net.blocks.iter().map(|b| vec![0.0; b.len()]).collect(),
            through_host: false,
        }
    }

    /// A store that copies through host buffers as it does for a GPU, whatever the
    /// backend (to test that path on the CPU).
    #[doc(hidden)]
    pub fn through_host(client: &'a TableClient, net: &Net) -> Self {
        TableStore {
            through_host: true,
            ..TableStore::new(client, net)
        }
    }
}

impl<K: Kernels> ParamStore<K> for TableStore<'_> {
    fn pull(&mut self, kernels: &K, model: &mut Model<K>) -> Result<()> {
        for (b, host) in self.host.iter_mut().enumerate() {
            let (table, len) = (b as u16, host.len());
            match kernels.host_view(&mut model.params[b]) {
                Some(params) if !self.through_host => {
                    self.client.get_dense_into(table, 0, &mut params[..len])?
                }
                _ => {
                    self.client.get_dense_into(table, 0, host)?;
                    kernels.upload(host, &mut model.params[b])?;
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, kernels: &K, model: &mut Model<K>, rows: usize) -> Result<()> {
        if rows == 0 {
            self.client.clock()?;
            return Ok(());
        }
        for (b, host) in self.host.iter_mut().enumerate() {
            let (table, len) = (b as u16, host.len());
            match kernels.host_view(&mut model.grads[b]) {
                Some(grads) if !self.through_host => {
                    self.client.inc_dense(table, 0, &grads[..len])?
                }
                _ => {
                    kernels.download(&model.grads[b], host)?;
                    self.client.inc_dense(table, 0, host)?;
                }
            }
        }
        self.client.clock()?;
        Ok(())
    }
}
