//! What holds a host back, in a manager's words: each failed check read as a cause
//! ("AAAA missing", "name servers without IPv6", …), and as a fix with the thing to fix
//! (the host itself, a zone's name servers, a redirect's target), so that one fix shared
//! by many hosts (a name server given an AAAA lifts every host of its zone) ranks first.

use schemars::JsonSchema;
use serde::Serialize;
use sixfive_inventory::model::{LEVEL_CHECKS, Level};
use sixfive_inventory::store::Failure;

/// Why a host is below the target level. Ids are part of `sixfive.report/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// No run has graded the host yet.
    NotScanned,
    /// It fell from the level it had: BROKEN until the next scan.
    Regressed,
    AaaaMissing,
    /// An AAAA that is not usable, or a service (web, mail) that works over IPv4 and not
    /// over IPv6.
    AaaaBroken,
    ContentDiffers,
    TlsInvalidV6,
    RedirectToV4Only,
    NameServersWithoutV6,
    MailWithoutV6,
    ReverseDnsMissing,
    DnssecInvalid,
    PathMtu,
    V6Slower,
    NeedsIpv4,
    /// A check this build does not name a cause for.
    Other,
    /// A check the scan could not decide (a lookup that timed out): it holds the level
    /// until a scan decides it.
    Undecided,
}

impl Cause {
    pub const ALL: [Cause; 16] = [
        Cause::NotScanned,
        Cause::Regressed,
        Cause::AaaaMissing,
        Cause::AaaaBroken,
        Cause::ContentDiffers,
        Cause::TlsInvalidV6,
        Cause::RedirectToV4Only,
        Cause::NameServersWithoutV6,
        Cause::MailWithoutV6,
        Cause::ReverseDnsMissing,
        Cause::DnssecInvalid,
        Cause::PathMtu,
        Cause::V6Slower,
        Cause::NeedsIpv4,
        Cause::Other,
        Cause::Undecided,
    ];

    /// The cause of a failed check, by its id (readiness.md's catalog).
    pub fn of(check: &str) -> Cause {
        match check {
            "dns.aaaa" => Cause::AaaaMissing,
            "dns.aaaa_global" | "tcp.v6" | "http.v6" | "smtp.v6" => Cause::AaaaBroken,
            "http.parity" => Cause::ContentDiffers,
            "tls.v6" => Cause::TlsInvalidV6,
            "http.redirect_v6" => Cause::RedirectToV4Only,
            "dns.ns_aaaa" | "dns.ns_v6" => Cause::NameServersWithoutV6,
            "dns.mx_aaaa" => Cause::MailWithoutV6,
            "dns.ptr" => Cause::ReverseDnsMissing,
            "dns.dnssec" => Cause::DnssecInvalid,
            "net.pmtu" => Cause::PathMtu,
            "net.happy_eyeballs" => Cause::V6Slower,
            "dns.v6_only" => Cause::NeedsIpv4,
            _ => Cause::Other,
        }
    }

    /// The cause of a result that holds a host back: its check's, or undecided.
    pub fn of_result(result: &Failure) -> Cause {
        match result.status {
            sixfive_inventory::results::Status::Error => Cause::Undecided,
            _ => Cause::of(&result.check),
        }
    }

    /// Its id in `sixfive.report/v1` and the translation files (`cause.<id>`).
    pub fn id(self) -> &'static str {
        match self {
            Cause::NotScanned => "not_scanned",
            Cause::Regressed => "regressed",
            Cause::AaaaMissing => "aaaa_missing",
            Cause::AaaaBroken => "aaaa_broken",
            Cause::ContentDiffers => "content_differs",
            Cause::TlsInvalidV6 => "tls_invalid_v6",
            Cause::RedirectToV4Only => "redirect_to_v4_only",
            Cause::NameServersWithoutV6 => "name_servers_without_v6",
            Cause::MailWithoutV6 => "mail_without_v6",
            Cause::ReverseDnsMissing => "reverse_dns_missing",
            Cause::DnssecInvalid => "dnssec_invalid",
            Cause::PathMtu => "path_mtu",
            Cause::V6Slower => "v6_slower",
            Cause::NeedsIpv4 => "needs_ipv4",
            Cause::Other => "other",
            Cause::Undecided => "undecided",
        }
    }
}

/// The level a check gates (LEVEL_CHECKS); checks outside the table gate nothing.
pub fn gate(check: &str) -> Option<Level> {
    LEVEL_CHECKS
        .iter()
        .find(|(_, checks)| checks.contains(&check))
        .map(|(level, _)| *level)
}

/// The level above `level` a host would rise to; None at the top. A broken host's next
/// step is L1, as a host with AAAA that all work is at least there.
pub fn next_level(level: Level) -> Option<Level> {
    match level {
        Level::Broken | Level::L0 => Some(Level::L1),
        Level::L1 => Some(Level::L2),
        Level::L2 => Some(Level::L3),
        Level::L3 => Some(Level::L4),
        Level::L4 => Some(Level::L5),
        Level::L5 => None,
    }
}

/// One thing to fix: a cause and what it is about (a host, a zone, a name server, a mail
/// exchanger, a redirect's target host).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct FixTarget {
    pub cause: Cause,
    pub subject: Subject,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Subject {
    Host(String),
    Zone(String),
    NameServer(String),
    MailExchanger(String),
    RedirectTarget(String),
}

impl Subject {
    pub fn name(&self) -> &str {
        match self {
            Subject::Host(name)
            | Subject::Zone(name)
            | Subject::NameServer(name)
            | Subject::MailExchanger(name)
            | Subject::RedirectTarget(name) => name,
        }
    }

    /// Its kind's id in the translation files (`subject.<kind>`).
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Host(_) => "host",
            Subject::Zone(_) => "zone",
            Subject::NameServer(_) => "name_server",
            Subject::MailExchanger(_) => "mail_exchanger",
            Subject::RedirectTarget(_) => "redirect_target",
        }
    }
}

/// What fixing `failure` of `host` means: shared things (a zone's name servers, a mail
/// exchanger, a redirect's target) where the check's evidence names them, else the host.
pub fn fix_for(host: &str, failure: &Failure) -> FixTarget {
    let evidence = &failure.evidence;
    let text = |pointer: &str| {
        evidence
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .map(|name| name.trim_end_matches('.').to_ascii_lowercase())
    };
    let subject = match failure.check.as_str() {
        // The zone as the check writes it, an object with its apex.
        "dns.ns_aaaa" => text("/zone/apex").map(Subject::Zone),
        "dns.ns_v6" => text("/name_server").map(Subject::NameServer),
        "dns.mx_aaaa" => text("/mx/name").map(Subject::MailExchanger),
        "http.redirect_v6" => text("/chain/end/leaves_family_at").map(Subject::RedirectTarget),
        _ => None,
    };
    FixTarget {
        cause: Cause::of(&failure.check),
        subject: subject.unwrap_or_else(|| Subject::Host(host.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn failure(check: &str, evidence: serde_json::Value) -> Failure {
        Failure {
            check: check.into(),
            status: sixfive_inventory::results::Status::Fail,
            detail: String::new(),
            evidence,
        }
    }

    #[test]
    fn shared_things_are_named_from_the_evidence_and_the_host_otherwise() {
        let ns = failure(
            "dns.ns_aaaa",
            json!({"zone": {"apex": "City.Example.", "name_servers": []}, "unusable": []}),
        );
        assert_eq!(
            fix_for("a.city.example", &ns).subject,
            Subject::Zone("city.example".into())
        );
        let redirect = failure(
            "http.redirect_v6",
            json!({"chain": {"hops": [], "end": {"leaves_family_at": "sso.city.example"}}}),
        );
        assert_eq!(
            fix_for("a.city.example", &redirect),
            FixTarget {
                cause: Cause::RedirectToV4Only,
                subject: Subject::RedirectTarget("sso.city.example".into())
            }
        );
        // A redirect that failed another way is the host's to fix.
        let other = failure(
            "http.redirect_v6",
            json!({"chain": {"end": {"too_many_redirects": 10}}}),
        );
        assert_eq!(
            fix_for("a.city.example", &other).subject,
            Subject::Host("a.city.example".into())
        );
        assert_eq!(Cause::of("dns.something_new"), Cause::Other);
    }

    #[test]
    fn every_check_of_the_levels_has_a_cause_and_a_gate() {
        for (level, checks) in LEVEL_CHECKS {
            for check in checks {
                assert_ne!(Cause::of(check), Cause::Other, "{check}");
                assert_eq!(gate(check), Some(level));
            }
        }
        assert_eq!(gate("dns.a"), None);
    }
}
