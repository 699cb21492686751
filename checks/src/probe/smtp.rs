//! An SMTP session to one address: the greeting, EHLO and QUIT, within a deadline, and how
//! it ended. smtp.v6 judges it (and times it: how long a session took is no part of how it
//! ended).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::network::{Connect, connect};
use crate::probe::count::Outcome;

/// Where mail is delivered.
pub(crate) const SMTP_PORT: u16 = 25;
/// A greeting longer than this is not a mail server worth waiting for.
pub(crate) const MAX_REPLY_BYTES: usize = 8 * 1024;

/// What an SMTP server said, or where the session stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    /// 220 greeting and 250 to EHLO.
    Ready {
        banner: String,
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

impl Session {
    /// The outcome as the probe counters count it.
    pub fn outcome(&self) -> Outcome {
        match self {
            Session::Ready { .. } => Outcome::Ok,
            Session::Unreachable(connect) => connect.outcome(),
            Session::Timeout { .. } => Outcome::Timeout,
            Session::Rejected { .. } | Session::Broken(_) => Outcome::Failed,
        }
    }
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
        })
    };
    match tokio::time::timeout(timeout.saturating_sub(started.elapsed()), talk).await {
        Err(_) => Session::Timeout { stage },
        Ok(Err(e)) => Session::Broken(e.to_string()),
        Ok(Ok(session)) => session,
    }
}

/// Reads one reply, all its `NNN-` continuation lines up to the final `NNN ` line.
pub(crate) async fn reply(
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
            Session::Ready { banner } => assert_eq!(banner, "220-mx.test ESMTP"),
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
