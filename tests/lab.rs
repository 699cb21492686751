//! `sixfive check` inside the network lab (tests/lab/): every case's check outcomes and
//! level, as a CI job would see them. `tests/run` starts the lab and names its scanner
//! namespace in SIXFIVE_LAB_NETNS; under SIXFIVE_LAB=required a missing lab fails.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{assert_valid, lab, sixfive_in};

fn inventory() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/inventory.yaml")
}

/// Runs `sixfive check` in `netns` with `args`.
fn run_check(netns: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    sixfive(
        netns,
        &dir.path().join("store.db"),
        &inventory(),
        &[&["check"], args].concat(),
    )
}

/// Runs `sixfive` in `netns` on a given store and inventory.
fn sixfive(netns: &str, db: &Path, inventory: &Path, args: &[&str]) -> std::process::Output {
    sixfive_in(netns, db, inventory)
        .args(args)
        .output()
        .expect("ip netns exec runs")
}

/// Runs `sixfive check --format json` in `netns` and returns its exit code and document.
fn check(netns: &str, extra: &[&str]) -> (i32, Value) {
    let out = run_check(netns, &[&["--format", "json"], extra].concat());
    let document = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), document)
}

struct HostResult {
    level: String,
    /// The score as Internet.nl's IPv6 category computes it.
    internet_nl: Option<u64>,
    /// Every entry of the host's checks, as printed.
    checks: Vec<Value>,
    /// The worst status per check id, as the level sees it.
    verdicts: BTreeMap<String, String>,
    details: Vec<(String, String, String)>,
}

impl HostResult {
    fn verdict(&self, id: &str) -> &str {
        self.verdicts.get(id).map_or("missing", String::as_str)
    }

    /// The entries of one check.
    fn entries(&self, id: &str) -> Vec<&Value> {
        self.checks.iter().filter(|c| c["id"] == id).collect()
    }

    fn detail(&self, id: &str) -> String {
        self.details
            .iter()
            .filter(|(check, ..)| check == id)
            .map(|(_, detail, hint)| format!("{detail} | {hint}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn hosts(document: &Value) -> BTreeMap<String, HostResult> {
    let rank = |s: &str| {
        ["pass", "skip", "warn", "error", "fail"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    document["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|host| {
            let mut verdicts: BTreeMap<String, String> = BTreeMap::new();
            let mut details = Vec::new();
            for check in host["checks"].as_array().unwrap() {
                let id = check["id"].as_str().unwrap().to_owned();
                let status = check["status"].as_str().unwrap().to_owned();
                details.push((
                    id.clone(),
                    check["detail"].as_str().unwrap_or_default().to_owned(),
                    check["hint"].as_str().unwrap_or_default().to_owned(),
                ));
                let worst = verdicts.entry(id).or_insert_with(|| status.clone());
                if rank(&status) > rank(worst) {
                    *worst = status;
                }
            }
            let result = HostResult {
                level: host["level"].as_str().unwrap().to_owned(),
                internet_nl: host["internet_nl"].as_u64(),
                checks: host["checks"].as_array().unwrap().clone(),
                verdicts,
                details,
            };
            (host["fqdn"].as_str().unwrap().to_owned(), result)
        })
        .collect()
}

#[test]
fn every_lab_case_gets_its_outcome() {
    let Some((netns, _)) = lab() else { return };
    let (code, document) = check(&netns, &[]);
    assert_eq!(document["schema"], "sixfive.check/v1");
    assert_valid("check", &document);
    assert_eq!(document["scanner"]["ipv6"]["state"], "ready");
    assert_eq!(code, 2, "BROKEN hosts make the run exit 2");
    let hosts = hosts(&document);
    let host = |name: &str| {
        hosts
            .get(name)
            .unwrap_or_else(|| panic!("{name} is missing"))
    };
    let expect = |name: &str, level: &str, verdicts: &[(&str, &str)]| {
        let h = host(name);
        for (id, status) in verdicts {
            assert_eq!(h.verdict(id), *status, "{name} {id}: {}", h.detail(id));
        }
        assert_eq!(h.level, level, "{name}: {:?}", h.verdicts);
    };

    let passing = [
        "dns.aaaa",
        "dns.aaaa_global",
        "tcp.v6",
        "http.v6",
        "http.parity",
        "http.redirect_v6",
        "tls.v6",
        "dns.ns_aaaa",
        "dns.ns_v6",
        "dns.ptr",
        "net.happy_eyeballs",
    ];
    let all_pass: Vec<(&str, &str)> = passing.iter().map(|id| (*id, "pass")).collect();
    // lab.test is unsigned (insecure), which holds ready below L4; its page fits in one packet.
    expect("ready.lab.test", "L3", &all_pass);
    expect(
        "ready.lab.test",
        "L3",
        &[
            ("icmp.v6", "pass"),
            ("dns.dnssec", "warn"),
            ("net.pmtu", "skip"),
        ],
    );
    expect(
        "v4only.lab.test",
        "L0",
        &[("dns.aaaa", "fail"), ("dns.a", "pass"), ("tcp.v6", "skip")],
    );
    expect(
        "v6only.lab.test",
        "L3",
        &[
            ("dns.a", "skip"),
            ("tcp.v6", "pass"),
            ("http.parity", "skip"),
        ],
    );
    expect(
        "noservice6.lab.test",
        "BROKEN",
        &[("tcp.v6", "fail"), ("http.v6", "fail")],
    );
    assert!(
        host("noservice6.lab.test")
            .detail("tcp.v6")
            .contains("listen [::]:443")
    );
    expect(
        "dropped6.lab.test",
        "BROKEN",
        &[("tcp.v6", "fail"), ("http.v6", "fail")],
    );
    assert!(
        host("dropped6.lab.test")
            .detail("tcp.v6")
            .contains("timeout")
    );
    // Another page over IPv6 does not show an IPv6 user gets the same service: below L2.
    expect(
        "content6.lab.test",
        "L1",
        &[("http.parity", "warn"), ("http.v6", "pass")],
    );
    expect(
        "badcert6.lab.test",
        "L1",
        &[("tls.v6", "fail"), ("http.parity", "pass")],
    );
    expect("redirect4.lab.test", "L1", &[("http.redirect_v6", "fail")]);
    assert!(
        host("redirect4.lab.test")
            .detail("http.redirect_v6")
            .contains("v4only.lab.test")
    );
    expect(
        "slow6.lab.test",
        "L3",
        &[("net.happy_eyeballs", "warn"), ("tcp.v6", "pass")],
    );
    expect("noptr.lab.test", "L3", &[("dns.ptr", "warn")]);
    expect(
        "nxdomain.lab.test",
        "L0",
        &[("dns.aaaa", "fail"), ("dns.a", "fail")],
    );
    assert!(
        host("nxdomain.lab.test")
            .detail("dns.aaaa")
            .contains("NXDOMAIN")
    );
    expect(
        "cname.lab.test",
        "L1",
        &[("dns.aaaa", "pass"), ("tcp.v6", "pass")],
    );
    assert!(
        host("cname.lab.test")
            .detail("dns.aaaa")
            .contains("via 2 CNAME hops")
    );
    expect(
        "mailok.lab.test",
        "L3",
        &[
            ("dns.mx_aaaa", "pass"),
            ("smtp.v6", "pass"),
            ("dns.aaaa", "pass"),
        ],
    );
    expect(
        "mailv4.lab.test",
        "L0",
        &[("dns.mx_aaaa", "fail"), ("smtp.v6", "skip")],
    );
    expect(
        "nullmx.lab.test",
        "L0",
        &[("dns.mx_aaaa", "skip"), ("smtp.v6", "skip")],
    );
    expect(
        "www.nsv4.test",
        "L2",
        &[("dns.ns_aaaa", "fail"), ("http.parity", "pass")],
    );
    // A path MTU black hole: IPv6 connects, then large packets vanish.
    expect(
        "pmtu6.lab.test",
        "BROKEN",
        &[
            ("net.pmtu", "fail"),
            ("tcp.v6", "pass"),
            ("http.v6", "fail"),
        ],
    );
    expect(
        "pmtuok.lab.test",
        "L3",
        &[("net.pmtu", "pass"), ("http.parity", "pass")],
    );
    // A signed zone whose name servers all answer over IPv6 reaches L5; a bogus one is
    // still scanned, and flagged.
    let top: Vec<(&str, &str)> = all_pass
        .iter()
        .copied()
        .chain([("dns.dnssec", "pass"), ("dns.v6_only", "pass")])
        .collect();
    expect("www.signed.test", "L5", &top);
    expect("www.nsv4.test", "L2", &[("dns.v6_only", "fail")]);
    expect(
        "www.bogus.test",
        "L3",
        &[
            ("dns.dnssec", "fail"),
            ("dns.aaaa", "pass"),
            ("http.v6", "pass"),
        ],
    );

    for bogus in [
        "mapped",
        "linklocal",
        "loopback",
        "unspecified",
        "doc",
        "doc2",
        "discard",
        "ula",
        "nat64",
        "nat64local",
    ] {
        let name = format!("bogus-{bogus}.lab.test");
        expect(
            &name,
            "BROKEN",
            &[("dns.aaaa_global", "fail"), ("tcp.v6", "skip")],
        );
    }
    assert!(
        host("bogus-nat64local.lab.test")
            .detail("dns.aaaa_global")
            .contains("IPv4 behind a translator")
    );
    // Every finding that holds a host back says what it saw.
    for (name, h) in &hosts {
        for entry in &h.checks {
            if entry["status"] == "warn" || entry["status"] == "fail" {
                assert!(!entry["evidence"].is_null(), "{name}: {entry:#}");
            }
        }
    }
    for transition in ["teredo", "6to4"] {
        let name = format!("bogus-{transition}.lab.test");
        // Their addresses lie outside scan.scope: reported, never probed.
        expect(
            &name,
            "L0",
            &[("dns.aaaa_global", "warn"), ("tcp.v6", "error")],
        );
        assert!(host(&name).detail("tcp.v6").contains("outside scan.scope"));
    }
}

/// Internet.nl's IPv6 test, rule by rule, where sixfive used to call a host ready while
/// IPv6 users got an error (docs/internet-nl.md).
#[test]
fn verdicts_checked_against_internet_nl_give_no_false_ready() {
    let Some((netns, _)) = lab() else { return };
    let mut args = vec!["--format", "json"];
    for name in [
        "ready.lab.test",
        "v4only.lab.test",
        "content6.lab.test",
        "redirect4.lab.test",
        "chain6.lab.test",
        "session.lab.test",
        "web80.lab.test",
        "error5xx.lab.test",
        "alias.nsv4.test",
        "www.nsmapped.test",
        "mailmapped.lab.test",
        "mailv4.lab.test",
        "nullmixed.lab.test",
    ] {
        args.extend(["--host", name]);
    }
    let out = run_check(&netns, &args);
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = hosts(&document);
    let expect = |name: &str, level: &str, verdicts: &[(&str, &str)]| {
        let h = &hosts[name];
        for (id, status) in verdicts {
            assert_eq!(h.verdict(id), *status, "{name} {id}: {}", h.detail(id));
        }
        assert_eq!(h.level, level, "{name}: {:?}", h.verdicts);
        h
    };

    // 1. What a user ends up with: / redirects on both families, then IPv6 gets a 502.
    let chain6 = expect(
        "chain6.lab.test",
        "BROKEN",
        &[("http.v6", "fail"), ("http.parity", "fail")],
    );
    assert!(
        chain6
            .detail("http.v6")
            .contains("HTTP 502 after 1 redirect, while IPv4 ends in HTTP 200")
    );
    assert!(
        chain6
            .detail("http.parity")
            .contains("HTTP 502 over IPv6 but 200 over IPv4")
    );
    for entry in chain6.entries("http.parity") {
        let hops = |family: &str| {
            entry["evidence"][family]["chain"]["hops"]
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(
            (hops("v4"), hops("v6")),
            (2, 2),
            "the chains are kept: {entry:#}"
        );
    }
    // 2. Per-request redirect targets, nonces and view state, and gzip over IPv6 only.
    let session = expect(
        "session.lab.test",
        "L3",
        &[("http.parity", "pass"), ("http.v6", "pass")],
    );
    let encodings: Vec<&Value> = session
        .entries("http.parity")
        .iter()
        .map(|e| &e["evidence"]["v6"]["chain"]["end"]["encoding"])
        .collect();
    assert!(encodings.iter().all(|e| *e == "gzip"), "{encodings:?}");
    // 3. Port 80 answers over IPv4 only, though the inventory lists only https.
    let web80 = expect(
        "web80.lab.test",
        "BROKEN",
        &[("tcp.v6", "fail"), ("http.v6", "pass")],
    );
    assert!(
        web80
            .detail("tcp.v6")
            .contains("port 80 (not in the inventory, which lists https)")
    );
    // 4. Name servers and a mail exchanger whose only AAAA are IPv4-mapped or link-local,
    // never probed.
    let mapped = expect(
        "www.nsmapped.test",
        "L2",
        &[("dns.ns_aaaa", "fail"), ("dns.ns_v6", "skip")],
    );
    assert!(mapped.detail("dns.ns_aaaa").contains("IPv4-mapped"));
    assert!(mapped.detail("dns.ns_aaaa").contains("link-local"));
    let mx = expect(
        "mailmapped.lab.test",
        "L0",
        &[
            ("dns.mx_aaaa", "fail"),
            ("dns.aaaa", "fail"),
            ("smtp.v6", "skip"),
        ],
    );
    assert!(mx.detail("dns.mx_aaaa").contains("IPv4-mapped"));
    // 5. A host whose own zone is served only over IPv4, aliased into a good zone.
    let alias = expect(
        "alias.nsv4.test",
        "L2",
        &[("dns.ns_aaaa", "fail"), ("http.parity", "pass")],
    );
    assert!(alias.detail("dns.ns_aaaa").contains("nsv4.test"));
    // 7. A server error on both families, and a null MX beside a real one.
    let error5xx = expect("error5xx.lab.test", "L1", &[("http.parity", "warn")]);
    assert!(
        error5xx
            .detail("http.parity")
            .contains("HTTP 503 over both families")
    );
    expect(
        "nullmixed.lab.test",
        "L3",
        &[("dns.mx_aaaa", "warn"), ("smtp.v6", "pass")],
    );
    // Nothing sixfive probed was an IPv4-mapped address.
    for host in hosts.values() {
        for entry in &host.checks {
            let address = entry["address"].as_str().unwrap_or_default();
            assert!(
                !address.starts_with("::ffff:") || entry["status"] == "skip",
                "{entry:#}"
            );
        }
    }

    // 8. The score Internet.nl gives (hand-computed: web 10 + 10 + 2, mail 10 + 10).
    let internet_nl = |name: &str| hosts[name].internet_nl;
    assert_eq!(internet_nl("ready.lab.test"), Some(100));
    assert_eq!(
        internet_nl("v4only.lab.test"),
        Some(45),
        "IPv4-only, dual-stack name servers"
    );
    assert_eq!(
        internet_nl("content6.lab.test"),
        Some(90),
        "another page: 20 of 22"
    );
    assert_eq!(
        internet_nl("redirect4.lab.test"),
        Some(100),
        "Internet.nl follows into IPv4"
    );
    assert_eq!(
        internet_nl("web80.lab.test"),
        Some(54),
        "a port lost over IPv6: 12 of 22"
    );
    assert_eq!(
        internet_nl("alias.nsv4.test"),
        Some(54),
        "an IPv4-only name server: 12 of 22"
    );
    assert_eq!(
        internet_nl("mailv4.lab.test"),
        Some(50),
        "an IPv4-only exchanger: 10 of 20"
    );
    assert_eq!(
        internet_nl("mailmapped.lab.test"),
        Some(50),
        "a mapped AAAA is none"
    );
}

/// A resolver that refuses (nothing listens) or never answers (its packets are dropped)
/// leaves every DNS verdict undecided: `error`, never `fail`, and the run exits 3.
#[test]
fn a_dead_or_silent_resolver_is_inconclusive_never_failing() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(inventory()).unwrap();
    let resolvers = r#"resolvers: ["[fd00:53::153]:53", "198.18.0.153:53"]"#;
    assert!(text.contains(resolvers));
    // ready's addresses have no DNS server (refused); dropped6's drop every packet.
    for (case, instead) in [
        (
            "dead",
            r#"resolvers: ["[fd00:1::10]:53", "198.18.1.10:53"]"#,
        ),
        ("silent", r#"resolvers: ["[fd00:1::14]:53"]"#),
    ] {
        let city = dir.path().join(format!("{case}.yaml"));
        std::fs::write(
            &city,
            text.replace(resolvers, instead)
                .replace("dns: 2s", "dns: 1s"),
        )
        .unwrap();
        let out = sixfive(
            &netns,
            &dir.path().join(format!("{case}.db")),
            &city,
            &[
                "check",
                "--format",
                "json",
                "--host",
                "ready.lab.test",
                "--host",
                "v4only.lab.test",
                "--host",
                "mailok.lab.test",
                "--host",
                "www.nsv4.test",
            ],
        );
        let document: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{case}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(out.status.code(), Some(3), "{case}: {document:#}");
        for (name, host) in hosts(&document) {
            assert_eq!(
                host.verdict("dns.aaaa"),
                "error",
                "{case} {name}: {}",
                host.detail("dns.aaaa")
            );
            for entry in &host.checks {
                assert_ne!(entry["status"], "fail", "{case} {name}: {entry:#}");
            }
        }
    }
}

#[test]
fn a_scanner_without_ipv6_is_inconclusive_not_failing() {
    let Some((_, netns_v4_only)) = lab() else {
        return;
    };
    let (code, document) = check(&netns_v4_only, &["--host", "ready.lab.test"]);
    assert_eq!(code, 3, "{document:#}");
    assert_eq!(document["scanner"]["ipv6"]["state"], "missing");
    let hosts = hosts(&document);
    let ready = &hosts["ready.lab.test"];
    assert_eq!(
        ready.verdict("tcp.v6"),
        "error",
        "{}",
        ready.detail("tcp.v6")
    );
    assert_eq!(ready.verdict("http.v6"), "error");
    assert!(
        ready.verdicts.values().all(|s| s != "fail"),
        "{:?}",
        ready.verdicts
    );
}

#[test]
fn ci_formats_and_selection() {
    let Some((netns, _)) = lab() else { return };
    let (code, document) = check(&netns, &["--host", "ready.lab.test", "--require", "L3"]);
    assert_eq!(code, 0, "ready meets L3");
    assert_eq!(document["summary"]["hosts"], 1);
    let (code, _) = check(&netns, &["--host", "ready.lab.test", "--require", "L4"]);
    assert_eq!(code, 1, "ready is below L4");
    let (code, document) = check(
        &netns,
        &["--host", "slow6.lab.test", "--host", "v4only.lab.test"],
    );
    assert_eq!(code, 1, "v4only is below the inventory's L2");
    assert_eq!(document["summary"]["ready"], 1);
}

#[test]
fn json_hosts_come_whole_and_in_name_order_with_or_without_a_temporary_file() {
    let Some((netns, _)) = lab() else { return };
    let (_, document) = check(&netns, &[]);
    let names: Vec<&str> = document["hosts"]
        .as_array()
        .expect("a hosts array")
        .iter()
        .map(|host| host["fqdn"].as_str().expect("a name"))
        .collect();
    let options = sixfive_inventory::LoadOptions {
        profiles: Vec::new(),
        secrets: false,
    };
    let loaded = sixfive_inventory::load(&inventory(), &options).unwrap();
    let mut expected: Vec<&str> = loaded
        .inventory
        .hosts
        .iter()
        .map(|h| h.fqdn.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_valid("check", &document);

    // The hosts wait in a temporary file; where none can be made they wait in memory, and
    // the document is the same.
    let dir = tempfile::tempdir().unwrap();
    let out = sixfive_in(&netns, &dir.path().join("store.db"), &inventory())
        .args(["check", "--format", "json", "--host", "ready.lab.test"])
        .env("TMPDIR", dir.path().join("missing"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no temporary file for the hosts' JSON: holding it in memory"),
        "{stderr}"
    );
    let document: Value = serde_json::from_slice(&out.stdout).expect("a whole document");
    assert_eq!(document["hosts"][0]["fqdn"], "ready.lab.test");
    assert_valid("check", &document);
}

#[test]
fn sarif_and_github_annotations_point_at_the_inventory() {
    let Some((netns, _)) = lab() else { return };
    let text = std::fs::read_to_string(inventory()).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("noservice6.lab.test"))
        .unwrap()
        + 1;

    let out = run_check(
        &netns,
        &["--format", "sarif", "--host", "noservice6.lab.test"],
    );
    assert_eq!(out.status.code(), Some(2));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let tcp = results
        .iter()
        .find(|r| r["ruleId"] == "tcp.v6")
        .expect("a tcp.v6 finding");
    assert_eq!(tcp["level"], "error");
    let location = &tcp["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("tests/lab/inventory.yaml")
    );
    assert_eq!(location["region"]["startLine"], line);

    let out = run_check(
        &netns,
        &["--format", "github", "--host", "noservice6.lab.test"],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = format!("::error file={},line={line},", inventory().display());
    assert!(
        text.lines()
            .any(|l| l.starts_with(&expected) && l.contains("tcp.v6")),
        "{text}"
    );
}

#[test]
fn only_hosts_changed_since_a_revision_or_a_date_are_scanned() {
    let Some((netns, _)) = lab() else { return };
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@lab.test"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    let city = repo.path().join("city.yaml");
    let text = std::fs::read_to_string(inventory()).unwrap();
    std::fs::write(&city, &text).unwrap();
    git(&["init", "-q"]);
    git(&["add", "city.yaml"]);
    git(&["commit", "-qm", "lab"]);
    let changed = text.replace(
        "{ fqdn: v6only.lab.test, agency: lab, internal: true, services: [https, http] }",
        "{ fqdn: v6only.lab.test, agency: lab, internal: true, services: [https, http], tags: [moved] }",
    );
    assert_ne!(changed, text);
    std::fs::write(&city, &changed).unwrap();

    let db = repo.path().join("store.db");
    let out = sixfive(
        &netns,
        &db,
        &city,
        &["check", "--format", "json", "--changed-since", "HEAD"],
    );
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let scanned: Vec<&str> = document["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(
        scanned,
        ["v6only.lab.test"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let imported = sixfive(&netns, &db, &city, &["inventory", "import"]);
    assert!(imported.status.success());
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let out = sixfive(
        &netns,
        &db,
        &city,
        &[
            "check",
            "--format",
            "json",
            "--changed-since",
            &today,
            "--agency",
            "lab",
        ],
    );
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = text.matches("agency: lab").count();
    assert_eq!(
        document["summary"]["hosts"], all,
        "every host was imported today"
    );
}

#[test]
fn a_host_that_falls_below_its_last_level_regressed() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let text = std::fs::read_to_string(inventory()).unwrap();
    let badcert =
        "{ fqdn: badcert6.lab.test, agency: lab, internal: true, services: [https, http] }";
    // Over plain HTTP badcert6 is fine; once https is checked, its IPv6 certificate fails.
    let before = dir.path().join("before.yaml");
    std::fs::write(
        &before,
        text.replace(badcert, &badcert.replace("[https, http]", "[http]")),
    )
    .unwrap();
    let after = dir.path().join("after.yaml");
    std::fs::write(&after, &text).unwrap();
    let json = |inventory: &Path| {
        let out = sixfive(
            &netns,
            &db,
            inventory,
            &["check", "--format", "json", "--host", "badcert6.lab.test"],
        );
        (
            out.status.code(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    let (code, first) = json(&before);
    assert_eq!(first["hosts"][0]["level"], "L3");
    assert_eq!(code, Some(0));
    let (code, second) = json(&after);
    assert_eq!(second["hosts"][0]["regressed"], true);
    assert_eq!(second["hosts"][0]["level"], "BROKEN");
    assert_eq!(code, Some(2));
    let (_, third) = json(&after);
    assert_eq!(
        third["hosts"][0]["regressed"], false,
        "a regression is reported once"
    );
    assert_eq!(third["hosts"][0]["level"], "L1");
}
