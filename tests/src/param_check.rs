//! Workloads that check the parameter table's promises, run by the thread-rank tests and,
//! through the `param_check` binary, under `mpirun`.
//!
//! - [`read_rule`]: every worker adds 1 to its own column of a few rows per clock and,
//!   before adding, reads them; the SSP rule says column `w` must be at least `c - s` at
//!   clock `c` (exactly `c` under BSP). The check reads the data, not the engine's own
//!   stamps, so a broken rule shows up as a wrong count.
//! - [`lost_updates`]: random integer deltas; after the session every row must equal the
//!   sum of all deltas, recomputed from the seeds.
//! - [`bsp_rows`] and [`bsp_serial`]: a float workload whose deltas depend on what was
//!   read (with read-my-writes and a server-side Adagrad table); BSP must reproduce a plain
//!   serial simulation bit for bit.

use std::collections::BTreeMap;
use std::time::Duration;

use gasket_engine::EngineError;
use gasket_engine::comm::Comm;
use gasket_engine::hash::mix;
use gasket_engine::param::{
    self, Consistency, Init, ParamConfig, Row, TableId, TableMetrics, TableRows, TableSpec,
    UpdateRule,
};

/// The reads that broke the rule being checked, and the rank's figures.
#[derive(Debug)]
pub struct ReadRuleRun {
    /// One line per violating read.
    pub violations: Vec<String>,
    /// The rank's table figures.
    pub metrics: TableMetrics,
}

const RULE_ROWS: u64 = 6;

/// See the module docs. `check` is the staleness whose rule is checked (`None`: check
/// BSP's exact counts); rank 1 sleeps `lag` on every other clock.
pub fn read_rule(
    comm: &dyn Comm,
    consistency: Consistency,
    eager: bool,
    check: Option<u64>,
    clocks: u64,
    lag: Duration,
) -> Result<ReadRuleRun, EngineError> {
    let ranks = comm.size();
    let spec = TableSpec::dense("counts", ranks)
        .consistency(consistency)
        .eager(eager);
    let rows: Vec<u64> = (0..RULE_ROWS).collect();
    let finished = param::run(comm, vec![spec], &ParamConfig::default(), |tables, _| {
        let mut violations = Vec::new();
        for c in 0..clocks {
            if comm.rank() == 1 && c % 2 == 1 {
                std::thread::sleep(lag);
            }
            let read = tables.get_many(0, &rows)?;
            for (row, values) in rows.iter().zip(&read) {
                for w in 0..ranks {
                    let got = values.value(w as u32) as u64;
                    let ok = match check {
                        None => got == c,
                        Some(s) => got >= c.saturating_sub(s),
                    };
                    if !ok {
                        violations.push(format!(
                            "rank {} clock {c}: row {row} column {w} = {got}",
                            comm.rank()
                        ));
                    }
                }
            }
            let mut mine = vec![0.0; ranks];
            mine[comm.rank()] = 1.0;
            for &row in &rows {
                tables.inc(0, row, Row::Dense(mine.clone()))?;
            }
            tables.clock()?;
        }
        Ok(violations)
    })?;
    Ok(ReadRuleRun {
        violations: finished.value,
        metrics: finished.metrics,
    })
}

const LOST_ROWS: u64 = 40;
const LOST_INCS: u64 = 25;
const DENSE_WIDTH: usize = 4;

/// The deltas rank `rank` sends in clock `clock`: `(table, row, delta)`.
fn lost_update_deltas(rank: usize, clock: u64, seed: u64) -> Vec<(TableId, u64, Row)> {
    (0..LOST_INCS)
        .map(|k| {
            let h = mix(rank as u64, clock * 1000 + k, seed);
            let row = h % LOST_ROWS;
            let x = ((h >> 20) % 7) as f32 - 3.0;
            if (h >> 40) % 2 == 0 {
                let mut d = vec![0.0; DENSE_WIDTH];
                d[((h >> 44) % DENSE_WIDTH as u64) as usize] = x;
                d[0] += 1.0;
                (0, row, Row::Dense(d))
            } else {
                (
                    1,
                    row,
                    Row::sparse(vec![(((h >> 44) % 50) as u32, x), (7, 1.0)]),
                )
            }
        })
        .collect()
}

/// See the module docs. Returns, on rank 0, the rows that differ from the expected sums
/// (empty when none); `None` on the other ranks.
pub fn lost_updates(
    comm: &dyn Comm,
    consistency: Consistency,
    eager: bool,
    clocks: u64,
    seed: u64,
) -> Result<Option<Vec<String>>, EngineError> {
    let specs = vec![
        TableSpec::dense("dense", DENSE_WIDTH)
            .consistency(consistency)
            .eager(eager),
        TableSpec::sparse("sparse")
            .consistency(consistency)
            .eager(eager),
    ];
    let rank = comm.rank();
    let finished = param::run(comm, specs, &ParamConfig::default(), |tables, _| {
        for c in 0..clocks {
            for (table, row, delta) in lost_update_deltas(rank, c, seed) {
                tables.inc(table, row, delta)?;
                // Reads in between exercise the cache and the waits.
                if row % 5 == 0 {
                    tables.get(table, row)?;
                }
            }
            // The last clock's updates are sent when the body returns.
            if c + 1 < clocks {
                tables.clock()?;
            }
        }
        Ok(())
    })?;
    let Some(rows) = param::gather_rows(comm, 0, &finished.rows)? else {
        return Ok(None);
    };
    let mut expected: BTreeMap<(TableId, u64), Row> = BTreeMap::new();
    for r in 0..comm.size() {
        for c in 0..clocks {
            for (table, row, delta) in lost_update_deltas(r, c, seed) {
                let sum = expected.entry((table, row)).or_insert_with(|| {
                    if table == 0 {
                        Row::Dense(vec![0.0; DENSE_WIDTH])
                    } else {
                        Row::Sparse(Vec::new())
                    }
                });
                *sum = add_rows(sum, &delta);
            }
        }
    }
    let got: BTreeMap<(TableId, u64), Row> =
        rows.into_iter().map(|(t, r, row)| ((t, r), row)).collect();
    let mut wrong = Vec::new();
    for (key, want) in &expected {
        let columns: Vec<u32> = match want {
            Row::Dense(v) => (0..v.len() as u32).collect(),
            Row::Sparse(v) => v.iter().map(|&(c, _)| c).chain(0..50).collect(),
        };
        for c in columns {
            let have = got.get(key).map_or(0.0, |row| row.value(c));
            if have != want.value(c) {
                wrong.push(format!("{key:?} column {c}: {have} != {}", want.value(c)));
            }
        }
    }
    if got.keys().any(|k| !expected.contains_key(k)) {
        wrong.push("a row nobody updated exists".into());
    }
    Ok(Some(wrong))
}

fn add_rows(a: &Row, b: &Row) -> Row {
    match (a, b) {
        (Row::Dense(x), Row::Dense(y)) => Row::Dense(x.iter().zip(y).map(|(p, q)| p + q).collect()),
        (Row::Sparse(x), Row::Sparse(y)) => Row::sparse(x.iter().chain(y).copied().collect()),
        _ => panic!("shape mismatch"),
    }
}

const BSP_ROWS: u64 = 12;
const LR: f32 = 0.1;
const EPS: f32 = 1e-6;

fn bsp_specs() -> Vec<TableSpec> {
    vec![
        TableSpec::dense("weights", 3).init(Init::Uniform {
            scale: 1.0,
            seed: 5,
        }),
        TableSpec::dense("adagrad", 2).update(UpdateRule::Adagrad { lr: LR, eps: EPS }),
    ]
}

fn bsp_reads(rank: usize, clock: u64) -> Vec<u64> {
    (0..4)
        .map(|k| mix(rank as u64, clock, k) % BSP_ROWS)
        .collect()
}

fn bsp_delta(values: &[f32], rank: usize, clock: u64) -> Vec<f32> {
    values
        .iter()
        .map(|&v| 0.1 * (v * (rank as f32 + 1.0)).sin() + 0.01 * clock as f32)
        .collect()
}

/// The BSP workload on the tables; rank 0 gets every row at the end.
pub fn bsp_rows(comm: &dyn Comm, clocks: u64) -> Result<Option<TableRows>, EngineError> {
    let rank = comm.rank();
    let finished = param::run(comm, bsp_specs(), &ParamConfig::default(), |tables, _| {
        for c in 0..clocks {
            for row in bsp_reads(rank, c) {
                // Read, update, read again (own write visible), update again.
                for _ in 0..2 {
                    let v = tables.get(0, row)?.into_dense().expect("dense");
                    tables.inc(0, row, Row::Dense(bsp_delta(&v, rank, c)))?;
                }
                let g = tables.get(1, row)?.into_dense().expect("dense");
                tables.inc(1, row, Row::Dense(bsp_delta(&g, rank, c)[..2].to_vec()))?;
            }
            tables.clock()?;
        }
        Ok(())
    })?;
    param::gather_rows(comm, 0, &finished.rows)
}

/// The same workload simulated serially: per clock every worker reads the table as the
/// previous clock left it plus its own updates, then the server adds each worker's summed
/// updates in rank order.
pub fn bsp_serial(ranks: usize, clocks: u64) -> TableRows {
    let specs = bsp_specs();
    let mut table: BTreeMap<(TableId, u64), Vec<f32>> = BTreeMap::new();
    let mut squares: BTreeMap<u64, Vec<f32>> = BTreeMap::new();
    let initial = |t: TableId, row: u64| {
        specs[t as usize]
            .initial_row(row)
            .into_dense()
            .expect("dense")
    };
    for c in 0..clocks {
        let mut updates: Vec<BTreeMap<(TableId, u64), Vec<f32>>> = Vec::new();
        for rank in 0..ranks {
            let mut pending: BTreeMap<(TableId, u64), Vec<f32>> = BTreeMap::new();
            for row in bsp_reads(rank, c) {
                for _ in 0..2 {
                    let mut v = table
                        .get(&(0, row))
                        .cloned()
                        .unwrap_or_else(|| initial(0, row));
                    if let Some(p) = pending.get(&(0, row)) {
                        v.iter_mut().zip(p).for_each(|(x, d)| *x += 1.0 * d);
                    }
                    add_into(&mut pending, (0, row), bsp_delta(&v, rank, c));
                }
                let g = table
                    .get(&(1, row))
                    .cloned()
                    .unwrap_or_else(|| initial(1, row));
                add_into(&mut pending, (1, row), bsp_delta(&g, rank, c)[..2].to_vec());
            }
            updates.push(pending);
        }
        for pending in updates {
            for (key, delta) in pending {
                let x = table.entry(key).or_insert_with(|| initial(key.0, key.1));
                if key.0 == 0 {
                    x.iter_mut().zip(&delta).for_each(|(x, d)| *x += 1.0 * d);
                } else {
                    let h = squares
                        .entry(key.1)
                        .or_insert_with(|| vec![0.0; delta.len()]);
                    for ((x, h), &g) in x.iter_mut().zip(h.iter_mut()).zip(&delta) {
                        *h += g * g;
                        let step = if g == 0.0 { 0.0 } else { g / (h.sqrt() + EPS) };
                        *x += -LR * step;
                    }
                }
            }
        }
    }
    table
        .into_iter()
        .map(|((t, r), v)| (t, r, Row::Dense(v)))
        .collect()
}

fn add_into(
    pending: &mut BTreeMap<(TableId, u64), Vec<f32>>,
    key: (TableId, u64),
    delta: Vec<f32>,
) {
    match pending.get_mut(&key) {
        Some(sum) => sum.iter_mut().zip(&delta).for_each(|(x, d)| *x += 1.0 * d),
        None => {
            pending.insert(key, delta);
        }
    }
}
