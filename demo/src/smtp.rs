//! The demo city's mail exchangers: enough SMTP for the scanner's probe (a 220 greeting,
//! 250 to EHLO, 221 to QUIT), delivering nothing. SMTP names no host before the greeting,
//! so a listener shared by several (the loopback plan's ::1) greets as the first.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::Routes;

/// A session idle this long is closed.
const IDLE: Duration = Duration::from_secs(10);

/// Greets as the first host of `routes` on every connection to `listener` until dropped;
/// with no host to serve, closes each connection.
pub async fn serve(listener: TcpListener, routes: Routes<()>) {
    while let Ok((stream, _)) = listener.accept().await {
        let Some((host, ())) = routes.first() else {
            continue;
        };
        // A client that goes away mid-session is its own business.
        tokio::spawn(async move { session(stream, &host).await });
    }
}

async fn session(stream: TcpStream, host: &str) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write
        .write_all(format!("220 {host} ESMTP sixfive-demo\r\n").as_bytes())
        .await?;
    while let Ok(Some(line)) = tokio::time::timeout(IDLE, lines.next_line())
        .await
        .map_err(|_| std::io::ErrorKind::TimedOut)?
    {
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => format!("250-{host}\r\n250 PIPELINING\r\n"),
            "HELO" => format!("250 {host}\r\n"),
            "QUIT" => {
                write.write_all(b"221 2.0.0 closing\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 not in the demo\r\n".to_owned(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    /// What the scanner's probe reads: a 220 greeting, 250 lines to EHLO, 221 to QUIT.
    #[tokio::test]
    async fn the_exchanger_greets_answers_ehlo_and_says_goodbye() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let routes = crate::Routes::default();
        routes.set([("mail.danang.test".to_owned(), ())].into());
        let server = tokio::spawn(super::serve(listener, routes));
        let (read, mut write) = TcpStream::connect(at).await.unwrap().into_split();
        let mut lines = BufReader::new(read).lines();
        let banner = lines.next_line().await.unwrap().unwrap();
        assert!(banner.starts_with("220 mail.danang.test"), "{banner}");
        write.write_all(b"EHLO scanner.test\r\n").await.unwrap();
        assert_eq!(
            lines.next_line().await.unwrap().unwrap(),
            "250-mail.danang.test"
        );
        assert_eq!(lines.next_line().await.unwrap().unwrap(), "250 PIPELINING");
        write.write_all(b"QUIT\r\n").await.unwrap();
        let bye = lines.next_line().await.unwrap().unwrap();
        assert!(bye.starts_with("221"), "{bye}");
        assert_eq!(lines.next_line().await.unwrap(), None, "the session ends");
        server.abort();
    }
}
