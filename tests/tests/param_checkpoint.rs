//! Parameter-table checkpoints on thread ranks: a session stopped after a checkpoint and
//! resumed on another number of ranks ends bit for bit where an uninterrupted one ends
//! (Adam with a cosine schedule and momentum, so optimizer state and the clock must both
//! survive); worker records come back to every rank; a damaged newest checkpoint falls
//! back to the previous one; misuse and a checkpoint of other tables are clear errors.

use std::path::Path;

use gasket_engine::error::EngineError;
use gasket_engine::param::{
    self, Consistency, LrSchedule, ParamConfig, Row, TableCheckpoint, TableRows, TableSpec,
    UpdateRule, WorkerState,
};
use gasket_engine::prelude::*;

const ROWS: u64 = 24;
const CLOCKS: u64 = 10;

fn tables(consistency: Consistency) -> Vec<TableSpec> {
    let adam = UpdateRule::Adam {
        lr: 0.05,
        beta1: 0.9,
        beta2: 0.99,
        eps: 1e-6,
    };
    let momentum = UpdateRule::Momentum {
        lr: 0.1,
        momentum: 0.9,
    };
    vec![
        TableSpec::dense("adam", 3)
            .update(adam)
            .schedule(LrSchedule::Cosine { clocks: CLOCKS })
            .consistency(consistency),
        TableSpec::dense("momentum", 2)
            .update(momentum)
            .consistency(consistency),
        TableSpec::sparse("counts").consistency(consistency),
    ]
}

/// The gradient of `row` at `clock`: exact in `f32`, and sent by one rank only, so the
/// servers' sums do not depend on the rank count.
fn gradient(clock: u64, row: u64, width: usize) -> Vec<f32> {
    (0..width)
        .map(|k| ((clock * 7 + row * 3 + k as u64) % 11) as f32 - 5.0)
        .collect()
}

/// Runs clocks `from..to` (reading every row first, so that reads exercise the restored
/// rows), optionally checkpointing after `checkpoint_at`; returns the gathered rows.
fn session(
    ranks: usize,
    consistency: Consistency,
    (from, to): (u64, u64),
    checkpoint: Option<(&Path, u64)>,
    resume: Option<&Path>,
) -> (TableRows, Vec<Option<param::Resumed>>) {
    let config = ParamConfig {
        resume: resume.map(Path::to_path_buf),
        ..ParamConfig::default()
    };
    let per_rank = ThreadComm::run(ranks, |comm| {
        let finished = param::run(&comm, tables(consistency), &config, |t, tcomm| {
            assert_eq!(
                t.current_clock(),
                from,
                "a resumed worker starts at its clock"
            );
            for clock in from..to {
                let rows: Vec<u64> = (0..ROWS).collect();
                t.get_many(0, &rows)?;
                for row in (0..ROWS).filter(|r| r % ranks as u64 == t.rank() as u64) {
                    t.inc(0, row, Row::Dense(gradient(clock, row, 3)))?;
                    t.inc(1, row, Row::Dense(gradient(clock + 1, row, 2)))?;
                    t.inc(2, row, Row::sparse(vec![(clock as u32, 1.0)]))?;
                }
                t.clock()?;
                if let Some((dir, at)) = checkpoint
                    && t.current_clock() % at == 0
                {
                    let state = WorkerState {
                        shared: t.current_clock().to_le_bytes().to_vec(),
                        records: vec![(t.rank() as u64, vec![t.rank() as u8; 3])],
                    };
                    let target = TableCheckpoint { dir, keep: 2 };
                    t.checkpoint(tcomm, &target, &state)?;
                }
            }
            Ok(t.resumed().cloned())
        })?;
        let rows = param::gather_rows(&comm, 0, &finished.rows)?;
        Ok::<_, EngineError>((rows, finished.value))
    })
    .unwrap();
    let resumed = per_rank.iter().map(|(_, r)| r.clone()).collect();
    let rows = per_rank.into_iter().next().unwrap().0.unwrap();
    (rows, resumed)
}

#[test]
fn a_resumed_session_ends_where_an_uninterrupted_one_ends_on_any_rank_count() {
    for consistency in [Consistency::Bsp, Consistency::Ssp(2)] {
        let (expected, _) = session(1, consistency, (0, CLOCKS), None, None);
        assert_eq!(expected.len() as u64, 3 * ROWS);
        for (first, then) in [(2, 3), (4, 1), (1, 2)] {
            let tmp = tempfile::tempdir().unwrap();
            // Stop after clock 6 (checkpoints after 3 and 6), as if killed there.
            session(first, consistency, (0, 6), Some((tmp.path(), 3)), None);
            let (rows, resumed) = session(then, consistency, (6, CLOCKS), None, Some(tmp.path()));
            assert_eq!(
                rows, expected,
                "{consistency}: {first} rank(s), then {then} after a checkpoint"
            );
            for r in resumed {
                let r = r.expect("resumed");
                assert_eq!((r.clock, r.ranks), (6, first));
                assert_eq!(r.shared, 6u64.to_le_bytes());
                let keys: Vec<u64> = r.records.iter().map(|(k, _)| *k).collect();
                assert_eq!(keys, (0..first as u64).collect::<Vec<_>>());
                assert!(r.records.iter().all(|(k, v)| v == &vec![*k as u8; 3]));
            }
        }
    }
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    session(2, Consistency::Bsp, (0, 6), Some((tmp.path(), 3)), None);
    let newest = tmp.path().join("step-0000000006").join("part-00001.bin");
    let mut bytes = std::fs::read(&newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&newest, bytes).unwrap();
    let (rows, resumed) = session(2, Consistency::Bsp, (3, CLOCKS), None, Some(tmp.path()));
    assert_eq!(resumed[0].as_ref().unwrap().clock, 3);
    let (expected, _) = session(2, Consistency::Bsp, (0, CLOCKS), None, None);
    assert_eq!(rows, expected);
}

#[test]
fn checkpoints_of_other_tables_and_misuse_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    session(2, Consistency::Bsp, (0, 3), Some((tmp.path(), 3)), None);
    let config = ParamConfig {
        resume: Some(tmp.path().to_path_buf()),
        ..ParamConfig::default()
    };
    let other = vec![TableSpec::dense("adam", 4)];
    let err = ThreadComm::run(2, |comm| {
        param::run(&comm, other.clone(), &config, |_, _| Ok(())).map(|_| ())
    })
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("holds tables [adam (3 wide), momentum (2 wide), counts (sparse)]")
            && text.contains("this run has [adam (4 wide)]"),
        "{text}"
    );

    let empty = tempfile::tempdir().unwrap();
    let config = ParamConfig {
        resume: Some(empty.path().to_path_buf()),
        ..ParamConfig::default()
    };
    let err = ThreadComm::run(2, |comm| {
        param::run(&comm, tables(Consistency::Bsp), &config, |_, _| Ok(())).map(|_| ())
    })
    .unwrap_err();
    assert!(err.to_string().contains("no complete checkpoint"), "{err}");

    // Updates not yet sent with a clock, and ranks at different clocks.
    for unsent in [true, false] {
        let err = ThreadComm::run(2, |comm| {
            param::run(
                &comm,
                tables(Consistency::Bsp),
                &ParamConfig::default(),
                |t, tc| {
                    if unsent {
                        t.inc(0, 1, Row::Dense(vec![1.0; 3]))?;
                    } else if t.rank() == 1 {
                        t.clock()?;
                    }
                    let target = TableCheckpoint {
                        dir: tmp.path(),
                        keep: 2,
                    };
                    t.checkpoint(tc, &target, &WorkerState::default())
                },
            )
            .map(|_| ())
        })
        .unwrap_err();
        let want = if unsent {
            "call checkpoint() right after clock()"
        } else {
            "ranks checkpoint at different clocks"
        };
        assert!(err.to_string().contains(want), "{err}");
    }
}

#[test]
fn a_checkpoint_that_cannot_be_written_is_an_error_on_every_rank() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-folder");
    std::fs::write(&blocker, b"a file where the checkpoint folder should go").unwrap();
    let errors = ThreadComm::run(2, |comm| {
        let out = param::run(
            &comm,
            tables(Consistency::Bsp),
            &ParamConfig::default(),
            |t, tc| {
                t.clock()?;
                let target = TableCheckpoint {
                    dir: &blocker,
                    keep: 2,
                };
                t.checkpoint(tc, &target, &WorkerState::default())
            },
        );
        Ok::<_, EngineError>(out.map(|_| ()).unwrap_err().to_string())
    })
    .unwrap();
    assert_eq!(errors.len(), 2);
    for e in &errors {
        assert!(e.contains("cannot create checkpoint"), "{e}");
    }
}
