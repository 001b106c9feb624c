//! The complete example programs of apps/examples (BFS, k-core, label propagation,
//! triangle counting, ALS), each written against the public API: on 1 and 4 thread ranks each one
//! runs and reports that its result equals its serial verifier (an example exits 1 when
//! it does not).

use std::process::{Command, Output};

use gasket_datasets::generate::{RatingsConfig, write_ratings};
use gasket_tests::{example_bin, shared_dataset};

fn run_example(name: &str, args: &[&std::ffi::OsStr], ranks: usize) -> String {
    let out: Output = Command::new(example_bin(name))
        .args(args)
        .env("GASKET_RANKS", ranks.to_string())
        .output()
        .expect("running the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} on {ranks} rank(s) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("on {ranks} rank(s)")), "{stdout}");
    stdout
}

#[test]
fn graph_examples_match_their_verifiers_on_wiki_vote() {
    let wiki_vote = shared_dataset("wiki-Vote.txt.gz");
    for ranks in [1, 4] {
        let args = [wiki_vote.as_os_str()];
        let out = run_example("kcore", &args, ranks);
        assert!(out.contains("degeneracy 53"), "{out}");
        assert!(
            out.contains("every coreness matches the serial verifier"),
            "{out}"
        );

        let out = run_example("triangles", &args, ranks);
        assert!(out.contains("608389 triangles"), "{out}");
        assert!(
            out.contains("every vertex's count matches the serial verifier"),
            "{out}"
        );

        let out = run_example("labelprop", &args, ranks);
        assert!(
            out.contains("every label matches the serial verifier"),
            "{out}"
        );
    }
}

#[test]
fn bfs_example_pushes_and_pulls_and_matches_its_verifier() {
    let wiki_vote = shared_dataset("wiki-Vote.txt.gz");
    for ranks in [1, 2, 4] {
        // Vertex 30 reaches most of the graph in a few supersteps: its frontier's edges
        // pass |E|/20 in the middle ones.
        let out = run_example("bfs", &[wiki_vote.as_os_str(), "30".as_ref()], ranks);
        assert!(
            out.contains("every hop count matches the serial verifier"),
            "{out}"
        );
        assert!(
            out.contains(", push\n") && out.contains(", pull\n"),
            "{out}"
        );
    }
}

#[test]
fn als_example_matches_its_verifier_and_beats_the_mean() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = dir.path().join("ratings.txt");
    write_ratings(&RatingsConfig::default(), &ratings).unwrap();
    for ranks in [1, 4] {
        let out = run_example("als", &[ratings.as_os_str()], ranks);
        assert!(
            out.contains("matches the serial verifier and beats the baseline"),
            "{out}"
        );
    }
}
