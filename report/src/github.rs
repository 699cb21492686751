//! GitHub Actions workflow commands: one `::error` or `::warning` line per finding, pointing
//! at the host's line in the inventory.

use std::collections::BTreeMap;
use std::io::{self, Write};

use sixfive_inventory::Place;
use sixfive_inventory::results::Status;
use sixfive_inventory::run::HostReport;

use crate::finding::findings;

/// Writes an annotation for every failure and warning of `reports`.
pub fn write_check(
    out: &mut impl Write,
    reports: &[HostReport],
    places: &BTreeMap<String, Place>,
) -> io::Result<()> {
    for finding in findings(reports, places) {
        let kind = if finding.record.status == Status::Fail {
            "error"
        } else {
            "warning"
        };
        let place = finding.place.map_or_else(String::new, |p| {
            format!(
                " file={},line={},col={}",
                p.file.display(),
                p.line,
                p.column
            )
        });
        writeln!(
            out,
            "::{kind}{place},title={} {}::{}",
            finding.record.host,
            finding.record.check,
            annotation_text(&finding.message())
        )?;
    }
    Ok(())
}

/// GitHub's workflow commands end at a line break and treat `%` specially.
fn annotation_text(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
