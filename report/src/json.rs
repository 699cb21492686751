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

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> CheckHead {
        serde_json::from_value(serde_json::json!({
            "schema": "sixfive.check/v1",
            "started": "2026-12-03T00:00:00Z",
            "finished": "2026-12-03T00:00:01Z",
            "require": "L2",
            "scanner": { "ipv6": { "state": "ready" } },
            "summary": { "hosts": 0, "ready": 0, "broken": 0, "by_level": {} },
        }))
        .expect("a head")
    }

    fn document(hosts: &[&str]) -> serde_json::Value {
        let mut out = Vec::new();
        let texts = hosts.iter().map(|h| Ok(format!("{{\"fqdn\":\"{h}\"}}")));
        write_check(&mut out, &head(), texts).unwrap();
        serde_json::from_slice(&out).expect("the document parses")
    }

    #[test]
    fn each_host_appears_once_in_order_whatever_the_count() {
        for hosts in [&[][..], &["a"], &["a", "b"], &["a", "b", "c"]] {
            let document = document(hosts);
            let names: Vec<&str> = document["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["fqdn"].as_str().unwrap())
                .collect();
            assert_eq!(names, hosts);
            assert_eq!(document["schema"], "sixfive.check/v1");
        }
    }

    #[test]
    fn a_host_that_cannot_be_read_ends_the_document_with_its_error() {
        let mut out = Vec::new();
        let texts = [
            Ok(b"{}".to_vec()),
            Err(io::Error::other("the disk")),
            Ok(b"{}".to_vec()),
        ];
        let error = write_check(&mut out, &head(), texts.into_iter()).unwrap_err();
        assert_eq!(error.to_string(), "the disk");
        assert!(!String::from_utf8(out).unwrap().contains("]}"));
    }
}
