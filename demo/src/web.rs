//! The demo city's web servers: a demo CA that the scan trusts (through `scan.ca_file`),
//! a certificate per host, and a small HTTP/1.1 server, plain or over TLS, that answers
//! each request with the host's home page, another page, or a redirect. One listener
//! serves one host on one address and port, so a fault is a choice of listener.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

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

/// How long a client may take to send its request before the connection is dropped.
const REQUEST_TIME: Duration = Duration::from_secs(5);

/// Serves `page` for `host` on `listener`, over TLS when `tls` is given, until dropped.
pub async fn serve(
    listener: TcpListener,
    host: String,
    page: Page,
    tls: Option<Arc<ServerConfig>>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let (host, page) = (Arc::new(host), Arc::new(page));
    while let Ok((stream, _)) = listener.accept().await {
        let (acceptor, host, page) = (acceptor.clone(), Arc::clone(&host), Arc::clone(&page));
        tokio::spawn(async move {
            // A client that goes away or fails its handshake is its own business.
            match acceptor {
                Some(acceptor) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(REQUEST_TIME, acceptor.accept(stream)).await
                    {
                        let _ = answer(stream, &host, &page).await;
                    }
                }
                None => {
                    let _ = answer(stream, &host, &page).await;
                }
            }
        });
    }
}

/// Reads one request head and answers it with `page`; the connection then closes.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    page: &Page,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = tokio::time::timeout(REQUEST_TIME, stream.read(&mut buf))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = response(host, page);
    stream.write_all(response.as_bytes()).await?;
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
            let server = tokio::spawn(serve(
                listener,
                "portal.danang.test".into(),
                Page::Home,
                Some(config),
            ));
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
