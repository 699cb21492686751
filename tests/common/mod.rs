//! What the lab tests share: finding the lab, and running `sixfive` inside it.

pub mod skip;

use std::path::{Path, PathBuf};
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

/// The sites lab's folder (tests/lab/sites): its inventory and secret files.
#[allow(dead_code)]
pub fn sites_lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/sites")
}

/// The secrets the sites lab's routers use (and refuse), as their files hold them: each
/// unlike any other text, so finding one in an output means it leaked.
#[allow(dead_code)]
pub fn sites_secrets() -> Vec<String> {
    ["community", "auth", "priv", "wrong-community", "wrong-priv"]
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(sites_lab().join("secrets").join(file)).unwrap();
            text.trim().to_owned()
        })
        .collect()
}

/// A city of both labs in `dir`: the sites lab's sites, and two hosts of the network lab
/// (one ready, one BROKEN) scanned through its resolver; its secret files beside it, the
/// owner's alone. Returns the inventory's path.
#[allow(dead_code)]
pub fn lab_city(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let text = std::fs::read_to_string(sites_lab().join("inventory.yaml")).unwrap();
    let scan = "scan:\n  timeouts: { snmp: 1s }\n  scope: [fd00:5c::/64, 198.18.92.0/24]\n";
    assert!(text.contains(scan));
    let city = text.replace(
        scan,
        "scan:\n  timeouts: { snmp: 1s, dns: 2s, connect: 2s, http: 4s, smtp: 4s }\n  \
         scope: [fd00::/8, 198.18.0.0/15]\n  resolvers: [\"[fd00:53::153]:53\"]\n  \
         ca_file: /tmp/sixfive-lab/ca.pem\n",
    ) + "hosts:\n  - { fqdn: ready.lab.test, agency: lab, internal: true, services: [https, http] }\n  \
         - { fqdn: noservice6.lab.test, agency: lab, internal: true, services: [https, http] }\n";
    // Secret files are read relative to the inventory.
    std::fs::create_dir(dir.join("secrets")).unwrap();
    for entry in std::fs::read_dir(sites_lab().join("secrets")).unwrap() {
        let copy = dir.join("secrets").join(entry.unwrap().file_name());
        std::fs::copy(
            sites_lab().join("secrets").join(copy.file_name().unwrap()),
            &copy,
        )
        .unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let inventory = dir.join("city.yaml");
    std::fs::write(&inventory, city).unwrap();
    inventory
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
