//! Runs the parameter-table checks of `gasket_tests::param_check` on the ranks this
//! process is given (MPI ranks under `mpirun`, else `GASKET_RANKS` thread ranks) and exits
//! non-zero naming what failed. The MPI tests run it with `mpirun -np 2` and `-np 4`.

use std::time::Duration;

use gasket_engine::param::Consistency;
use gasket_engine::{EngineError, Launcher, launch};
use gasket_tests::param_check::{bsp_rows, bsp_serial, lost_updates, read_rule};

fn main() {
    let backend = match Launcher::from_env() {
        Ok(l) => l.backend(),
        Err(e) => gasket_engine::fail(&e),
    };
    let outcome = launch(backend, |comm| -> Result<Vec<String>, EngineError> {
        let mut failures = Vec::new();
        let lag = Duration::from_millis(3);
        for (consistency, check) in [
            (Consistency::Bsp, None),
            (Consistency::Ssp(0), Some(0)),
            (Consistency::Ssp(2), Some(2)),
        ] {
            for eager in [false, true] {
                let run = read_rule(comm, consistency, eager, check, 12, lag)?;
                failures.extend(
                    run.violations
                        .into_iter()
                        .map(|v| format!("{consistency} eager={eager}: {v}")),
                );
            }
        }
        for consistency in [Consistency::Bsp, Consistency::Ssp(1), Consistency::Async] {
            if let Some(wrong) = lost_updates(comm, consistency, false, 8, 3)? {
                failures.extend(
                    wrong
                        .into_iter()
                        .map(|w| format!("lost update under {consistency}: {w}")),
                );
            }
        }
        if let Some(rows) = bsp_rows(comm, 6)? {
            if rows != bsp_serial(comm.size(), 6) {
                failures.push("BSP rows differ from the serial simulation".into());
            }
        }
        Ok(failures)
    });
    match outcome {
        Ok(per_rank) => {
            let failures: Vec<String> = per_rank.into_iter().flatten().collect();
            if failures.is_empty() {
                println!("parameter table checks passed");
            } else {
                for f in &failures {
                    eprintln!("{f}");
                }
                std::process::exit(1);
            }
        }
        Err(e) => gasket_engine::fail(&e),
    }
}
