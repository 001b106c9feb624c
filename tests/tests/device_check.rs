//! `scripts/device-check --no-gpu`: the CPU parts of the GPU machine's checks run at small
//! sizes and write their summary, so the script cannot rot between the sessions that have
//! a GPU machine; a check that fails makes the script fail.

use std::path::Path;
use std::process::{Command, Output};

fn device_check(gasket: &Path, out: &Path) -> Output {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/device-check"))
        .args(["--no-gpu", "--out", out.to_str().unwrap()])
        .env("GASKET", gasket)
        .env_remove("GASKET_MPI")
        .env_remove("OUT")
        .output()
        .expect("running scripts/device-check (bash, awk and python3)")
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_cpu_checks_run_and_summarise() {
    let dir = tempfile::tempdir().unwrap();
    let run = device_check(&gasket_tests::gasket_bin(), dir.path());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc = summary(dir.path());
    assert_eq!(doc["passed"], true, "{doc}");
    assert_eq!(doc["gpu_checks"], false);
    let status = |check: &str| -> String {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .unwrap_or_else(|| panic!("no check {check}: {doc}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let archive = Command::new("tar")
        .arg("tzf")
        .arg(dir.path().join("metrics.tar.gz"))
        .output()
        .unwrap();
    let archived = String::from_utf8_lossy(&archive.stdout);
    for ranks in [1, 2, 4] {
        assert_eq!(status(&format!("pagerank threads-{ranks}")), "ok");
        assert_eq!(status(&format!("lda threads-{ranks}")), "ok");
        for app in ["pagerank", "lda"] {
            let file = format!("metrics/{app}-threads-{ranks}.json");
            assert!(archived.contains(&file), "{file} not in {archived}");
        }
    }
    assert_eq!(status("graph"), "ok");
    let mlp = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"].as_str().unwrap().starts_with("mlp cpu"))
        .expect("an mlp check");
    assert_eq!(mlp["status"], "ok", "{mlp}");
    assert!(
        mlp["detail"].as_str().unwrap().contains("samples/s"),
        "{mlp}"
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.contains("| pagerank threads-4 | ok |"), "{md}");
    assert!(md.contains("0 failed of"), "{md}");
}

#[test]
fn a_failing_check_fails_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let run = device_check(Path::new("/bin/false"), dir.path());
    assert_eq!(run.status.code(), Some(1));
    let doc = summary(dir.path());
    assert_eq!(doc["passed"], false, "{doc}");
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("| binary | FAILED |"),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
}
