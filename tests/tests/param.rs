//! The parameter table on 1, 2 and 4 thread ranks: the SSP read rule holds for BSP, SSP
//! and eager tables (checked from the data), async reads do break it (so the check can
//! fail), no update is lost, async eager rows are pushed at their reader's pace, BSP
//! reproduces a serial simulation bit for bit, dense blocks go in and come out over
//! consecutive rows (updated twice in a clock, on every consistency), a vertex program
//! reads a table through its context, and a failing rank stops every rank.

use std::time::Duration;

use gasket_engine::param::{self, Consistency, ParamConfig, Row, TableSpec};
use gasket_engine::prelude::*;
use gasket_tests::on_ranks;
use gasket_tests::param_check::{bsp_rows, bsp_serial, lost_updates, read_rule};

const LAG: Duration = Duration::from_millis(2);

#[test]
fn reads_follow_the_ssp_rule() {
    for (consistency, check) in [
        (param::Consistency::Bsp, None),
        (Consistency::Ssp(0), Some(0)),
        (Consistency::Ssp(1), Some(1)),
        (Consistency::Ssp(3), Some(3)),
    ] {
        for eager in [false, true] {
            on_ranks(|ranks| {
                let runs = ThreadComm::run(ranks, |comm| {
                    read_rule(&comm, consistency, eager, check, 14, LAG)
                })
                .unwrap();
                for run in runs {
                    assert!(
                        run.violations.is_empty(),
                        "{consistency} eager={eager}: {:?}",
                        run.violations
                    );
                    let bound = check.unwrap_or(0) as usize;
                    assert!(run.metrics.max_staleness().unwrap() <= bound);
                    assert_eq!(run.metrics.clocks, 15, "14 clocks and the final one");
                }
            });
        }
    }
}

#[test]
fn stale_reads_are_served_and_counted_under_ssp() {
    // Rank 1 lags: under SSP(3) rank 0 runs ahead and is served rows up to 3 clocks old.
    let runs = ThreadComm::run(2, |comm| {
        read_rule(
            &comm,
            Consistency::Ssp(3),
            false,
            Some(3),
            20,
            Duration::from_millis(15),
        )
    })
    .unwrap();
    assert!(
        runs[0].metrics.max_staleness().unwrap() >= 1,
        "{:?}",
        runs[0].metrics
    );
}

#[test]
fn async_reads_break_the_bsp_rule_so_the_check_can_fail() {
    let runs = ThreadComm::run(2, |comm| {
        read_rule(
            &comm,
            Consistency::Async,
            false,
            Some(0),
            20,
            Duration::from_millis(20),
        )
    })
    .unwrap();
    assert!(
        !runs[0].violations.is_empty(),
        "the fast rank never read a row missing the lagging rank's updates"
    );
}

#[test]
fn no_update_is_lost() {
    for consistency in [Consistency::Bsp, Consistency::Ssp(2), Consistency::Async] {
        for eager in [false, true] {
            on_ranks(|ranks| {
                let out =
                    ThreadComm::run(ranks, |comm| lost_updates(&comm, consistency, eager, 10, 7))
                        .unwrap();
                let wrong = out[0].as_ref().unwrap();
                assert!(wrong.is_empty(), "{consistency} eager={eager}: {wrong:?}");
            });
        }
    }
}

/// Under async consistency with eager pushes a worker keeps the updates it sent only until
/// a pushed copy of the row holds them, so its log stays bounded however many clocks run
/// (it used to keep every update of the run: 8 rows x 200 clocks here). Each clock waits a
/// millisecond so the pushes, sent by the exchange thread, keep up with the worker.
#[test]
fn eager_async_keeps_a_bounded_log_of_own_updates() {
    const ROWS: u64 = 8;
    const CLOCKS: u64 = 200;
    for ranks in [1, 2] {
        let kept = ThreadComm::run(ranks, |comm| {
            let spec = TableSpec::dense("w", 4)
                .consistency(Consistency::Async)
                .eager(true);
            let finished = param::run(&comm, vec![spec], &ParamConfig::default(), |tables, _| {
                for _ in 0..CLOCKS {
                    for row in 0..ROWS {
                        tables.inc(0, row, Row::Dense(vec![1.0; 4]))?;
                        tables.get(0, row)?;
                    }
                    tables.clock()?;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(())
            })?;
            Ok::<_, EngineError>(finished.metrics.own_updates_kept)
        })
        .unwrap();
        for (rank, kept) in kept.into_iter().enumerate() {
            assert!(kept >= 1, "rank {rank} of {ranks}: the log was used");
            assert!(
                kept <= ROWS * 40,
                "rank {rank} of {ranks}: {kept} own updates kept over {CLOCKS} clocks"
            );
        }
    }
}

#[test]
fn bsp_is_reproducible_and_equals_a_serial_simulation() {
    on_ranks(|ranks| {
        let first = ThreadComm::run(ranks, |comm| bsp_rows(&comm, 8)).unwrap();
        let second = ThreadComm::run(ranks, |comm| bsp_rows(&comm, 8)).unwrap();
        let first = first[0].clone().unwrap();
        assert_eq!(Some(&first), second[0].as_ref(), "run-to-run difference");
        assert_eq!(first, bsp_serial(ranks, 8));
    });
}

/// Each vertex adds its in-degree to row 0 in superstep 0; in superstep 1 it reads the
/// table, which under BSP holds exactly the total.
struct DegreeTotal;

impl VertexProgram for DegreeTotal {
    type Vertex = f32;
    type Edge = ();
    type Gather = u64;
    type Message = ();

    fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> f32 {
        0.0
    }
    fn activation(&self) -> Activation {
        Activation::All
    }
    fn gather_edges(&self, _v: &VertexRef<'_, f32>) -> EdgeDir {
        EdgeDir::In
    }
    fn gather(&self, _v: &VertexRef<'_, f32>, _e: &(), _other: &f32) -> u64 {
        1
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc += x;
    }
    fn apply(&self, v: &mut VertexMut<'_, f32>, total: Option<u64>, ctx: &mut Context<'_, ()>) {
        let tables = ctx.tables().expect("tables attached");
        if ctx.iteration() == 0 {
            let degree = total.unwrap_or(0) as f32;
            tables.inc(0, 0, Row::Dense(vec![degree])).unwrap();
        } else {
            *v.data_mut() = tables.get(0, 0).unwrap().value(0);
        }
    }
}

#[test]
fn vertex_programs_read_tables_through_the_context() {
    let edges: Vec<(u64, u64)> = (0..60u64).map(|i| (i % 17, (i * 7) % 23)).collect();
    on_ranks(|ranks| {
        let per_rank = ThreadComm::run(ranks, |comm| {
            let input = if comm.rank() == 0 {
                EdgeInput {
                    src: edges.iter().map(|e| e.0).collect(),
                    dst: edges.iter().map(|e| e.1).collect(),
                    data: vec![(); edges.len()],
                    ..EdgeInput::default()
                }
            } else {
                EdgeInput::default()
            };
            let spec = TableSpec::dense("total", 1);
            param::run(
                &comm,
                vec![spec],
                &ParamConfig::default(),
                |tables, tcomm| {
                    let mut graph = build_local_graph(tcomm, &HashOwnership::new(ranks), input)?;
                    let config = SyncConfig {
                        max_iterations: 2,
                        ..SyncConfig::default()
                    };
                    let mut engine = SyncEngine::new(&DegreeTotal, &mut graph, tcomm, config)?;
                    engine.use_tables(tables);
                    engine.run()?;
                    let mut seen = Vec::new();
                    engine.for_each_owned(|v| seen.push(*v.data()));
                    Ok(seen)
                },
            )
        })
        .unwrap();
        let seen: Vec<f32> = per_rank.into_iter().flat_map(|f| f.value).collect();
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|&x| x == edges.len() as f32), "{seen:?}");
    });
}

#[test]
fn a_failing_rank_stops_every_rank() {
    let outcome = ThreadComm::run(3, |comm| {
        let spec = TableSpec::dense("x", 1).consistency(Consistency::Bsp);
        param::run(&comm, vec![spec], &ParamConfig::default(), |tables, _| {
            for c in 0..5 {
                if comm.rank() == 2 && c == 2 {
                    return Err(EngineError::Config("rank 2 gives up".into()));
                }
                tables.get(0, 1)?;
                tables.inc(0, 1, Row::Dense(vec![1.0]))?;
                tables.clock()?;
            }
            Ok(())
        })
    });
    let err = outcome.unwrap_err();
    assert!(err.to_string().contains("rank 2 gives up"), "{err}");
}

/// A block of 10 values over rows of width 4 (the last row half used), added by every
/// rank with `inc_dense` twice per clock (the second add meets rows the first sent at
/// once) and read back with `get_dense_into`, under the add rule and SGD, BSP, SSP, async
/// and eager: after `CLOCKS` clocks every value is the serial sum.
#[test]
fn dense_blocks_go_in_and_come_out_over_consecutive_rows() {
    use gasket_engine::param::UpdateRule;
    const CLOCKS: u64 = 3;
    let block: Vec<f32> = (0..10).map(|i| i as f32 + 1.0).collect();
    for update in [UpdateRule::Add, UpdateRule::Sgd { lr: 0.5 }] {
        for consistency in [Consistency::Bsp, Consistency::Ssp(1), Consistency::Async] {
            for eager in [false, true] {
                on_ranks(|ranks| {
                    let spec = TableSpec::dense("block", 4)
                        .update(update)
                        .consistency(consistency)
                        .eager(eager);
                    let runs = ThreadComm::run(ranks, |comm| {
                        param::run(
                            &comm,
                            vec![spec.clone()],
                            &ParamConfig::default(),
                            |t, _| {
                                for _ in 0..CLOCKS {
                                    t.inc_dense(0, 2, &block)?;
                                    t.inc_dense(0, 2, &block[..6])?;
                                    t.clock()?;
                                }
                                Ok(())
                            },
                        )
                    })
                    .unwrap();
                    // Every rank's adds, through the rule: the add rule adds, SGD subtracts lr x.
                    let scale = match update {
                        UpdateRule::Add => 1.0,
                        _ => -0.5,
                    } * (ranks as u64 * CLOCKS) as f32;
                    let expected: Vec<f32> = (0..12)
                        .map(|i| match i {
                            0..6 => 2.0 * block[i],
                            6..10 => block[i],
                            _ => 0.0,
                        } * scale)
                        .collect();
                    let mut rows: Vec<_> = runs.into_iter().flat_map(|f| f.rows).collect();
                    rows.sort_by_key(|&(_, row, _)| row);
                    let got: Vec<f32> = rows
                        .iter()
                        .flat_map(|(_, _, r)| r.as_dense().unwrap().to_vec())
                        .collect();
                    let what = format!("{update:?} {consistency} eager={eager} {ranks} ranks");
                    assert_eq!(
                        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                        [2, 3, 4],
                        "{what}"
                    );
                    assert_eq!(got, expected, "{what}");
                });
                // Read back as a block, cut at the slice's end, on one rank.
                let spec = TableSpec::dense("block", 4)
                    .update(update)
                    .consistency(consistency)
                    .eager(eager);
                let read = param::run(&SingleComm, vec![spec], &ParamConfig::default(), |t, _| {
                    t.inc_dense(0, 2, &block)?;
                    t.clock()?;
                    let mut out = vec![f32::NAN; 9];
                    t.get_dense_into(0, 2, &mut out)?;
                    Ok(out)
                })
                .unwrap();
                let factor = if update == UpdateRule::Add { 1.0 } else { -0.5 };
                let expected: Vec<f32> = block[..9].iter().map(|x| x * factor).collect();
                assert_eq!(
                    read.value, expected,
                    "{update:?} {consistency} eager={eager}"
                );
            }
        }
    }
}

#[test]
fn misuse_is_a_clear_error() {
    let out = param::run(
        &SingleComm,
        vec![TableSpec::dense("w", 2)],
        &ParamConfig::default(),
        |tables, _| {
            let shape = tables.inc(0, 1, Row::Dense(vec![1.0; 2])).and(tables.inc(
                0,
                1,
                Row::Sparse(vec![]),
            ));
            let table = tables.get(3, 0);
            Ok((
                shape.unwrap_err().to_string(),
                table.unwrap_err().to_string(),
            ))
        },
    )
    .unwrap();
    let sparse = param::run(
        &SingleComm,
        vec![TableSpec::sparse("counts")],
        &ParamConfig::default(),
        |tables, _| {
            let inc = tables.inc_dense(0, 0, &[1.0]).unwrap_err();
            let get = tables.get_dense_into(0, 0, &mut [0.0]).unwrap_err();
            Ok([inc.to_string(), get.to_string()])
        },
    )
    .unwrap();
    for message in sparse.value {
        assert!(
            message.contains("table `counts` has sparse rows"),
            "{message}"
        );
    }
    assert!(out.value.0.contains("table `w`"), "{}", out.value.0);
    assert!(
        out.value.1.contains("no parameter table 3"),
        "{}",
        out.value.1
    );
    let bad = param::run(
        &SingleComm,
        vec![TableSpec::dense("empty", 0)],
        &ParamConfig::default(),
        |_, _| Ok(()),
    );
    assert!(bad.unwrap_err().to_string().contains("at least one column"));
}

/// An eager async read after a clock is as fresh as a fetch at that clock would be: it
/// holds every update its server applied before the reader's clock ended. Rank 1 adds 1
/// to a row and clocks; after a barrier (so that add reached the row's server before
/// rank 0's next clock does), rank 0 clocks and reads the row: it must see every add so
/// far, 20 times over. A read served from the cache without waiting for the clock's
/// pushes sees the value before the add.
#[test]
fn eager_async_reads_hold_what_their_server_had_when_their_clock_ended() {
    const ROUNDS: u64 = 20;
    let spec = TableSpec::dense("x", 1)
        .consistency(Consistency::Async)
        .eager(true);
    ThreadComm::run(2, |comm| {
        param::run(
            &comm,
            vec![spec.clone()],
            &ParamConfig::default(),
            |t, tc| {
                t.get(0, 0)?;
                for round in 0..ROUNDS {
                    if t.rank() == 1 {
                        t.inc(0, 0, Row::Dense(vec![1.0]))?;
                    }
                    t.clock()?;
                    tc.barrier()?;
                    t.clock()?;
                    if t.rank() == 0 {
                        let seen = t.get(0, 0)?.value(0);
                        assert_eq!(seen, (round + 1) as f32, "round {round}");
                    }
                    tc.barrier()?;
                }
                Ok(())
            },
        )
    })
    .unwrap();
}

/// Async eager rows reach a reader at its own pace, not when the slowest worker finishes a
/// clock. Rank 2 finishes one clock and then waits for the end (so the servers' stamp
/// stays at 1). Rank 1 reads a row once from its server, then clocks and reads it again
/// and again. Rank 0 adds 1 to the row and finishes a clock; once rank 1 has seen that add
/// (pushed when the stamp reached 1), rank 0 adds 1 in each of 4 more clocks. Rank 1 must
/// see all 5 from pushes, without asking a server again (one request answered in all).
#[test]
fn async_eager_rows_are_pushed_at_the_pace_of_their_reader() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ADDS: u64 = 5;
    let (saw_first, done) = (AtomicBool::new(false), AtomicBool::new(false));
    let seen = ThreadComm::run(3, |comm| {
        let spec = TableSpec::dense("w", 1)
            .consistency(Consistency::Async)
            .eager(true);
        let finished = param::run(&comm, vec![spec], &ParamConfig::default(), |tables, _| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            let wait_for = |flag: &AtomicBool| {
                while !flag.load(Ordering::Acquire) && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            match comm.rank() {
                0 => {
                    for add in 0..ADDS {
                        tables.inc(0, 0, Row::Dense(vec![1.0]))?;
                        tables.clock()?;
                        if add == 0 {
                            wait_for(&saw_first);
                        }
                    }
                    Ok(ADDS as f32)
                }
                1 => {
                    tables.get(0, 0)?;
                    loop {
                        tables.clock()?;
                        let value = tables.get(0, 0)?.value(0);
                        if value >= 1.0 {
                            saw_first.store(true, Ordering::Release);
                        }
                        if value >= ADDS as f32 || std::time::Instant::now() > deadline {
                            done.store(true, Ordering::Release);
                            return Ok(value);
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                _ => {
                    tables.clock()?;
                    wait_for(&done);
                    Ok(0.0)
                }
            }
        })?;
        Ok::<_, EngineError>((finished.value, finished.metrics.reads_answered))
    })
    .unwrap();
    assert_eq!(
        seen[1].0, ADDS as f32,
        "rank 1 never saw rank 0's later clocks"
    );
    let requests: u64 = seen.iter().map(|(_, answered)| answered).sum();
    assert_eq!(requests, 1, "rank 1 asked its server again");
}
