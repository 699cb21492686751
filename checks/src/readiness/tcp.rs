//! tcp.v6: every service port open over IPv4 is open over IPv6 on every address; and the
//! connects and remedies other checks share (net.happy_eyeballs, smtp.v6).

use std::net::{IpAddr, SocketAddr};

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status, millis};

use crate::network::Connect;
use crate::readiness::{Check, Gate, HostScan};

/// Connect outcomes of one port over one family, address by address.
pub(super) async fn family_outcomes(
    scan: &HostScan<'_>,
    addresses: &[IpAddr],
    port: u16,
) -> Vec<(IpAddr, Result<Connect, crate::network::Refused>)> {
    let probes = addresses.iter().map(|address| async move {
        (
            *address,
            scan.connect(SocketAddr::new(*address, port)).await,
        )
    });
    futures::future::join_all(probes).await
}

pub struct TcpV6;

impl Check for TcpV6 {
    fn id(&self) -> &'static str {
        "tcp.v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::breaking(Level::L1, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let v6 = scan.examined_v6(&scan.facts.v6);
            if v6.is_empty() {
                return scan.skip(self.id(), "no AAAA record");
            }
            let listed = scan.web_ports();
            // Users type http:// and https:// whatever the inventory says: a web host is
            // probed on both ports.
            let mut ports = listed.clone();
            if !scan.web_schemes().is_empty() {
                ports.extend([80, 443]);
                ports.sort_unstable();
                ports.dedup();
            }
            if ports.is_empty() {
                return scan.skip(self.id(), "no TCP service besides mail (see smtp.v6)");
            }
            let services: Vec<String> = scan.host.services.iter().map(ToString::to_string).collect();
            let v4 = scan.addresses(false);
            let mut records = Vec::new();
            for port in ports {
                let unlisted = if listed.contains(&port) {
                    String::new()
                } else {
                    format!(" (not in the inventory, which lists {})", services.join(", "))
                };
                let over_v4 = family_outcomes(scan, &v4, port).await;
                let open_v4 = over_v4.iter().any(|(_, c)| matches!(c, Ok(Connect::Open(_))));
                let v4_evidence: Vec<_> = over_v4
                    .iter()
                    .map(|(a, c)| json!({"address": a, "outcome": outcome_text(c, *a)}))
                    .collect();
                for address in &v6 {
                    if !scan.usable(*address) {
                        records.push(
                            scan.record(self.id(), Status::Skip, format!("{address} not probed: not a usable address (see dns.aaaa_global)"))
                                .at(*address, Some(port)),
                        );
                        continue;
                    }
                    let outcome = scan.connect(SocketAddr::new(*address, port)).await;
                    let detail = outcome_text(&outcome, *address);
                    let base = scan
                        .record(self.id(), Status::Pass, detail.clone())
                        .at(*address, Some(port))
                        .evidence(json!({"v6": detail, "v4": v4_evidence}));
                    let record = match outcome {
                        Ok(Connect::Open(took)) => base.took(took).measured("connect_ms", millis(took)),
                        Err(_) | Ok(Connect::ScannerFault(_)) => CheckRecord { status: Status::Error, ..base },
                        Ok(closed) if open_v4 || (v4.is_empty() && unlisted.is_empty()) => CheckRecord {
                            status: Status::Fail,
                            detail: format!("port {port}{unlisted} is open over IPv4 but over IPv6 {}", closed.describe()),
                            ..base
                        }
                        .hint(closed_hint(&closed, *address, port)),
                        Ok(closed) if !unlisted.is_empty() => CheckRecord {
                            status: Status::Skip,
                            detail: format!("port {port}{unlisted} is closed over both families (IPv6: {})", closed.describe()),
                            ..base
                        },
                        Ok(closed) => CheckRecord {
                            status: Status::Warn,
                            detail: format!("port {port} is closed over both families (IPv6: {})", closed.describe()),
                            ..base
                        }
                        .hint("the service is down or the inventory lists a port it does not offer"),
                    };
                    records.push(record);
                }
            }
            records
        }
        .boxed()
    }
}

fn outcome_text(outcome: &Result<Connect, crate::network::Refused>, address: IpAddr) -> String {
    match outcome {
        Ok(connect) => connect.describe(),
        Err(refused) => refused.detail(address),
    }
}

/// The one-line remedy for a port that works over IPv4 and not over IPv6.
pub fn closed_hint(outcome: &Connect, address: IpAddr, port: u16) -> String {
    match outcome {
        Connect::Refused => match port {
            443 => "nothing listens on IPv6 port 443: nginx: add `listen [::]:443 ssl;`".into(),
            80 => "nothing listens on IPv6 port 80: nginx: add `listen [::]:80;`".into(),
            _ => format!("nothing listens on [{address}]:{port}: bind the service to [::] as well"),
        },
        Connect::Timeout => format!(
            "IPv6 packets to [{address}]:{port} are dropped: open the port in ip6tables or the security group, or remove the AAAA"
        ),
        _ => {
            format!("[{address}]:{port} cannot be reached over IPv6: check routing to this address")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sixfive_inventory::model::Service;

    use super::*;
    use crate::readiness::fake::{FakeNet, V4, V6, host, network, run};

    const OPEN: Connect = Connect::Open(Duration::from_millis(12));

    /// tcp.v6's record for port `port` of an https host, with `v6` the IPv6 outcome and
    /// port 80 and 443 open over IPv4.
    async fn port(port: u16, v6: Connect, services: &[Service]) -> CheckRecord {
        let net = FakeNet::default()
            .connect(V4, 80, OPEN)
            .connect(V4, 443, OPEN)
            .connect(V6, port, v6);
        let records = run(&TcpV6, &host(services), &network(true), &net, true).await;
        records
            .into_iter()
            .find(|r| r.port == Some(port))
            .expect("a record per port")
    }

    #[tokio::test]
    async fn an_open_port_passes_and_its_connect_time_is_a_measurement() {
        let record = port(443, OPEN, &[Service::Https]).await;
        assert_eq!(record.status, Status::Pass, "{}", record.detail);
        assert_eq!(record.detail, "open");
        assert_eq!(record.measurements.get("connect_ms"), Some(&12.0));
        assert_eq!(record.evidence["v4"][0]["outcome"], "open");
    }

    #[tokio::test]
    async fn a_port_open_over_ipv4_only_fails_with_a_remedy_for_how_it_is_closed() {
        let refused = port(443, Connect::Refused, &[Service::Https]).await;
        assert_eq!(refused.status, Status::Fail, "{}", refused.detail);
        assert!(refused.hint.unwrap().contains("listen [::]:443 ssl;"));
        let dropped = port(443, Connect::Timeout, &[Service::Https]).await;
        assert_eq!(dropped.status, Status::Fail, "{}", dropped.detail);
        assert!(
            dropped.detail.ends_with("no answer (timeout)"),
            "{}",
            dropped.detail
        );
        assert!(dropped.hint.unwrap().contains("ip6tables"));
        // Port 80 is probed for a web host even when the inventory lists only https.
        let unlisted = port(80, Connect::Refused, &[Service::Https]).await;
        assert_eq!(unlisted.status, Status::Fail);
        assert!(
            unlisted.detail.contains("not in the inventory"),
            "{}",
            unlisted.detail
        );
    }

    #[tokio::test]
    async fn the_scanners_own_trouble_is_an_error_not_the_hosts_failure() {
        let fault = Connect::ScannerFault("network unreachable".into());
        assert_eq!(
            port(443, fault, &[Service::Https]).await.status,
            Status::Error
        );
    }

    #[tokio::test]
    async fn a_port_closed_over_both_families_warns_when_listed_and_is_skipped_when_not() {
        let net = FakeNet::default();
        let records = run(&TcpV6, &host(&[Service::Https]), &network(true), &net, true).await;
        let status = |port| {
            records
                .iter()
                .find(|r| r.port == Some(port))
                .map(|r| r.status)
        };
        assert_eq!(status(443), Some(Status::Warn));
        assert_eq!(status(80), Some(Status::Skip));
    }
}
