//! What the lab tests share: finding the lab, and running `sixfive` inside it.

use std::path::Path;
use std::process::Command;

/// The lab's scanner namespaces (dual stack, IPv4 only), or None (with a notice) when the
/// lab is not up. `tests/run` starts it and names the scanner in SIXFIVE_LAB_NETNS.
pub fn lab() -> Option<(String, String)> {
    match std::env::var("SIXFIVE_LAB_NETNS") {
        Ok(netns) => Some((netns.clone(), format!("{netns}4"))),
        Err(_) if std::env::var("SIXFIVE_LAB").as_deref() == Ok("required") => {
            panic!("SIXFIVE_LAB=required but the lab is not up (SIXFIVE_LAB_NETNS unset)")
        }
        Err(_) => {
            eprintln!("SKIPPED: the network lab is not up (run tests/run as root)");
            None
        }
    }
}

/// `sixfive` in `netns` on a given store and inventory; the caller adds the rest.
pub fn sixfive_in(netns: &str, db: &Path, inventory: &Path) -> Command {
    let mut command = Command::new("ip");
    command
        .args(["netns", "exec", netns, env!("CARGO_BIN_EXE_sixfive")])
        .arg("--db")
        .arg(db)
        .arg("--inventory")
        .arg(inventory);
    command
}

/// Fails unless `document` is valid against the JSON Schema `sixfive schema NAME` prints.
#[allow(dead_code)]
pub fn assert_valid(name: &str, document: &serde_json::Value) {
    let schema = sixfive_report::schema(name).expect("a known document");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        problems.is_empty(),
        "not a valid {name} document: {problems:#?}"
    );
}
