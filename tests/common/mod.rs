//! What the lab tests share: finding the lab, and running `sixfive` inside it.

pub mod skip;

use std::path::Path;
use std::process::Command;

/// The lab's scanner namespaces (dual stack, IPv4 only), or None (the test skips, see
/// [`skip::skip`]) when the lab is not up. `tests/run` starts it and names the scanner in
/// SIXFIVE_LAB_NETNS, or says in SIXFIVE_LAB_SKIP_REASON why it could not. (Not every
/// test binary that shares this module uses the lab: tests/tui.rs does not.)
#[allow(dead_code)]
pub fn lab() -> Option<(String, String)> {
    match std::env::var("SIXFIVE_LAB_NETNS") {
        Ok(netns) => Some((netns.clone(), format!("{netns}4"))),
        Err(_) => {
            skip::skip(&format!(
                "no network lab: {}",
                skip::cause(
                    "SIXFIVE_LAB_SKIP_REASON",
                    "SIXFIVE_LAB_NETNS is unset (tests/run starts the lab as root)"
                )
            ));
            None
        }
    }
}

/// `sixfive` in `netns` on a given store and inventory; the caller adds the rest.
#[allow(dead_code)]
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
