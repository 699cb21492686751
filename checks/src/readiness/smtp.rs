//! smtp.v6: the mail exchangers (or the host itself without MX) greet with 220 and answer
//! EHLO over IPv6 on port 25, on every IPv6 address.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::{Level, Service};
use sixfive_inventory::results::{CheckRecord, Status, millis};

use crate::network::Connect;
use crate::probe::count::{ProbeKind, count};
use crate::probe::resolve::{MAX_ADDRESSES, Mail};
use crate::probe::smtp::{SMTP_PORT, Session};
use crate::readiness::{Check, Gate, HostScan};

pub struct SmtpV6;

impl Check for SmtpV6 {
    fn id(&self) -> &'static str {
        "smtp.v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::breaking(Level::L1, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if !scan.has(Service::Smtp) {
                return scan.skip(self.id(), "the host has no mail service");
            }
            let exchangers: Vec<(String, Vec<IpAddr>, Vec<IpAddr>)> = match &scan.facts.mail {
                Some(Mail::NullMx) => {
                    return scan.skip(self.id(), "null MX: the domain takes no mail");
                }
                Some(Mail::Failed { reason }) => {
                    return vec![scan.record(
                        self.id(),
                        Status::Error,
                        format!("MX lookup failed: {reason}"),
                    )];
                }
                Some(Mail::Exchangers { hosts, .. }) => hosts
                    .iter()
                    .map(|mx| {
                        (
                            mx.name.clone(),
                            scan.examined_v6(&mx.v6),
                            mx.v4
                                .records()
                                .iter()
                                .map(|a| IpAddr::V4(*a))
                                .filter(|a| scan.usable(*a))
                                .take(MAX_ADDRESSES)
                                .collect(),
                        )
                    })
                    .collect(),
                None | Some(Mail::Implicit) => vec![(
                    scan.fqdn().to_owned(),
                    scan.examined_v6(&scan.facts.v6),
                    scan.addresses(false),
                )],
            };
            let mut records = Vec::new();
            for (name, v6, v4) in exchangers {
                if v6.is_empty() {
                    records.push(
                        scan.skip(self.id(), format!("{name} has no AAAA (see dns.mx_aaaa)"))
                            .remove(0),
                    );
                    continue;
                }
                let v4_works = {
                    let probes = v4
                        .iter()
                        .map(|a| scan.connect(SocketAddr::new(*a, SMTP_PORT)));
                    futures::future::join_all(probes)
                        .await
                        .iter()
                        .any(|c| matches!(c, Ok(Connect::Open(_))))
                };
                for address in v6 {
                    records.push(self.probe(scan, &name, address, v4_works).await);
                }
            }
            records
        }
        .boxed()
    }
}

impl SmtpV6 {
    async fn probe(
        &self,
        scan: &HostScan<'_>,
        name: &str,
        address: IpAddr,
        v4_works: bool,
    ) -> CheckRecord {
        let base = |status, detail: String| {
            scan.record(self.id(), status, detail)
                .at(address, Some(SMTP_PORT))
        };
        if !scan.usable(address) {
            return base(
                Status::Skip,
                format!("{name}: {address} not probed: not a usable address"),
            );
        }
        let _guard = match scan.network.guard(address, ProbeKind::Smtp).await {
            Ok(guard) => guard,
            Err(refused) => return base(Status::Error, refused.detail(address)),
        };
        let target = SocketAddr::new(address, SMTP_PORT);
        let started = Instant::now();
        let outcome = scan.network.smtp(target, "sixfive.invalid").await;
        count(ProbeKind::Smtp, address, outcome.outcome());
        let took = started.elapsed();
        let failed = if v4_works { Status::Fail } else { Status::Warn };
        let connected = !matches!(outcome, Session::Unreachable(_));
        let evidence = json!({"exchanger": name, "v4_answers": v4_works, "connected": connected,
            "session": format!("{outcome:?}")});
        let record = match outcome {
            Session::Ready { banner } => base(Status::Pass, format!("{name} greets over IPv6: {banner}"))
                .took(took)
                .measured("session_ms", millis(took)),
            Session::Unreachable(Connect::ScannerFault(why)) => {
                base(Status::Error, format!("scanner cannot connect: {why}"))
            }
            Session::Unreachable(connect) => base(failed, format!("{name} over IPv6: {}", connect.describe()))
                .hint(crate::readiness::tcp::closed_hint(&connect, address, SMTP_PORT)),
            Session::Timeout { stage } => base(failed, format!("{name} over IPv6: no {stage} in time"))
                .hint("the mail server accepts IPv6 connections but does not talk: check its IPv6 listener and filters"),
            Session::Rejected { stage, reply } => base(failed, format!("{name} over IPv6 refused the {stage}: {reply}"))
                .hint("let the mail server accept SMTP sessions from IPv6 clients"),
            Session::Broken(why) => base(failed, format!("{name} over IPv6: {why}")),
        };
        record.evidence(evidence)
    }
}
