//! sixfive needs no root. As `nobody`, in a namespace of the test's own: `sites` pings a
//! router through the kernel's ping sockets where net.ipv4.ping_group_range lets the user's
//! group open them (the range governs ICMPv6 too), or through a raw socket with
//! CAP_NET_RAW alone; with neither, each site says on one line that the scanner could not
//! ping and what to change, and the rest of the poll (SNMP) goes on. The sysctl is per
//! namespace, so the test sets it in its own.

use std::process::Command;

use serde_json::Value;

#[path = "common/netns.rs"]
mod netns;
#[path = "common/skip.rs"]
mod skip;
use netns::{Netns, as_nobody, ip, sandbox, which};

/// Every group's id: nogroup is 65534.
const EVERY_GROUP: &str = "0 2147483647";
/// The kernel's default in a new namespace: no group may open a ping socket.
const NO_GROUP: &str = "1 0";

#[test]
fn an_unprivileged_user_pings_through_ping_sockets_and_is_told_when_it_cannot() {
    if !nix::unistd::getuid().is_root() || !which("ip") || !which("setpriv") {
        skip::skip("needs root, iproute2 and setpriv to run sixfive as nobody in a namespace");
        return;
    }
    let name = format!("sfpriv-{}", std::process::id());
    let _netns = Netns(vec![name.clone()]);
    ip(&format!("netns add {name}"));
    ip(&format!("-n {name} link set lo up"));
    // The router's address, on loopback: it answers echoes, and no SNMP agent listens.
    ip(&format!("-n {name} address add fd00:77::1/64 dev lo nodad"));
    let dir = sandbox();
    let inventory = dir.path().join("city.yaml");
    std::fs::write(
        &inventory,
        "version: 1\nscan:\n  timeouts: { snmp: 500ms }\n  scope: [fd00:77::/64]\n\
         agencies: [{ id: lab, name: Lab }]\nsites:\n  - { id: ward, name: Ward office, \
         agency: lab, address: 'fd00:77::1', profile: generic, \
         snmp: { version: 2c, community_env: SIXFIVE_TEST_COMMUNITY } }\n",
    )
    .unwrap();
    let poll = |range: &str, capabilities: &[&str]| -> (Value, String) {
        let set = Command::new("ip")
            .args(["netns", "exec", &name, "sysctl", "-q", "-w"])
            .arg(format!("net.ipv4.ping_group_range={range}"))
            .status()
            .unwrap();
        assert!(set.success());
        let mut words = vec!["netns", "exec", &name];
        words.extend(as_nobody());
        words.extend(capabilities);
        let out = Command::new("ip")
            .args(words)
            .arg(env!("CARGO_BIN_EXE_sixfive"))
            .arg("--db")
            .arg(dir.path().join("store.db"))
            .arg("--inventory")
            .arg(&inventory)
            .args(["sites", "--format", "json", "--pings", "2"])
            .env("SIXFIVE_TEST_COMMUNITY", "public-7c1e")
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // The sites' contract: 1, as the router is critical or unreachable.
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let document: Value = serde_json::from_slice(&out.stdout).unwrap();
        (document["sites"][0].clone(), stderr)
    };

    let raw = ["--inh-caps=+net_raw", "--ambient-caps=+net_raw"];
    for (range, capabilities) in [(EVERY_GROUP, &[][..]), (NO_GROUP, &raw)] {
        let (pinged, stderr) = poll(range, capabilities);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(
            pinged["loss"]["v6"], 0.0,
            "{range} {capabilities:?}: {pinged:#}"
        );
        assert!(pinged["latency_ms"]["v6"].as_f64().is_some(), "{pinged:#}");
        assert_eq!(pinged["state"], "critical", "SNMP is silent: {pinged:#}");
    }

    let (refused, stderr) = poll(NO_GROUP, &[]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(refused["latency_ms"]["v6"], Value::Null, "{refused:#}");
    let reasons = refused["reasons"].to_string();
    assert!(
        reasons.contains("cannot open an ICMP socket (permission denied)")
            && reasons.contains("CAP_NET_RAW")
            && reasons.contains("net.ipv4.ping_group_range"),
        "{refused:#}"
    );
    assert!(!reasons.contains("\\n"), "one line each: {refused:#}");
    assert!(
        reasons.contains("no SNMP answer from fd00:77::1"),
        "SNMP was still asked: {refused:#}"
    );
}
