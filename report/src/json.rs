//! The documents as JSON. A check document is streamed: its head,
//! then one host a line, so a large city is never built whole in memory.

use std::io::{self, Write};

use crate::document::CheckHead;

/// Writes a `sixfive.check/v1` document of `head` and `hosts` (each host's JSON, in order;
/// the first error reading one ends the document there).
pub fn write_check(
    out: &mut impl Write,
    head: &CheckHead,
    hosts: impl ExactSizeIterator<Item = io::Result<impl AsRef<[u8]>>>,
) -> io::Result<()> {
    let head = serde_json::to_string(head).expect("the document serialises");
    let open = head.strip_suffix('}').expect("a JSON object ends with }");
    writeln!(out, "{open},")?;
    writeln!(out, "\"hosts\": [")?;
    let count = hosts.len();
    for (i, host) in hosts.enumerate() {
        out.write_all(host?.as_ref())?;
        out.write_all(if i + 1 < count { b",\n" } else { b"\n" })?;
    }
    writeln!(out, "]}}")
}

/// Writes a document (`sixfive.sites/v1`, `sixfive.scan/v1`) on one line.
pub fn write_line(out: &mut impl Write, document: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, document).map_err(io::Error::from)?;
    writeln!(out)
}
