//! How a test that cannot run says so, in every crate's tests: the root package's through
//! `tests/common`, sixfive-inventory's and sixfive-checks' through `#[path]`, so there is one
//! copy of it and no crate for a few lines of std.
//!
//! `tests/run` counts a test that skipped as skipped, not as passed, and names it with its
//! reason. libtest keeps a passing test's output to itself, so the record goes to a file
//! instead: one line appended to the file SIXFIVE_TEST_SKIPS names, `BINARY\tTEST\tREASON`,
//! where BINARY is the test executable's file name (as cargo's `Running` line shows it) and
//! TEST the test's name (libtest names each test's thread after it). Short appends to a file
//! opened with O_APPEND do not interleave, so tests in parallel threads and binaries share it.

use std::io::Write;

/// Records that the running test skips what it cannot do because of `reason` ("no X: why").
/// Under SIXFIVE_LAB=required (CI) a skip is a failure, so this panics instead. Also panics
/// when the record cannot be written: a skip nobody counts would pass as a pass.
pub fn skip(reason: &str) {
    if std::env::var("SIXFIVE_LAB").as_deref() == Ok("required") {
        panic!("SIXFIVE_LAB=required, and the test skips: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    let Some(file) = std::env::var_os("SIXFIVE_TEST_SKIPS") else {
        return;
    };
    let binary = std::env::current_exe()
        .ok()
        .and_then(|path| Some(path.file_name()?.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "?".into());
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    let one_line = |text: &str| text.replace(['\t', '\n', '\r'], " ");
    let line = format!(
        "{}\t{}\t{}\n",
        one_line(&binary),
        one_line(test),
        one_line(reason)
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .and_then(|mut out| out.write_all(line.as_bytes()))
        .unwrap_or_else(|e| panic!("cannot record a skip in {}: {e}", file.display()));
}

/// Why a part of the lab is not up: what `tests/run` put in `variable` when it could not
/// start it, or `otherwise` when the tests run without it.
#[allow(dead_code)]
pub fn cause(variable: &str, otherwise: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|cause| !cause.is_empty())
        .unwrap_or_else(|| otherwise.to_owned())
}
