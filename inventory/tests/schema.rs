//! The JSON Schema against the loader: it refuses every bad inventory the loader tests use,
//! but for what only the loader can check, and it agrees with the loader's parsers on the
//! values that patterns describe.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Value, json};
use sixfive_inventory::schema::json_schema;
use sixfive_inventory::{LoadOptions, load, load_str};

/// Bad inventories under tests/bad/ that the schema accepts, because only the loader can
/// tell, and why.
const LOADER_ONLY: &[(&str, &str)] = &[
    (
        "duplicate-fqdn",
        "one field compared across entries and files; `uniqueItems` compares whole entries",
    ),
    (
        "duplicate-agency-id",
        "one field compared across entries and files; `uniqueItems` compares whole entries",
    ),
    (
        "unknown-agency",
        "a reference to an agency, which may be declared in another file",
    ),
    (
        "unknown-profile",
        "device profiles ship with sixfive or come from `--profiles`, which the schema cannot list",
    ),
    (
        "address-outside-scope",
        "compares a site with `scan.scope`, which may be in another file",
    ),
    (
        "bands-that-do-not-fall",
        "compares two numbers of one entry, which JSON Schema cannot",
    ),
    (
        "retention-under-a-day",
        "adds units up (`23h 59m`), which a pattern cannot",
    ),
    (
        "interval-over-a-year",
        "adds units up (`52w 2d`), which a pattern cannot",
    ),
    (
        "fraction-between-seconds",
        "whether a fraction comes to whole nanoseconds (whole seconds, for hours and longer) is arithmetic",
    ),
    (
        "unreadable-secrets",
        "whether a variable is set or a file readable is known only where sixfive runs",
    ),
    (
        "float-secret",
        "YAML tells `12.5e3` from `12500` (a literal secret may be a whole number); the JSON numbers a schema sees do not",
    ),
    ("not-yaml", "not YAML: there is no document to validate"),
    (
        "yaml-bomb",
        "past the YAML parser's budget: there is no document to validate",
    ),
];

fn options() -> LoadOptions {
    LoadOptions {
        profiles: vec!["generic".into(), "teltonika-rutx".into()],
        secrets: true,
    }
}

/// Compiled once: the patterns are long, and the properties try thousands of values.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: LazyLock<jsonschema::Validator> =
        LazyLock::new(|| jsonschema::validator_for(json_schema()).expect("the schema compiles"));
    &VALIDATOR
}

/// Every `*.yaml` file under `folder`, in name order.
fn yaml_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_schema_refuses_every_bad_inventory_the_loader_tests_use() {
    let validator = validator();
    let bad = yaml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad"));
    assert!(bad.len() >= 40, "{} bad inventories", bad.len());
    let mut wrong = Vec::new();
    for file in &bad {
        let name = file.file_stem().unwrap().to_string_lossy();
        assert!(load(file, &options()).is_err(), "the loader accepts {name}");
        let loader_only = LOADER_ONLY.iter().any(|(only, _)| *only == name);
        let text = std::fs::read_to_string(file).unwrap();
        let Ok(doc) = serde_saphyr::from_str::<Value>(&text) else {
            assert!(loader_only, "{name} is not YAML: list it in LOADER_ONLY");
            continue;
        };
        match (validator.is_valid(&doc), loader_only) {
            (true, false) => wrong.push(format!("the schema accepts {name}")),
            (false, true) => wrong.push(format!(
                "the schema refuses {name}: take it off LOADER_ONLY"
            )),
            _ => {}
        }
    }
    for (only, _) in LOADER_ONLY {
        assert!(
            bad.iter().any(|f| f.file_stem().unwrap() == *only),
            "LOADER_ONLY names {only}, which is not in tests/bad/"
        );
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_schema_accepts_the_example_city_file_by_file() {
    let validator = validator();
    let files = yaml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/danang"));
    assert!(files.len() >= 3);
    for file in files {
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let errors: Vec<_> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

/// Values at the edges of the grammars, which random ones seldom hit.
#[test]
fn the_edges_agree() {
    let validator = validator();
    for ip in [
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7::",
        "1:2:3:4:5:6::8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::8",
        "::ffff:198.18.0.1",
        "1:2:3:4:5:6:198.18.0.1",
        "1:2:3:4:5:6:7:198.18.0.1",
        "1.2.3.4::",
        "FD00:5A::101",
        "fd00::5a::1",
        "00000::1",
        "255.255.255.255",
        "256.1.1.1",
    ] {
        agree(validator, &one_site(ip)).unwrap();
        agree(validator, &scan("scope", json!([format!("{ip}/0")]))).unwrap();
    }
    for resolver in [
        "[fe80::1%2]:53",
        "[fe80::1%4294967296]:53",
        "[::1]:065535",
        "[::1]:65536",
        "[::1]",
    ] {
        agree(validator, &scan("resolvers", json!([resolver]))).unwrap();
    }
    for date in [
        "2024-02-29",
        "2100-02-29",
        "2000-02-29",
        "2026-04-31",
        "0000-02-29",
    ] {
        agree(validator, &one_host("target", date)).unwrap();
    }
}

/// Whether the loader and the schema take `doc` alike; JSON is YAML, so both read one text.
fn agree(validator: &jsonschema::Validator, doc: &Value) -> Result<(), TestCaseError> {
    let loader = load_str("case.yaml", &doc.to_string(), &options()).is_ok();
    let schema = validator.is_valid(doc);
    prop_assert_eq!(
        loader,
        schema,
        "loader {} schema {} on {}",
        loader,
        schema,
        doc
    );
    Ok(())
}

fn one_site(address: &str) -> Value {
    json!({"version": 1, "agencies": [{"id": "d", "name": "D"}], "sites": [{
        "id": "s", "name": "S", "agency": "d", "address": address,
        "snmp": {"version": "2c", "community": "x"}}]})
}

fn one_host(field: &str, value: &str) -> Value {
    let mut doc = json!({"version": 1, "agencies": [{"id": "d", "name": "D"}],
        "hosts": [{"fqdn": "a.test", "agency": "d"}]});
    doc["hosts"][0][field] = if field == "services" {
        json!([value])
    } else {
        json!(value)
    };
    doc
}

fn scan(field: &str, value: Value) -> Value {
    json!({"version": 1, "scan": {field: value}})
}

/// Something like an IPv4 address: right, or off by a part, a digit or a leading zero.
fn ipv4ish() -> impl Strategy<Value = String> {
    prop::collection::vec("(25[0-6]|2[0-9]{2}|1?[0-9]{1,2}|0[0-9])", 2..6).prop_map(|p| p.join("."))
}

/// Something like an IPv6 address: groups of zero to five hex digits, maybe an IPv4 tail.
fn ipv6ish() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[0-9a-fA-F]{0,5}", 1..10),
        prop::option::of(ipv4ish()),
    )
        .prop_map(|(groups, v4)| {
            let mut text = groups.join(":");
            if let Some(v4) = v4 {
                text = format!("{text}:{v4}");
            }
            text
        })
}

fn ipish() -> impl Strategy<Value = String> {
    prop_oneof![ipv4ish(), ipv6ish()]
}

fn nameish() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop_oneof!["[a-z0-9_-]{0,6}", "[a-z]{60,66}", "[0-9]{1,3}"],
            1..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(labels, dot)| labels.join(".") + if dot { "." } else { "" })
}

/// Durations right and wrong; fractions only where humantime's sum is exact (see the
/// fraction-between-seconds fixture for where it is not).
fn durationish() -> impl Strategy<Value = String> {
    let whole = (
        "[0-9]{1,3}",
        "( ?)",
        "(ns|nsec|us|µs|ms|msec|s|sec|secs|seconds|m|min|mins|h|hr|hours|d|days|w|wk|weeks|M|months|y|years|parsecs|S|H|)",
    )
        .prop_map(|(n, gap, unit)| format!("{n}{gap}{unit}"));
    let fraction = ("[0-9]{1,3}\\.[0-9]{0,3}", "( ?)", "(ns|us|ms|s|sec|m|min)")
        .prop_map(|(n, gap, unit)| format!("{n}{gap}{unit}"));
    let part = prop_oneof![3 => whole, 1 => fraction];
    (prop::collection::vec(part, 1..4), "( ?)").prop_map(|(parts, gap)| parts.join(&gap))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn addresses_and_prefixes_agree(ip in ipish(), len in "[0-9]{0,4}", port in "[0-9]{0,6}") {
        let validator = validator();
        agree(validator, &one_site(&ip))?;
        agree(validator, &scan("scope", json!([format!("{ip}/{len}")])))?;
        agree(validator, &scan("resolvers", json!([ip.clone()])))?;
        agree(validator, &scan("resolvers", json!([format!("[{ip}]:{port}")])))?;
        agree(validator, &scan("resolvers", json!([format!("{ip}:{port}")])))?;
    }

    #[test]
    fn names_agree(name in nameish()) {
        let validator = validator();
        agree(validator, &one_site(&name))?;
        agree(validator, &one_host("fqdn", &name))?;
    }

    #[test]
    fn durations_agree(duration in durationish()) {
        agree(validator(), &scan("timeouts", json!({"dns": duration})))?;
    }

    #[test]
    fn dates_agree(
        date in prop_oneof![
            (0u32..10_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
            "[+-]?[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}",
        ]
    ) {
        agree(validator(), &one_host("target", &date))?;
    }

    #[test]
    fn services_and_rates_agree(
        service in "(https?|smtp|ftp|tcp/[+0-9]{0,6}|tcp)",
        rate in "[0-9]{0,11} ?(/s|/m|)",
    ) {
        let validator = validator();
        agree(validator, &one_host("services", &service))?;
        agree(validator, &scan("rate", json!(rate)))?;
    }
}
