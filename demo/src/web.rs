//! The demo city's web servers: a demo CA that the scan trusts (through `scan.ca_file`),
//! a certificate per host, and a small HTTP/1.1 server, plain or over TLS, that answers
//! each request with the host's home page, another page, or a redirect. A listener serves
//! the hosts its routes name (one, at an address of its own; all of them at the loopback
//! plan's ::1), so a fault is a choice of listener or of route.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Routes;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::Acceptor;

/// What a web listener answers to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The host's home page.
    Home,
    /// A page that is not the host's: the default page of a forgotten IPv6 front end.
    Other,
    /// A redirect to this URL.
    Redirect(String),
}

/// Which certificate a TLS listener shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cert {
    /// Issued by the demo CA for the host's name.
    Trusted,
    /// Self-signed, for the same name: what a front end set up by hand shows.
    SelfSigned,
}

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot make a demo certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("cannot use a demo certificate: {0}")]
    Rustls(#[from] tokio_rustls::rustls::Error),
}

/// The demo CA and the TLS settings made from it, one per host and certificate kind.
pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    ca_pem: String,
    configs: Mutex<HashMap<(String, Cert), Arc<ServerConfig>>>,
}

impl Pki {
    pub fn new() -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "sixfive demo CA");
        let ca_pem = params.self_signed(&key)?.pem();
        Ok(Self {
            issuer: Issuer::new(params, key),
            ca_pem,
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// The CA's certificate, for `scan.ca_file`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The TLS settings of `host` showing `cert`, made once.
    pub fn config(&self, host: &str, cert: Cert) -> Result<Arc<ServerConfig>, PkiError> {
        let key = (host.to_owned(), cert);
        if let Some(config) = self.configs.lock().expect("not poisoned").get(&key) {
            return Ok(Arc::clone(config));
        }
        let leaf_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![host.to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, host);
        let leaf = match cert {
            Cert::Trusted => params.signed_by(&leaf_key, &self.issuer)?,
            Cert::SelfSigned => params.self_signed(&leaf_key)?,
        };
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )?;
        let config = Arc::new(config);
        self.configs
            .lock()
            .expect("not poisoned")
            .insert(key, Arc::clone(&config));
        Ok(config)
    }
}

/// How long a client may take for its handshake and request before it is dropped.
const REQUEST_TIME: Duration = Duration::from_secs(5);

/// What a web listener serves one host.
#[derive(Debug, Clone)]
pub struct Vhost {
    pub page: Page,
    /// The host's TLS settings, on a TLS listener.
    pub tls: Option<Arc<ServerConfig>>,
}

/// Serves `routes` on `listener`, over TLS when `tls`, until dropped. A connection for a
/// host the listener does not serve now (by SNI over TLS, else by the Host header) is
/// closed unanswered: the loopback plan's shared ::1 for a host whose IPv6 is down.
pub async fn serve(listener: TcpListener, routes: Routes<Vhost>, tls: bool) {
    while let Ok((stream, _)) = listener.accept().await {
        let routes = routes.clone();
        // A client that goes away or fails its handshake is its own business.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIME, connection(stream, &routes, tls)).await;
        });
    }
}

async fn connection(stream: TcpStream, routes: &Routes<Vhost>, tls: bool) -> std::io::Result<()> {
    if !tls {
        let mut stream = stream;
        let head = read_head(&mut stream).await?;
        return match host_of(&head).and_then(|host| Some((routes.get(&host)?, host))) {
            Some((vhost, host)) => answer(stream, &host, &vhost.page).await,
            None => Ok(()),
        };
    }
    let start = LazyConfigAcceptor::new(Acceptor::default(), stream).await?;
    let host = start.client_hello().server_name().map(str::to_owned);
    let Some((host, vhost)) = host.and_then(|host| Some((host.clone(), routes.get(&host)?))) else {
        return Ok(());
    };
    let Some(config) = vhost.tls else {
        return Ok(());
    };
    let mut stream = start.into_stream(config).await?;
    read_head(&mut stream).await?;
    answer(stream, &host, &vhost.page).await
}

/// Reads a request head (up to its blank line, or 16 KiB).
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

/// The host a request head names in its Host header, without a port.
fn host_of(head: &[u8]) -> Option<String> {
    let head = std::str::from_utf8(head).ok()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        let host = value.rsplit_once(':').map_or(value, |(host, _)| host);
        name.eq_ignore_ascii_case("host")
            .then(|| host.to_ascii_lowercase())
    })
}

/// Answers one request with `page`; the connection then closes.
async fn answer<S: AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    page: &Page,
) -> std::io::Result<()> {
    stream.write_all(response(host, page).as_bytes()).await?;
    stream.shutdown().await
}

/// The whole HTTP response for `page`.
pub fn response(host: &str, page: &Page) -> String {
    let (status, location, body) = match page {
        Page::Home => ("200 OK", None, home(host)),
        Page::Other => (
            "200 OK",
            None,
            "<!doctype html><title>Welcome</title><h1>It works!</h1>\n".to_owned(),
        ),
        Page::Redirect(url) => ("301 Moved Permanently", Some(url.as_str()), String::new()),
    };
    let location = location.map_or_else(String::new, |url| format!("Location: {url}\r\n"));
    format!(
        "HTTP/1.1 {status}\r\n{location}Content-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A home page larger than one packet, so the path MTU check has something to learn.
fn home(host: &str) -> String {
    let mut body = format!("<!doctype html><title>{host}</title><h1>{host}</h1>\n");
    for i in 1..=24 {
        body.push_str(&format!(
            "<p>Notice {i} of {host}: the city's services, open to every citizen over IPv6 and IPv4.</p>\n"
        ));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_header_names_the_host_without_its_port() {
        let head = b"GET / HTTP/1.1\r\nhost: Portal.danang.test:40080\r\n\r\n";
        assert_eq!(host_of(head).as_deref(), Some("portal.danang.test"));
        assert_eq!(host_of(b"GET / HTTP/1.1\r\n\r\n"), None);
    }

    /// At a shared address, each host gets its own page, and a host not served is closed.
    #[tokio::test]
    async fn a_shared_listener_answers_each_host_by_name() {
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let routes = Routes::default();
        let vhost = |page| Vhost { page, tls: None };
        routes.set(
            [
                ("a.danang.test".to_owned(), vhost(Page::Home)),
                ("b.danang.test".to_owned(), vhost(Page::Other)),
            ]
            .into(),
        );
        let server = tokio::spawn(serve(listener, routes, false));
        let get = |host: &'static str| async move {
            let mut stream = TcpStream::connect(at).await.unwrap();
            let request = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        };
        assert!(
            get("a.danang.test")
                .await
                .contains("<h1>a.danang.test</h1>")
        );
        assert!(get("b.danang.test").await.contains("It works!"));
        assert_eq!(get("c.danang.test").await, "");
        server.abort();
    }

    #[test]
    fn pages_differ_as_the_faults_say() {
        let home = response("portal.danang.test", &Page::Home);
        assert!(home.starts_with("HTTP/1.1 200 OK") && home.len() > 1500);
        let other = response("portal.danang.test", &Page::Other);
        assert!(
            other.len() < home.len() / 2,
            "other content is not within parity's 10 %"
        );
        let redirect = response(
            "x.danang.test",
            &Page::Redirect("https://legacy.danang.test/".into()),
        );
        assert!(redirect.starts_with("HTTP/1.1 301"));
        assert!(redirect.contains("Location: https://legacy.danang.test/\r\n"));
    }

    /// A TLS listener shows the certificate asked for: the demo CA's verifies for the
    /// host's name, the self-signed one does not.
    #[tokio::test]
    async fn the_trusted_certificate_verifies_and_the_wrong_one_does_not() {
        use tokio_rustls::rustls::{ClientConfig, RootCertStore};
        let pki = Pki::new().unwrap();
        let mut roots = RootCertStore::empty();
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        roots
            .add(CertificateDer::from_pem_slice(pki.ca_pem().as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let client = Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );
        for (cert, verifies) in [(Cert::Trusted, true), (Cert::SelfSigned, false)] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let at = listener.local_addr().unwrap();
            let config = pki.config("portal.danang.test", cert).unwrap();
            let routes = Routes::default();
            let vhost = Vhost {
                page: Page::Home,
                tls: Some(config),
            };
            routes.set([("portal.danang.test".to_owned(), vhost)].into());
            let server = tokio::spawn(serve(listener, routes, true));
            let tcp = tokio::net::TcpStream::connect(at).await.unwrap();
            let name = "portal.danang.test".try_into().unwrap();
            let outcome = tokio_rustls::TlsConnector::from(Arc::clone(&client))
                .connect(name, tcp)
                .await;
            assert_eq!(outcome.is_ok(), verifies, "{cert:?}");
            server.abort();
        }
    }
}
