//! tests/run's closing lines (`tests/summary`): a test that skipped counts as skipped, never
//! as passed, and is named with its reason; and what `skip` records is what the summary
//! matches against cargo's output.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/skip.rs"]
mod skip;

fn summary(log: &Path, skips: Option<&Path>) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/summary");
    let mut command = Command::new(script);
    command.arg(log);
    if let Some(skips) = skips {
        command.arg(skips);
    }
    let out = command.output().expect("tests/summary runs");
    assert!(
        out.status.success(),
        "tests/summary failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// cargo test's output for three binaries and the doc-tests: 9 tests pass, 1 fails.
const LOG: &str = "\
   Compiling sixfive v0.1.0 (/work/sixfive)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1m 02s
     Running unittests src/lib.rs (/var/tmp/target/debug/deps/sixfive_checks-0a1b2c3d4e5f6789)

running 3 tests
test probe::icmp::tests::parses ... ok
test probe::snmp::tests::walks ... ok
test probe::tcp::tests::slow ... ignored, needs a network

test result: ok. 2 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running tests/lab.rs (/var/tmp/target/debug/deps/lab-89abcdef01234567)

running 4 tests
test ready_host ... ok
test v4only_host ... ok
test pmtu_black_hole ... ok
test broken_host ... FAILED

failures:

---- broken_host stdout ----
thread 'broken_host' panicked at tests/lab.rs:10:5:
boom

failures:
    broken_host

test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.02s

     Running tests/store.rs (/var/tmp/target/debug/deps/store-fedcba9876543210)

running 3 tests
test ready_host ... ok
test import_is_atomic ... ok
test history_of_a_host ... ok

test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s

   Doc-tests sixfive_inventory

running 1 test
test inventory/src/lib.rs - (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

";

#[test]
fn the_closing_line_counts_skips_apart_from_passes() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "log", LOG);
    // As the tests append them: in any order, a test that skipped twice twice, one that
    // skipped and then failed, and a name that passed unskipped in another binary.
    let skips = write(
        dir.path(),
        "skips",
        "lab-89abcdef01234567\tv4only_host\tno network lab: tests/run is not root\n\
         store-fedcba9876543210\timport_is_atomic\tno PostgreSQL, ran on SQLite alone: none installed\n\
         lab-89abcdef01234567\tready_host\tno network lab: tests/run is not root\n\
         lab-89abcdef01234567\tv4only_host\tno network lab: tests/run is not root\n\
         lab-89abcdef01234567\tbroken_host\tno network lab: tests/run is not root\n",
    );
    assert_eq!(
        summary(&log, Some(&skips)),
        "tests: 6 passed, 1 failed, 3 skipped\n\
         skipped (1): no PostgreSQL, ran on SQLite alone: none installed\n  \
           store: import_is_atomic\n\
         skipped (2): no network lab: tests/run is not root\n  \
           lab: ready_host, v4only_host\n"
    );
}

#[test]
fn without_skips_every_test_that_passed_counts_as_passed() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "log", LOG);
    let empty = write(dir.path(), "skips", "");
    let expected = "tests: 9 passed, 1 failed, 0 skipped\n";
    assert_eq!(summary(&log, Some(&empty)), expected);
    assert_eq!(summary(&log, None), expected);
    assert_eq!(summary(&log, Some(&dir.path().join("none"))), expected);
}

#[test]
fn a_long_list_of_skipped_tests_is_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::from("     Running tests/lab.rs (/t/debug/deps/lab-0123)\n");
    let mut skips = String::new();
    for i in 0..12 {
        log += &format!("test a_rather_long_test_name_{i:02} ... ok\n");
        skips += &format!("lab-0123\ta_rather_long_test_name_{i:02}\tno network lab: why\n");
    }
    log += "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
    let out = summary(
        &write(dir.path(), "log", &log),
        Some(&write(dir.path(), "skips", &skips)),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "tests: 0 passed, 0 failed, 12 skipped");
    assert_eq!(lines[1], "skipped (12): no network lab: why");
    assert!(lines.len() > 3, "{out}");
    assert!(lines.iter().all(|line| line.len() <= 100), "{out}");
    for i in 0..12 {
        assert!(
            out.contains(&format!("a_rather_long_test_name_{i:02}")),
            "{out}"
        );
    }
}

/// Skips when the test below runs it (ignored otherwise: alone it would pass doing nothing).
#[test]
#[ignore = "run by a_recorded_skip_matches_cargo_output"]
fn skips_when_asked() {
    if std::env::var_os("SIXFIVE_SUMMARY_SKIP").is_some() {
        skip::skip("asked to skip: by its own test");
    }
}

/// This binary run as cargo runs it, its test skipping: the record names the binary and
/// the test as cargo's and libtest's output do, so the summary counts it as skipped.
#[test]
fn a_recorded_skip_matches_cargo_output() {
    let dir = tempfile::tempdir().unwrap();
    let skips = dir.path().join("skips");
    let exe = std::env::current_exe().unwrap();
    let run = |required: bool| {
        let mut command = Command::new(&exe);
        command
            .args([
                "--exact",
                "skips_when_asked",
                "--ignored",
                "--test-threads",
                "2",
            ])
            .env("SIXFIVE_SUMMARY_SKIP", "1")
            .env("SIXFIVE_TEST_SKIPS", &skips)
            .env_remove("SIXFIVE_LAB");
        if required {
            command.env("SIXFIVE_LAB", "required");
        }
        command.output().unwrap()
    };

    let out = run(false);
    assert!(out.status.success(), "{out:?}");
    let log = format!(
        "     Running tests/summary.rs ({})\n{}",
        exe.display(),
        String::from_utf8(out.stdout).unwrap()
    );
    assert_eq!(
        summary(&write(dir.path(), "log", &log), Some(&skips)),
        "tests: 0 passed, 0 failed, 1 skipped\n\
         skipped (1): asked to skip: by its own test\n  \
           summary: skips_when_asked\n"
    );

    // Under SIXFIVE_LAB=required a skip fails the test, and records nothing.
    std::fs::remove_file(&skips).unwrap();
    let out = run(true);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("SIXFIVE_LAB=required, and the test skips"),
        "{out:?}"
    );
    assert!(!skips.exists());
}
