//! Ports of the loopback plan. A user may bind no port below 1024 there, and other
//! processes hold some above it, so each of the city's services takes the first port
//! that is free on every address it needs; the scan learns where each went.

use std::future::Future;
use std::io;

/// Ports tried: below Linux's ephemeral range (32768 and up by default), which every
/// process's outgoing connections draw from, so a port here is seldom taken.
const RANGE: std::ops::Range<u16> = 20_000..32_768;
/// Ports tried for one service before the demo gives up.
const ATTEMPTS: u32 = 512;

/// Hands out ports of [`RANGE`], each tried once.
pub struct Ports {
    next: u16,
}

impl Default for Ports {
    /// Starts where the process id says, so demos run side by side rarely try one port.
    fn default() -> Self {
        let span = u32::from(RANGE.end - RANGE.start);
        let offset = u16::try_from(std::process::id() % span).expect("within the range");
        Self {
            next: RANGE.start + offset,
        }
    }
}

impl Ports {
    /// Calls `bind` with one port after another until it binds (an address in use tries
    /// the next port; any other error stops), returning the port and what was bound.
    pub async fn bind<T, F, Fut>(&mut self, what: &str, mut bind: F) -> io::Result<(u16, T)>
    where
        F: FnMut(u16) -> Fut,
        Fut: Future<Output = io::Result<T>>,
    {
        for _ in 0..ATTEMPTS {
            let port = self.next;
            self.next = if port + 1 < RANGE.end {
                port + 1
            } else {
                RANGE.start
            };
            match bind(port).await {
                Ok(bound) => return Ok((port, bound)),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "no port of {}–{} is free for {what} on every address it needs ({ATTEMPTS} tried)",
                RANGE.start,
                RANGE.end - 1
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port another process holds is passed over for the next free one.
    #[tokio::test]
    async fn a_port_in_use_is_passed_over() {
        let mut ports = Ports::default();
        let first = ports.next;
        let held = std::net::TcpListener::bind(("127.0.0.1", first));
        let (port, listener) = ports
            .bind("a test", |port| async move {
                tokio::net::TcpListener::bind(("127.0.0.1", port)).await
            })
            .await
            .unwrap();
        assert!(RANGE.contains(&port));
        if held.is_ok() {
            assert_ne!(port, first);
        }
        assert_eq!(listener.local_addr().unwrap().port(), port);
    }

    #[tokio::test]
    async fn another_error_stops_at_once() {
        let mut ports = Ports::default();
        let mut tried = 0;
        let failed = ports
            .bind("a test", |_| {
                tried += 1;
                async { Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied)) }
            })
            .await;
        assert_eq!(failed.unwrap_err().kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(tried, 1);
    }
}
