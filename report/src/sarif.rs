//! SARIF 2.1.0 for code-scanning tools: each finding points at its host's line in the
//! inventory.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use sixfive_inventory::Place;
use sixfive_inventory::results::Status;
use sixfive_inventory::run::HostReport;

use crate::finding::findings;

/// Writes the SARIF log of `reports`.
pub fn write_check(
    out: &mut impl Write,
    reports: &[HostReport],
    places: &BTreeMap<String, Place>,
) -> io::Result<()> {
    let document = check(reports, places);
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&document).expect("JSON values serialise")
    )
}

/// SARIF 2.1.0, written directly: the handful of fields code-scanning tools read.
fn check(reports: &[HostReport], places: &BTreeMap<String, Place>) -> Value {
    let findings = findings(reports, places);
    let mut rules: Vec<&str> = findings.iter().map(|f| f.record.check.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let locations: Vec<Value> = f
                .place
                .map(|p| {
                    json!({"physicalLocation": {
                        "artifactLocation": {"uri": p.file.display().to_string()},
                        "region": {"startLine": p.line, "startColumn": p.column}}})
                })
                .into_iter()
                .collect();
            json!({
                "ruleId": f.record.check,
                "level": if f.record.status == Status::Fail { "error" } else { "warning" },
                "message": {"text": f.message()},
                "locations": locations,
                "properties": {"host": f.record.host, "address": f.record.address, "port": f.record.port},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sixfive",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|id| json!({"id": id, "shortDescription": {"text": id}})).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
