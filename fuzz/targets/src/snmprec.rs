//! An SNMP agent answering from an snmpsim recording, the format of the sites lab's
//! `tests/lab/sites/sim/*.snmprec`: `OID|TYPE|VALUE` lines, `#` comments. It lets those
//! recordings seed the poller's fuzz target and lets the fuzzer change any value's type
//! and content. Lenient by design: a line it cannot read is left out, as an agent without
//! that OID; it is the harness, not code under test.

use std::collections::BTreeMap;
use std::ops::Bound;

use futures::future::{BoxFuture, FutureExt};
use sixfive_checks::fuzzing::Oid;
use sixfive_checks::probe::snmp::{Bindings, Snmp, SnmpError, SnmpValue};

/// A recording's values by OID, walked in OID order as an agent walks its MIB.
pub struct Recording {
    values: BTreeMap<Oid, SnmpValue>,
}

impl Recording {
    pub fn parse(text: &str) -> Recording {
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut fields = line.splitn(3, '|');
                let oid = fields.next()?.parse::<Oid>().ok()?;
                let value = value(fields.next()?, fields.next()?)?;
                Some((oid, value))
            })
            .collect();
        Recording { values }
    }
}

/// A value by snmpsim's type tag (ASN.1 BER's): `2` Integer32, `4` OCTET STRING (`4x`
/// in hex), `6` OID, `65` Counter32, `66` Gauge32, `67` TimeTicks, `70` Counter64; a
/// variation's `initial=N` stands for its first value. Anything else is an opaque value.
fn value(tag: &str, text: &str) -> Option<SnmpValue> {
    let number = || {
        text.split(',')
            .find_map(|part| part.strip_prefix("initial="))
            .unwrap_or(text)
            .trim()
    };
    let (tag, hex) = match tag.split(':').next()? {
        "4x" => ("4", true),
        tag => (tag, false),
    };
    Some(match tag {
        "2" => SnmpValue::Integer(i64::from(number().parse::<i32>().ok()?)),
        "4" if hex => SnmpValue::Text(
            (0..text.len() / 2)
                .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Option<_>>()?,
        ),
        "4" => SnmpValue::Text(text.as_bytes().to_vec()),
        "6" => SnmpValue::Oid(text.parse().ok()?),
        "65" | "66" | "70" => SnmpValue::Unsigned(number().parse().ok()?),
        "67" => SnmpValue::TimeTicks(number().parse().ok()?),
        "128" | "129" => SnmpValue::Missing,
        _ => SnmpValue::Other(text.to_owned()),
    })
}

impl Snmp for Recording {
    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Bindings, SnmpError>> {
        let rows = sixfive_checks::fuzzing::recorded_get(&self.values, oids);
        async move { Ok(rows) }.boxed()
    }

    fn walk<'a>(&'a self, roots: &'a [Oid]) -> BoxFuture<'a, Result<Vec<Bindings>, SnmpError>> {
        let columns = roots
            .iter()
            .map(|root| {
                // As GETNEXT: the rows after the root, not the root.
                self.values
                    .range((Bound::Excluded(root.clone()), Bound::Unbounded))
                    .take_while(|(oid, _)| oid.starts_with(root))
                    .map(|(oid, value)| (oid.clone(), value.clone()))
                    .collect()
            })
            .collect();
        async move { Ok(columns) }.boxed()
    }
}
