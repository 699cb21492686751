//! sixfive's fuzz targets: one function per parser that sixfive writes itself, taking
//! any bytes. The property of each is that it never panics, hangs or runs out of memory,
//! whatever it is given, and that what it gives back holds what its callers rely on (an
//! error names its place, a decoded body stays under its cap, a password stays out of
//! messages). cargo-fuzz runs them under libFuzzer (`fuzz/fuzz_targets/`, nightly); this
//! crate's tests run them on stable, on their seed corpora and on mutations of them
//! (`tests/targets.rs`). See `fuzz/README.md`.
//!
//! Text parsers take the bytes as UTF-8 with bad sequences replaced, since the files and
//! fields they read are text before they reach sixfive's code.

mod snmprec;

use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use sixfive_checks::fuzzing;
use sixfive_checks::probe::http::{self, Target};
use sixfive_checks::probe::snmp::{MAX_VALUE_BYTES, MAX_WALK_BYTES, MAX_WALK_ROWS, SnmpValue};
use sixfive_checks::readiness::http::location_key;
use sixfive_checks::sites::profiles::{self, Profile};
use sixfive_inventory::{LoadOptions, StoreUrl, load_str};
use sixfive_tui::Config;
use sixfive_tui::fuzzing::{Key, Query};

/// The profiles compiled in, read once: an inventory's sites name them, and the site
/// poller reads routers through each.
fn shipped() -> &'static [Profile] {
    static SHIPPED: OnceLock<Vec<Profile>> = OnceLock::new();
    SHIPPED.get_or_init(profiles::shipped)
}

/// An inventory file, as `sixfive` loads one (YAML through serde-saphyr, then validation):
/// an invalid one is an error whose problems each name a line and column in the text.
pub fn inventory(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let options = LoadOptions {
        profiles: shipped().iter().map(|p| p.name.clone()).collect(),
        secrets: false,
    };
    if let Err(error) = load_str("fuzz.yaml", &text, &options) {
        assert!(error.errors().next().is_some(), "refused without an error");
        for problem in &error.problems {
            assert!(problem.line >= 1 && problem.column >= 1, "{problem:?}");
        }
        let _ = error.to_string();
    }
}

/// A device profile file: an invalid one names its line and column; a valid one has
/// divisors a reading can be divided by.
pub fn profile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match profiles::parse(Path::new("fuzz.yaml"), &text) {
        Ok(profile) => {
            for spec in profile.metrics.values() {
                assert!(spec.divisor.is_finite() && spec.divisor > 0.0);
            }
        }
        Err(error) => assert!(error.line >= 1 && error.column >= 1, "{error:?}"),
    }
}

/// A TUI filter query: the text a parsed query keeps (and shows) parses to the same query.
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match Query::parse(&text) {
        Ok(query) => assert_eq!(Query::parse(query.text()).as_ref(), Ok(&query)),
        Err(error) => assert!(!error.0.is_empty()),
    }
}

/// A key name of the TUI's bindings (`ctrl+d`, `gg`, `f12`).
pub fn key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = Key::parse(&text) {
        assert!(!error.is_empty());
    }
}

/// The TUI's config file (TOML): an error's line, when it has one, is a line of the file.
pub fn tui_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = Config::parse(Path::new("tui.toml"), &text)
        && let Some(line) = error.line
    {
        assert!(
            line >= 1 && line <= text.lines().count().max(1),
            "{error:?}"
        );
    }
}

/// A store URL (`--db`): a file, sqlite:// or postgres://. A password written in the URL
/// is in neither the store's name as printed nor an error message.
pub fn store_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let shown = match StoreUrl::from_str(&text) {
        Ok(url) => url.to_string(),
        Err(error) => error.to_string(),
    };
    if let Some(password) = telling_password(&text) {
        assert!(!shown.contains(password), "{password} in {shown}");
    }
}

/// The password of a postgres URL when only it could bring that text into a message: long,
/// alphanumeric, written once, in a URL without percent-encoding.
fn telling_password(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("postgres://")
        .or_else(|| text.strip_prefix("postgresql://"))?;
    let userinfo = rest.split(['/', '?', '#']).next()?.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    let telling = password.len() >= 6
        && password.chars().all(|c| c.is_ascii_alphanumeric())
        && text.matches(password).count() == 1
        && !text.contains('%');
    telling.then_some(password)
}

/// An SMTP server's greeting or answer to EHLO: a reply read is no longer than what came,
/// and the banner kept from it is its first line.
pub fn smtp_reply(data: &[u8]) {
    if let Ok(reply) = fuzzing::smtp_reply(data) {
        assert!(reply.len() <= data.len());
        assert_eq!(reply.trim_end(), reply);
    }
}

/// Content-Encodings sixfive decodes, alone and stacked, and ones it leaves alone.
const ENCODINGS: [&str; 8] = [
    "gzip",
    "deflate",
    "br",
    "x-gzip",
    "gzip, br",
    "deflate, gzip",
    "identity",
    "zstd",
];

/// An HTTP body as it came off the wire: the first byte picks its Content-Encoding, the
/// second whether it was cut at the size cap. Decoded, it stays under the cap; compared
/// with itself and with its wire bytes, its distance is between 0 and 1.
pub fn http_body(data: &[u8]) {
    let [coding, cut, wire @ ..] = data else {
        return;
    };
    let encoding = ENCODINGS[usize::from(*coding) % ENCODINGS.len()];
    if let Ok((body, _)) = http::decode(Some(encoding), wire.to_vec(), cut & 1 == 1) {
        assert!(body.len() <= http::MAX_BODY);
        assert_eq!(http::body_distance(&body, &body), 0.0);
        let distance = http::body_distance(&body, wire);
        assert!((0.0..=1.0).contains(&distance), "{distance}");
    }
}

/// A redirect's Location header, followed from a page over HTTPS (first byte odd) or
/// HTTP: where it leads is a web URL with a host and a path, and its comparison key is
/// made whatever it says.
pub fn redirect(data: &[u8]) {
    let [scheme, location @ ..] = data else {
        return;
    };
    let location = String::from_utf8_lossy(location);
    let tls = scheme & 1 == 1;
    let from = Target {
        address: "fd00:1::17".parse().expect("an address"),
        port: if tls { 443 } else { 80 },
        tls,
        host: "portal.danang.test".into(),
        path: "/dich-vu/index.html?lang=vi".into(),
    };
    if let Some(next) = fuzzing::redirect_target(&from, &location) {
        assert!(!next.host.is_empty(), "{next:?}");
        assert!(next.path.starts_with('/'), "{next:?}");
        assert_eq!(next.address, from.address);
    }
    let _ = location_key(&location);
}

/// A router's answers, written as an snmpsim recording (`OID|TYPE|VALUE` lines, as the
/// sites lab's `.snmprec` files), read by the site poller through every shipped profile.
pub fn snmp_readings(data: &[u8]) {
    let agent = snmprec::Recording::parse(&String::from_utf8_lossy(data));
    for profile in shipped() {
        let _ = fuzzing::site_readings(&agent, profile);
    }
}

/// An SNMP walk's GETBULK answers as an agent may send them, folded as the site poller
/// folds them over three columns of ifTable: bindings under a column's root or past it, in
/// or out of order, of any type and length. Each answer is a count byte (of 16), then per
/// binding: where its OID is (below 192: under column `byte % 3`, else past the table),
/// the row's index arc (two bytes), a repeat byte (the binding stands for that many more
/// rows at the next indexes, so a short input reaches the walk's budgets), a type byte (of
/// 6: Integer32, OCTET STRING, Counter64, OID, endOfMibView, noSuchInstance), a length (two
/// bytes) and that many bytes of value. What the walk keeps is under each root, strictly
/// increasing, and within its row, byte and value budgets.
pub fn snmp_walk(data: &[u8]) {
    let roots = walk_roots();
    match fuzzing::snmp_walk(&roots, walk_answers(data)) {
        Ok(columns) => {
            let rows: usize = columns.iter().map(Vec::len).sum();
            assert!(rows < MAX_WALK_ROWS, "{rows} rows kept");
            let mut kept = 0;
            for (root, rows) in roots.iter().zip(&columns) {
                let mut previous = root;
                for (oid, value) in rows {
                    assert!(
                        oid.starts_with(root) && oid > previous,
                        "{oid} after {previous}"
                    );
                    previous = oid;
                    if let SnmpValue::Text(text) = value {
                        assert!(text.len() <= MAX_VALUE_BYTES, "{} bytes kept", text.len());
                        kept += text.len();
                    }
                }
            }
            assert!(kept <= MAX_WALK_BYTES, "{kept} bytes of values kept");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}

/// The three ifTable columns [`snmp_walk`] walks: ifDescr, ifOperStatus, ifInOctets.
pub fn walk_roots() -> [fuzzing::Oid; 3] {
    let column = |c: u32| fuzzing::Oid::new([1, 3, 6, 1, 2, 1, 2, 2, 1, c]);
    [column(2), column(8), column(10)]
}

/// [`snmp_walk`]'s input read as the GETBULK answers it stands for.
pub fn walk_answers(data: &[u8]) -> Vec<Vec<fuzzing::VarBind>> {
    use fuzzing::{Oid, Value, VarBind};
    let roots = walk_roots();
    let mut bytes = data.iter().copied();
    let mut answers = Vec::new();
    while let Some(count) = bytes.next() {
        let mut answer = Vec::new();
        for _ in 0..count % 16 {
            let mut field = [0u8; 7];
            if field
                .iter_mut()
                .any(|b| bytes.next().map(|next| *b = next).is_none())
            {
                break;
            }
            let [place, high, low, repeat, kind, long, short] = field;
            let index = u32::from(u16::from_be_bytes([high, low]));
            let len = usize::from(u16::from_be_bytes([long, short]));
            let value: Vec<u8> = bytes.by_ref().take(len).collect();
            let number = value
                .iter()
                .fold(0u64, |n, b| n.rotate_left(8) ^ u64::from(*b));
            let value = match kind % 6 {
                0 => Value::Integer(number as i32),
                1 => fuzzing::octets(&value),
                2 => Value::Counter64(number),
                3 => Value::ObjectIdentifier(Oid::new(value.iter().map(|b| u32::from(*b)))),
                4 => Value::EndOfMibView,
                _ => Value::NoSuchInstance,
            };
            for row in index..=index + u32::from(repeat) {
                let oid = if place < 192 {
                    let root = &roots[usize::from(place % 3)];
                    Oid::new(root.arcs().iter().copied().chain([row]))
                } else {
                    Oid::new([1, 3, 6, 1, 2, 1, 3, row])
                };
                answer.push(VarBind::new(oid, value.clone()));
            }
        }
        answers.push(answer);
    }
    answers
}
