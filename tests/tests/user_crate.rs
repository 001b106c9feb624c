//! A program written in a crate of its own, outside this workspace, against the published
//! API only (tests/user-crate: max-label propagation through the launcher, reading a SNAP
//! file, LDG placement): it builds, runs on 2 thread ranks, its saved results equal a
//! serial fixpoint, and its errors reach the user with file, line and exit code 2. (The
//! MPI test runs the same crate under `mpirun -np 4`.)

use std::process::Command;

use gasket_tests::user_crate::{build, largest_reaching, read_output, sample_graph};

#[test]
fn a_user_crate_runs_its_own_program_on_two_thread_ranks() {
    let bin = build(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (graph, edges) = sample_graph(dir.path());
    let output = dir.path().join("out.tsv");
    let run_on = |ranks: &str| {
        Command::new(&bin)
            .arg(&graph)
            .arg(&output)
            .env("GASKET_RANKS", ranks)
            .output()
            .unwrap()
    };

    let run = run_on("2");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("on 2 ranks"));
    assert_eq!(read_output(&output), largest_reaching(&edges));

    // Bad input reaches the user's main as an error with the file and line: exit code 2.
    std::fs::write(&graph, "1 2\n3 x\n").unwrap();
    let run = run_on("2");
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("graph.txt:2"), "{stderr}");

    // So does a bad rank count.
    let run = run_on("zero");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("GASKET_RANKS"));
}
