//! net.happy_eyeballs: IPv6 connects are not slower than IPv4 by more than RFC 8305's
//! connection attempt delay, after which clients fall back to IPv4 and users notice.

use std::net::IpAddr;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Family, Status};

use crate::network::Connect;
use crate::readiness::tcp::family_outcomes;
use crate::readiness::{Check, Gate, HostScan};

/// RFC 8305's connection attempt delay: how much slower IPv6 may be before users notice.
const HAPPY_EYEBALLS_SLACK: Duration = Duration::from_millis(250);

pub struct HappyEyeballs;

impl Check for HappyEyeballs {
    fn id(&self) -> &'static str {
        "net.happy_eyeballs"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 3))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let Some(port) = scan.web_ports().first().copied() else {
                return scan.skip(self.id(), "no TCP service to time");
            };
            let v4 = scan.addresses(false);
            let v6 = scan.addresses(true);
            let fastest = |outcomes: Vec<(IpAddr, Result<Connect, _>)>| {
                outcomes
                    .into_iter()
                    .filter_map(|(_, c)| match c {
                        Ok(Connect::Open(took)) => Some(took),
                        _ => None,
                    })
                    .min()
            };
            let (Some(took4), Some(took6)) = (
                fastest(family_outcomes(scan, &v4, port).await),
                fastest(family_outcomes(scan, &v6, port).await),
            ) else {
                return scan.skip(self.id(), "needs the port open over both families");
            };
            let ms = sixfive_inventory::results::millis;
            // Which address was fastest changes from run to run: the finding names the
            // port and how many addresses raced, the times are measurements.
            let evidence =
                json!({"port": port, "v4_addresses": v4.len(), "v6_addresses": v6.len()});
            let record = if took6 <= took4 + HAPPY_EYEBALLS_SLACK {
                scan.record(
                    self.id(),
                    Status::Pass,
                    "IPv6 connects within 250 ms of IPv4",
                )
            } else {
                scan.record(
                    self.id(),
                    Status::Warn,
                    "IPv6 connects more than 250 ms slower than IPv4",
                )
                .hint("look for lost SYNs or a long path over IPv6 (a tunnel, a far-away relay)")
            };
            let mut record = record
                .family(Family::V6)
                .took(took6)
                .evidence(evidence)
                .measured("v4_connect_ms", ms(took4))
                .measured("v6_connect_ms", ms(took6));
            record.port = Some(port);
            vec![record]
        }
        .boxed()
    }
}
