//! SNMP responders for the demo city's 5G routers: each serves a recording of a real
//! router family (the sites lab's snmpsim data, `tests/lab/sites/sim/*.snmprec`) on a UDP
//! address of its own, so `sixfive sites` polls them with its real poller as it would a
//! city's routers. A recording is shifted into a [`Condition`] (good, fair or poor radio,
//! a down uplink, no IPv6 on the WAN) by overriding the few values that show it, and a
//! running [`Router`] can be given another one at any time (the demo fixes its faults).

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Bound;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_snmp::agent::Agent;
use async_snmp::handler::{
    BoxFuture, GetNextResult, GetResult, HandlerResult, MibHandler, RequestContext,
};
use async_snmp::{Oid, Value, VarBind};

/// The conditions the demo city shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    Healthy,
    Fair,
    Poor,
    UplinkDown,
    NoWanIpv6,
}

impl Condition {
    pub const ALL: [Condition; 5] = [
        Condition::Healthy,
        Condition::Fair,
        Condition::Poor,
        Condition::UplinkDown,
        Condition::NoWanIpv6,
    ];

    /// The radio a router shows in this condition, in sites.md's bands (excellent, fair,
    /// poor); the faults that are not the radio's come with excellent radio, so that the
    /// fault is the only reason a site is graded down.
    fn signal(self) -> Signal {
        match self {
            Condition::Fair => Signal {
                rsrp: -95,
                rsrq: -17,
                sinr: 8,
                rssi: -71,
            },
            Condition::Poor => Signal {
                rsrp: -108,
                rsrq: -22,
                sinr: -3,
                rssi: -87,
            },
            Condition::Healthy | Condition::UplinkDown | Condition::NoWanIpv6 => Signal {
                rsrp: -76,
                rsrq: -8,
                sinr: 22,
                rssi: -53,
            },
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Condition::Healthy => "healthy",
            Condition::Fair => "fair",
            Condition::Poor => "poor",
            Condition::UplinkDown => "uplink down",
            Condition::NoWanIpv6 => "no WAN IPv6",
        })
    }
}

/// Why a recording cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    #[error(
        "no recorded router for the profile `{0}` (recordings exist for {known})",
        known = profiles()
    )]
    NoRecording(String),
    #[error(
        "the profile `{profile}` reads no radio values, so its router cannot show {condition} radio"
    )]
    NoRadio {
        profile: String,
        condition: Condition,
    },
    #[error("line {line} of the recording: {why}")]
    Syntax { line: usize, why: String },
    /// A condition needs a value the recording does not hold.
    #[error("the `{profile}` recording has no {what} at {oid}")]
    Missing {
        profile: &'static str,
        what: &'static str,
        oid: String,
    },
}

/// Signal values in dB (dBm for RSRP and RSSI).
#[derive(Debug, Clone, Copy)]
struct Signal {
    rsrp: i32,
    rsrq: i32,
    sinr: i32,
    rssi: i32,
}

#[derive(Debug, Clone, Copy)]
enum Metric {
    Rsrp,
    Rsrq,
    Sinr,
    /// Set with SINR's value: no grading reads it, but a poor SINR beside a good SNR
    /// would not look like one radio.
    Snr,
    Rssi,
}

impl Signal {
    fn of(self, metric: Metric) -> i32 {
        match metric {
            Metric::Rsrp => self.rsrp,
            Metric::Rsrq => self.rsrq,
            Metric::Sinr | Metric::Snr => self.sinr,
            Metric::Rssi => self.rssi,
        }
    }
}

/// A signal value's OID in a recording, and the agent's units per dB (Cisco sends tenths).
type RadioColumn = (Metric, &'static str, i32);

/// A router family's recording and what the conditions change in it.
struct Device {
    profile: &'static str,
    snmprec: &'static str,
    /// The cellular uplink's ifIndex, as the profile finds it by ifName.
    uplink: u32,
    radio: &'static [RadioColumn],
    /// Recorded faults that are not the radio's (snmprec lines), set right so that a
    /// condition shows only its own.
    fixes: &'static str,
}

const TELTONIKA: &[RadioColumn] = &[
    (Metric::Rssi, "1.3.6.1.4.1.48690.2.2.1.12.1", 1),
    (Metric::Sinr, "1.3.6.1.4.1.48690.2.2.1.19.1", 1),
    (Metric::Rsrp, "1.3.6.1.4.1.48690.2.2.1.20.1", 1),
    (Metric::Rsrq, "1.3.6.1.4.1.48690.2.2.1.21.1", 1),
];

const SA_HEALTHY: &str = include_str!("../../tests/lab/sites/sim/sim-sa-healthy.snmprec");

/// The example inventory's profiles (and teltonika-legacy), each with the lab's recording
/// of its family (tests/lab/sites/README.md); a generic router is the healthy Teltonika
/// polled without its vendor profile, from the standard MIBs alone.
const DEVICES: [Device; 7] = [
    Device {
        profile: "teltonika-rutx",
        snmprec: SA_HEALTHY,
        uplink: 2,
        radio: TELTONIKA,
        fixes: "",
    },
    Device {
        profile: "teltonika-rutm",
        snmprec: include_str!("../../tests/lab/sites/sim/sim-nsa-poor.snmprec"),
        uplink: 2,
        radio: TELTONIKA,
        // Recorded disconnected and roaming: a connected modem at home.
        fixes: "1.3.6.1.4.1.48690.2.2.1.11.1|4|Registered, home\n\
                1.3.6.1.4.1.48690.2.2.1.15.1|4|Connected",
    },
    Device {
        profile: "teltonika-legacy",
        snmprec: include_str!("../../tests/lab/sites/sim/sim-rut-legacy.snmprec"),
        uplink: 2,
        radio: &[
            (Metric::Rssi, "1.3.6.1.4.1.48690.2.4.0", 1),
            (Metric::Sinr, "1.3.6.1.4.1.48690.2.22.0", 1),
            (Metric::Rsrp, "1.3.6.1.4.1.48690.2.23.0", 1),
            (Metric::Rsrq, "1.3.6.1.4.1.48690.2.24.0", 1),
        ],
        fixes: "",
    },
    Device {
        profile: "cisco-cellular",
        snmprec: include_str!("../../tests/lab/sites/sim/sim-cisco.snmprec"),
        uplink: 2,
        radio: &[
            (Metric::Rsrp, "1.3.6.1.4.1.9.9.817.1.1.1.1.1.1.1", 1),
            (Metric::Rsrq, "1.3.6.1.4.1.9.9.817.1.1.1.1.1.2.1", 10),
            (Metric::Snr, "1.3.6.1.4.1.9.9.817.1.1.1.1.1.3.1", 10),
            (Metric::Sinr, "1.3.6.1.4.1.9.9.817.1.1.1.1.1.4.1", 10),
            (Metric::Rssi, "1.3.6.1.4.1.9.9.661.1.3.4.1.1.1.1", 1),
        ],
        fixes: "",
    },
    Device {
        profile: "peplink",
        snmprec: include_str!("../../tests/lab/sites/sim/sim-peplink-na.snmprec"),
        uplink: 2,
        // Row 1, the live modem; row 0 stays the idle one (-9999).
        radio: &[
            (Metric::Rssi, "1.3.6.1.4.1.23695.200.1.12.1.1.1.3.1", 1),
            (Metric::Snr, "1.3.6.1.4.1.23695.200.1.12.1.1.1.4.1", 1),
            (Metric::Sinr, "1.3.6.1.4.1.23695.200.1.12.1.1.1.5.1", 1),
            (Metric::Rsrp, "1.3.6.1.4.1.23695.200.1.12.1.1.1.7.1", 1),
            (Metric::Rsrq, "1.3.6.1.4.1.23695.200.1.12.1.1.1.8.1", 1),
        ],
        // Recorded with ifInErrors rising 5/s (new errors degrade a site): steady.
        fixes: "1.3.6.1.2.1.2.2.1.14.2|65|12",
    },
    Device {
        profile: "mikrotik",
        snmprec: include_str!("../../tests/lab/sites/sim/sim-mikrotik.snmprec"),
        // lte1; lte2 (ifIndex 3, its row poor) is down.
        uplink: 7,
        radio: &[
            (Metric::Rssi, "1.3.6.1.4.1.14988.1.1.16.1.1.2.7", 1),
            (Metric::Rsrq, "1.3.6.1.4.1.14988.1.1.16.1.1.3.7", 1),
            (Metric::Rsrp, "1.3.6.1.4.1.14988.1.1.16.1.1.4.7", 1),
            (Metric::Sinr, "1.3.6.1.4.1.14988.1.1.16.1.1.7.7", 1),
        ],
        fixes: "",
    },
    Device {
        profile: "generic",
        snmprec: SA_HEALTHY,
        uplink: 2,
        radio: &[],
        fixes: "",
    },
];

/// The profiles with a recording, for the error that names a missing one.
fn profiles() -> String {
    let names: Vec<&str> = DEVICES.iter().map(|d| d.profile).collect();
    names.join(", ")
}

const IF_OPER_STATUS: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
/// ipAddressEntry; its columns are followed by the index `addrType.length.bytes`.
const IP_ADDRESS_ENTRY: [u32; 9] = [1, 3, 6, 1, 2, 1, 4, 34, 1];
const IP_ADDRESS_IF_INDEX: u32 = 3;
const IPV6: u32 = 2;

/// A router's recorded data for a profile (the names in `checks/profiles/`) in a condition.
///
/// Generic routers have no radio values, so they show only the conditions that are not
/// the radio's; a fair or poor generic router is a [`RecordingError::NoRadio`].
pub fn recording(profile: &str, condition: Condition) -> Result<Recording, RecordingError> {
    let device = DEVICES
        .iter()
        .find(|d| d.profile == profile)
        .ok_or_else(|| RecordingError::NoRecording(profile.to_owned()))?;
    let mut recording = Recording::parse(device.snmprec)?;
    recording
        .values
        .extend(Recording::parse(device.fixes)?.values);
    if device.radio.is_empty() && matches!(condition, Condition::Fair | Condition::Poor) {
        return Err(RecordingError::NoRadio {
            profile: profile.to_owned(),
            condition,
        });
    }
    let signal = condition.signal();
    for &(metric, text, per_db) in device.radio {
        let value = signal.of(metric) * per_db;
        let oid = numeric(text);
        // The recorded encoding stays: a Teltonika sends a column as text or as an INTEGER.
        let entry = match recording.values.get(&oid) {
            Some(Entry::Fixed(Value::OctetString(_))) => {
                Entry::Fixed(Value::OctetString(value.to_string().into_bytes().into()))
            }
            Some(Entry::Fixed(Value::Integer(_))) => Entry::Fixed(Value::Integer(value)),
            _ => return Err(device.missing("text or INTEGER signal value", text)),
        };
        recording.values.insert(oid, entry);
    }
    let uplink = device.uplink;
    match condition {
        Condition::UplinkDown => {
            let status = Oid::new(IF_OPER_STATUS.into_iter().chain([uplink]));
            if !recording.values.contains_key(&status) {
                return Err(device.missing("uplink ifOperStatus", &status.to_string()));
            }
            recording
                .values
                .insert(status, Entry::Fixed(Value::Integer(2)));
        }
        Condition::NoWanIpv6 => recording.remove_wan_ipv6(uplink),
        Condition::Healthy | Condition::Fair | Condition::Poor => {}
    }
    Ok(recording)
}

impl Device {
    fn missing(&self, what: &'static str, oid: &str) -> RecordingError {
        RecordingError::Missing {
            profile: self.profile,
            what,
            oid: oid.to_owned(),
        }
    }
}

/// An OID of this file's tables, which are all numeric.
fn numeric(text: &str) -> Oid {
    Oid::parse(text).unwrap_or_else(|_| Oid::empty())
}

/// What a router answers: OID → value, in OID order, parsed from snmprec text.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    values: BTreeMap<Oid, Entry>,
}

/// A recorded value: fixed, or growing with time as snmpsim's `numeric` variation makes
/// it (sysUpTime, traffic and error counters).
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Fixed(Value),
    Growing {
        kind: Growing,
        initial: i64,
        /// Per second.
        rate: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Growing {
    Integer,
    Counter32,
    Gauge32,
    TimeTicks,
    Counter64,
}

impl Entry {
    /// The value `elapsed` after the router started: counters and TimeTicks wrap as an
    /// agent's do, a Gauge32 or an INTEGER stays at its bound.
    fn at(&self, elapsed: Duration) -> Value {
        let (kind, initial, rate) = match self {
            Entry::Fixed(value) => return value.clone(),
            Entry::Growing {
                kind,
                initial,
                rate,
            } => (kind, initial, rate),
        };
        let grown = i128::from(*initial) + (rate * elapsed.as_secs_f64()).floor() as i128;
        let wrap32 = grown.rem_euclid(1 << 32) as u32;
        match kind {
            Growing::Integer => {
                Value::Integer(grown.clamp(i32::MIN.into(), i32::MAX.into()) as i32)
            }
            Growing::Counter32 => Value::Counter32(wrap32),
            Growing::TimeTicks => Value::TimeTicks(wrap32),
            Growing::Gauge32 => Value::Gauge32(grown.clamp(0, u32::MAX.into()) as u32),
            Growing::Counter64 => Value::Counter64(grown.rem_euclid(1 << 64) as u64),
        }
    }
}

impl Recording {
    /// Reads snmpsim's data format, a record a line: `OID|tag|value`, where the tag is the
    /// BER type number (2 INTEGER, 4 OCTET STRING, 5 NULL, 6 OBJECT IDENTIFIER, 64
    /// IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 68 Opaque, 70 Counter64), `x`
    /// after it for a hex value (`4x|6c6f`), and `:numeric` for a value growing with time
    /// (`67:numeric|initial=8640000,rate=100`). Lines starting with `#` are comments.
    pub fn parse(text: &str) -> Result<Recording, RecordingError> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = |why: String| RecordingError::Syntax {
                line: number + 1,
                why,
            };
            let mut fields = line.splitn(3, '|');
            let (Some(oid), Some(tag), Some(value)) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(syntax(format!("`{line}` is not `OID|tag|value`")));
            };
            let oid = Oid::parse(oid)
                .ok()
                .filter(|oid| !oid.is_empty())
                .ok_or_else(|| syntax(format!("`{oid}` is not a numeric OID")))?;
            let entry = entry(tag, value).map_err(syntax)?;
            values.insert(oid, entry);
        }
        Ok(Recording { values })
    }

    /// Removes the rows of the uplink's IPv6 addresses from ipAddressTable, link-local
    /// ones aside: a WAN without IPv6 still has its fe80:: address (as the lab's rt-nov6).
    fn remove_wan_ipv6(&mut self, uplink: u32) {
        let if_index = Oid::new(
            IP_ADDRESS_ENTRY
                .into_iter()
                .chain([IP_ADDRESS_IF_INDEX, IPV6]),
        );
        let on_uplink = |entry: &Entry| match entry {
            Entry::Fixed(Value::Integer(index)) => u32::try_from(*index) == Ok(uplink),
            Entry::Fixed(Value::Gauge32(index) | Value::UInteger32(index)) => *index == uplink,
            _ => false,
        };
        // The row index after the column: 2.16.<address bytes>.
        let index_at = IP_ADDRESS_ENTRY.len() + 1;
        let rows: Vec<Vec<u32>> = self
            .values
            .iter()
            .filter(|(oid, entry)| oid.starts_with(&if_index) && on_uplink(entry))
            .map(|(oid, _)| oid.arcs()[index_at..].to_vec())
            .filter(|row| !matches!(row[..], [IPV6, 16, 254, b, ..] if b & 0xc0 == 0x80))
            .collect();
        let entry = Oid::from_slice(&IP_ADDRESS_ENTRY);
        self.values.retain(|oid, _| {
            !(oid.starts_with(&entry)
                && rows
                    .iter()
                    .any(|row| oid.arcs().get(index_at..) == Some(&row[..])))
        });
    }
}

/// One record's value from its tag and text.
fn entry(tag: &str, text: &str) -> Result<Entry, String> {
    let (kind, variation) = match tag.split_once(':') {
        Some((kind, variation)) => (kind, Some(variation)),
        None => (tag, None),
    };
    let (kind, hex) = match kind.strip_suffix('x') {
        Some(kind) => (kind, true),
        None => (kind, false),
    };
    let kind: u8 = kind
        .parse()
        .map_err(|_| format!("`{tag}` is not a type tag such as 4, 4x or 67:numeric"))?;
    match variation {
        None => fixed(kind, hex, text).map(Entry::Fixed),
        Some("numeric") => growing(kind, text),
        Some(other) => Err(format!(
            "the variation `{other}` is not supported (only `numeric`)"
        )),
    }
}

fn fixed(kind: u8, hex: bool, text: &str) -> Result<Value, String> {
    let bytes = || -> Result<Vec<u8>, String> {
        if !hex {
            return Ok(text.as_bytes().to_vec());
        }
        if !text.len().is_multiple_of(2) {
            return Err(format!("`{text}` is not hex: an odd number of digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|at| {
                text.get(at..at + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| format!("`{text}` is not hex"))
            })
            .collect()
    };
    let number = |what: &str| format!("`{text}` is not {what}");
    Ok(match kind {
        2 => Value::Integer(text.parse().map_err(|_| number("an INTEGER"))?),
        4 => Value::OctetString(bytes()?.into()),
        5 => Value::Null,
        6 => Value::ObjectIdentifier(Oid::parse(text).map_err(|_| number("an OBJECT IDENTIFIER"))?),
        64 => Value::IpAddress(if hex {
            bytes()?
                .try_into()
                .map_err(|_| number("an IpAddress of 4 octets"))?
        } else {
            text.parse::<std::net::Ipv4Addr>()
                .map_err(|_| number("an IpAddress"))?
                .octets()
        }),
        65 => Value::Counter32(text.parse().map_err(|_| number("a Counter32"))?),
        66 => Value::Gauge32(text.parse().map_err(|_| number("a Gauge32"))?),
        67 => Value::TimeTicks(text.parse().map_err(|_| number("TimeTicks"))?),
        68 => Value::Opaque(bytes()?.into()),
        70 => Value::Counter64(text.parse().map_err(|_| number("a Counter64"))?),
        other => return Err(format!("the type tag {other} is not supported")),
    })
}

/// snmpsim's `numeric` variation: `initial=N,rate=R`, R per second (snmpsim's defaults:
/// initial 0, rate 1). Its other parameters are refused rather than ignored.
fn growing(kind: u8, text: &str) -> Result<Entry, String> {
    let kind = match kind {
        2 => Growing::Integer,
        65 => Growing::Counter32,
        66 => Growing::Gauge32,
        67 => Growing::TimeTicks,
        70 => Growing::Counter64,
        other => return Err(format!("the type tag {other} cannot be numeric")),
    };
    let (mut initial, mut rate) = (0, 1.0);
    for setting in text.split(',').filter(|s| !s.is_empty()) {
        let bad = || format!("`{setting}` is not a numeric setting");
        match setting.split_once('=').ok_or_else(bad)? {
            ("initial", value) => initial = value.parse().map_err(|_| bad())?,
            ("rate", value) => {
                rate = value
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite())
                    .ok_or_else(bad)?;
            }
            (name, _) => {
                return Err(format!(
                    "the numeric setting `{name}` is not supported (only initial and rate)"
                ));
            }
        }
    }
    Ok(Entry::Growing {
        kind,
        initial,
        rate,
    })
}

/// The values a router serves now; swapped whole by [`Router::set`].
struct Served {
    recording: RwLock<Arc<Recording>>,
    /// Growing values count from here, so a new recording does not look like a reboot.
    started: Instant,
}

impl Served {
    fn now(&self) -> (Arc<Recording>, Duration) {
        // A panic cannot leave a half-written Arc behind: a poisoned lock is still whole.
        let recording = self
            .recording
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&recording), self.started.elapsed())
    }
}

impl MibHandler for Served {
    fn get<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetResult>> {
        let (recording, elapsed) = self.now();
        let result = match recording.values.get(oid) {
            Some(entry) => GetResult::Value(entry.at(elapsed)),
            None => {
                // An object (a column or a scalar) recorded at another instance, as an
                // agent tells them apart.
                let object = oid.parent().unwrap_or_else(Oid::empty);
                let known = recording
                    .values
                    .range(&object..)
                    .next()
                    .is_some_and(|(next, _)| !object.is_empty() && next.starts_with(&object));
                if known {
                    GetResult::NoSuchInstance
                } else {
                    GetResult::NoSuchObject
                }
            }
        };
        Box::pin(async move { Ok(result) })
    }

    fn get_next<'a>(
        &'a self,
        _ctx: &'a RequestContext,
        oid: &'a Oid,
    ) -> BoxFuture<'a, HandlerResult<GetNextResult>> {
        let (recording, elapsed) = self.now();
        let result = recording
            .values
            .range((Bound::Excluded(oid), Bound::Unbounded))
            .next()
            .map_or(GetNextResult::EndOfMibView, |(next, entry)| {
                GetNextResult::Value(VarBind::new(next.clone(), entry.at(elapsed)))
            });
        Box::pin(async move { Ok(result) })
    }
}

/// A running responder; dropping it stops it.
pub struct Router {
    agent: Arc<Agent>,
    served: Arc<Served>,
    run: tokio::task::JoinHandle<()>,
}

/// Starts a responder on `addr` (port 0 picks a free one) answering SNMPv1 and v2c GET,
/// GETNEXT and GETBULK with `community`; other communities get no answer, as a real
/// router's agent gives none. Must be called within a Tokio runtime.
pub async fn spawn(
    addr: SocketAddr,
    community: String,
    recording: Recording,
) -> io::Result<Router> {
    let served = Arc::new(Served {
        recording: RwLock::new(Arc::new(recording)),
        started: Instant::now(),
    });
    let agent = Agent::builder()
        .bind(addr.to_string())
        .community(community)
        // Exactly the recording: no snmpEngine or statistics groups of async-snmp's own.
        .without_builtin_handlers()
        .handler(Oid::empty(), Arc::clone(&served) as Arc<dyn MibHandler>)
        .allow_all_access()
        // The kernel's default buffer: a demo router gets a poll now and then.
        .recv_buffer_size(None)
        .build()
        .await
        .map_err(io_error)?;
    let agent = Arc::new(agent);
    let run = tokio::spawn({
        let agent = Arc::clone(&agent);
        async move {
            if let Err(error) = agent.run().await {
                tracing::warn!(%error, address = %agent.local_addr(), "a demo SNMP responder stopped");
            }
        }
    });
    Ok(Router { agent, served, run })
}

impl Router {
    /// Serves `recording` from the next request on; uptime and counters keep counting.
    pub fn set(&self, recording: Recording) {
        *self
            .served
            .recording
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(recording);
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.agent.local_addr()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.agent.cancel();
        // Drop cannot wait for the drain; the socket closes with the task.
        self.run.abort();
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

/// async-snmp's error as an I/O error of the kind its cause had (an address in use).
fn io_error(error: Box<async_snmp::Error>) -> io::Error {
    let kind = std::iter::successors(Some(&*error as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .find_map(|e| e.downcast_ref::<io::Error>())
    .map_or(io::ErrorKind::Other, io::Error::kind);
    io::Error::new(kind, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every recording of the sites lab, sim-lte-fair too (no profile here uses it).
    const LAB: [&str; 7] = [
        include_str!("../../tests/lab/sites/sim/sim-cisco.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-lte-fair.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-mikrotik.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-nsa-poor.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-peplink-na.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-rut-legacy.snmprec"),
        include_str!("../../tests/lab/sites/sim/sim-sa-healthy.snmprec"),
    ];

    fn value(recording: &Recording, oid: &str) -> Option<Value> {
        recording
            .values
            .get(&numeric(oid))
            .map(|entry| entry.at(Duration::ZERO))
    }

    #[test]
    fn every_lab_recording_parses_record_for_record() {
        for text in LAB {
            let records = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .count();
            let recording = Recording::parse(text).unwrap();
            assert_eq!(recording.values.len(), records);
            assert!(value(&recording, "1.3.6.1.2.1.1.5.0").is_some());
        }
        let healthy = Recording::parse(SA_HEALTHY).unwrap();
        assert_eq!(
            value(&healthy, "1.3.6.1.2.1.1.2.0"),
            Some(Value::ObjectIdentifier(numeric("1.3.6.1.4.1.48690")))
        );
        assert_eq!(
            value(&healthy, "1.3.6.1.4.1.48690.2.3.0"),
            Some(Value::Gauge32(366_303))
        );
        assert_eq!(
            value(&healthy, "1.3.6.1.2.1.2.2.1.14.2"),
            Some(Value::Counter32(12))
        );
    }

    #[test]
    fn numeric_values_grow_at_their_rate_and_wrap_as_counters() {
        let recording = Recording::parse(
            "1.3.6.1.2.1.1.3.0|67:numeric|initial=12345600,rate=100\n\
             1.3.6.1.2.1.2.2.1.14.2|65:numeric|initial=4294967290,rate=5\n\
             1.3.6.1.2.1.31.1.1.1.6.2|70:numeric|initial=123456789012,rate=1000000\n\
             1.3.6.1.9.0|66:numeric|initial=4294967295,rate=1\n",
        )
        .unwrap();
        let at = |oid: &str, seconds: f64| {
            recording.values[&numeric(oid)].at(Duration::from_secs_f64(seconds))
        };
        assert_eq!(at("1.3.6.1.2.1.1.3.0", 0.0), Value::TimeTicks(12_345_600));
        assert_eq!(at("1.3.6.1.2.1.1.3.0", 2.5), Value::TimeTicks(12_345_850));
        assert_eq!(at("1.3.6.1.2.1.2.2.1.14.2", 2.0), Value::Counter32(4));
        assert_eq!(
            at("1.3.6.1.2.1.31.1.1.1.6.2", 3.0),
            Value::Counter64(123_459_789_012)
        );
        assert_eq!(at("1.3.6.1.9.0", 60.0), Value::Gauge32(u32::MAX));
    }

    #[test]
    fn hex_and_the_other_types_parse() {
        let recording = Recording::parse(
            "# a comment\n\n1.3.6.1.1.0|4x|6c746531\r\n1.3.6.1.2.0|64|198.18.93.20\n.1.3.6.1.3.0|64x|c6125d14\n\
             1.3.6.1.4.0|5|\n1.3.6.1.5.0|68x|9f780442\n1.3.6.1.6.0|4|\n1.3.6.1.7.0|4|a|b",
        )
        .unwrap();
        assert_eq!(
            value(&recording, "1.3.6.1.1.0"),
            Some(Value::OctetString("lte1".into()))
        );
        assert_eq!(
            value(&recording, "1.3.6.1.2.0"),
            Some(Value::IpAddress([198, 18, 93, 20]))
        );
        assert_eq!(
            value(&recording, "1.3.6.1.2.0"),
            value(&recording, "1.3.6.1.3.0")
        );
        assert_eq!(value(&recording, "1.3.6.1.4.0"), Some(Value::Null));
        assert_eq!(
            value(&recording, "1.3.6.1.5.0"),
            Some(Value::Opaque(vec![0x9f, 0x78, 4, 0x42].into()))
        );
        assert_eq!(
            value(&recording, "1.3.6.1.6.0"),
            Some(Value::OctetString("".into()))
        );
        assert_eq!(
            value(&recording, "1.3.6.1.7.0"),
            Some(Value::OctetString("a|b".into()))
        );
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let error = |text: &str| Recording::parse(text).unwrap_err().to_string();
        assert_eq!(
            error("1.3.6.1.1.0|4|ok\n1.3.6.1.2.0|2"),
            "line 2 of the recording: `1.3.6.1.2.0|2` is not `OID|tag|value`"
        );
        assert_eq!(
            error("sysName.0|4|x"),
            "line 1 of the recording: `sysName.0` is not a numeric OID"
        );
        assert_eq!(
            error("1.3.6.1.1.0|4x|6c7"),
            "line 1 of the recording: `6c7` is not hex: an odd number of digits"
        );
        assert_eq!(
            error("1.3.6.1.1.0|2|-2147483649"),
            "line 1 of the recording: `-2147483649` is not an INTEGER"
        );
        assert_eq!(
            error("1.3.6.1.1.0|67:numeric|initial=1,rate=100,deviation=5"),
            "line 1 of the recording: the numeric setting `deviation` is not supported (only initial and rate)"
        );
        assert_eq!(
            error("1.3.6.1.1.0|4:sql|table=x"),
            "line 1 of the recording: the variation `sql` is not supported (only `numeric`)"
        );
        assert_eq!(
            error("1.3.6.1.1.0|4:numeric|rate=1"),
            "line 1 of the recording: the type tag 4 cannot be numeric"
        );
    }

    #[test]
    fn every_profile_builds_in_every_condition_but_generic_radio() {
        for device in &DEVICES {
            for condition in Condition::ALL {
                let built = recording(device.profile, condition);
                match (device.profile, condition) {
                    ("generic", Condition::Fair | Condition::Poor) => assert_eq!(
                        built.unwrap_err().to_string(),
                        format!(
                            "the profile `generic` reads no radio values, so its router cannot \
                             show {condition} radio"
                        )
                    ),
                    _ => assert!(built.is_ok(), "{} {condition}: {built:?}", device.profile),
                }
            }
        }
        assert_eq!(
            recording("zte-mc888", Condition::Healthy)
                .unwrap_err()
                .to_string(),
            "no recorded router for the profile `zte-mc888` (recordings exist for \
             teltonika-rutx, teltonika-rutm, teltonika-legacy, cisco-cellular, peplink, \
             mikrotik, generic)"
        );
    }

    #[test]
    fn conditions_change_the_radio_in_the_recorded_encoding() {
        let rutx = recording("teltonika-rutx", Condition::Poor).unwrap();
        assert_eq!(
            value(&rutx, "1.3.6.1.4.1.48690.2.2.1.20.1"),
            Some(Value::OctetString("-108".into()))
        );
        assert_eq!(
            value(&rutx, "1.3.6.1.4.1.48690.2.2.1.12.1"),
            Some(Value::Integer(-87))
        );
        let cisco = recording("cisco-cellular", Condition::Fair).unwrap();
        assert_eq!(
            value(&cisco, "1.3.6.1.4.1.9.9.817.1.1.1.1.1.2.1"),
            Some(Value::Integer(-170))
        );
        // The recorded faults that are not the condition's are fixed.
        let rutm = recording("teltonika-rutm", Condition::Healthy).unwrap();
        assert_eq!(
            value(&rutm, "1.3.6.1.4.1.48690.2.2.1.15.1"),
            Some(Value::OctetString("Connected".into()))
        );
        let peplink = recording("peplink", Condition::Healthy).unwrap();
        assert_eq!(
            peplink.values[&numeric("1.3.6.1.2.1.2.2.1.14.2")],
            Entry::Fixed(Value::Counter32(12))
        );
    }

    #[test]
    fn uplink_down_and_no_wan_ipv6_touch_only_the_uplink() {
        let down = recording("mikrotik", Condition::UplinkDown).unwrap();
        assert_eq!(
            value(&down, "1.3.6.1.2.1.2.2.1.8.7"),
            Some(Value::Integer(2))
        );
        assert_eq!(
            value(&down, "1.3.6.1.2.1.2.2.1.8.1"),
            Some(Value::Integer(1))
        );

        let healthy = recording("teltonika-rutx", Condition::Healthy).unwrap();
        let nov6 = recording("teltonika-rutx", Condition::NoWanIpv6).unwrap();
        let gone: Vec<String> = healthy
            .values
            .keys()
            .filter(|oid| !nov6.values.contains_key(oid))
            .map(ToString::to_string)
            .collect();
        // fd00:5d:20::1 on ifIndex 2 goes, its three columns; fe80::, ::1 and IPv4 stay.
        let row = "2.16.253.0.0.93.0.32.0.0.0.0.0.0.0.0.0.1";
        assert_eq!(
            gone,
            [3, 4, 7].map(|c| format!("1.3.6.1.2.1.4.34.1.{c}.{row}"))
        );
        let mikrotik = recording("mikrotik", Condition::NoWanIpv6).unwrap();
        assert!(
            !mikrotik
                .values
                .keys()
                .any(|oid| oid.starts_with(&Oid::from_slice(&IP_ADDRESS_ENTRY)))
        );
    }
}
