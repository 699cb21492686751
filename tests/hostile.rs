//! Hostile peers (tests/lab/README.md, "Hostile peers"): DNS servers that truncate, answer
//! too much, answer garbage, the wrong id or from another address; SNMP agents with wrong
//! request ids, garbage, looping and endless walks and huge values; a TLS server with a
//! chain of hundreds of certificates and one that stalls mid-handshake; an SMTP server that
//! drips its banner. The real binary scans them in a network namespace of each test's own,
//! and each test asserts that the scan ends within a bound computed from the inventory's
//! timeouts, with a peak RSS under a ceiling that the test measures (the process's VmHWM), a
//! clear reason per check or site, the CI contract's exit code, and no panic.

mod common;
#[path = "common/netns.rs"]
mod netns;
use netns::{Netns, ip};

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The resolver, the agent and the servers, on the namespace's loopback.
const DNS6: &str = "fd00:66::53";
const DNS4: &str = "198.18.66.53";
/// Where the `spoofed` name server sends its answers from.
const SPOOF6: &str = "fd00:66::54";
const SNMP6: &str = "fd00:66::161";
const CHAIN: (&str, &str) = ("fd00:66::101", "198.18.66.101");
const STALL: (&str, &str) = ("fd00:66::102", "198.18.66.102");
const DRIP: (&str, &str) = ("fd00:66::25", "198.18.66.25");
const SCOPE: &str = "[fd00:66::/64, 198.18.66.0/24]";

/// Peak RSS allowed to one `sixfive` run. A scan of a few hosts or sites peaks at 46 to 50
/// MiB here (the debug build the tests run, on two cores; every test prints its runs'
/// peaks); twice that leaves room for more cores' threads and allocator slack, and still
/// catches what a hostile peer costs when its data is kept: the endless SNMP table of huge
/// values took 190 to 250 MiB before walks had a byte budget.
const RSS_CEILING_KIB: u64 = 96 * 1024;

/// Time to start the binary, open the store, load the profiles and write the result: under
/// 0.1 s here (the malformed DNS case's whole run), with room for a loaded CI machine.
const STARTUP: Duration = Duration::from_secs(3);

/// A network namespace with the hostile servers on its loopback; deleted on drop (also when
/// the test panics), its servers killed.
struct Lab {
    netns: String,
    dir: tempfile::TempDir,
    servers: Vec<Child>,
    /// Deleted after the servers are killed (fields drop after `drop`).
    _deleted: Netns,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Lab {
    /// A namespace of its own for test `n`, or None (the test skips) without root or `ip`.
    fn new(n: u32) -> Option<Lab> {
        if !nix::unistd::getuid().is_root() {
            common::skip::skip("no network namespace: the hostile lab needs root");
            return None;
        }
        if Command::new("ip").arg("-V").output().is_err() {
            common::skip::skip("no network namespace: `ip` (iproute2) is missing");
            return None;
        }
        let netns = format!("sfhost-{}-{n}", std::process::id());
        ip(&format!("netns add {netns}"));
        let lab = Lab {
            _deleted: Netns(vec![netns.clone()]),
            netns,
            dir: tempfile::tempdir().unwrap(),
            servers: Vec::new(),
        };
        let ns = &lab.netns;
        ip(&format!("-n {ns} link set lo up"));
        // The /64 gives the scanner its IPv6 route (sixfive asks the kernel for one).
        ip(&format!("-n {ns} addr add {DNS6}/64 dev lo nodad"));
        for v6 in [SPOOF6, SNMP6, CHAIN.0, STALL.0, DRIP.0] {
            ip(&format!("-n {ns} addr add {v6}/128 dev lo nodad"));
        }
        for v4 in [DNS4, CHAIN.1, STALL.1, DRIP.1] {
            ip(&format!("-n {ns} addr add {v4}/32 dev lo"));
        }
        Some(lab)
    }

    /// Starts `tests/lab/hostile.py ARGS` in the namespace and waits until it listens.
    fn serve(&mut self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/hostile.py");
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let log = self.dir.path().join(format!("{}.log", self.servers.len()));
        let mut server = Command::new("ip")
            .args(["netns", "exec", &self.netns, python])
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 runs");
        // Its first line, or nothing after a while: a server that hangs before it is ready
        // fails the test instead of holding the suite.
        let stdout = server.stdout.take().unwrap();
        let (sent, first_line) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sent.send(line);
        });
        let line = first_line
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_default();
        self.servers.push(server);
        assert_eq!(
            line.trim(),
            "ready",
            "hostile.py {args:?} did not start:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// The name server of the zone hostile.test, behaving as `behaviour` says.
    fn dns(&mut self, behaviour: &str, zone: &[String]) {
        let mut args = vec![
            "dns",
            "--listen",
            DNS6,
            "--listen",
            DNS4,
            "--behaviour",
            behaviour,
            "--spoof-from",
            SPOOF6,
        ];
        for name in zone {
            args.extend(["--zone", name]);
        }
        self.serve(&args);
    }

    /// An inventory with `scan` settings and `rest` (hosts or sites), written to the lab's
    /// folder.
    fn inventory(&self, scan: &str, rest: &str) -> PathBuf {
        let path = self.dir.path().join("inventory.yaml");
        let text = format!(
            "version: 1\nscan:\n{scan}  scope: {SCOPE}\n\
             agencies:\n  - {{ id: lab, name: Lab }}\n{rest}"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `sixfive ARGS` in the namespace on a fresh store, measured.
    fn sixfive(&self, inventory: &Path, args: &[&str], bound: Duration) -> Run {
        let db = self.dir.path().join("store.db");
        let mut command = common::sixfive_in(&self.netns, &db, inventory);
        command.args(args).env("NO_COLOR", "1");
        Run::measure(command, bound)
    }
}

/// How a command ended, how long it took and its peak resident set.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
    peak_rss_kib: u64,
}

impl Run {
    /// Runs `command`, sampling its peak RSS until it ends. `ip netns exec` execs the
    /// command in its own process, so the pid is sixfive's once it has started. The peak is
    /// VmHWM, the high-water mark of the process's own memory since exec, read every few
    /// milliseconds: wait4's ru_maxrss would not do, as exec keeps the largest RSS the
    /// process had before, and a child spawned from this (large, many-threaded) test
    /// process starts with its parent's. A run past twice `bound` is killed, so a hang
    /// fails the test instead of holding it for ever.
    fn measure(mut command: Command, bound: Duration) -> Run {
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ip netns exec runs");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_rss_kib = 0;
        let status = loop {
            // Read before reaping: a reaped process has no status to read.
            if let Some(hwm) = std::fs::read_to_string(&status_file)
                .ok()
                .as_deref()
                .and_then(high_water_mark)
            {
                peak_rss_kib = peak_rss_kib.max(hwm);
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > bound * 2 {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sixfive still ran after {:?}, twice its bound, and was killed; stderr:\n{}",
                    started.elapsed(),
                    stderr.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let run = Run {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            took: started.elapsed(),
            peak_rss_kib,
        };
        eprintln!(
            "{} {:?}: exit {:?}, {:.2} s (bound {:.1} s), peak RSS {} KiB",
            std::thread::current().name().unwrap_or("?"),
            // From the subcommand on: `netns exec NS BINARY --db DB --inventory FILE`.
            command.get_args().skip(8).collect::<Vec<_>>(),
            run.status.code(),
            run.took.as_secs_f64(),
            bound.as_secs_f64(),
            run.peak_rss_kib
        );
        run.assert_bounded(bound);
        run
    }

    /// Within its deadline and memory ceiling, and no panic.
    fn assert_bounded(&self, bound: Duration) {
        assert!(
            !self.stderr.contains("panicked"),
            "sixfive panicked:\n{}",
            self.stderr
        );
        assert!(
            self.took <= bound,
            "took {:?}, past its bound of {bound:?}; stderr:\n{}",
            self.took,
            self.stderr
        );
        assert!(
            self.peak_rss_kib > 0 && self.peak_rss_kib <= RSS_CEILING_KIB,
            "peak RSS {} KiB, want some and at most {RSS_CEILING_KIB} KiB",
            self.peak_rss_kib
        );
    }

    /// The JSON document on stdout, valid against the schema `schema`.
    fn document(&self, schema: &str) -> Value {
        let document: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        common::assert_valid(schema, &document);
        document
    }
}

/// VmHWM of a /proc/PID/status, in KiB.
fn high_water_mark(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// The checks of the one host of a `sixfive.check/v1` document named `fqdn`.
fn checks<'a>(document: &'a Value, fqdn: &str) -> &'a Vec<Value> {
    document["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["fqdn"] == fqdn)
        .unwrap_or_else(|| panic!("no host {fqdn} in {document:#}"))["checks"]
        .as_array()
        .unwrap()
}

/// Fails unless every result of check `id` has `status` and a detail that names `cause`.
fn expect_check(checks: &[Value], id: &str, status: &str, cause: &str) {
    let results: Vec<&Value> = checks.iter().filter(|c| c["id"] == id).collect();
    assert!(!results.is_empty(), "no {id} in {checks:#?}");
    for result in results {
        let detail = result["detail"].as_str().unwrap();
        assert!(
            result["status"] == status && detail.contains(cause),
            "{id}: want {status} naming `{cause}`, got {result:#}"
        );
    }
}

// --- DNS -------------------------------------------------------------------------------

/// The DNS timeout of the DNS cases.
const DNS_TIMEOUT: Duration = Duration::from_secs(1);

/// Scans www.hostile.test (web and mail) through the resolver `behaviour`: the run and its
/// `sixfive.check/v1` document.
fn dns_run(n: u32, behaviour: &str) -> Option<(Run, Value)> {
    let mut lab = Lab::new(n)?;
    lab.dns(
        behaviour,
        &[format!("www.hostile.test={},{}", CHAIN.0, CHAIN.1)],
    );
    let inventory = lab.inventory(
        &format!(
            "  resolvers: [\"[{DNS6}]:53\"]\n  timeouts: {{ dns: {}ms, connect: 1s, http: 2s, smtp: 2s }}\n",
            DNS_TIMEOUT.as_millis()
        ),
        "hosts:\n  - { fqdn: www.hostile.test, agency: lab, internal: true, services: [https, smtp] }\n",
    );
    // Every question waits at most its UDP deadline and, when truncated, its TCP one. A
    // host's questions come in three rounds, one after another: its addresses (AAAA and A
    // side by side), then its zone's SOA and its MX side by side, then, as a failed answer
    // is not kept, the checks that need one ask again. Three rounds of two deadlines.
    let bound = STARTUP + DNS_TIMEOUT * 2 * 3;
    let run = lab.sixfive(&inventory, &["check", "--format", "json"], bound);
    let document = run.document("check");
    Some((run, document))
}

/// [`dns_run`] through a resolver that gives no usable answer: every check must be `error`
/// (the scanner could not decide) or `skip`, never the host's fault, and the exit code 3,
/// inconclusive. Returns the checks.
fn dns_case(n: u32, behaviour: &str) -> Option<Vec<Value>> {
    let (run, document) = dns_run(n, behaviour)?;
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    let checks = checks(&document, "www.hostile.test").clone();
    for check in &checks {
        assert!(
            check["status"] == "error" || check["status"] == "skip",
            "{behaviour}: a resolver's fault is not the host's: {check:#}"
        );
    }
    Some(checks)
}

#[test]
fn a_resolver_that_truncates_and_never_answers_tcp_is_a_timeout() {
    let Some(checks) = dns_case(1, "truncate") else {
        return;
    };
    expect_check(&checks, "dns.aaaa", "error", "timeout");
}

#[test]
fn an_answer_past_the_udp_payload_is_not_read() {
    let Some(checks) = dns_case(2, "oversized") else {
        return;
    };
    // Cut at the size the query allowed, it no longer decodes.
    expect_check(&checks, "dns.aaaa", "error", "the answer is malformed");
}

/// 1,400 AAAA records (a 62 KB answer over TCP) once cost a PTR lookup and a result per
/// check each: 12,610 results and 24.6 s. Every record is judged, 16 usable addresses of a
/// family are probed (MAX_ADDRESSES) and 16 of a verdict listed, so the scan ends within
/// its rounds of DNS deadlines and says so.
#[test]
fn thousands_of_records_over_tcp_cost_no_more_than_a_few_rounds_of_dns() {
    let Some((_, document)) = dns_run(8, "many") else {
        return;
    };
    let checks = checks(&document, "www.hostile.test");
    expect_check(
        checks,
        "dns.aaaa",
        "pass",
        "1400 AAAA records (sixfive probes 16 of them)",
    );
    // Every record judged: 16 listed, one result for the rest.
    let judged: Vec<&str> = checks
        .iter()
        .filter(|c| c["id"] == "dns.aaaa_global" && c["status"] == "pass")
        .map(|c| c["detail"].as_str().unwrap())
        .collect();
    assert_eq!(judged.len(), 17, "{judged:#?}");
    assert_eq!(
        judged[16],
        "1384 more AAAA records judged pass, not listed one by one"
    );
    // Each of the 16 addresses in at most a dozen per-address checks' results.
    assert!(
        checks.len() <= 16 * 12,
        "{} results for one host",
        checks.len()
    );
}

#[test]
fn a_malformed_answer_is_an_error() {
    let Some(checks) = dns_case(3, "malformed") else {
        return;
    };
    expect_check(&checks, "dns.aaaa", "error", "the answer is malformed");
}

#[test]
fn an_answer_with_the_wrong_id_is_ignored() {
    let Some(checks) = dns_case(4, "wrong-id") else {
        return;
    };
    expect_check(&checks, "dns.aaaa", "error", "timeout");
}

#[test]
fn an_answer_from_another_address_is_ignored() {
    let Some(checks) = dns_case(5, "spoofed") else {
        return;
    };
    expect_check(&checks, "dns.aaaa", "error", "timeout");
}

// --- SNMP ------------------------------------------------------------------------------

/// The SNMP timeout of the SNMP cases.
const SNMP_TIMEOUT: Duration = Duration::from_millis(500);

/// Polls one site per misbehaving agent (hostile.py picks the behaviour by community, which
/// each site reads from its own variable) and returns the reports by id.
fn snmp_sites(lab: &mut Lab) -> (Run, std::collections::BTreeMap<String, Value>) {
    lab.serve(&["snmp", "--listen", SNMP6]);
    let behaviours = ["wrong-id", "garbage", "loop", "endless", "huge"];
    let variable = |behaviour: &str| format!("SIXFIVE_HOSTILE_{}", behaviour.replace('-', "_"));
    let sites: String = behaviours
        .iter()
        .map(|b| {
            format!(
                "  - {{ id: {b}, name: {b}, agency: lab, address: {SNMP6}, profile: generic, \
                 snmp: {{ version: 2c, community_env: {} }} }}\n",
                variable(b)
            )
        })
        .collect();
    let inventory = lab.inventory(
        // All five sites share one address: per_host lets them all poll at once.
        &format!(
            "  timeouts: {{ snmp: {}ms }}\n  per_host: 5\n",
            SNMP_TIMEOUT.as_millis()
        ),
        &format!("sites:\n{sites}"),
    );
    // The poller's deadline per site is five requests with their retry (sites.md); sites
    // are polled side by side, their echoes (five, 100 ms apart) beside their SNMP.
    let deadline = SNMP_TIMEOUT * 2 * 5;
    let bound = STARTUP + deadline + Duration::from_secs(1);
    let db = lab.dir.path().join("store.db");
    let mut command = common::sixfive_in(&lab.netns, &db, &inventory);
    command.args(["sites", "--format", "json"]);
    for b in behaviours {
        command.env(variable(b), b);
    }
    let run = Run::measure(command, bound);
    let document = run.document("sites");
    let sites = document["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| (site["id"].as_str().unwrap().to_owned(), site.clone()))
        .collect();
    (run, sites)
}

/// Fails unless site `site` is in `state` with a reason that names `cause`.
fn expect_site(
    sites: &std::collections::BTreeMap<String, Value>,
    id: &str,
    state: &str,
    cause: &str,
) {
    let site = &sites[id];
    let reasons = site["reasons"].to_string();
    assert!(
        site["state"] == state && reasons.contains(cause),
        "{id}: want {state} naming `{cause}`, got {site:#}"
    );
}

#[test]
fn misbehaving_snmp_agents_end_within_the_deadline_each_with_its_reason() {
    let Some(mut lab) = Lab::new(6) else {
        return;
    };
    let (run, sites) = snmp_sites(&mut lab);
    // The CI contract: 1, some site critical or worse.
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    // Answers that are not to our request read as none; the router answers ping.
    expect_site(&sites, "wrong-id", "critical", "no answer (timeout)");
    expect_site(&sites, "garbage", "critical", "no answer (timeout)");
    // A broken table is a fault of the poll; the system group still stands.
    expect_site(&sites, "loop", "degraded", "does not follow");
    expect_site(&sites, "endless", "degraded", "more than 10000 rows");
    expect_site(&sites, "huge", "degraded", "bytes of values");
    assert_eq!(sites["loop"]["system"]["descr"], "hostile loop");
    // The 60,000-byte sysDescr is cut, not kept whole in the report and the store.
    let descr = sites["huge"]["system"]["descr"].as_str().unwrap();
    assert!(
        descr.starts_with("HHH") && descr.len() <= 1024,
        "{}",
        descr.len()
    );
}

// --- TLS and SMTP ----------------------------------------------------------------------

/// Certificates the chain of the `chain` host holds: hundreds, about 300 KB.
const CHAIN_LENGTH: usize = 300;

/// A leaf for `host` and its key, followed by CHAIN_LENGTH copies of its CA, in PEM.
fn long_chain(dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![host.to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let chain = dir.join("chain.pem");
    std::fs::write(&chain, leaf.pem() + &ca_pem.repeat(CHAIN_LENGTH)).unwrap();
    let key_file = dir.join("key.pem");
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (chain, key_file)
}

#[test]
fn a_huge_chain_a_stalled_handshake_and_a_dripping_banner_end_in_time() {
    let Some(mut lab) = Lab::new(7) else {
        return;
    };
    let zone = [
        format!("chain.hostile.test={},{}", CHAIN.0, CHAIN.1),
        format!("stall.hostile.test={},{}", STALL.0, STALL.1),
        format!("drip.hostile.test={},{}", DRIP.0, DRIP.1),
    ];
    lab.dns("zone", &zone);
    let (chain, key) = long_chain(lab.dir.path(), "chain.hostile.test");
    let (chain, key) = (chain.to_str().unwrap(), key.to_str().unwrap());
    let on = |(v6, v4): (&'static str, &'static str)| ["--listen", v6, "--listen", v4];
    lab.serve(
        &[
            &["tls-chain", "--port", "443", "--chain", chain, "--key", key][..],
            &on(CHAIN),
        ]
        .concat(),
    );
    lab.serve(&[&["tls-stall", "--port", "443"][..], &on(STALL)].concat());
    lab.serve(&[&["smtp-drip", "--port", "25"][..], &on(DRIP)].concat());
    let (connect, http, smtp) = (
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(2),
    );
    let inventory = lab.inventory(
        &format!(
            "  resolvers: [\"[{DNS6}]:53\"]\n  timeouts: {{ dns: 1s, connect: {}s, http: {}s, smtp: {}s }}\n",
            connect.as_secs(),
            http.as_secs(),
            smtp.as_secs()
        ),
        "hosts:\n\
         \x20 - { fqdn: chain.hostile.test, agency: lab, internal: true, services: [https] }\n\
         \x20 - { fqdn: stall.hostile.test, agency: lab, internal: true, services: [https] }\n\
         \x20 - { fqdn: drip.hostile.test, agency: lab, internal: true, services: [smtp] }\n",
    );
    // Each host's probes run side by side: a fetch within its connect and HTTP deadlines,
    // an SMTP session (its connect included) within the SMTP deadline.
    let bound = STARTUP + (connect + http).max(smtp);
    let run = lab.sixfive(&inventory, &["check", "--format", "json"], bound);
    let document = run.document("check");
    let level = |fqdn: &str| {
        document["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["fqdn"] == fqdn)
            .map(|h| h["level"].clone())
    };
    // rustls refuses the chain's 300 KB message (a handshake message holds 64 KB at most).
    let chain = checks(&document, "chain.hostile.test");
    expect_check(chain, "tls.v6", "fail", "HandshakePayloadTooLarge");
    // Both families stall alike: IPv6 is no worse than IPv4, so L1, not BROKEN; the fetch's
    // deadline covers the handshake, so http.v6 says it stalled and tls.v6 points there.
    let stall = checks(&document, "stall.hostile.test");
    expect_check(
        stall,
        "http.v6",
        "warn",
        "connected, but the answer stalled (timeout)",
    );
    expect_check(stall, "tls.v6", "skip", "see http.v6");
    assert_eq!(level("stall.hostile.test"), Some("L1".into()));
    // No banner within the SMTP deadline: smtp.v6 fails, which makes the host BROKEN
    // (readiness.md), and the exit code 2.
    let drip = checks(&document, "drip.hostile.test");
    expect_check(drip, "smtp.v6", "fail", "no greeting in time");
    assert_eq!(level("drip.hostile.test"), Some("BROKEN".into()));
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
}
