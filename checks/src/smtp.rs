//! smtp.v6: the mail exchangers (or the host itself without MX) greet with 220 and answer
//! EHLO over IPv6 on port 25, on every IPv6 address.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::{Level, Service};
use sixfive_inventory::results::{CheckRecord, Status};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::check::{Check, Gate, HostScan};
use crate::network::{Connect, connect};
use crate::probe::resolve::Mail;

const SMTP_PORT: u16 = 25;
/// A greeting longer than this is not a mail server worth waiting for.
const MAX_REPLY_BYTES: usize = 8 * 1024;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(SmtpV6)]
}

/// What an SMTP server said, or where the session stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// 220 greeting and 250 to EHLO.
    Ready {
        banner: String,
        took: Duration,
    },
    Rejected {
        stage: &'static str,
        reply: String,
    },
    Unreachable(Connect),
    Timeout {
        stage: &'static str,
    },
    Broken(String),
}

/// Greets `target` and says EHLO, all within `timeout`.
pub async fn session(target: SocketAddr, timeout: Duration, helo: &str) -> Session {
    let started = Instant::now();
    let (outcome, stream) = connect(target, timeout).await;
    let Some(stream) = stream else {
        return Session::Unreachable(outcome);
    };
    let mut stage = "greeting";
    let talk = async {
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read.take(MAX_REPLY_BYTES as u64));
        let banner = reply(&mut reader).await?;
        if !banner.starts_with("220") {
            return Ok(Session::Rejected {
                stage: "greeting",
                reply: banner,
            });
        }
        stage = "EHLO";
        write
            .write_all(format!("EHLO {helo}\r\n").as_bytes())
            .await?;
        let ehlo = reply(&mut reader).await?;
        let _ = write.write_all(b"QUIT\r\n").await;
        if !ehlo.starts_with("250") {
            return Ok(Session::Rejected {
                stage: "EHLO",
                reply: ehlo,
            });
        }
        Ok::<_, std::io::Error>(Session::Ready {
            banner: banner.lines().next().unwrap_or_default().to_owned(),
            took: started.elapsed(),
        })
    };
    match tokio::time::timeout(timeout.saturating_sub(started.elapsed()), talk).await {
        Err(_) => Session::Timeout { stage },
        Ok(Err(e)) => Session::Broken(e.to_string()),
        Ok(Ok(session)) => session,
    }
}

/// Reads one reply, all its `NNN-` continuation lines up to the final `NNN ` line.
async fn reply(
    reader: &mut (impl tokio::io::AsyncBufRead + Unpin),
) -> Result<String, std::io::Error> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection mid-reply",
            ));
        }
        let last = line.as_bytes().get(3) != Some(&b'-');
        text.push_str(line.trim_end());
        text.push('\n');
        if last {
            return Ok(text.trim_end().to_owned());
        }
    }
}

struct SmtpV6;

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
                            mx.v6.records().iter().map(|a| IpAddr::V6(*a)).collect(),
                            mx.v4
                                .records()
                                .iter()
                                .map(|a| IpAddr::V4(*a))
                                .filter(|a| scan.usable(*a))
                                .collect(),
                        )
                    })
                    .collect(),
                None | Some(Mail::Implicit) => vec![(
                    scan.fqdn().to_owned(),
                    scan.facts
                        .v6
                        .records()
                        .iter()
                        .map(|a| IpAddr::V6(*a))
                        .collect(),
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
        let _guard = match scan.network.guard(address).await {
            Ok(guard) => guard,
            Err(refused) => return base(Status::Error, refused.detail(address)),
        };
        let target = SocketAddr::new(address, SMTP_PORT);
        let outcome = session(target, scan.network.timeouts.smtp.0, "sixfive.invalid").await;
        let failed = if v4_works { Status::Fail } else { Status::Warn };
        let connected = !matches!(outcome, Session::Unreachable(_));
        let evidence = json!({"exchanger": name, "v4_answers": v4_works, "connected": connected,
            "session": format!("{outcome:?}")});
        let record = match outcome {
            Session::Ready { banner, took } => {
                base(Status::Pass, format!("{name} greets over IPv6: {banner}")).took(took)
            }
            Session::Unreachable(Connect::ScannerFault(why)) => {
                base(Status::Error, format!("scanner cannot connect: {why}"))
            }
            Session::Unreachable(connect) => base(failed, format!("{name} over IPv6: {}", connect.describe()))
                .hint(crate::tcp::closed_hint(&connect, address, SMTP_PORT)),
            Session::Timeout { stage } => base(failed, format!("{name} over IPv6: no {stage} in time"))
                .hint("the mail server accepts IPv6 connections but does not talk: check its IPv6 listener and filters"),
            Session::Rejected { stage, reply } => base(failed, format!("{name} over IPv6 refused the {stage}: {reply}"))
                .hint("let the mail server accept SMTP sessions from IPv6 clients"),
            Session::Broken(why) => base(failed, format!("{name} over IPv6: {why}")),
        };
        record.evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    async fn server(script: &'static [u8], close: bool) -> SocketAddr {
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(script).await.unwrap();
            if close {
                return;
            }
            let mut buf = [0u8; 256];
            while stream.read(&mut buf).await.unwrap_or(0) > 0 {
                let _ = stream.write_all(b"250-mx.test\r\n250 PIPELINING\r\n").await;
            }
        });
        address
    }

    #[tokio::test]
    async fn a_mail_server_that_greets_and_answers_ehlo_is_ready() {
        let target = server(b"220-mx.test ESMTP\r\n220 welcome\r\n", false).await;
        match session(target, Duration::from_secs(2), "scanner.test").await {
            Session::Ready { banner, .. } => assert_eq!(banner, "220-mx.test ESMTP"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refusing_greeting_is_told_apart() {
        let target = server(b"554 no IPv6 clients\r\n", false).await;
        let outcome = session(target, Duration::from_secs(2), "scanner.test").await;
        assert_eq!(
            outcome,
            Session::Rejected {
                stage: "greeting",
                reply: "554 no IPv6 clients".into()
            }
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out_within_the_deadline() {
        let target = server(b"", false).await;
        let started = Instant::now();
        let outcome = session(target, Duration::from_millis(300), "scanner.test").await;
        assert_eq!(outcome, Session::Timeout { stage: "greeting" });
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_server_that_hangs_up_mid_reply_is_broken() {
        let target = server(b"220-partial\r\n", true).await;
        assert!(matches!(
            session(target, Duration::from_secs(2), "scanner.test").await,
            Session::Broken(_)
        ));
    }

    #[tokio::test]
    async fn nothing_listening_is_refused() {
        let listener = std::net::TcpListener::bind("[::1]:0").unwrap();
        let target = listener.local_addr().unwrap();
        drop(listener);
        assert_eq!(
            session(target, Duration::from_secs(2), "scanner.test").await,
            Session::Unreachable(Connect::Refused)
        );
    }
}
