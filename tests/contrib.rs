//! The files under contrib/ as their own tools read them: promtool checks the Prometheus
//! configuration and rules and runs the rules' unit tests, systemd-analyze verifies the
//! agent's unit and rates its hardening, and the rules and the Grafana dashboard name only
//! the agent's metrics. A missing tool skips its test (tests/common/skip.rs); under
//! SIXFIVE_LAB=required it fails. tests/lab/install installs them (packages.txt).

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[path = "common/skip.rs"]
mod skip;

/// The agent's metric names. They must match agent.md's "Metrics" table until the agent's
/// metrics module exists; then this list should come from that module.
const METRICS: &[&str] = &[
    "sixfive_host_level",
    "sixfive_host_score",
    "sixfive_host_regressed",
    "sixfive_agency_hosts",
    "sixfive_agency_target_timestamp_seconds",
    "sixfive_check_hosts",
    "sixfive_site_state",
    "sixfive_site_rsrp_dbm",
    "sixfive_site_rsrq_db",
    "sixfive_site_sinr_db",
    "sixfive_site_uplink_up",
    "sixfive_site_latency_seconds",
    "sixfive_site_loss_ratio",
    "sixfive_site_wan_ipv6",
    "sixfive_run_duration_seconds",
    "sixfive_last_complete_run_timestamp_seconds",
    "sixfive_probes_total",
    "sixfive_host_check",
];

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `command`, or records a skip and returns None when its program is not installed.
fn run(command: &mut Command) -> Option<Output> {
    match command.output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            skip::skip(&format!(
                "no {}: tests/lab/install installs it",
                command.get_program().to_string_lossy()
            ));
            None
        }
        Err(e) => panic!("{command:?}: {e}"),
    }
}

/// Fails with the tool's output unless it succeeded.
fn assert_success(output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{}\n{text}", output.status);
    text
}

/// promtool on files of contrib/prometheus (relative paths resolve against it).
fn promtool(args: &[&str]) -> Option<String> {
    run(Command::new("promtool")
        .args(args)
        .current_dir(contrib("prometheus")))
    .map(|output| assert_success(&output))
}

/// Every `sixfive_…` name in `text`: a whole token of name characters. Recording rules'
/// names (`agency:sixfive_…:ratio`) hold colons and start otherwise, so they are not taken.
fn metric_names(text: &str) -> BTreeSet<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|token| token.starts_with("sixfive_"))
        .collect()
}

fn assert_known_metrics(file: &str, names: &BTreeSet<&str>) {
    let unknown: Vec<_> = names.iter().filter(|n| !METRICS.contains(n)).collect();
    assert!(
        unknown.is_empty(),
        "{file} names metrics the agent has not: {unknown:?}"
    );
}

#[test]
fn promtool_accepts_the_scrape_configuration_and_the_rules() {
    // `check config` also checks the rule files the configuration loads.
    let Some(out) = promtool(&["check", "config", "prometheus.yml"]) else {
        return;
    };
    assert!(out.contains("1 rule files found"), "{out}");
    promtool(&["check", "rules", "rules.yml"]);
}

#[test]
fn the_rules_unit_tests_pass() {
    promtool(&["test", "rules", "rules.test.yml"]);
}

/// Each alert's tests include an evaluation where it fires and one where it must not.
#[test]
fn every_alert_is_tested_firing_and_not_firing() {
    let yaml = |name: &str| -> Value {
        serde_saphyr::from_str(&read(&contrib(name))).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let rules = yaml("prometheus/rules.yml");
    let tests = yaml("prometheus/rules.test.yml");
    let alerts: Vec<&str> = rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_array().unwrap())
        .filter_map(|rule| rule["alert"].as_str())
        .collect();
    assert!(!alerts.is_empty());
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|test| test["alert_rule_test"].as_array().into_iter().flatten())
        .collect();
    for alert in alerts {
        let fires = |fires: bool| {
            cases.iter().any(|case| {
                case["alertname"] == alert
                    && case["exp_alerts"]
                        .as_array()
                        .is_some_and(|a| a.is_empty() != fires)
            })
        };
        assert!(fires(true), "no test where {alert} fires");
        assert!(fires(false), "no test where {alert} must not fire");
    }
}

#[test]
fn the_prometheus_files_name_only_the_agents_metrics() {
    for file in ["prometheus/rules.yml", "prometheus/rules.test.yml"] {
        let text = read(&contrib(file));
        let names = metric_names(&text);
        assert!(!names.is_empty(), "{file} names no metric");
        assert_known_metrics(file, &names);
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&read(&contrib("grafana/sixfive.json"))).expect("the dashboard is JSON")
}

/// Every query of the dashboard: the panels' expressions and the variables' queries.
fn queries(dashboard: &Value) -> (Vec<String>, Vec<String>) {
    let panels = dashboard["panels"].as_array().expect("panels");
    let exprs = panels
        .iter()
        .flat_map(|panel| panel["targets"].as_array().expect("targets"))
        .map(|target| target["expr"].as_str().expect("expr").to_owned())
        .collect();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .filter(|variable| variable["type"] == "query")
        .map(|variable| {
            variable["definition"]
                .as_str()
                .expect("definition")
                .to_owned()
        })
        .collect();
    (exprs, variables)
}

#[test]
fn the_dashboard_asks_for_its_data_source_and_names_only_the_agents_metrics() {
    let dashboard = dashboard();
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    for panel in dashboard["panels"].as_array().unwrap() {
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
    }
    let (exprs, variables) = queries(&dashboard);
    for name in ["agency", "zone"] {
        assert!(
            variables
                .iter()
                .any(|q| q.starts_with("label_values(") && q.contains(&format!(", {name})"))),
            "no {name} variable from label_values: {variables:?}"
        );
    }
    let text = [exprs, variables].concat().join("\n");
    assert_known_metrics("grafana/sixfive.json", &metric_names(&text));
}

/// The panels' expressions parse as PromQL, with the dashboard's variables filled in.
#[test]
fn the_dashboards_expressions_are_promql() {
    let (exprs, _) = queries(&dashboard());
    let rules: String = exprs
        .iter()
        .enumerate()
        .map(|(i, expr)| {
            let expr = expr
                .replace("$agency", ".*")
                .replace("$zone", ".*")
                .replace("$required", "L[2-5]");
            format!("      - record: panel_query_{i}\n        expr: {expr:?}\n")
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard.rules.yml");
    std::fs::write(
        &file,
        format!("groups:\n  - name: dashboard\n    rules:\n{rules}"),
    )
    .unwrap();
    if let Some(output) = run(Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&file))
    {
        assert_success(&output);
    }
}

/// The unit as installed, but starting the binary this build made (systemd-analyze wants
/// ExecStart to exist), in a folder of its own; with sixfive(1) where `man` finds it.
fn unit_under_test(dir: &Path) -> PathBuf {
    let installed = "ExecStart=/usr/bin/sixfive ";
    let unit = read(&contrib("systemd/sixfive-agent.service"));
    assert!(unit.contains(installed), "{unit}");
    let binary = env!("CARGO_BIN_EXE_sixfive");
    let path = dir.join("sixfive-agent.service");
    std::fs::write(
        &path,
        unit.replace(installed, &format!("ExecStart={binary} ")),
    )
    .unwrap();
    let man = Command::new(binary).arg("man").output().unwrap();
    assert_success(&man);
    std::fs::create_dir_all(dir.join("man/man1")).unwrap();
    std::fs::write(dir.join("man/man1/sixfive.1"), man.stdout).unwrap();
    path
}

#[test]
fn systemd_analyze_verifies_the_unit_without_a_word_about_it() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    let Some(output) = run(Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("MANPATH", dir.path().join("man")))
    else {
        return;
    };
    let text = assert_success(&output);
    let about_it: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("sixfive"))
        .collect();
    assert!(about_it.is_empty(), "{about_it:#?}");
}

/// systemd's exposure score of the unit, 0 (locked down) to 10: 1.9 with systemd 252, the
/// network probes' CAP_NET_RAW and sockets being most of it.
#[test]
fn the_units_exposure_stays_low() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_under_test(dir.path());
    let Some(output) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes"])
        .arg(&unit))
    else {
        return;
    };
    if String::from_utf8_lossy(&output.stderr).contains("unrecognized option") {
        return skip::skip("no systemd-analyze security --offline: it needs systemd 250");
    }
    let text = assert_success(&output);
    let score: f64 = text
        .lines()
        .find_map(|line| line.split_once("Overall exposure level for sixfive-agent.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure level in:\n{text}"));
    assert!(score <= 2.0, "exposure {score}, more than 2.0:\n{text}");
}
