//! The documents as JSON. A check document is streamed: its head,
//! then one host a line, so a large city is never built whole in memory.

use std::io::{self, Write};

use crate::document::CheckHead;

/// Writes a `sixfive.check/v1` document of `head` and `hosts` (each host's JSON, in order).
pub fn write_check(
    out: &mut impl Write,
    head: &CheckHead,
    hosts: &[(String, String)],
) -> io::Result<()> {
    let head = serde_json::to_string(head).expect("the document serialises");
    let open = head.strip_suffix('}').expect("a JSON object ends with }");
    writeln!(out, "{open},")?;
    writeln!(out, "\"hosts\": [")?;
    for (i, (_, host)) in hosts.iter().enumerate() {
        let comma = if i + 1 < hosts.len() { "," } else { "" };
        writeln!(out, "{host}{comma}")?;
    }
    writeln!(out, "]}}")
}

/// Writes a document (`sixfive.sites/v1`, `sixfive.scan/v1`) on one line.
pub fn write_line(out: &mut impl Write, document: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, document).map_err(io::Error::from)?;
    writeln!(out)
}
