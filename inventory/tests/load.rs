//! The loader against good and bad inventories: every problem is reported, at its place.

use std::path::{Path, PathBuf};

use sixfive_inventory::model::{Endpoint, Level, Service, Stage};
use sixfive_inventory::{InventoryError, LoadError, LoadOptions, Severity, load, load_str};

fn options() -> LoadOptions {
    LoadOptions {
        profiles: vec!["generic".into(), "teltonika-rutx".into()],
        secrets: true,
    }
}

const GOOD: &str = r#"version: 1
scan:
  resolvers: ["[fd00:53::53]:53", "198.18.0.53"]
  timeouts: { dns: 3s, connect: 1500ms }
  concurrency: 64
  rate: 200/s
  scope: [fd00::/8, 198.18.0.0/15]
  require: L3
agencies:
  - id: dict
    name: Department of Information and Communications
    name_vi: Sở Thông tin và Truyền thông
    target: 2026-12-31
hosts:
  - fqdn: dichvucong.danang.test
    agency: dict
    services: [https, http, smtp, tcp/8443]
    stage: dual-stack
    tags: [public]
  - fqdn: legacy.danang.test
    agency: dict
    stage: exempt
    exempt_reason: vendor appliance, replaced in 2027
sites:
  - id: hai-chau-01
    name: Hai Chau ward office
    agency: dict
    ward: Hải Châu
    location: { lat: 16.0678, lon: 108.2208 }
    address: [fd00:5a::101, 198.18.5.101]
    profile: teltonika-rutx
    snmp:
      version: 2c
      community_file: COMMUNITY_FILE
"#;

/// `tests/bad/NAME.yaml`: an inventory the loader must reject. Every bad inventory these
/// tests use is such a file, so the schema test (tests/schema.rs) sees each of them too.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/bad/{name}.yaml"))
}

/// The problems of the bad inventory `name`.
fn errors_in(name: &str) -> InventoryError {
    match load(&fixture(name), &options()) {
        Err(LoadError::Invalid(error)) => error,
        other => panic!("{name} should be rejected, got {other:?}"),
    }
}

/// The single error of `tests/bad/NAME.yaml`: its `line:column`, message and hint.
fn only_error(name: &str) -> (u64, u64, String, Option<String>) {
    let error = errors_in(name);
    let errors: Vec<_> = error.errors().collect();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    let p = errors[0];
    (p.line, p.column, p.message.clone(), p.hint.clone())
}

#[test]
fn a_good_inventory_loads_with_every_field() {
    // A file, not an environment variable: setting one races with the other tests' reads.
    let dir = tempfile::tempdir().unwrap();
    let community = secret_file(dir.path(), 0o600);
    let text = GOOD.replace("COMMUNITY_FILE", &community.display().to_string());
    let loaded = load_str("city.yaml", &text, &options()).unwrap();
    let inv = loaded.inventory;
    assert_eq!(inv.scan.concurrency, 64);
    assert_eq!(inv.scan.per_host, 2, "defaults fill what is not written");
    assert_eq!(inv.scan.resolvers[1].0.port(), 53);
    assert_eq!(inv.scan.timeouts.connect.0.as_millis(), 1500);
    assert_eq!(inv.scan.timeouts.http.0.as_secs(), 10);
    assert_eq!(inv.scan.require, Level::L3);
    assert_eq!(
        inv.agencies[0].name_vi.as_deref(),
        Some("Sở Thông tin và Truyền thông")
    );
    assert_eq!(
        inv.hosts[0].services,
        vec![
            Service::Https,
            Service::Http,
            Service::Smtp,
            Service::Tcp(8443)
        ]
    );
    assert_eq!(inv.hosts[0].stage, Stage::DualStack);
    assert_eq!(inv.hosts[1].services, vec![Service::Https]);
    let addresses: Vec<_> = inv.sites[0].address.iter().cloned().collect();
    assert_eq!(
        addresses,
        vec![
            Endpoint::Ip("fd00:5a::101".parse().unwrap()),
            Endpoint::Ip("198.18.5.101".parse().unwrap())
        ]
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// A community file in `dir` with permission bits `mode`.
fn secret_file(dir: &Path, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let community = dir.join("community");
    std::fs::write(&community, "s3cret-good\n").unwrap();
    std::fs::set_permissions(&community, std::fs::Permissions::from_mode(mode)).unwrap();
    community
}

#[test]
fn a_secret_file_open_to_others_draws_one_warning_at_its_field() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o640, 0o604, 0o620] {
        let community = secret_file(dir.path(), mode);
        // Two sites share the file, one as its v3 keys: one warning for it, not one each.
        let second = "  - id: hai-chau-02\n    name: Hai Chau school\n    agency: dict\n    address: fd00:5a::102\n    snmp: { version: 3, user: u, auth: sha256, auth_pass_file: COMMUNITY_FILE, priv: aes128, priv_pass_file: COMMUNITY_FILE }\n";
        let text =
            format!("{GOOD}{second}").replace("COMMUNITY_FILE", &community.display().to_string());
        let loaded = load_str("city.yaml", &text, &options()).unwrap();
        let [warning] = loaded.warnings.as_slice() else {
            panic!("one warning at mode {mode:o}: {:#?}", loaded.warnings);
        };
        assert_eq!(warning.severity, Severity::Warning);
        assert_eq!(
            warning.message,
            format!(
                "the secret file {} is open to group or others (mode {mode:04o})",
                community.display()
            )
        );
        assert!(warning.hint.as_deref().unwrap().contains("chmod 600"));
        let line = text
            .lines()
            .position(|l| l.contains("community_file"))
            .unwrap()
            + 1;
        assert_eq!(warning.line, line as u64);
        assert!(!format!("{warning:?}").contains("s3cret-good"));
    }
    // A private file, or one the owner alone may read, draws none.
    for mode in [0o600, 0o400] {
        let community = secret_file(dir.path(), mode);
        let text = GOOD.replace("COMMUNITY_FILE", &community.display().to_string());
        let loaded = load_str("city.yaml", &text, &options()).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
}

#[test]
fn an_unknown_field_is_named_with_a_suggestion() {
    let (line, column, message, hint) = only_error("unknown-field");
    assert_eq!((line, column), (8, 5));
    assert!(message.contains("unknown field `stgae`"), "{message}");
    assert_eq!(hint.as_deref(), Some("did you mean `stage`?"));
}

#[test]
fn a_duplicate_fqdn_points_back_at_the_first() {
    let (line, column, message, hint) = only_error("duplicate-fqdn");
    assert_eq!((line, column), (6, 11));
    assert!(message.contains("duplicate host `a.test`"), "{message}");
    assert!(
        hint.as_deref()
            .unwrap()
            .ends_with("bad/duplicate-fqdn.yaml:4:5"),
        "{hint:?}"
    );
    assert!(hint.unwrap().starts_with("first defined at "));
}

#[test]
fn a_duplicate_agency_id_is_an_error() {
    let (line, _, message, _) = only_error("duplicate-agency-id");
    assert_eq!(line, 5);
    assert!(message.contains("duplicate agency id `dict`"), "{message}");
}

#[test]
fn an_unknown_agency_gets_the_nearest_id() {
    let (line, column, message, hint) = only_error("unknown-agency");
    assert_eq!((line, column), (5, 13));
    assert!(message.contains("unknown agency `dictt`"), "{message}");
    assert_eq!(hint.as_deref(), Some("did you mean `dict`?"));
}

const SITE_HEAD: &str = "version: 1\nscan: {scope: [fd00::/8]}\nagencies: [{id: dict, name: D}]\nsites:\n  - id: s1\n    name: S\n    agency: dict\n";

#[test]
fn an_unknown_profile_is_an_error() {
    let error = errors_in("unknown-profile");
    let errors: Vec<_> = error.errors().collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].line, 9);
    assert!(
        errors[0]
            .message
            .contains("unknown device profile `teltonika-rutxx`")
    );
    assert_eq!(
        errors[0].hint.as_deref(),
        Some("did you mean `teltonika-rutx`?")
    );
}

#[test]
fn grading_bands_that_do_not_fall_are_refused_where_written() {
    let (line, _, message, hint) = only_error("bands-that-do-not-fall");
    assert_eq!(line, 12);
    assert!(message.contains("`rsrp_dbm` bands must fall"), "{message}");
    assert!(hint.unwrap().contains("excellent: -80"));
    let (line, _, message, _) = only_error("loss-share-above-one");
    assert_eq!(line, 3);
    assert!(message.contains("`loss_warn` is a share"), "{message}");
    let (line, _, message, hint) = only_error("temperature-in-fahrenheit");
    assert_eq!(line, 10);
    assert!(
        message.contains("`temperature_max_c` is in °C") && message.contains("not 167"),
        "{message}"
    );
    assert!(hint.unwrap().contains("75"));
}

#[test]
fn a_bad_address_is_an_error_at_its_value() {
    let (line, column, message, _) = only_error("bad-address");
    assert_eq!((line, column), (8, 14));
    assert!(message.contains("sites[0].address"), "{message}");
}

#[test]
fn an_address_outside_the_scope_is_refused() {
    let (line, _, message, hint) = only_error("address-outside-scope");
    assert_eq!(line, 8);
    assert!(
        message.contains("198.18.0.1 is outside the scan scope"),
        "{message}"
    );
    assert!(hint.unwrap().contains("scan.scope"));
}

#[test]
fn a_bad_prefix_and_a_bad_date_are_both_reported() {
    let error = errors_in("bad-prefix-and-date");
    let lines: Vec<_> = error
        .errors()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0].0, 3);
    assert!(lines[0].1.contains("scan.scope[0]"), "{}", lines[0].1);
    assert_eq!(lines[1].0, 7);
    assert!(lines[1].1.contains("agencies[0].target"), "{}", lines[1].1);
    let hint = error.errors().nth(1).unwrap().hint.clone();
    assert_eq!(
        hint.as_deref(),
        Some("write dates as YYYY-MM-DD, for example 2026-12-31")
    );
}

#[test]
fn an_exempt_host_needs_a_reason() {
    let (line, column, message, _) = only_error("exempt-without-reason");
    assert_eq!((line, column), (6, 12));
    assert!(message.contains("exempt without a reason"), "{message}");
}

#[test]
fn an_unreadable_secret_is_reported_without_its_value() {
    // Its community_file, tests/bad/empty-secret, is empty.
    let error = errors_in("unreadable-secrets");
    let errors: Vec<_> = error.errors().collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0].line, 11);
    assert!(
        errors[0].message.contains("is empty"),
        "{}",
        errors[0].message
    );
    assert_eq!(errors[1].line, 16);
    assert!(
        errors[1]
            .message
            .contains("`SIXFIVE_TEST_UNSET_VARIABLE` for community is not set")
    );
}

#[test]
fn a_literal_secret_warns_and_never_shows() {
    let text = format!(
        "{SITE_HEAD}    address: fd00::1\n    snmp: {{version: 2c, community: hunter2-literal}}\n"
    );
    let loaded = load_str("city.yaml", &text, &options()).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert_eq!(loaded.warnings[0].severity, Severity::Warning);
    let shown = format!("{:?} {}", loaded.inventory, loaded.warnings[0]);
    let json = serde_json::to_string(&loaded.inventory).unwrap();
    assert!(
        !shown.contains("hunter2") && !json.contains("hunter2"),
        "{shown} {json}"
    );
    assert!(json.contains("<redacted>"));
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let error = errors_in("mistakes-in-every-entry");
    let lines: Vec<u64> = error.errors().map(|p| p.line).collect();
    assert_eq!(lines, vec![5, 8, 11, 12, 14], "{:#?}", error.problems);
}

/// Issue 10: a bad field used to hide the rest of its section or entry, and an entry with
/// one to drop out of cross-references (a false "unknown agency"); now one pass finds all.
#[test]
fn every_field_of_every_entry_is_checked_in_one_pass() {
    let error = errors_in("every-field-at-once");
    let found: Vec<_> = error.errors().collect();
    // Line, column, the field or entry, and what is said about it.
    #[rustfmt::skip]
    let expected = [
        (3, 11,  "scan.scope[0]",        "`fdda:da::/129` is not an IPv6 or IPv4 prefix"),
        (4, 20,  "scan.timeouts.dns",    "`3 parsecs` is not a duration"),
        (8, 13,  "agencies[0].target",   "`2026-02-30` is not a date (YYYY-MM-DD, like 2026-12-31)"),
        (9, 9,   "",                     "duplicate agency id `dict`"),
        (13, 13, "",                     "unknown agency `nope`"),
        (14, 12, "hosts[0].stage",       "unknown variant `dualstack`"),
        (15, 13, "hosts[0].target",      "`2026-13-01` is not a date"),
        (18, 23, "hosts[1].services[1]", "unknown service `gopher`"),
        (18, 37, "hosts[1].services[3]", "unknown service `ftp`"),
        (20, 13, "",                     "unknown agency `dictt`"),
        (21, 16, "hosts[2].services[0]", "unknown service `tcp/99999`"),
        (22, 5,  "",                     "unknown field `stgae` in hosts[2]"),
        (23, 5,  "hosts[3]",             "missing field `agency`"),
        (24, 16, "hosts[3].services[0]", "unknown service `ftp`"),
        (29, 14, "sites[0].address",     "`fdda:da:5::zz` is not a valid IPv6 or IPv4 address"),
        (30, 41, "",                     "`SIXFIVE_TEST_UNSET_ONE_PASS` for community is not set"),
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (problem, (line, column, field, says)) in found.into_iter().zip(expected) {
        let message = &problem.message;
        assert_eq!(problem.file(), fixture("every-field-at-once"));
        assert_eq!((problem.line, problem.column), (line, column), "{message}");
        assert!(message.starts_with(field), "{message} should name {field}");
        assert!(message.contains(says), "{message} should say {says}");
    }
}

#[test]
fn yaml_syntax_errors_have_a_place() {
    let (line, _, message, _) = only_error("not-yaml");
    assert!(line >= 4, "line {line}: {message}");
    assert!(message.starts_with("not valid YAML"), "{message}");
}

#[test]
fn the_format_version_is_checked() {
    let (line, _, message, _) = only_error("version-2");
    assert_eq!(line, 1);
    assert!(message.contains("version 1"), "{message}");
    let (_, _, message, _) = only_error("no-version");
    assert!(message.contains("missing `version`"), "{message}");
}

#[test]
fn a_folder_merges_and_reports_across_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("hosts")).unwrap();
    std::fs::write(
        dir.path().join("agencies.yaml"),
        "version: 1\nagencies: [{id: dict, name: D}, {id: doh, name: H}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("hosts/dict.yaml"),
        "version: 1\nhosts:\n  - {fqdn: a.test, agency: dict}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("hosts/doh.yml"),
        "version: 1\nhosts:\n  - {fqdn: b.test, agency: doh}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
    std::fs::create_dir(dir.path().join(".github")).unwrap();
    std::fs::write(dir.path().join(".github/ci.yml"), "on: push\n").unwrap();
    let loaded = load(dir.path(), &options()).unwrap();
    assert_eq!(loaded.files.len(), 3);
    assert_eq!(loaded.inventory.hosts.len(), 2);
    assert_eq!(loaded.inventory.agencies.len(), 2);

    std::fs::write(
        dir.path().join("hosts/more.yaml"),
        "version: 1\nhosts:\n  - {fqdn: other.test, agency: dict}\n  - {fqdn: a.test, agency: dict}\n",
    )
    .unwrap();
    let error = match load(dir.path(), &options()) {
        Err(sixfive_inventory::LoadError::Invalid(error)) => error,
        other => panic!("expected an invalid inventory, got {other:?}"),
    };
    let problem = error.errors().next().unwrap();
    assert!(problem.file().ends_with("hosts/more.yaml"));
    assert_eq!(problem.line, 4);
    assert!(
        problem
            .hint
            .as_deref()
            .unwrap()
            .contains("hosts/dict.yaml:3:")
    );
}

#[test]
fn problems_name_their_file() {
    let path = fixture("unknown-field");
    let text = std::fs::read_to_string(&path).unwrap();
    let error = load_str("city.yaml", &text, &options()).unwrap_err();
    let problem = error.errors().next().unwrap();
    assert_eq!(problem.file(), Path::new("city.yaml"));
    assert_eq!((problem.line, problem.column), (8, 5));
    assert_eq!(problem.to_string(), "unknown field `stgae` in hosts[0]");
    let error = errors_in("unknown-field");
    assert_eq!(error.errors().next().unwrap().file(), path);
}

#[test]
fn more_mistakes_each_get_their_own_problem() {
    let error = errors_in("more-mistakes");
    let found: Vec<_> = error
        .errors()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].1.contains("is not on Earth"), "{found:?}");
    assert!(
        found[1].1.contains("is not an environment variable name"),
        "{found:?}"
    );
    assert!(
        !found[1].1.contains("not a name"),
        "the value itself is not echoed"
    );
    assert_eq!((found[2].0, found[2].1.as_str()), (12, "`name` is empty"));
    assert!(
        found[3]
            .1
            .contains("`SIXFIVE_TEST_S2` for community is not set")
    );
}

#[test]
fn a_numeric_or_misplaced_secret_is_never_echoed() {
    let error = errors_in("float-secret");
    let message = &error.errors().next().unwrap().message;
    assert!(
        !message.contains("12.5") && !message.contains("12500"),
        "{message}"
    );

    let text = format!(
        "{SITE_HEAD}    address: fd00::1\n    snmp: {{version: 2c, community: 918273645}}\n"
    );
    let loaded = load_str("city.yaml", &text, &options()).unwrap();
    let shown = format!("{:?} {:?}", loaded.inventory, loaded.warnings);
    assert!(!shown.contains("918273645"), "{shown}");
}

#[test]
fn a_reason_on_a_host_that_is_not_exempt_warns() {
    let loaded = load_str(
        "city.yaml",
        "version: 1\nagencies: [{id: dict, name: D}]\nhosts:\n  - {fqdn: a.test, agency: dict, exempt_reason: old}\n",
        &options(),
    )
    .unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(loaded.warnings[0].message.contains("not exempt"));
}

#[test]
fn only_the_roots_dot_is_dropped_from_a_name() {
    let (line, _, message, _) = only_error("double-dot-fqdn");
    assert_eq!(line, 4);
    assert!(message.contains("is not a host name"), "{message}");
}

#[test]
fn a_city_of_200000_hosts_in_one_file_loads() {
    let mut text = String::from("version: 1\nagencies:\n  - { id: dict, name: DICT }\nhosts:\n");
    for i in 0..200_000 {
        text.push_str(&format!(
            "  - fqdn: h{i}.danang.test\n    agency: dict\n    services: [https, http]\n    tags: [ward-{}]\n",
            i % 56
        ));
    }
    let loaded = load_str("city.yaml", &text, &options()).unwrap();
    assert_eq!(loaded.inventory.hosts.len(), 200_000);
}

#[test]
fn a_yaml_bomb_is_refused_naming_the_budget() {
    // Nine levels of ten aliases each would expand to a billion values.
    let (line, _, message, hint) = only_error("yaml-bomb");
    assert!(message.contains("parser budget"), "{message}");
    assert!(hint.unwrap().contains("YAML bombs"));
    assert!(line >= 3, "the place the budget ran out: line {line}");
}

/// One mistake a file, each refused on its own line with its own message (the schema test
/// checks that the JSON Schema refuses them too).
#[test]
fn each_mistake_is_refused_on_its_own() {
    #[rustfmt::skip]
    let mistakes = [
        ("prefix-past-128",        3,  "`fdda:da::/129` is not an IPv6 or IPv4 prefix"),
        ("duration-in-parsecs",    3,  "`3 parsecs` is not a duration"),
        ("resolver-by-name",       3,  "`dns.danang.test` is not a resolver address"),
        ("address-with-bad-hex",   7,  "`fdda:da:5::zz` is not a valid IPv6 or IPv4 address"),
        ("ipv4-with-leading-zero", 7,  "`198.018.0.1` is not a valid IPv6 or IPv4 address"),
        ("empty-address",          7,  "site s1 has no address"),
        ("port-past-65535",        6,  "unknown service `tcp/99999`"),
        ("bad-stage",              6,  "unknown variant `dualstack`"),
        ("blank-exempt-reason",    6,  "host a.test is exempt without a reason"),
        ("missing-agency",         4,  "missing field `agency`"),
        ("blank-agency-name",      4,  "`name` is empty"),
        ("february-30",            5,  "`2026-02-30` is not a date"),
        ("date-day-first",         6,  "`31/12/2026` is not a date"),
        ("rate-not-per-second",    3,  "`fast` is not a rate"),
        ("rate-zero",              3,  "`0/s` is not a rate"),
        ("timeout-zero",           3,  "`0s` is not a duration longer than zero"),
        ("retention-under-a-day",  3,  "`23h 59m` is not a period of a day or more"),
        ("interval-zero",          3,  "`0s` is not an interval longer than zero"),
        ("interval-over-a-year",   3,  "`2y` is not an interval longer than zero and at most a year"),
        ("jitter-over-100",        3,  "`150%` is not a share"),
        ("require-broken",         3,  "`require` must be a level from L0 to L5"),
        ("concurrency-zero",       3,  "`concurrency` must be at least 1"),
        ("unknown-top-level-field",2,  "unknown top-level field `bogus`"),
        ("snmp-version-4",         8,  "unknown SNMP version `4`"),
        ("v3-without-user",        8,  "SNMPv3 needs a `user`"),
        ("privacy-without-auth",   8,  "SNMPv3 privacy needs authentication"),
        ("no-community",           8,  "no community given"),
        ("two-communities",        8,  "community is given in more than one way"),
    ];
    for (name, line, says) in mistakes {
        let (at, _, message, _) = only_error(name);
        assert_eq!(at, line, "{name}: {message}");
        assert!(
            message.contains(says),
            "{name}: {message} should say {says}"
        );
    }
}

#[test]
fn a_missing_secret_file_is_named_the_same_however_the_inventory_is_named() {
    // Under the working directory, so the same folder can be named relatively too.
    let cwd = std::env::current_dir().unwrap();
    let dir = tempfile::tempdir_in(&cwd).unwrap();
    let root = dir.path().join("city");
    std::fs::create_dir_all(root.join("sites")).unwrap();
    std::fs::write(
        root.join("agencies.yaml"),
        "version: 1\nagencies: [{id: dict, name: D}]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sites/north.yaml"),
        "version: 1\nsites:\n  - {id: ward-1, name: W, agency: dict, address: 'fd00:5a::1', snmp: {version: 2c, community_file: ../secrets/./community}}\n",
    )
    .unwrap();
    // A CI job that checks hosts has no SNMP secrets: the file is not there.
    let without_secrets = LoadOptions {
        secrets: false,
        ..options()
    };
    let named = |path: &std::path::Path| {
        let loaded = load(path, &without_secrets).unwrap();
        let snmp = &loaded.inventory.sites[0].snmp;
        snmp.community_file.as_ref().unwrap().named().to_path_buf()
    };
    let relative = root.strip_prefix(&cwd).unwrap();
    assert_eq!(named(&root), std::path::Path::new("secrets/community"));
    assert_eq!(named(relative), named(&root));
    assert_eq!(named(&relative.join("sites/..")), named(&root));
}
