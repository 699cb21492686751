//! Rate and scope, proven at the peers: `sixfive check` inside the network lab, with nft
//! counters and a listener on the lab hosts' side (tests/lab/README.md, "Rate and scope")
//! counting what really arrives. `scan.rate` holds in every window of the run,
//! `scan.per_host` holds at one address, and an address outside `scan.scope`, reached by
//! DNS, a CNAME, an MX, a name server or a redirect, receives not one packet and is
//! reported as out of scope.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use sixfive_checks::probe::pace::Pace;

mod common;
use common::{lab, sixfive_in};

/// The lab's counters are shared: one test at a time, so no test's probes land in
/// another's count.
static COUNTERS: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    COUNTERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The lab's run directory (tests/lab/up's `$SIXFIVE_LAB_DIR`).
fn lab_dir() -> PathBuf {
    std::env::var_os("SIXFIVE_LAB_DIR").map_or_else(|| "/tmp/sixfive-lab".into(), PathBuf::from)
}

/// Writes an inventory of `hosts` (every one internal, with `services`) scanned with the
/// lab's resolvers and the `scan:` settings in `scan` (YAML lines, indented by two).
fn inventory(dir: &Path, scan: &str, hosts: &[(String, &str)]) -> PathBuf {
    let mut text = format!(
        "version: 1\nscan:\n  resolvers: [\"[fd00:53::153]:53\", \"198.18.0.153:53\"]\n  \
         timeouts: {{ dns: 2s, connect: 2s, http: 4s, smtp: 4s }}\n  ca_file: {}\n{scan}\
         agencies:\n  - {{ id: lab, name: Lab, name_vi: Lab }}\nhosts:\n",
        lab_dir().join("ca.pem").display()
    );
    for (fqdn, services) in hosts {
        text += &format!(
            "  - {{ fqdn: {fqdn}, agency: lab, internal: true, services: [{services}] }}\n"
        );
    }
    let path = dir.join("city.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `sixfive check --format json` in `netns`, ready to start.
fn check(netns: &str, dir: &Path, inventory: &Path) -> Command {
    let mut command = sixfive_in(netns, &dir.join("store.db"), inventory);
    command.args(["check", "--format", "json"]);
    command
}

/// The packets an nft counter in `netns` has counted so far.
fn counter(netns: &str, table: &str, name: &str) -> u64 {
    let out = Command::new("ip")
        .args([
            "netns", "exec", netns, "nft", "-j", "list", "counter", "inet",
        ])
        .args([table, name])
        .output()
        .expect("ip netns exec runs");
    assert!(
        out.status.success(),
        "nft in {netns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    listing["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|item| item["counter"]["packets"].as_u64())
        .unwrap_or_else(|| panic!("no counter {table} {name} in {netns}: {listing}"))
}

/// The entries of check `id` for `fqdn` in a `sixfive check` document.
fn entries<'a>(document: &'a Value, fqdn: &str, id: &str) -> Vec<&'a Value> {
    let host = document["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["fqdn"] == fqdn)
        .unwrap_or_else(|| panic!("{fqdn} is missing: {document:#}"));
    let checks = host["checks"].as_array().unwrap().iter();
    checks.filter(|e| e["id"] == id).collect()
}

/// What the scope test's scan reaches outside its scope, each host by another path: sfl-out's
/// fd00:9::1 and 198.18.9.1, where a web and an SMTP listener would answer.
#[test]
fn an_address_outside_the_scope_is_never_contacted_and_is_reported() {
    let Some((netns, _)) = lab() else { return };
    let _counters = serial();
    let dir = tempfile::tempdir().unwrap();
    // The lab's hosts and name servers, not sfl-out (fd00:9::/64, 198.18.9.0/24).
    let scope = "  scope: [fd00:1::/64, fd00:53::/64, 198.18.0.0/24, 198.18.1.0/24]\n";
    let hosts = [
        ("outside.lab.test", "https, http, smtp"), // its own A and AAAA
        ("alias-out.lab.test", "https, http"),     // a CNAME to outside
        ("mail-out.lab.test", "smtp"),             // its MX exchange is outside
        ("leave.lab.test", "https, http"),         // a redirect to http://outside.lab.test/
        ("leave-ip.lab.test", "http"),             // a redirect to http://[fd00:9::1]/
        ("www.outside.test", "http"),              // its zone's name server is outside
    ];
    let hosts: Vec<(String, &str)> = hosts.iter().map(|(h, s)| ((*h).into(), *s)).collect();
    let city = inventory(dir.path(), scope, &hosts);

    let before = counter("sfl-out", "sfl_scope", "outside");
    let out = check(&netns, dir.path(), &city).output().unwrap();
    let reached = counter("sfl-out", "sfl_scope", "outside") - before;
    let document: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(reached, 0, "packets reached sfl-out: {document:#}");

    // Each probe that would have gone to sfl-out says so, and decides nothing.
    let v6 = "fd00:9::1 is outside scan.scope: not probed";
    let v4 = "198.18.9.1 is outside scan.scope: not probed";
    let refused = [
        ("outside.lab.test", "tcp.v6", v6),
        ("outside.lab.test", "icmp.v6", v6),
        ("outside.lab.test", "http.v6", v6),
        ("outside.lab.test", "http.parity", v4),
        ("outside.lab.test", "tls.v6", v6),
        ("outside.lab.test", "smtp.v6", v6),
        ("alias-out.lab.test", "tcp.v6", v6),
        ("alias-out.lab.test", "http.v6", v6),
        ("alias-out.lab.test", "http.parity", v4),
        ("mail-out.lab.test", "smtp.v6", v6),
        ("www.outside.test", "dns.ns_v6", v6),
        ("www.outside.test", "dns.v6_only", v6),
    ];
    for (fqdn, id, detail) in refused {
        let found = entries(&document, fqdn, id);
        assert!(!found.is_empty(), "{fqdn} has no {id}");
        for entry in found {
            assert_eq!(entry["status"], "error", "{fqdn}: {entry:#}");
            assert!(
                entry["detail"].as_str().unwrap().contains(detail),
                "{fqdn}: {entry:#}"
            );
        }
    }
    // The redirect is followed up to the edge of the scope, and the hop beyond named.
    for entry in entries(&document, "leave.lab.test", "http.redirect_v6") {
        let end = &entry["evidence"]["chain"]["end"];
        assert_eq!(end["out_of_scope"], "http://outside.lab.test/", "{entry:#}");
        assert!(
            entry["detail"]
                .as_str()
                .unwrap()
                .contains("outside scan.scope (not probed)")
        );
    }

    // A redirect to an address literal is refused at the same edge, no name looked up.
    let redirects = entries(&document, "leave-ip.lab.test", "http.redirect_v6");
    assert!(!redirects.is_empty(), "leave-ip has no http.redirect_v6");
    for entry in redirects {
        let end = &entry["evidence"]["chain"]["end"];
        assert_eq!(end["out_of_scope"], "http://[fd00:9::1]/", "{entry:#}");
    }

    // The counter counts: what the scan left alone, a plain client reaches.
    for url in ["http://[fd00:9::1]/", "http://198.18.9.1/"] {
        let curl = Command::new("ip")
            .args(["netns", "exec", &netns, "curl", "-sSf", "-o", "/dev/null"])
            .args(["--max-time", "5", url])
            .status()
            .unwrap();
        assert!(curl.success(), "{url} answers from {netns}");
    }
    let control = counter("sfl-out", "sfl_scope", "outside") - before;
    assert!(control > 0, "the control fetches were not counted");
}

/// One reading of a counter: taken between `from` and `to`.
struct Sample {
    from: Instant,
    to: Instant,
    packets: u64,
}

/// Runs `command` to its end while reading an nft counter every 50 ms; fails unless it
/// ends with one of `sixfive check`'s verdicts (0 to 3).
fn sampled(mut command: Command, netns: &str, table: &str, name: &str) -> Vec<Sample> {
    let read = || {
        let from = Instant::now();
        let packets = counter(netns, table, name);
        Sample {
            from,
            to: Instant::now(),
            packets,
        }
    };
    let mut samples = vec![read()];
    let mut child = command.stdout(Stdio::null()).spawn().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
        samples.push(read());
    };
    samples.push(read());
    assert!(
        matches!(status.code(), Some(0..=3)),
        "sixfive check: {status}"
    );
    samples
}

/// `scan.rate` counted at the peers: sfl-srv's `probes` counter (TCP SYNs, ICMP echo
/// requests and DNS queries from the scanner to many.test's own addresses), read every
/// 50 ms while its 100 hosts, spread over four addresses, are checked at 100/s.
#[test]
fn the_scan_rate_holds_in_every_window_at_the_peers() {
    let Some((netns, _)) = lab() else { return };
    let _counters = serial();
    const RATE: f64 = 100.0;
    let dir = tempfile::tempdir().unwrap();
    let hosts: Vec<(String, &str)> = (1..=100)
        .map(|i| (format!("r{i}.many.test"), "http"))
        .collect();
    let scan = format!("  rate: {RATE}/s\n  scope: [fd00::/8, 198.18.0.0/15]\n");
    let city = inventory(dir.path(), &scan, &hosts);
    let started = Instant::now();
    let check = check(&netns, dir.path(), &city);
    let samples = sampled(check, "sfl-srv", "sfl_rate", "probes");
    let took = started.elapsed();

    // Between any two readings at most RATE × the time between them, plus the pace's
    // burst and what LATE lets through: a probe's packet reaches the peer a little after
    // its turn, and a few late ones can crowd into the same window as those on time (on a
    // busy 2-core machine, well under LATE).
    let burst = Pace::burst(std::num::NonZeroU32::new(RATE as u32).unwrap()).get() as f64;
    const LATE: f64 = 0.03;
    let mut busiest_second = 0;
    // The slowest the scan went for at least two seconds, at its busiest.
    let mut sustained = 0.0_f64;
    let mut worst = (f64::MIN, 0, 0.0);
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            let probes = b.packets - a.packets;
            // The longest and the shortest the two readings can have been apart.
            let span = (b.to - a.from).as_secs_f64();
            let inner = (b.from - a.to).as_secs_f64();
            if span <= 1.0 {
                busiest_second = busiest_second.max(probes);
            }
            if inner >= 2.0 {
                sustained = sustained.max(probes as f64 / span);
            }
            let excess = probes as f64 - RATE * span;
            if excess > worst.0 {
                worst = (excess, probes, span);
            }
        }
    }
    let total = samples.last().unwrap().packets - samples[0].packets;
    eprintln!(
        "rate {RATE}/s: {total} probes in {took:.1?} ({} readings), at most {busiest_second} \
         in a second, {sustained:.1}/s over 2 s or more; closest to the limit: {} probes in \
         {:.3} s, {:.1} over the rate",
        samples.len(),
        worst.1,
        worst.2,
        worst.0
    );
    assert!(
        total as f64 >= 5.0 * RATE,
        "a run long enough to show the rate"
    );
    assert!(
        worst.0 <= burst + RATE * LATE,
        "{} probes reached the lab's hosts within {:.3} s at {RATE}/s",
        worst.1,
        worst.2
    );
    // The scan presses against the limit: it keeps close to the rate for seconds on end
    // (a busy machine may slow it, hence 80 %).
    assert!(
        sustained >= 0.8 * RATE,
        "{sustained:.1}/s at most over 2 s: the rate was not what held the scan"
    );
}

/// `scan.per_host` at the peer: hold.py answers each request after 0.3 s and logs how many
/// it holds at once, while eight hosts on its one address are checked with
/// `per_host: 3`.
#[test]
fn at_most_per_host_probes_reach_one_address_at_once() {
    let Some((netns, _)) = lab() else { return };
    let _counters = serial();
    let dir = tempfile::tempdir().unwrap();
    let hosts: Vec<(String, &str)> = (1..=8)
        .map(|i| (format!("hold{i}.many.test"), "http"))
        .collect();
    let scan = "  per_host: 3\n  rate: 1000/s\n  scope: [fd00::/8, 198.18.0.0/15]\n";
    let city = inventory(dir.path(), scan, &hosts);
    let log = lab_dir().join("log/hold.log");
    let offset = std::fs::metadata(&log).unwrap().len() as usize;
    let started = Instant::now();
    let out = check(&netns, dir.path(), &city).output().unwrap();
    let took = started.elapsed();
    assert!(
        !out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let held: Vec<u64> = text[offset..]
        .lines()
        .filter_map(|line| line.strip_prefix("held fd00:1::27 "))
        .map(|n| n.parse().unwrap())
        .collect();
    let most = held.iter().copied().max().unwrap_or(0);
    eprintln!(
        "per_host 3: {} requests to fd00:1::27 in {took:.1?}, at most {most} at once",
        held.len()
    );
    // Eight hosts' fetches wait for the one address: the limit is reached, never passed.
    assert_eq!(held.len(), 8, "one fetch of / per host");
    assert_eq!(most, 3, "requests held at once at fd00:1::27");
}
