//! The stand-alone user crate of `tests/user-crate`: building it, the graph it is run on,
//! and the serial reference its results are checked against.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the stand-alone user crate of `tests/user-crate` (a program written against the
/// published API, depending on gasket-engine, gasket-datasets and gasket-partitioning by
/// path, outside this workspace) with `features`, and returns its binary. The crate is
/// copied to a fresh directory under the target directory, pinned to this workspace's
/// `Cargo.lock`, and built into a target directory of its own that later runs reuse.
pub fn build(features: &[&str]) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().expect("tests/ sits in the workspace");
    let template = manifest.join("user-crate");
    let target = workspace.join("target").join("user-crate");
    let name = if features.is_empty() {
        "plain".to_string()
    } else {
        features.join("-")
    };
    let dir = target.join(format!("src-{name}"));
    std::fs::create_dir_all(dir.join("src")).expect("creating the user crate");
    let cargo_toml = std::fs::read_to_string(template.join("Cargo.toml.in"))
        .expect("reading the user crate's manifest")
        .replace("@WORKSPACE@", &workspace.display().to_string());
    std::fs::write(dir.join("Cargo.toml"), cargo_toml).expect("writing Cargo.toml");
    std::fs::copy(template.join("src/main.rs"), dir.join("src/main.rs")).expect("copying main.rs");
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"))
        .expect("copying Cargo.lock");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target.join(format!("build-{name}")));
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd
        .output()
        .expect("running cargo build for the user crate");
    assert!(
        out.status.success(),
        "the user crate does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target
        .join(format!("build-{name}"))
        .join("debug")
        .join(format!("my-gasket-program{}", std::env::consts::EXE_SUFFIX))
}

/// Writes the test graph (two chains and a cycle with sparse ids, a reciprocal pair) as a
/// SNAP file in `dir`; returns its path and edges.
pub fn sample_graph(dir: &Path) -> (PathBuf, Vec<(u64, u64)>) {
    let mut edges: Vec<(u64, u64)> = (0..50).map(|i| (i * 7, i * 7 + 7)).collect();
    edges.extend((0..30).map(|i| (1000 + i, 1000 + (i + 1) % 30)));
    edges.extend([(5000, 17), (17, 5000), (3, 350)]);
    let text: String = edges.iter().map(|(s, d)| format!("{s}\t{d}\n")).collect();
    let path = dir.join("graph.txt");
    std::fs::write(&path, format!("# a test graph\n{text}")).expect("writing the test graph");
    (path, edges)
}

/// Serial reference of the user's program: the largest id from which each vertex can be
/// reached (itself included), by iterating to a fixpoint.
pub fn largest_reaching(edges: &[(u64, u64)]) -> BTreeMap<u64, u64> {
    let mut label: BTreeMap<u64, u64> = edges.iter().flat_map(|&(s, d)| [(s, s), (d, d)]).collect();
    loop {
        let mut changed = false;
        for &(s, d) in edges {
            if label[&s] > label[&d] {
                label.insert(d, label[&s]);
                changed = true;
            }
        }
        if !changed {
            return label;
        }
    }
}

/// Reads the `vertex<TAB>value` file the user's program saved.
pub fn read_output(path: &Path) -> BTreeMap<u64, u64> {
    std::fs::read_to_string(path)
        .expect("reading the saved results")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (v, x) = l.split_once('\t').expect("vertex<TAB>value");
            (v.parse().expect("vertex id"), x.parse().expect("value"))
        })
        .collect()
}
