//! Shared helpers of gasket's integration tests: where the real data sets are, a helper
//! that runs a body on 1, 2 and 4 thread ranks, the path of the `gasket` binary, and
//! serial loading for the verifiers.
#![warn(missing_docs)]

pub mod param_check;
pub mod user_crate;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gasket_datasets::{EdgeList, Format, read_graph};
use gasket_engine::SingleComm;

/// The rank counts every multi-rank test runs on.
pub const RANK_COUNTS: [usize; 3] = [1, 2, 4];

/// Runs `body(ranks)` for 1, 2 and 4 ranks, naming the rank count in a failure.
pub fn on_ranks(mut body: impl FnMut(usize)) {
    for ranks in RANK_COUNTS {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(ranks)));
        if let Err(panic) = outcome {
            eprintln!("failed with {ranks} rank(s)");
            std::panic::resume_unwind(panic);
        }
    }
}

/// A file of the shared real data sets: the directory named by `GASKET_DATASETS`, else
/// `../shared/datasets` next to the checkout, else the copies bundled in `datasets/data`
/// (wiki-Vote is bundled byte for byte). Panics with a clear message when absent.
pub fn shared_dataset(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = std::env::var_os("GASKET_DATASETS")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            manifest.join("../../shared/datasets"),
            manifest.join("../datasets/data"),
        ])
        .collect();
    candidates
        .iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "data set {name} is missing: looked in {candidates:?}; \
                 set GASKET_DATASETS to the directory holding it"
            )
        })
}

/// The superstep a run's `--metrics` file starts at, the same on every rank: 0 for a
/// fresh run, the checkpoint's superstep for a resumed one (a run that ignored its
/// checkpoint and started over would show 0).
pub fn first_superstep(metrics: &Path) -> u64 {
    let text = std::fs::read_to_string(metrics)
        .unwrap_or_else(|e| panic!("reading {}: {e}", metrics.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("metrics are JSON");
    let ranks = doc["per_rank_supersteps"]
        .as_array()
        .expect("per_rank_supersteps in the metrics");
    let firsts: Vec<u64> = ranks
        .iter()
        .map(|r| {
            r[0]["iteration"]
                .as_u64()
                .expect("a superstep with its number")
        })
        .collect();
    assert!(
        !firsts.is_empty() && firsts.iter().all(|&f| f == firsts[0]),
        "ranks start at different supersteps: {firsts:?}"
    );
    firsts[0]
}

/// A graph's edges as `(source, target)` pairs, for the serial verifiers.
pub fn edge_pairs(graph: &EdgeList) -> Vec<(u64, u64)> {
    graph
        .src
        .iter()
        .copied()
        .zip(graph.dst.iter().copied())
        .collect()
}

/// Reads a whole graph on one rank (for the serial verifiers).
pub fn read_whole(path: &Path, format: Format) -> EdgeList {
    read_graph(path, format, &SingleComm).expect("reading the test graph")
}

/// Builds (once per test process; cheap when nothing changed) a target of the apps crate
/// with the profile and the features this test crate runs with, so a test never runs a
/// stale binary, and returns its path under `target/<profile>/`.
fn built(kind: &str, name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{kind} {name}");
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, path)) = built.iter().find(|(k, _)| *k == key) {
        return path.clone();
    }
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps layout");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-q", "-p", "gasket-apps", kind, name]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let features: Vec<&str> = [
        (cfg!(feature = "mpi"), "mpi"),
        (cfg!(feature = "metis"), "metis"),
        (cfg!(feature = "cuda"), "cuda"),
    ]
    .into_iter()
    .filter_map(|(on, f)| on.then_some(f))
    .collect();
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let status = cmd.status().expect("running cargo build");
    assert!(status.success(), "building {kind} {name} failed");
    let dir = if kind == "--example" {
        profile_dir.join("examples")
    } else {
        profile_dir.to_path_buf()
    };
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    built.push((key, path.clone()));
    path
}

/// The `gasket` binary, built for this test run with its profile and features.
pub fn gasket_bin() -> PathBuf {
    built("--bin", "gasket")
}

/// The binary of the apps crate's example `name` (apps/examples), built for this test run.
pub fn example_bin(name: &str) -> PathBuf {
    built("--example", name)
}

/// Runs `gasket` with `args` (progress silenced) and returns its output.
pub fn gasket(args: &[&str]) -> Output {
    Command::new(gasket_bin())
        .args(args)
        .env("GASKET_LOG", "warn")
        .output()
        .expect("running gasket")
}

/// A small graph held in memory: edges with data and declared vertices.
#[derive(Debug, Clone)]
pub struct MemGraph<E> {
    /// `(source, target, data)`.
    pub edges: Vec<(u64, u64, E)>,
    /// Vertices that exist even without edges.
    pub vertices: Vec<u64>,
}

/// Runs `app` on `ranks` thread ranks over `graph` (edges dealt round-robin to the ranks,
/// as if each rank had read its part of a file) and returns every owned vertex's value,
/// sorted by id.
pub fn run_in_memory<E, T>(
    ranks: usize,
    graph: &MemGraph<E>,
    app: impl Fn(
        &dyn gasket_engine::Comm,
        &mut gasket_engine::LocalGraph<E>,
    ) -> Result<Vec<(u64, T)>, gasket_apps::AppError>
    + Sync,
) -> Vec<(u64, T)>
where
    E: gasket_engine::Wire + Clone + Send + Sync,
    T: Send,
{
    use gasket_engine::{EdgeInput, HashOwnership, build_local_graph};
    let per_rank = gasket_engine::ThreadComm::run(ranks, |comm| {
        let mut input = EdgeInput::default();
        for (i, (s, d, e)) in graph.edges.iter().enumerate() {
            if i % ranks == gasket_engine::Comm::rank(&comm) {
                input.src.push(*s);
                input.dst.push(*d);
                input.data.push(e.clone());
            }
        }
        input.vertices = graph
            .vertices
            .iter()
            .copied()
            .filter(|v| (*v as usize) % ranks == gasket_engine::Comm::rank(&comm))
            .collect();
        let mut g = build_local_graph(&comm, &HashOwnership::new(ranks), input)?;
        app(&comm, &mut g)
    })
    .expect("run on thread ranks");
    let mut all: Vec<(u64, T)> = per_rank.into_iter().flatten().collect();
    all.sort_unstable_by_key(|&(v, _)| v);
    all
}

/// The `gasket` binary built with the `mpi` feature: the MPI tests run with this crate's
/// `mpi` feature on, so [`gasket_bin`] has it.
pub fn gasket_mpi_bin() -> PathBuf {
    if !cfg!(feature = "mpi") {
        panic!("MPI tests run with `--features mpi` (the binary has this crate's features)");
    }
    gasket_bin()
}

/// Runs `mpirun -np <np> gasket <args>` (allowed as root, oversubscribed) with extra
/// environment variables. Fails the test if the job does not end within two minutes: a
/// hang is the failure this guards against, not slowness.
pub fn mpirun(np: usize, args: &[&str], env: &[(&str, &str)]) -> Output {
    mpirun_program(&gasket_mpi_bin(), np, args, env)
}

/// Runs `mpirun -np <np> <program> <args>` like [`mpirun`] does for `gasket`.
pub fn mpirun_program(program: &Path, np: usize, args: &[&str], env: &[(&str, &str)]) -> Output {
    use std::io::Read;
    let mut child = mpirun_command(program, np, args, env)
        .spawn()
        .expect("running mpirun (install openmpi-bin)");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for mpirun") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("mpirun -np {np} gasket {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// The command `mpirun -np <np> <program> <args>` (allowed as root, oversubscribed, output
/// piped, progress silenced), with extra environment variables, not yet started.
pub fn mpirun_command(program: &Path, np: usize, args: &[&str], env: &[(&str, &str)]) -> Command {
    use std::process::Stdio;
    let mut cmd = Command::new("mpirun");
    cmd.args(["--oversubscribe", "-np", &np.to_string()])
        .arg(program)
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("GASKET_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Reads a `vertex<TAB>value` output file (comment lines skipped).
pub fn read_values<T: std::str::FromStr>(path: &Path) -> Vec<(u64, T)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (v, x) = l.split_once('\t').unwrap();
            let x = x.parse().unwrap_or_else(|_| panic!("value in {l}"));
            (v.parse().unwrap(), x)
        })
        .collect()
}

/// Asserts that two `(vertex, value)` lists name the same vertices with values within `tol`.
pub fn assert_values_close(a: &[(u64, f64)], b: &[(u64, f64)], tol: f64) {
    assert_eq!(a.len(), b.len(), "vertex counts");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0);
        assert!(
            (x.1 - y.1).abs() <= tol,
            "vertex {}: {} vs {}",
            x.0,
            x.1,
            y.1
        );
    }
}

/// The arguments of `gasket pagerank` running exactly `iterations` supersteps on `input`
/// (tolerance 0), to which a test appends its own.
pub fn exact_pagerank_args<'a>(input: &'a str, iterations: &'a str) -> Vec<&'a str> {
    vec![
        "pagerank",
        "--input",
        input,
        "--tol",
        "0",
        "--iterations",
        iterations,
    ]
}
