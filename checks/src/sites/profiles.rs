//! Device profiles: where a router family keeps its radio metrics, as data. Shipped ones
//! are compiled in from `checks/profiles/`; users add a YAML file for a new router without
//! recompiling. Standard MIBs (identity, uptime, interfaces, addresses) are read for every
//! profile, so a profile only names its vendor table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_snmp::Oid;
use serde::Deserialize;

/// The profiles that ship with sixfive, by file.
const SHIPPED: [(&str, &str); 7] = [
    ("generic.yaml", include_str!("../../profiles/generic.yaml")),
    (
        "teltonika-rutx.yaml",
        include_str!("../../profiles/teltonika-rutx.yaml"),
    ),
    (
        "teltonika-rutm.yaml",
        include_str!("../../profiles/teltonika-rutm.yaml"),
    ),
    (
        "teltonika-legacy.yaml",
        include_str!("../../profiles/teltonika-legacy.yaml"),
    ),
    (
        "cisco-cellular.yaml",
        include_str!("../../profiles/cisco-cellular.yaml"),
    ),
    ("peplink.yaml", include_str!("../../profiles/peplink.yaml")),
    (
        "mikrotik.yaml",
        include_str!("../../profiles/mikrotik.yaml"),
    ),
];

/// A radio or modem metric a profile can map. NR (5G) values sit next to the LTE
/// anchor's in NSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    RssiDbm,
    RsrpDbm,
    RsrqDb,
    SinrDb,
    SnrDb,
    NrRsrpDbm,
    NrRsrqDb,
    NrSinrDb,
    Operator,
    Technology,
    CellId,
    Band,
    /// The data connection's state (`Connected`).
    ConnectionState,
    SimState,
    NetworkState,
    TemperatureC,
    ConnectionUptimeS,
}

impl Metric {
    /// A radio signal number: what tells a modem's live row from an idle one's.
    pub fn is_signal(self) -> bool {
        matches!(
            self,
            Metric::RssiDbm
                | Metric::RsrpDbm
                | Metric::RsrqDb
                | Metric::SinrDb
                | Metric::SnrDb
                | Metric::NrRsrpDbm
                | Metric::NrRsrqDb
                | Metric::NrSinrDb
        )
    }
}

/// Which row of the vendor table holds the modem's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RowText")]
pub enum Row {
    Index(u32),
    /// The row whose index is the uplink interface's ifIndex.
    Uplink,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RowText {
    Index(u32),
    Named(String),
}

impl TryFrom<RowText> for Row {
    type Error = String;
    fn try_from(text: RowText) -> Result<Self, String> {
        match text {
            RowText::Index(index) => Ok(Row::Index(index)),
            RowText::Named(name) if name == "uplink" => Ok(Row::Uplink),
            RowText::Named(name) => Err(format!(
                "`row: {name}` is neither a row number nor `uplink`"
            )),
        }
    }
}

/// How an agent writes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    Integer,
    /// A number sent as an OCTET STRING (`"-12.0"`, as Teltonika does) or as an INTEGER:
    /// devices of one family send the same column either way.
    NumberString,
    String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Another table that holds this metric instead of the profile's, at the modem's row
    /// unless `row` says otherwise (Cisco keeps RSSI and cell id in CISCO-WAN-3G-MIB).
    #[serde(default, deserialize_with = "numeric_oid")]
    pub table: Option<Oid>,
    /// The column under the table; the row index is the modem's unless `row` is given.
    pub column: u32,
    /// A row of its own rather than the modem's: 0 for a single value (a scalar such as
    /// Teltonika's connection uptime, 48690.2.3.0, reads as column 3, row 0 of 48690.2).
    #[serde(default)]
    pub row: Option<u32>,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// The agent's unit per real unit: 10 for tenths of a dB.
    #[serde(default = "MetricSpec::one")]
    pub divisor: f64,
    /// Values that mean "not available" (Peplink's -9999): reported as unknown, not as 0.
    #[serde(default)]
    pub not_available: Vec<i64>,
}

impl MetricSpec {
    fn one() -> f64 {
        1.0
    }
}

/// Reads a profile's OID from its dotted text: numeric, with at least two arcs.
fn numeric_oid<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Oid>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    match Oid::parse(text.trim_start_matches('.')) {
        Ok(oid) if oid.len() >= 2 => Ok(Some(oid)),
        _ => Err(serde::de::Error::custom(format!(
            "`{text}` is not a numeric OID such as 1.3.6.1.4.1.48690.2.2.1"
        ))),
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// The vendor table the metrics' columns sit under.
    #[serde(default, deserialize_with = "numeric_oid")]
    pub table: Option<Oid>,
    /// The modem's row in the table (its last index arc), or `uplink` when the row is the
    /// uplink interface's ifIndex (MikroTik); when absent, the first row with a signal
    /// number (metrics with a `row` of their own aside).
    #[serde(default)]
    pub row: Option<Row>,
    /// How the cellular uplink's ifName begins (case ignored); the first match is the WAN.
    #[serde(default = "Profile::default_uplink")]
    pub uplink: Vec<String>,
    pub metrics: BTreeMap<Metric, MetricSpec>,
}

impl Profile {
    fn default_uplink() -> Vec<String> {
        [
            "wwan", "mob", "rmnet", "qmimux", "cellular", "lte", "5g", "usb", "ppp",
        ]
        .map(String::from)
        .to_vec()
    }

    /// Whether `if_name` is this router family's cellular uplink.
    pub fn is_uplink(&self, if_name: &str) -> bool {
        let name = if_name.to_ascii_lowercase();
        self.uplink
            .iter()
            .any(|prefix| name.starts_with(&prefix.to_ascii_lowercase()))
    }

    /// The OID of a metric's column (the modem's row index follows it).
    pub fn column(&self, metric: Metric) -> Option<Oid> {
        let spec = self.metrics.get(&metric)?;
        let table = spec.table.as_ref().or(self.table.as_ref())?;
        Some(table.child(spec.column))
    }
}

/// A profile file that cannot be used, with where it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", file.display())]
pub struct ProfileError {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Parses one profile file's text.
pub fn parse(file: &Path, text: &str) -> Result<Profile, ProfileError> {
    let error = |line, column, message| ProfileError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    };
    let options = serde_saphyr::options! { with_snippet: false };
    let profile: Profile = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        error(
            line,
            column,
            e.without_snippet()
                .render_with_formatter(&serde_saphyr::UserMessageFormatter),
        )
    })?;
    if profile.table.is_none() && profile.metrics.values().any(|spec| spec.table.is_none()) {
        return Err(error(
            1,
            1,
            "a profile with metrics needs `table:`, the OID their columns sit under".into(),
        ));
    }
    if let Some((metric, _)) = profile
        .metrics
        .iter()
        .find(|(_, spec)| !(spec.divisor.is_finite() && spec.divisor > 0.0))
    {
        return Err(error(
            1,
            1,
            format!("{metric:?}: `divisor` must be a positive number"),
        ));
    }
    Ok(profile)
}

/// The profiles compiled into this build.
pub fn shipped() -> Vec<Profile> {
    SHIPPED
        .iter()
        .map(|(file, text)| parse(Path::new(file), text).expect("shipped profiles are valid"))
        .collect()
}

/// Shipped profiles, then every `*.yaml` in `dir`; a user profile replaces a shipped one of
/// the same name.
pub fn with_user_profiles(dir: &Path) -> Result<Vec<Profile>, ProfileError> {
    let mut profiles: BTreeMap<String, Profile> =
        shipped().into_iter().map(|p| (p.name.clone(), p)).collect();
    let unreadable = |file: &Path, e: std::io::Error| ProfileError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| unreadable(&file, e))?;
        let profile = parse(&file, &text)?;
        profiles.insert(profile.name.clone(), profile);
    }
    Ok(profiles.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_profile_parses_and_is_named_after_its_file() {
        let profiles = shipped();
        assert_eq!(profiles.len(), SHIPPED.len());
        for ((file, _), profile) in SHIPPED.iter().zip(&profiles) {
            assert_eq!(format!("{}.yaml", profile.name), *file);
        }
        let rutx = profiles
            .iter()
            .find(|p| p.name == "teltonika-rutx")
            .unwrap();
        assert_eq!(
            rutx.column(Metric::RsrpDbm).unwrap().to_string(),
            "1.3.6.1.4.1.48690.2.2.1.20"
        );
        assert_eq!(
            rutx.metrics[&Metric::SinrDb].value_type,
            ValueType::NumberString
        );
        let cisco = profiles
            .iter()
            .find(|p| p.name == "cisco-cellular")
            .unwrap();
        assert_eq!(cisco.metrics[&Metric::RsrqDb].divisor, 10.0);
        let peplink = profiles.iter().find(|p| p.name == "peplink").unwrap();
        assert_eq!(peplink.metrics[&Metric::RsrpDbm].not_available, [-9999]);
    }

    #[test]
    fn a_bad_profile_names_its_file_and_line() {
        let bad = "name: x\ndescription: y\ntable: 1.3.6.1.4.1.9\nmetrics:\n  rsrp: { column: 1, type: integer }\n";
        let error = parse(Path::new("/etc/sixfive/profiles/x.yaml"), bad).unwrap_err();
        assert_eq!(error.line, 5, "{error}");
        assert!(
            error
                .to_string()
                .starts_with("/etc/sixfive/profiles/x.yaml:5:"),
            "{error}"
        );
        assert!(error.message.contains("rsrp"), "{error}");

        let bad_oid = "name: x\ndescription: y\ntable: 1.3.six\nmetrics: {}\n";
        let error = parse(Path::new("x.yaml"), bad_oid).unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        assert!(error.message.contains("not a numeric OID"), "{error}");

        let no_table =
            "name: x\ndescription: y\nmetrics:\n  rsrp_dbm: { column: 1, type: integer }\n";
        assert!(
            parse(Path::new("x.yaml"), no_table)
                .unwrap_err()
                .message
                .contains("table")
        );
    }

    #[test]
    fn a_table_is_a_numeric_oid_of_two_arcs_or_more() {
        let with_table = |table: &str| {
            parse(
                Path::new("x.yaml"),
                &format!("name: x\ndescription: y\ntable: {table}\nmetrics: {{}}\n"),
            )
        };
        for bad in ["1", "\"\"", "1..3", "1.3.-6", "iso.3.6"] {
            let error = with_table(bad).unwrap_err();
            assert!(
                error
                    .message
                    .contains("is not a numeric OID such as 1.3.6.1.4.1.48690.2.2.1"),
                "{bad}: {error}"
            );
        }
        let table = with_table(".1.3.6.1.4.1.9").unwrap().table.unwrap();
        assert_eq!(
            table.to_string(),
            "1.3.6.1.4.1.9",
            "a leading dot as net-snmp writes it"
        );
    }

    #[test]
    fn a_user_profile_is_added_without_recompiling_and_can_replace_a_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("huawei-5g.yaml"),
            "name: huawei-5g\ndescription: a router from the field\ntable: 1.3.6.1.4.1.2011.6.4\nmetrics:\n  rsrp_dbm: { column: 5, type: integer }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("peplink.yaml"),
            "name: peplink\ndescription: 5G models under 27662\ntable: 1.3.6.1.4.1.27662.200.1.12.1.1.1\nmetrics:\n  rsrp_dbm: { column: 7, type: integer, not_available: [-9999] }\n",
        )
        .unwrap();
        let profiles = with_user_profiles(dir.path()).unwrap();
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert!(
            names.contains(&"huawei-5g") && names.contains(&"generic"),
            "{names:?}"
        );
        let peplink = profiles.iter().find(|p| p.name == "peplink").unwrap();
        assert_eq!(peplink.table.as_ref().unwrap().arcs()[6], 27662);
    }

    impl Metric {
        const ALL: [Metric; 17] = [
            Metric::RssiDbm,
            Metric::RsrpDbm,
            Metric::RsrqDb,
            Metric::SinrDb,
            Metric::SnrDb,
            Metric::NrRsrpDbm,
            Metric::NrRsrqDb,
            Metric::NrSinrDb,
            Metric::Operator,
            Metric::Technology,
            Metric::CellId,
            Metric::Band,
            Metric::ConnectionState,
            Metric::SimState,
            Metric::NetworkState,
            Metric::TemperatureC,
            Metric::ConnectionUptimeS,
        ];

        /// The name a profile file and the JSON use.
        fn name(self) -> &'static str {
            match self {
                Metric::RssiDbm => "rssi_dbm",
                Metric::RsrpDbm => "rsrp_dbm",
                Metric::RsrqDb => "rsrq_db",
                Metric::SinrDb => "sinr_db",
                Metric::SnrDb => "snr_db",
                Metric::NrRsrpDbm => "nr_rsrp_dbm",
                Metric::NrRsrqDb => "nr_rsrq_db",
                Metric::NrSinrDb => "nr_sinr_db",
                Metric::Operator => "operator",
                Metric::Technology => "technology",
                Metric::CellId => "cell_id",
                Metric::Band => "band",
                Metric::ConnectionState => "connection_state",
                Metric::SimState => "sim_state",
                Metric::NetworkState => "network_state",
                Metric::TemperatureC => "temperature_c",
                Metric::ConnectionUptimeS => "connection_uptime_s",
            }
        }
    }

    /// Which metrics each profile reads, as the Markdown table docs/profiles.md shows.
    fn metrics_table(profiles: &[Profile]) -> String {
        let mut out = String::from("| metric |");
        for profile in profiles {
            out.push_str(&format!(" {} |", profile.name));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(profiles.len()));
        out.push('\n');
        for metric in Metric::ALL {
            out.push_str(&format!("| `{}` |", metric.name()));
            for profile in profiles {
                let cell = match profile.metrics.get(&metric) {
                    Some(spec) => {
                        let mut cell = format!("column {}", spec.column);
                        if spec.table.is_some() {
                            cell.push_str(" of a second table");
                        }
                        if let Some(row) = spec.row {
                            cell.push_str(&format!(", row {row}"));
                        }
                        cell
                    }
                    None => "–".to_owned(),
                };
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn a_row_is_a_number_or_the_uplink() {
        let with_row = |row: &str| {
            let text = format!(
                "name: x\ndescription: y\ntable: 1.3.6.1.4.1.14988.1.1.16.1.1\nrow: {row}\nmetrics:\n  rsrp_dbm: {{ column: 4, type: integer }}\n"
            );
            parse(Path::new("x.yaml"), &text)
        };
        assert_eq!(with_row("2").unwrap().row, Some(Row::Index(2)));
        assert_eq!(with_row("uplink").unwrap().row, Some(Row::Uplink));
        let error = with_row("nowhere").unwrap_err();
        assert!(
            error.message.contains("neither a row number nor `uplink`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_cisco_uplink_is_found_by_its_long_or_short_name() {
        let cisco = shipped()
            .into_iter()
            .find(|p| p.name == "cisco-cellular")
            .unwrap();
        assert!(cisco.is_uplink("Cellular0/1/0"));
        assert!(cisco.is_uplink("Ce0/1/0"));
        assert!(!cisco.is_uplink("GigabitEthernet0/0/0"));
    }

    #[test]
    fn the_docs_say_which_metrics_each_shipped_profile_reads() {
        let docs = include_str!("../../../docs/profiles.md");
        let table = metrics_table(&shipped());
        assert!(
            docs.contains(&table),
            "docs/profiles.md must hold this table:\n{table}"
        );
    }
}
