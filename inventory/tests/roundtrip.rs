//! Any valid inventory written out as YAML loads back as the same inventory, and its JSON
//! Schema accepts it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::Duration;

use chrono::NaiveDate;
use proptest::prelude::*;
use sixfive_inventory::model::*;
use sixfive_inventory::{LoadOptions, load_str};

const PROFILES: [&str; 3] = ["generic", "teltonika-rutx", "mikrotik"];
const COMMUNITY_VAR: &str = "SIXFIVE_ROUNDTRIP_COMMUNITY";

static SCHEMA: LazyLock<jsonschema::Validator> =
    LazyLock::new(|| jsonschema::validator_for(sixfive_inventory::schema::json_schema()).unwrap());

fn ula() -> impl Strategy<Value = IpAddr> {
    any::<u64>().prop_map(|low| IpAddr::V6(Ipv6Addr::from(0xfd00_u128 << 112 | u128::from(low))))
}

fn date() -> impl Strategy<Value = Option<NaiveDate>> {
    proptest::option::of((0i64..3000).prop_map(|days| {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(days)
    }))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9 .,-]{0,30}",
        Just("Sở Thông tin và Truyền thông".to_owned()),
        Just("Ủy ban nhân dân: Hòa Vang # not a comment".to_owned()),
        Just("yes".to_owned()),
        Just("2026".to_owned()),
    ]
}

fn scan() -> impl Strategy<Value = Scan> {
    (
        proptest::collection::vec((ula(), 1u16..), 0..3),
        (1u64..60_000, 1u64..60_000),
        (1u32..5000, 1u32..16, 1u32..100_000),
        any::<bool>(),
        prop_oneof![Just(Level::L0), Just(Level::L2), Just(Level::L5)],
        proptest::option::of(Just("certs/city-ca.pem")),
        1u64..3650,
        (
            1u64..86_400,
            proptest::option::of(1u64..86_400),
            1u64..86_400,
            0u8..=100,
        ),
    )
        .prop_map(
            |(
                resolvers,
                (dns_ms, http_ms),
                (concurrency, per_host, rate),
                scoped,
                require,
                ca,
                retention_days,
                (hosts_s, in_progress_s, sites_s, jitter),
            )| {
                let timeouts = Timeouts {
                    dns: Timeout(Duration::from_millis(dns_ms)),
                    http: Timeout(Duration::from_millis(http_ms)),
                    ..Timeouts::default()
                };
                Scan {
                    resolvers: resolvers
                        .into_iter()
                        .map(|(ip, port)| Resolver(SocketAddr::new(ip, port)))
                        .collect(),
                    timeouts,
                    concurrency,
                    per_host,
                    rate: Rate(rate),
                    scope: if scoped {
                        vec![
                            "fd00::/8".parse().unwrap(),
                            "198.18.0.0/15".parse().unwrap(),
                        ]
                    } else {
                        Vec::new()
                    },
                    require,
                    grading: Grading {
                        loss_warn: ca.is_some().then_some(0.05),
                        latency_warn_ms: scoped.then_some(120.0),
                        ..Grading::default()
                    },
                    ca_file: ca.map(Into::into),
                    retention: Period(Duration::from_secs(retention_days * 24 * 3600)),
                    schedule: Schedule {
                        hosts: Interval(Duration::from_secs(hosts_s)),
                        hosts_in_progress: in_progress_s.map(|s| Interval(Duration::from_secs(s))),
                        sites: Interval(Duration::from_secs(sites_s)),
                        jitter: Percent(jitter),
                    },
                }
            },
        )
}

fn host(agencies: usize) -> impl Strategy<Value = (usize, Host)> {
    (
        0..agencies,
        "[a-z]([a-z0-9-]{0,8}[a-z0-9])?",
        proptest::collection::vec(
            prop_oneof![
                Just(Service::Http),
                Just(Service::Https),
                Just(Service::Smtp),
                (1u16..).prop_map(Service::Tcp)
            ],
            1..4,
        ),
        prop_oneof![
            Just(Stage::Planned),
            Just(Stage::InProgress),
            Just(Stage::DualStack),
            Just(Stage::Ipv6Only),
            Just(Stage::Exempt)
        ],
        (
            any::<bool>(),
            date(),
            proptest::collection::vec("[a-z]{1,8}", 0..3),
        ),
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of("[a-z]{1,8}"),
        ),
    )
        .prop_map(
            |(agency, label, services, stage, (internal, target, tags), (reason, owner, zone))| {
                (
                    agency,
                    Host {
                        fqdn: format!("{label}.danang.test"),
                        agency: String::new(),
                        services,
                        stage,
                        exempt_reason: if stage == Stage::Exempt {
                            reason
                        } else {
                            String::new()
                        },
                        internal,
                        target,
                        tags,
                        owner,
                        zone,
                    },
                )
            },
        )
}

fn site(agencies: usize) -> impl Strategy<Value = (usize, Site)> {
    (
        0..agencies,
        "[a-z][a-z0-9-]{0,12}",
        text(),
        proptest::option::of(text()),
        proptest::option::of((-900_000i32..900_000, -1_800_000i32..1_800_000)),
        proptest::collection::vec(ula(), 1..3),
        (
            0..PROFILES.len(),
            1u16..,
            proptest::option::of("[a-z]{1,8}"),
        ),
    )
        .prop_map(
            |(agency, id, name, ward, location, addresses, (profile, port, zone))| {
                let address = if addresses.len() == 1 {
                    Endpoints::One(Endpoint::Ip(addresses[0]))
                } else {
                    Endpoints::Many(addresses.into_iter().map(Endpoint::Ip).collect())
                };
                let snmp = Snmp {
                    version: SnmpVersion::V2c,
                    port,
                    community_env: Some(COMMUNITY_VAR.into()),
                    community_file: None,
                    community: None,
                    user: None,
                    auth: None,
                    auth_pass_env: None,
                    auth_pass_file: None,
                    auth_pass: None,
                    privacy: None,
                    priv_pass_env: None,
                    priv_pass_file: None,
                    priv_pass: None,
                };
                (
                    agency,
                    Site {
                        id,
                        name,
                        agency: String::new(),
                        ward,
                        zone,
                        location: location.map(|(lat, lon)| GeoPoint {
                            lat: f64::from(lat) / 10_000.0,
                            lon: f64::from(lon) / 10_000.0,
                        }),
                        address,
                        profile: PROFILES[profile].into(),
                        snmp,
                        grading: Grading {
                            rsrp_dbm: location.map(|_| Band {
                                excellent: -85.0,
                                good: -95.0,
                                fair: -108.0,
                            }),
                            ..Grading::default()
                        },
                    },
                )
            },
        )
}

fn inventory() -> impl Strategy<Value = Inventory> {
    proptest::collection::btree_map(
        "[a-z]{2,6}",
        (text(), proptest::option::of(text()), date()),
        1..4,
    )
    .prop_flat_map(|agencies| {
        let count = agencies.len();
        (
            Just(agencies),
            scan(),
            proptest::collection::vec(host(count), 0..6),
            proptest::collection::vec(site(count), 0..4),
        )
    })
    .prop_map(|(agencies, scan, hosts, sites)| {
        let agencies: Vec<Agency> = agencies
            .into_iter()
            .map(|(id, (name, name_vi, target))| Agency {
                id,
                name,
                name_vi,
                target,
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let hosts = hosts
            .into_iter()
            .filter(|(_, h)| seen.insert(h.fqdn.clone()))
            .map(|(agency, mut h)| {
                h.agency = agencies[agency].id.clone();
                h
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let sites = sites
            .into_iter()
            .filter(|(_, s)| seen.insert(s.id.clone()))
            .map(|(agency, mut s)| {
                s.agency = agencies[agency].id.clone();
                s
            })
            .collect();
        Inventory {
            version: FORMAT_VERSION,
            scan,
            agencies,
            hosts,
            sites,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn an_inventory_survives_yaml(inventory in inventory()) {
        #[allow(unsafe_code)]
        // SAFETY: only this test reads the variable, and it always sets the same value.
        unsafe { std::env::set_var(COMMUNITY_VAR, "roundtrip") };
        let yaml = serde_saphyr::to_string(&inventory).unwrap();
        let options = LoadOptions { profiles: PROFILES.iter().map(|p| (*p).to_owned()).collect(), secrets: true };
        let loaded = match load_str("roundtrip.yaml", &yaml, &options) {
            Ok(loaded) => loaded,
            Err(error) => panic!("{yaml}\n{:#?}", error.problems),
        };
        prop_assert_eq!(&loaded.inventory, &inventory, "{}", yaml);
        // What the loader takes, its schema takes too.
        let doc: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        let errors: Vec<_> = SCHEMA.iter_errors(&doc).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "{:?}\n{}", errors, yaml);
    }
}
