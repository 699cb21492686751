//! `sixfive sites` against the sites lab (tests/lab/sites/): net-snmp routers in their own
//! namespaces, snmpsim's simulated modems and an agent that breaks walks, polled from the
//! lab's scanner namespace over IPv6 and IPv4. Every case's state and values, reboots and
//! counters across polls (tests/secrets.rs searches every output for the secrets).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::{
    assert_valid, lab, lab_city, sites_lab as lab_dir, sites_secrets as secrets, sixfive_in,
};

/// Runs `sixfive sites` in the scanner namespace on `db`.
fn sites(netns: &str, db: &Path, args: &[&str]) -> Output {
    sixfive_in(netns, db, &lab_dir().join("inventory.yaml"))
        .env("SIXFIVE_LAB_COMMUNITY", &secrets()[0])
        .arg("sites")
        .args(args)
        .output()
        .expect("ip netns exec runs")
}

/// Polls and returns each site's report by id; the exit code is the CI contract's for the
/// states reported (`--fail-on critical`: 1 when some site is critical or worse).
fn poll(netns: &str, db: &Path, args: &[&str]) -> BTreeMap<String, Value> {
    let out = sites(netns, db, &[&["--format", "json"], args].concat());
    let document: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(document["schema"], "sixfive.sites/v1");
    assert_valid("sites", &document);
    let sites: BTreeMap<String, Value> = document["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| (site["id"].as_str().unwrap().to_owned(), site.clone()))
        .collect();
    let failing = sites.values().any(|s| {
        ["critical", "unreachable", "auth_failed"].contains(&s["state"].as_str().unwrap())
    });
    assert_eq!(
        out.status.code(),
        Some(i32::from(failing)),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sites
}

#[test]
fn the_exit_code_says_whether_a_site_is_as_bad_as_fail_on() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let code = |args: &[&str]| {
        sites(
            &netns,
            &db,
            &[&["--format", "json", "--pings", "0"], args].concat(),
        )
        .status
        .code()
    };
    // rt-ok is healthy, sim-lte-fair degraded, rt-down critical, wrong-community refused.
    assert_eq!(code(&["--site", "rt-ok", "--fail-on", "degraded"]), Some(0));
    assert_eq!(code(&["--site", "sim-lte-fair"]), Some(0));
    assert_eq!(
        code(&["--site", "sim-lte-fair", "--fail-on", "degraded"]),
        Some(1)
    );
    assert_eq!(code(&["--site", "rt-down"]), Some(1));
    assert_eq!(
        code(&["--site", "rt-down", "--fail-on", "unreachable"]),
        Some(0)
    );
    assert_eq!(
        code(&["--site", "wrong-community", "--fail-on", "unreachable"]),
        Some(1)
    );
}

fn reasons(site: &Value) -> String {
    site["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("; ")
}

#[track_caller]
fn expect_state(site: &Value, state: &str, because: &str) {
    assert_eq!(site["state"], state, "{site:#}");
    assert!(
        reasons(site).contains(because),
        "{} lacks `{because}`: {site:#}",
        site["id"]
    );
}

#[test]
fn every_site_is_graded_as_its_case_says() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sites = poll(&netns, &dir.path().join("store.db"), &[]);
    assert_eq!(sites.len(), 23, "{:?}", sites.keys());

    for id in ["rt-ok", "rt-ok-v4", "rt-v3", "rt-v3-aes256"] {
        let site = &sites[id];
        assert_eq!(site["state"], "ok", "{site:#}");
        assert_eq!(site["uplink"]["name"], "wwan0", "{id}");
        assert_eq!(site["uplink"]["oper_status"], "up", "{id}");
        assert_eq!(
            site["wan_ipv6"],
            serde_json::json!(["fd00:5d:11::1"]),
            "{id}"
        );
        assert_eq!(site["system"]["name"], "rt-ok", "{id}");
        assert!(site["uptime_s"].as_u64().is_some(), "{id}");
    }
    let via = |id: &str| sites[id]["polled_via"].as_str().unwrap().to_owned();
    assert_eq!(via("rt-ok"), "v6");
    assert_eq!(via("rt-v3"), "v6");
    assert_eq!(via("rt-ok-v4"), "v4");
    assert_eq!(via("rt-v3-aes256"), "v4");
    let ok = &sites["rt-ok"];
    assert_eq!(ok["loss"]["v6"], 0.0);
    assert!(ok["latency_ms"]["v6"].as_f64().unwrap() > 0.0);
    assert!(ok["latency_ms"]["v4"].is_null(), "no IPv4 address to ping");
    assert!(
        ok["uplink"]["in_bps"].is_null(),
        "no rate from a first poll"
    );

    expect_state(&sites["rt-nov6"], "degraded", "no IPv6 address on the WAN");
    assert_eq!(sites["rt-nov6"]["wan_ipv6"], serde_json::json!([]));
    expect_state(&sites["rt-down"], "critical", "the uplink is down");
    assert_eq!(sites["rt-down"]["uplink"]["oper_status"], "down");
    let lossy = &sites["rt-lossy"];
    expect_state(lossy, "critical", "packet loss");
    let loss = lossy["loss"]["v6"].as_f64().unwrap();
    assert!(
        (0.4..=0.6).contains(&loss),
        "every second echo dropped: {loss}"
    );
    expect_state(
        &sites["rt-noagent"],
        "critical",
        "no usable SNMP answer, though the router answers ping",
    );
    expect_state(&sites["gone"], "unreachable", "no SNMP and no ICMP answer");
    // Its agent ignores IPv6: polled over IPv4, pinged over both.
    let fallback = &sites["fallback"];
    assert_eq!(fallback["polled_via"], "v4", "{fallback:#}");
    assert!(reasons(fallback).contains("no SNMP answer from fd00:5c::12"));
    assert!(fallback["latency_ms"]["v6"].as_f64().is_some());
    assert!(fallback["latency_ms"]["v4"].as_f64().is_some());
    // 300 interfaces at 0.9 s an answer would take half a minute: the deadline ends it,
    // and the other sites' polls did not wait for it.
    let slow = &sites["slow"];
    expect_state(slow, "critical", "did not finish within its deadline");
    // The lab's deadline is 10 s (1 s timeout, one retry, five requests' worth).
    assert!(slow["took_ms"].as_f64().unwrap() < 15_000.0, "{slow:#}");
    assert!(sites["gone"]["polled_via"].is_null());
    for id in ["wrong-community", "wrong-v3-key"] {
        expect_state(&sites[id], "auth_failed", "refused the credentials");
    }

    let healthy = &sites["sim-sa-healthy"];
    assert_eq!(healthy["state"], "ok", "{healthy:#}");
    let radio = &healthy["radio"];
    assert_eq!(radio["technology"], "5G-SA");
    assert_eq!(
        (&radio["rsrp_dbm"], &radio["rsrq_db"], &radio["sinr_db"]),
        (&Value::from(-75.0), &Value::from(-8.0), &Value::from(25.0))
    );
    assert_eq!(radio["rssi_dbm"], -51.0);
    assert_eq!(radio["operator"], "Viettel");
    assert_eq!(radio["cell_id"], "1A2B3C");
    assert_eq!(healthy["quality"]["rsrp"], "excellent");
    assert_eq!(healthy["wan_ipv6"], serde_json::json!(["fd00:5d:20::1"]));
    assert_eq!(healthy["uplink"]["in_errors"], 12);
    assert_eq!(
        healthy["modem"],
        serde_json::json!({
            "connection_state": "Connected",
            "sim_state": "inserted",
            "network_state": "Registered, home",
            "temperature_c": 43.0,
            "connection_uptime_s": 366303,
        }),
        "tenths of a degree, and the uptime beside the modem table"
    );

    let fair = &sites["sim-lte-fair"];
    expect_state(fair, "degraded", "RSRP -95 dBm is fair");
    expect_state(fair, "degraded", "SINR 8 dB is fair");
    expect_state(
        fair,
        "degraded",
        "modem at 81.2 °C, above the 75 °C it is rated for",
    );
    assert_eq!(fair["polled_via"], "v4");
    assert_eq!(fair["radio"]["technology"], "LTE");
    // The same columns as INTEGERs (a TRB500) and as strings read the same.
    assert_eq!(fair["radio"]["rssi_dbm"], -67.0, "{fair:#}");
    assert_eq!(fair["radio"]["rsrq_db"], -12.0, "{fair:#}");
    let poor = &sites["sim-nsa-poor"];
    expect_state(poor, "critical", "RSRP -108 dBm is poor");
    assert_eq!(poor["radio"]["technology"], "5G-NSA");
    assert_eq!(
        poor["radio"]["rssi_dbm"], -83.0,
        "a RUTM's RSSI is a string: {poor:#}"
    );
    assert_eq!(poor["radio"]["sinr_db"], -2.0, "{poor:#}");
    expect_state(
        poor,
        "critical",
        "the modem reports its data connection disconnected",
    );
    assert_eq!(poor["modem"]["network_state"], "Registered, roaming");

    let cisco = &sites["sim-cisco"];
    assert_eq!(cisco["state"], "ok", "{cisco:#}");
    assert_eq!(cisco["radio"]["rsrq_db"], -10.5, "tenths of a dB");
    assert_eq!(cisco["radio"]["sinr_db"], 14.5);
    assert_eq!(cisco["uplink"]["name"], "Cellular0/1/0");
    assert_eq!(cisco["radio"]["band"], "3", "an Unsigned32: {cisco:#}");
    // From CISCO-WAN-3G-MIB, a second table at the same row.
    assert_eq!(cisco["radio"]["rssi_dbm"], -71.0, "{cisco:#}");
    assert_eq!(cisco["radio"]["cell_id"], "43981");
    // Before RutOS 7: scalars under 48690.2.N.0, all strings.
    let legacy = &sites["sim-rut-legacy"];
    assert_eq!(legacy["state"], "ok", "{legacy:#}");
    let radio = &legacy["radio"];
    assert_eq!(
        (
            &radio["rsrp_dbm"],
            &radio["rsrq_db"],
            &radio["sinr_db"],
            &radio["rssi_dbm"]
        ),
        (
            &Value::from(-78.0),
            &Value::from(-9.0),
            &Value::from(21.4),
            &Value::from(-55.0)
        )
    );
    assert_eq!(radio["cell_id"], "3F2A");
    assert_eq!(radio["technology"], "LTE");
    assert_eq!(
        legacy["modem"],
        serde_json::json!({
            "connection_state": "connected",
            "sim_state": "inserted",
            "network_state": "registered (home)",
            "temperature_c": 41.2,
            "connection_uptime_s": null,
        })
    );
    // The modem row is the uplink's ifIndex (7), not the first row (3, a down interface's).
    let mikrotik = &sites["sim-mikrotik"];
    assert_eq!(mikrotik["state"], "ok", "{mikrotik:#}");
    assert_eq!(mikrotik["uplink"]["name"], "lte1");
    assert_eq!(mikrotik["radio"]["rsrp_dbm"], -84.0, "{mikrotik:#}");
    assert_eq!(mikrotik["radio"]["cell_id"], "2345678");
    assert_eq!(mikrotik["radio"]["technology"], "5G NSA");
    let peplink = &sites["sim-peplink-na"];
    assert_eq!(peplink["state"], "ok", "{peplink:#}");
    assert!(
        peplink["radio"]["rsrp_dbm"].is_null(),
        "-9999 is not a value"
    );
    assert!(peplink["radio"]["sinr_db"].is_null());
    assert_eq!(peplink["radio"]["rsrq_db"], -11.0);
    // Row 0 is an idle modem (-9999 everywhere, "LTE"): the active one in row 1 is read.
    assert_eq!(peplink["radio"]["technology"], "5G", "{peplink:#}");
    assert_eq!(peplink["radio"]["band"], "n78");

    // Refuses any answer of more than 4 bindings: even one row of the 6 interface columns.
    let cramped = &sites["too-big"];
    assert_eq!(cramped["state"], "ok", "{cramped:#}");
    assert_eq!(cramped["uplink"]["name"], "wwan0");
    assert_eq!(cramped["wan_ipv6"], serde_json::json!(["fd00:5d:22::1"]));

    let broken = &sites["bad-walk"];
    expect_state(broken, "degraded", "does not follow");
    assert!(
        broken["system"]["name"].is_string(),
        "what was read stands: {broken:#}"
    );
}

#[test]
fn a_reboot_between_polls_degrades_the_site_once() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let only = ["--site", "rt-reboot", "--pings", "1"];
    let first = poll(&netns, &db, &only);
    assert_eq!(first["rt-reboot"]["state"], "ok");
    // An agent restarted within the poller's 5 s tolerance of its last start reads like
    // one that kept running: on a lab just started, let it run past that first.
    let up = first["rt-reboot"]["uptime_s"].as_u64().unwrap();
    if up < 10 {
        std::thread::sleep(std::time::Duration::from_secs(10 - up));
        assert_eq!(poll(&netns, &db, &only)["rt-reboot"]["rebooted"], false);
    }
    let restarted = std::process::Command::new(lab_dir().join("restart-agent"))
        .arg("rt-reboot")
        .status()
        .unwrap();
    assert!(restarted.success());
    let after = &poll(&netns, &db, &only)["rt-reboot"];
    expect_state(after, "degraded", "rebooted since the last poll");
    assert_eq!(after["rebooted"], true);
    assert_eq!(poll(&netns, &db, &only)["rt-reboot"]["state"], "ok");
}

#[test]
fn throughput_and_rising_errors_come_from_counter_deltas_between_polls() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let only = [
        "--site",
        "sim-sa-healthy",
        "--site",
        "sim-peplink-na",
        "--pings",
        "0",
    ];
    let first = &poll(&netns, &db, &only)["sim-sa-healthy"];
    assert!(first["uplink"]["in_bps"].is_null());
    assert!(
        first["latency_ms"]["v6"].is_null(),
        "--pings 0 sends no echo"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let polled = poll(&netns, &db, &only);
    // The simulator adds about 5 input errors a second on this one.
    expect_state(
        &polled["sim-peplink-na"],
        "degraded",
        "new interface errors",
    );
    let second = &polled["sim-sa-healthy"];
    assert_eq!(second["state"], "ok", "{second:#}");
    let in_bps = second["uplink"]["in_bps"].as_f64().unwrap();
    let out_bps = second["uplink"]["out_bps"].as_f64().unwrap();
    // The simulator adds about 1,000,000 octets a second in and 250,000 out.
    assert!((4e6..16e6).contains(&in_bps), "{in_bps}");
    assert!(out_bps > 0.0 && out_bps < in_bps, "{out_bps}");
}

/// `sixfive scan`: hosts of the network lab and sites of the sites lab in one stored run,
/// one summary, and one exit code for both contracts.
#[test]
fn a_scan_runs_hosts_and_sites_in_one_run_with_one_exit_code() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inventory = lab_city(dir.path());
    let db = dir.path().join("store.db");
    let scan = |args: &[&str]| {
        let out = sixfive_in(&netns, &db, &inventory)
            .env("SIXFIVE_LAB_COMMUNITY", &secrets()[0])
            .args(["scan", "--format", "json", "--pings", "0"])
            .args(args)
            .output()
            .unwrap();
        let summary: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), summary)
    };
    let (code, summary) = scan(&["--host", "ready.lab.test", "--site", "rt-ok"]);
    assert_eq!(code, Some(0), "{summary:#}");
    assert_eq!(summary["schema"], "sixfive.scan/v1");
    assert_valid("scan", &summary);
    assert_eq!(
        (
            summary["summary"]["hosts"].as_u64(),
            summary["summary"]["ready"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(summary["sites"]["by_state"]["ok"], 1);
    // One run holds the host's grade and the site's sample.
    let run = summary["run"].as_i64().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store =
            sixfive_inventory::Store::open(&sixfive_inventory::StoreUrl::Sqlite(db.clone()))
                .await
                .unwrap();
        let runs = store.runs().await.unwrap();
        let stored = runs.iter().find(|r| r.id == run).unwrap();
        assert_eq!(stored.kind, sixfive_inventory::store::RunKind::Scan);
        assert_eq!(store.levels(run).await.unwrap().len(), 1);
        assert_eq!(store.samples("rt-ok", 1).await.unwrap().len(), 1);
        store.close().await;
    });
    // A critical site alone fails the sites' contract; a BROKEN host outranks it.
    assert_eq!(
        scan(&["--host", "ready.lab.test", "--site", "rt-down"]).0,
        Some(1)
    );
    assert_eq!(
        scan(&["--host", "noservice6.lab.test", "--site", "rt-down"]).0,
        Some(2)
    );
}
