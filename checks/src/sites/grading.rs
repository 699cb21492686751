//! Grading a 5G site from what a poll observed (sites.md): radio bands with hysteresis,
//! uplink, errors, latency and loss, its own IPv6, reboots; and rates from counters that
//! wrap and reset. Pure functions: the SNMP and ICMP probes feed them.

use std::net::Ipv6Addr;
use std::time::Duration;

pub use sixfive_inventory::model::{Band, Grading};
pub use sixfive_inventory::results::Quality;
use sixfive_inventory::results::{ModemReport, RadioQuality, RadioReport, SiteState};

/// The quality of `value` in `band`. Coming from a worse `previous` quality, a value must
/// clear a boundary by `margin` to count as better, so a site on an edge does not flap.
pub fn quality(band: &Band, value: f64, previous: Option<Quality>, margin: f64) -> Quality {
    let raw = classify(band, value);
    match previous {
        Some(before) if raw > before && classify(band, value - margin) <= before => before,
        _ => raw,
    }
}

fn classify(band: &Band, value: f64) -> Quality {
    if value >= band.excellent {
        Quality::Excellent
    } else if value >= band.good {
        Quality::Good
    } else if value >= band.fair {
        Quality::Fair
    } else {
        Quality::Poor
    }
}

/// Thresholds for grading; sites.md's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub rsrp_dbm: Band,
    pub rsrq_db: Band,
    pub sinr_db: Band,
    /// dB a metric must improve past a boundary before its quality rises.
    pub hysteresis_db: f64,
    pub latency_warn_ms: f64,
    pub loss_warn: f64,
    pub loss_critical: f64,
    /// °C above which the modem runs beyond its rating.
    pub temperature_max_c: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Self {
            rsrp_dbm: Band {
                excellent: -80.0,
                good: -90.0,
                fair: -100.0,
            },
            rsrq_db: Band {
                excellent: -10.0,
                good: -15.0,
                fair: -20.0,
            },
            sinr_db: Band {
                excellent: 20.0,
                good: 13.0,
                fair: 0.0,
            },
            hysteresis_db: 2.0,
            latency_warn_ms: 150.0,
            loss_warn: 0.02,
            loss_critical: 0.2,
            // The top of the normal operating range of the Quectel modules in Teltonika's
            // RUTX and RUTM (and of the routers themselves): beyond it, in the extended
            // range up to 85 °C, a module keeps working but its RF performance may deviate
            // from 3GPP's.
            temperature_max_c: 75.0,
        }
    }
}

impl Bands {
    /// These bands with `grading`'s fields put over them.
    pub fn with(&self, grading: &Grading) -> Bands {
        Bands {
            rsrp_dbm: grading.rsrp_dbm.unwrap_or(self.rsrp_dbm),
            rsrq_db: grading.rsrq_db.unwrap_or(self.rsrq_db),
            sinr_db: grading.sinr_db.unwrap_or(self.sinr_db),
            hysteresis_db: grading.hysteresis_db.unwrap_or(self.hysteresis_db),
            latency_warn_ms: grading.latency_warn_ms.unwrap_or(self.latency_warn_ms),
            loss_warn: grading.loss_warn.unwrap_or(self.loss_warn),
            loss_critical: grading.loss_critical.unwrap_or(self.loss_critical),
            temperature_max_c: grading.temperature_max_c.unwrap_or(self.temperature_max_c),
        }
    }
}

/// What one poll of a site saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    pub snmp_answered: bool,
    /// The agent answered but refused the credentials.
    pub auth_failed: bool,
    pub icmp_answered: bool,
    pub radio: RadioReport,
    pub modem: ModemReport,
    /// The previous poll's, for the same reason as the latency's below.
    pub previous_modem: Option<ModemReport>,
    pub uplink_up: Option<bool>,
    /// Interface errors since the last poll.
    pub new_errors: Option<u64>,
    pub latency_ms: Option<f64>,
    pub loss: Option<f64>,
    /// The previous poll's, so that one bad sample does not change the state (below).
    pub previous_latency_ms: Option<f64>,
    pub previous_loss: Option<f64>,
    /// None when the address table could not be read.
    pub wan_ipv6: Option<Vec<Ipv6Addr>>,
    pub rebooted: bool,
    /// What the agent got wrong or left out (a broken walk, a table it did not answer).
    pub faults: Vec<String>,
}

/// The grade of one poll, and the per-metric qualities the next poll's hysteresis needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    pub state: SiteState,
    pub reasons: Vec<String>,
    /// Each metric's quality; one not read keeps its `previous` quality.
    pub quality: RadioQuality,
}

/// Grades a poll; `previous` is the last poll's radio quality (for hysteresis).
pub fn grade(seen: &Observation, previous: Option<&RadioQuality>, bands: &Bands) -> Graded {
    let mut graded = Graded {
        state: SiteState::Ok,
        reasons: Vec::new(),
        quality: previous.copied().unwrap_or_default(),
    };
    if seen.auth_failed {
        graded.state = SiteState::AuthFailed;
        graded
            .reasons
            .push("the agent refused the credentials (community, v3 user or keys)".into());
        return graded;
    }
    if !seen.snmp_answered {
        if seen.icmp_answered {
            graded.state = SiteState::Critical;
            graded
                .reasons
                .push("no usable SNMP answer, though the router answers ping".into());
        } else {
            graded.state = SiteState::Unreachable;
            graded.reasons.push("no SNMP and no ICMP answer".into());
        }
        return graded;
    }
    let mut worst = SiteState::Ok;
    let mut note = |state: SiteState, reason: String, reasons: &mut Vec<String>| {
        if severity(state) > severity(worst) {
            worst = state;
        }
        reasons.push(reason);
    };
    let metrics = [
        (
            "RSRP",
            "dBm",
            seen.radio.rsrp_dbm,
            &bands.rsrp_dbm,
            previous.and_then(|p| p.rsrp),
        ),
        (
            "RSRQ",
            "dB",
            seen.radio.rsrq_db,
            &bands.rsrq_db,
            previous.and_then(|p| p.rsrq),
        ),
        (
            "SINR",
            "dB",
            seen.radio.sinr_db,
            &bands.sinr_db,
            previous.and_then(|p| p.sinr),
        ),
    ];
    let mut qualities = Vec::new();
    for (name, unit, value, band, before) in metrics {
        let quality = value.map(|v| quality(band, v, before, bands.hysteresis_db));
        qualities.push(quality);
        match (value, quality) {
            (Some(v), Some(Quality::Fair)) => note(
                SiteState::Degraded,
                format!("{name} {v} {unit} is fair"),
                &mut graded.reasons,
            ),
            (Some(v), Some(Quality::Poor)) => note(
                SiteState::Critical,
                format!("{name} {v} {unit} is poor"),
                &mut graded.reasons,
            ),
            _ => {}
        }
    }
    let quality = &mut graded.quality;
    for (kept, new) in [&mut quality.rsrp, &mut quality.rsrq, &mut quality.sinr]
        .into_iter()
        .zip(qualities)
    {
        *kept = new.or(*kept);
    }
    // Loss, latency, temperature and a lost connection count from their second poll in a
    // row (as Nagios' soft states do): five echoes are few, a modem near its limit or
    // reconnecting must not flip a site for one poll. A site's first poll counts alone.
    let settled = |now: Option<f64>, before: Option<f64>| match (now, before) {
        (Some(now), Some(before)) => Some(now.min(before)),
        (now, _) => now,
    };
    let modem = &seen.modem;
    let before = seen.previous_modem.as_ref();
    let temperature = settled(modem.temperature_c, before.and_then(|m| m.temperature_c));
    if let Some(celsius) = temperature.filter(|c| *c > bands.temperature_max_c) {
        note(
            SiteState::Degraded,
            format!(
                "modem at {celsius} °C, above the {} °C it is rated for",
                bands.temperature_max_c
            ),
            &mut graded.reasons,
        );
    }
    // States are the vendor's words: only the ones that plainly mean no service count.
    let says = |state: Option<&String>, words: &str| {
        state.is_some_and(|s| s.trim().eq_ignore_ascii_case(words))
    };
    let was_connected = before
        .and_then(|m| m.connection_state.as_ref())
        .is_some_and(|state| !says(Some(state), "disconnected"));
    if says(modem.connection_state.as_ref(), "disconnected") && !was_connected {
        note(
            SiteState::Critical,
            "the modem reports its data connection disconnected".into(),
            &mut graded.reasons,
        );
    }
    if says(modem.sim_state.as_ref(), "not inserted") {
        note(
            SiteState::Critical,
            "the modem reports no SIM inserted".into(),
            &mut graded.reasons,
        );
    }
    if seen.uplink_up == Some(false) {
        note(
            SiteState::Critical,
            "the uplink is down".into(),
            &mut graded.reasons,
        );
    }
    if let Some(loss) = settled(seen.loss, seen.previous_loss) {
        if loss > bands.loss_critical {
            note(
                SiteState::Critical,
                format!("{:.0}% packet loss", loss * 100.0),
                &mut graded.reasons,
            );
        } else if loss > bands.loss_warn {
            note(
                SiteState::Degraded,
                format!("{:.0}% packet loss", loss * 100.0),
                &mut graded.reasons,
            );
        }
    }
    let latency = settled(seen.latency_ms, seen.previous_latency_ms);
    if let Some(latency) = latency.filter(|l| *l > bands.latency_warn_ms) {
        note(
            SiteState::Degraded,
            format!("latency {latency:.0} ms"),
            &mut graded.reasons,
        );
    }
    if let Some(errors) = seen.new_errors.filter(|e| *e > 0) {
        note(
            SiteState::Degraded,
            format!("{errors} new interface errors"),
            &mut graded.reasons,
        );
    }
    if seen.wan_ipv6.as_ref().is_some_and(Vec::is_empty) {
        note(
            SiteState::Degraded,
            "no IPv6 address on the WAN other than link-local".into(),
            &mut graded.reasons,
        );
    }
    for fault in &seen.faults {
        note(SiteState::Degraded, fault.clone(), &mut graded.reasons);
    }
    if seen.rebooted {
        note(
            SiteState::Degraded,
            "rebooted since the last poll".into(),
            &mut graded.reasons,
        );
    }
    graded.state = worst;
    graded
}

fn severity(state: SiteState) -> u8 {
    match state {
        SiteState::Ok => 0,
        SiteState::Degraded => 1,
        SiteState::Critical => 2,
        SiteState::AuthFailed => 3,
        SiteState::Unreachable => 4,
    }
}

/// Whether the agent restarted between two readings of sysUpTime (hundredths of a second,
/// a 32-bit counter that wraps after 497 days) `elapsed` apart: the uptime should have
/// moved on by `elapsed`, and one that is well behind that started again, even when it is
/// above the old reading by now.
pub fn rebooted(before: u32, now: u32, elapsed: Duration) -> bool {
    const WRAP: u64 = 1 << 32;
    // Polling jitter, and the one-second rounding of stored uptimes.
    const TOLERANCE: u64 = 500;
    let ticks = u64::try_from(elapsed.as_millis() / 10).unwrap_or(u64::MAX) % WRAP;
    let expected = (u64::from(before) + ticks) % WRAP;
    let behind = (expected + WRAP - u64::from(now)) % WRAP;
    // Far "behind" modulo 2^32 is a reading slightly ahead of the expected one.
    behind > TOLERANCE && behind < WRAP / 2
}

/// Bits per second from two readings of an octet counter (Counter64 or Counter32), or None
/// when the counter reset (a reboot, or a jump no link could make).
pub fn bits_per_second(
    before: u64,
    now: u64,
    width: CounterWidth,
    elapsed: Duration,
    rebooted: bool,
    max_bps: f64,
) -> Option<f64> {
    if rebooted || elapsed.is_zero() {
        return None;
    }
    let delta = match width {
        CounterWidth::Bits64 => now.wrapping_sub(before),
        CounterWidth::Bits32 => (now as u32).wrapping_sub(before as u32).into(),
    };
    let bps = delta as f64 * 8.0 / elapsed.as_secs_f64();
    (bps <= max_bps).then_some(bps.round())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterWidth {
    Bits32,
    Bits64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Observation {
        Observation {
            snmp_answered: true,
            icmp_answered: true,
            radio: RadioReport {
                rsrp_dbm: Some(-78.0),
                rsrq_db: Some(-8.0),
                sinr_db: Some(22.0),
                ..RadioReport::default()
            },
            uplink_up: Some(true),
            new_errors: Some(0),
            latency_ms: Some(12.5),
            loss: Some(0.0),
            wan_ipv6: Some(vec!["fd00:5a::2".parse().unwrap()]),
            ..Observation::default()
        }
    }

    #[test]
    fn the_worst_metric_decides_and_each_reason_is_listed() {
        let bands = Bands::default();
        assert_eq!(grade(&healthy(), None, &bands).state, SiteState::Ok);
        let fair = Observation {
            radio: RadioReport {
                rsrp_dbm: Some(-95.0),
                ..healthy().radio
            },
            ..healthy()
        };
        let graded = grade(&fair, None, &bands);
        assert_eq!(graded.state, SiteState::Degraded);
        assert_eq!(graded.reasons, ["RSRP -95 dBm is fair"]);
        let poor = Observation {
            radio: RadioReport {
                sinr_db: Some(-3.0),
                ..fair.radio
            },
            ..fair
        };
        let graded = grade(&poor, None, &bands);
        assert_eq!(graded.state, SiteState::Critical);
        assert_eq!(graded.reasons.len(), 2);
    }

    #[test]
    fn bands_are_configurable_field_by_field() {
        let stricter = Grading {
            rsrp_dbm: Some(Band {
                excellent: -70.0,
                good: -85.0,
                fair: -95.0,
            }),
            ..Grading::default()
        };
        let bands = Bands::default().with(&stricter);
        assert_eq!(bands.sinr_db, Bands::default().sinr_db, "unset fields stay");
        let at_88 = Observation {
            radio: RadioReport {
                rsrp_dbm: Some(-88.0),
                ..healthy().radio
            },
            ..healthy()
        };
        assert_eq!(grade(&at_88, None, &Bands::default()).state, SiteState::Ok);
        let graded = grade(&at_88, None, &bands);
        assert_eq!(graded.state, SiteState::Degraded);
        assert_eq!(graded.reasons, ["RSRP -88 dBm is fair"]);
    }

    #[test]
    fn a_modem_above_its_rated_temperature_is_degraded() {
        let at = |celsius: f64| Observation {
            modem: ModemReport {
                temperature_c: Some(celsius),
                connection_state: Some("Connected".into()),
                ..ModemReport::default()
            },
            ..healthy()
        };
        let bands = Bands::default();
        assert_eq!(grade(&at(75.0), None, &bands).state, SiteState::Ok);
        let hot = grade(&at(78.1), None, &bands);
        assert_eq!(hot.state, SiteState::Degraded);
        assert_eq!(
            hot.reasons,
            ["modem at 78.1 °C, above the 75 °C it is rated for"]
        );
        let rated_higher = Bands::default().with(&Grading {
            temperature_max_c: Some(85.0),
            ..Grading::default()
        });
        assert_eq!(grade(&at(78.1), None, &rated_higher).state, SiteState::Ok);
        // One hot reading after a cool one does not flip the site; two in a row do.
        let after = |before: f64, now: f64| Observation {
            previous_modem: Some(at(before).modem),
            ..at(now)
        };
        assert_eq!(grade(&after(70.0, 78.1), None, &bands).state, SiteState::Ok);
        let still_hot = grade(&after(80.0, 78.1), None, &bands);
        assert_eq!(
            still_hot.reasons,
            ["modem at 78.1 °C, above the 75 °C it is rated for"]
        );
    }

    #[test]
    fn a_modem_without_its_connection_or_its_sim_is_critical() {
        let modem = |state: &str, sim: &str| Observation {
            modem: ModemReport {
                connection_state: Some(state.into()),
                sim_state: Some(sim.into()),
                network_state: Some("Registered, roaming".into()),
                ..ModemReport::default()
            },
            ..healthy()
        };
        let bands = Bands::default();
        assert_eq!(
            grade(&modem("Connected", "inserted"), None, &bands).state,
            SiteState::Ok
        );
        let down = grade(&modem("disconnected", "inserted"), None, &bands);
        assert_eq!(down.state, SiteState::Critical);
        assert_eq!(
            down.reasons,
            ["the modem reports its data connection disconnected"]
        );
        // A reconnect seen once, after a poll that found it connected, is not an outage.
        let reconnecting = Observation {
            previous_modem: Some(modem("Connected", "inserted").modem),
            ..modem("Disconnected", "inserted")
        };
        assert_eq!(grade(&reconnecting, None, &bands).state, SiteState::Ok);
        let still_down = Observation {
            previous_modem: Some(modem("Disconnected", "inserted").modem),
            ..modem("Disconnected", "inserted")
        };
        assert_eq!(grade(&still_down, None, &bands).state, SiteState::Critical);
        let no_sim = grade(&modem("Disconnected", "not inserted"), None, &bands);
        assert_eq!(no_sim.reasons.len(), 2, "{:?}", no_sim.reasons);
        assert!(no_sim.reasons[1].contains("no SIM"), "{:?}", no_sim.reasons);
    }

    #[test]
    fn unknown_radio_values_are_not_zero() {
        let unknown = Observation {
            radio: RadioReport::default(),
            ..healthy()
        };
        let graded = grade(&unknown, None, &Bands::default());
        assert_eq!(graded.state, SiteState::Ok);
        assert_eq!(graded.quality.rsrp, None);
    }

    #[test]
    fn hysteresis_keeps_a_site_from_flapping_on_an_edge() {
        let bands = Bands::default();
        let fair = grade(
            &Observation {
                radio: RadioReport {
                    rsrp_dbm: Some(-91.0),
                    ..healthy().radio
                },
                ..healthy()
            },
            None,
            &bands,
        );
        assert_eq!(fair.quality.rsrp, Some(Quality::Fair));
        let barely = Observation {
            radio: RadioReport {
                rsrp_dbm: Some(-89.0),
                ..healthy().radio
            },
            ..healthy()
        };
        let held = grade(&barely, Some(&fair.quality), &bands);
        assert_eq!(
            held.state,
            SiteState::Degraded,
            "1 dB past the edge is not enough"
        );
        let clear = Observation {
            radio: RadioReport {
                rsrp_dbm: Some(-87.0),
                ..healthy().radio
            },
            ..healthy()
        };
        assert_eq!(
            grade(&clear, Some(&fair.quality), &bands).state,
            SiteState::Ok
        );
        let unread = Observation {
            snmp_answered: false,
            ..healthy()
        };
        assert_eq!(
            grade(&unread, Some(&fair.quality), &bands).quality,
            fair.quality,
            "a poll without radio values keeps the last qualities for the next"
        );
        assert_eq!(
            grade(&barely, None, &bands).state,
            SiteState::Ok,
            "no history, no hysteresis"
        );
    }

    #[test]
    fn uplink_loss_ipv6_reboots_and_reachability() {
        let bands = Bands::default();
        let down = Observation {
            uplink_up: Some(false),
            ..healthy()
        };
        assert_eq!(grade(&down, None, &bands).state, SiteState::Critical);
        let lossy = Observation {
            loss: Some(0.5),
            ..healthy()
        };
        assert_eq!(grade(&lossy, None, &bands).state, SiteState::Critical);
        let once = Observation {
            previous_loss: Some(0.0),
            previous_latency_ms: Some(20.0),
            latency_ms: Some(400.0),
            ..lossy.clone()
        };
        assert_eq!(
            grade(&once, None, &bands).state,
            SiteState::Ok,
            "one bad poll after a good one"
        );
        let twice = Observation {
            previous_loss: Some(0.4),
            ..lossy
        };
        let graded = grade(&twice, None, &bands);
        assert_eq!(graded.state, SiteState::Critical);
        assert_eq!(graded.reasons, ["40% packet loss"], "the lesser of the two");
        let no_v6 = Observation {
            wan_ipv6: Some(vec![]),
            ..healthy()
        };
        let graded = grade(&no_v6, None, &bands);
        assert_eq!(graded.state, SiteState::Degraded);
        assert_eq!(
            graded.reasons,
            ["no IPv6 address on the WAN other than link-local"]
        );
        let unread = Observation {
            wan_ipv6: None,
            ..healthy()
        };
        assert_eq!(grade(&unread, None, &bands).state, SiteState::Ok);
        let rebooted = Observation {
            rebooted: true,
            ..healthy()
        };
        assert_eq!(grade(&rebooted, None, &bands).state, SiteState::Degraded);
        let refused = Observation {
            auth_failed: true,
            ..healthy()
        };
        assert_eq!(grade(&refused, None, &bands).state, SiteState::AuthFailed);
        let dead = Observation {
            snmp_answered: false,
            icmp_answered: false,
            ..healthy()
        };
        assert_eq!(grade(&dead, None, &bands).state, SiteState::Unreachable);
    }

    #[test]
    fn an_uptime_drop_is_a_reboot_but_a_wrap_is_not() {
        let minute = Duration::from_secs(60);
        assert!(!rebooted(1_000, 7_000, minute));
        assert!(rebooted(9_000_000, 3_000, minute));
        let near_end = u32::MAX - 1_000;
        assert!(!rebooted(near_end, 4_999, minute), "wrapped after 497 days");
        assert!(
            rebooted(1_000, 3_000, minute),
            "up 20 s after a minute: it restarted 20 s ago, though above the old reading"
        );
        assert!(
            !rebooted(1_000, 7_100, minute),
            "an agent clock a little fast"
        );
    }

    #[test]
    fn counters_wrap_and_reset() {
        let second = Duration::from_secs(1);
        let max = 100e9;
        assert_eq!(
            bits_per_second(1_000, 2_000, CounterWidth::Bits64, second, false, max),
            Some(8_000.0)
        );
        let wrapped = bits_per_second(
            u64::from(u32::MAX) - 99,
            900,
            CounterWidth::Bits32,
            second,
            false,
            max,
        );
        assert_eq!(wrapped, Some(8_000.0));
        assert_eq!(
            bits_per_second(1_000, 2_000, CounterWidth::Bits64, second, true, max),
            None,
            "reboot"
        );
        assert_eq!(
            bits_per_second(5_000_000, 10, CounterWidth::Bits64, second, false, max),
            None,
            "reset"
        );
    }
}
