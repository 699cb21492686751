//! HTTP and HTTPS to one chosen address, the name sent in Host and SNI: the only way to
//! test each family and each address on its own. The certificate is checked and kept,
//! but a bad one does not stop the request, so checks can both fail TLS and compare content.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;
use sha2::Digest;

use crate::network::{Connect, connect};
use crate::probe::count::Outcome;

/// Bodies are compared on at most this much (readiness.md).
pub const MAX_BODY: usize = 500 * 1024;

/// What sixfive trusts: the public web roots plus the inventory's own CA file.
pub struct Trust {
    /// Built once: every handshake checks certificates with the same anchors.
    verifier: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

/// Why the inventory's trust anchors cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read scan.ca_file {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: rustls_pki_types::pem::Error,
    },
    #[error("bad certificate in {}: {error}", path.display())]
    BadCertificate {
        path: PathBuf,
        error: rustls_pki_types::pem::Error,
    },
    #[error("unusable certificate in {}: {error}", path.display())]
    Unusable { path: PathBuf, error: rustls::Error },
    #[error("no usable trust anchors: {0}")]
    NoAnchors(rustls::client::VerifierBuilderError),
}

impl Trust {
    pub fn new(ca_file: Option<&Path>) -> Result<Self, TrustError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let path = || path.to_path_buf();
            let certs =
                CertificateDer::pem_file_iter(path()).map_err(|error| TrustError::Read {
                    path: path(),
                    error,
                })?;
            for cert in certs {
                let cert = cert.map_err(|error| TrustError::BadCertificate {
                    path: path(),
                    error,
                })?;
                roots.add(cert).map_err(|error| TrustError::Unusable {
                    path: path(),
                    error,
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(TrustError::NoAnchors)?;
        Ok(Self { verifier, provider })
    }
}

/// The server's certificate as seen in one handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// SHA-256 of the leaf, hex.
    pub leaf_sha256: String,
    pub subject: String,
    pub names: Vec<String>,
    pub not_after: Option<DateTime<Utc>>,
    /// None when the chain and name are valid, else why not.
    pub problem: Option<String>,
    pub protocol: String,
}

/// One HTTP response, its body decoded and capped at [`MAX_BODY`].
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    /// The Content-Encoding the body came in (gzip, deflate, br), if any.
    pub encoding: Option<String>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The decoded body's size.
    pub body_bytes: usize,
    /// The body's size on the wire, before decoding.
    pub wire_bytes: usize,
    pub truncated: bool,
    pub took_ms: f64,
    pub certificate: Option<Certificate>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Fetch {
    Response(Box<Response>),
    /// The TCP connect did not succeed.
    Connect(String),
    Tls(String),
    Http(String),
    /// Connected, but the exchange did not finish in time: the answer stalled.
    Timeout,
    /// The scanner could not send at all (no route): not the host's fault.
    ScannerFault(String),
}

impl Fetch {
    /// The outcome as the probe counters count it.
    pub fn outcome(&self) -> Outcome {
        match self {
            Fetch::Response(_) => Outcome::Ok,
            Fetch::Connect(_) | Fetch::Tls(_) | Fetch::Http(_) => Outcome::Failed,
            Fetch::Timeout => Outcome::Timeout,
            Fetch::ScannerFault(_) => Outcome::NotSent,
        }
    }
}

/// What to ask for: a URL's parts, sent to `address` rather than to what the name resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    pub address: IpAddr,
    pub port: u16,
    pub tls: bool,
    pub host: String,
    pub path: String,
}

/// GETs `target` through a connection to `to` (the target's address and port, unless
/// the demo's loopback fallback moved the port): connect within `connect_timeout`, the
/// rest within `timeout`.
pub async fn fetch(
    target: &Target,
    to: SocketAddr,
    trust: &Trust,
    connect_timeout: Duration,
    timeout: Duration,
) -> Fetch {
    let started = Instant::now();
    let (outcome, stream) = connect(to, connect_timeout).await;
    let Some(stream) = stream else {
        return match outcome {
            Connect::ScannerFault(why) => Fetch::ScannerFault(why),
            other => Fetch::Connect(other.describe()),
        };
    };
    let exchange = async {
        if target.tls {
            let (tls, certificate) = handshake(stream, &target.host, trust).await?;
            request(TokioIo::new(tls), target, started, Some(certificate)).await
        } else {
            request(TokioIo::new(stream), target, started, None).await
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Fetch::Timeout,
        Ok(Err(fetch)) | Ok(Ok(fetch)) => fetch,
    }
}

async fn handshake(
    stream: tokio::net::TcpStream,
    host: &str,
    trust: &Trust,
) -> Result<
    (
        tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
        Certificate,
    ),
    Fetch,
> {
    let recorder = Arc::new(RecordingVerifier {
        inner: Arc::clone(&trust.verifier),
        verdict: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&trust.provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Fetch::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&recorder) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(|e| Fetch::Tls(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
        .map_err(|e| Fetch::Tls(format!("TLS handshake failed: {e}")))?;
    let (_, session) = tls.get_ref();
    let leaf = session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| Fetch::Tls("the server sent no certificate".into()))?;
    let protocol = session
        .protocol_version()
        .map_or_else(|| "unknown".into(), |v| format!("{v:?}"));
    let problem = recorder
        .verdict
        .lock()
        .expect("the verdict lock is never poisoned")
        .clone()
        .unwrap_or_else(|| Some("the certificate was not checked".into()));
    let certificate = describe(leaf, problem, protocol);
    Ok((tls, certificate))
}

fn describe(leaf: &CertificateDer<'_>, problem: Option<String>, protocol: String) -> Certificate {
    let leaf_sha256 = sha2::Sha256::digest(leaf.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let parsed = x509_parser::parse_x509_certificate(leaf.as_ref()).ok();
    let (subject, names, not_after) = match parsed {
        Some((_, cert)) => {
            let names = cert
                .subject_alternative_name()
                .ok()
                .flatten()
                .map(|san| {
                    san.value
                        .general_names
                        .iter()
                        .filter_map(|name| match name {
                            x509_parser::extensions::GeneralName::DNSName(dns) => {
                                Some((*dns).to_owned())
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0);
            (cert.subject().to_string(), names, not_after)
        }
        None => ("(unparsable certificate)".into(), Vec::new(), None),
    };
    Certificate {
        leaf_sha256,
        subject,
        names,
        not_after,
        problem,
        protocol,
    }
}

async fn request<S>(
    io: TokioIo<S>,
    target: &Target,
    started: Instant,
    certificate: Option<Certificate>,
) -> Result<Fetch, Fetch>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Fetch::Http(e.to_string()))?;
    tokio::spawn(connection);
    let default_port = if target.tls { 443 } else { 80 };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let host_header = if target.port == default_port {
        host
    } else {
        format!("{host}:{}", target.port)
    };
    let request = http::Request::get(&target.path)
        .header(http::header::HOST, host_header)
        .header(http::header::USER_AGENT, USER_AGENT)
        .header(http::header::ACCEPT, ACCEPT)
        .header(http::header::ACCEPT_ENCODING, ACCEPT_ENCODING)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| Fetch::Http(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| Fetch::Http(format!("no HTTP response: {e}")))?;
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header(http::header::LOCATION);
    let encoding = header(http::header::CONTENT_ENCODING)
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e != "identity");
    let mut wire = Vec::new();
    let mut incoming = response.into_body();
    let mut truncated = false;
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| Fetch::Http(format!("body cut short: {e}")))?;
        if let Some(data) = frame.data_ref() {
            let room = MAX_BODY - wire.len();
            wire.extend_from_slice(&data[..data.len().min(room)]);
            if data.len() > room {
                truncated = true;
                break;
            }
        }
    }
    let wire_bytes = wire.len();
    // A browser never reads a redirect's body; only bodies it shows are decoded.
    let shown = !(300..400).contains(&status) || location.is_none();
    let (body, cut) = if shown {
        decode(encoding.as_deref(), wire, truncated).map_err(|e| Fetch::Http(e.to_string()))?
    } else {
        (wire, false)
    };
    Ok(Fetch::Response(Box::new(Response {
        status,
        location,
        encoding,
        body_bytes: body.len(),
        wire_bytes,
        body,
        truncated: truncated || cut,
        took_ms: sixfive_inventory::results::millis(started.elapsed()),
        certificate,
    })))
}

/// Checks the certificate like a browser would, notes the verdict, and lets the handshake
/// go on so the content can still be compared.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<Option<String>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .err()
            .map(|e| e.to_string());
        *self
            .verdict
            .lock()
            .expect("the verdict lock is never poisoned") = Some(verdict);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Sent with every request: what a browser sends, so servers answer sixfive as they answer
/// users (compressed, the HTML page), and a name that says who asks.
pub const USER_AGENT: &str = concat!(
    "Mozilla/5.0 (compatible; sixfive/",
    env!("CARGO_PKG_VERSION"),
    "; IPv6 readiness check)"
);
const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const ACCEPT_ENCODING: &str = "gzip, deflate, br";

/// A body that does not decode as its Content-Encoding says.
#[derive(Debug, thiserror::Error)]
#[error("the {coding} body cannot be decoded: {error}")]
pub struct DecodeError {
    coding: String,
    error: std::io::Error,
}

/// Undoes a Content-Encoding (a list is undone last first) into at most [`MAX_BODY`]
/// bytes; says whether the result was cut there. An empty body stays empty, a coding
/// sixfive does not know is left as it came, and a body cut on the wire decodes as far as
/// it goes. A body that does not decode is what a browser shows as an error page.
pub fn decode(
    encoding: Option<&str>,
    wire: Vec<u8>,
    wire_cut: bool,
) -> Result<(Vec<u8>, bool), DecodeError> {
    use std::io::Read;
    let (Some(encoding), false) = (encoding, wire.is_empty()) else {
        return Ok((wire, false));
    };
    let (mut body, mut cut) = (wire, wire_cut);
    for coding in encoding.rsplit(',').map(str::trim) {
        let reader: Box<dyn Read + '_> = match coding {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
            // HTTP's deflate is zlib-wrapped (RFC 1950's header); some servers send it raw.
            "deflate" if zlib_header(&body) => Box::new(flate2::read::ZlibDecoder::new(&body[..])),
            "deflate" => Box::new(flate2::read::DeflateDecoder::new(&body[..])),
            "br" => Box::new(brotli_decompressor::Decompressor::new(&body[..], 4096)),
            _ => continue,
        };
        let mut decoded = Vec::new();
        // A cut input ends in an error where it was cut: what came before is kept.
        if let Err(error) = reader.take(MAX_BODY as u64 + 1).read_to_end(&mut decoded)
            && (!cut || decoded.is_empty())
        {
            return Err(DecodeError {
                coding: coding.to_owned(),
                error,
            });
        }
        cut |= decoded.len() > MAX_BODY;
        body = decoded;
    }
    body.truncate(MAX_BODY);
    Ok((body, cut))
}

/// Whether `body` starts with a zlib header: deflate method, checksum a multiple of 31.
fn zlib_header(body: &[u8]) -> bool {
    matches!(body, [cmf, flg, ..] if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0)
}

/// Markup that changes on every load, removed before bodies are compared: script and
/// style nonces, and the hidden fields of ASP.NET view state and CSRF tokens (Internet.nl
/// strips nonces and `__VIEWSTATE`; the others change the same way).
fn per_request_markup() -> &'static [regex::Regex; 4] {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 4]> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| regex::Regex::new(pattern).expect("a valid pattern");
        [
            // The two that Internet.nl removes (strip_irrelevant_html) come first.
            compile(r#"(?i)\snonce\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)"#),
            compile(r#"(?i)<input\b[^>]*\bname\s*=\s*["']?__VIEWSTATE\b[^>]*>"#),
            compile(
                r#"(?i)<input\b[^>]*\bname\s*=\s*["']?(__VIEWSTATE\w+|__EVENTVALIDATION|__REQUESTVERIFICATIONTOKEN|csrfmiddlewaretoken|authenticity_token|_csrf|_token|csrf_token)\b[^>]*>"#,
            ),
            compile(r#"(?i)<meta\b[^>]*\bname\s*=\s*["']?csrf[-_]?(token|param)\b[^>]*>"#),
        ]
    })
}

/// A body as text with its per-request markup removed: nonces, view state, CSRF tokens.
pub fn normalised(body: &[u8]) -> String {
    without(body, per_request_markup())
}

/// A body as text without what Internet.nl removes: script and style nonces and the
/// `__VIEWSTATE` field (for the `internet_nl` score).
pub fn normalised_as_internet_nl(body: &[u8]) -> String {
    without(body, &per_request_markup()[..2])
}

fn without(body: &[u8], patterns: &[regex::Regex]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for pattern in patterns {
        text = pattern.replace_all(&text, "").into_owned();
    }
    text
}

/// How different two decoded bodies are, 0 (same) to 1 (nothing in common), after
/// removing per-request markup ([`normalised`]) and tokens that change on every load (long
/// hex or base64 tokens, numbers): Internet.nl's rule, on token counts so 500 KB compare
/// in linear time.
pub fn body_distance(a: &[u8], b: &[u8]) -> f64 {
    let (ta, tb) = (tokens(&normalised(a)), tokens(&normalised(b)));
    let total = ta.values().sum::<usize>() + tb.values().sum::<usize>();
    if total == 0 {
        return 0.0;
    }
    let keys: std::collections::HashSet<&String> = ta.keys().chain(tb.keys()).collect();
    let differing: usize = keys
        .into_iter()
        .map(|k| {
            ta.get(k)
                .copied()
                .unwrap_or(0)
                .abs_diff(tb.get(k).copied().unwrap_or(0))
        })
        .sum();
    differing as f64 / total as f64
}

fn tokens(text: &str) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for token in text.split(|c: char| c.is_whitespace() || "<>\"'=;,&".contains(c)) {
        if token.is_empty() || is_nonce(token) {
            continue;
        }
        *counts.entry(token.to_owned()).or_insert(0) += 1;
    }
    counts
}

fn is_nonce(token: &str) -> bool {
    let long_random = token.len() >= 16
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/_-".contains(c))
        && token.chars().any(|c| c.is_ascii_digit());
    long_random || token.chars().all(|c| c.is_ascii_digit()) || token.starts_with("__VIEWSTATE")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A local server that reads the request, then plays `behaviour` on the socket.
    async fn peer<F, Fut>(behaviour: F) -> Target
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            behaviour(stream).await;
        });
        Target {
            address: "::1".parse().unwrap(),
            port,
            tls: false,
            host: "peer.lab.test".into(),
            path: "/".into(),
        }
    }

    async fn get(target: &Target) -> Fetch {
        let trust = Trust::new(None).unwrap();
        fetch(
            target,
            SocketAddr::new(target.address, target.port),
            &trust,
            Duration::from_secs(2),
            Duration::from_millis(500),
        )
        .await
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let target = peer(|stream| async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(stream);
        })
        .await;
        assert!(matches!(get(&target).await, Fetch::Timeout));
    }

    #[tokio::test]
    async fn a_server_that_drips_bytes_times_out() {
        let target = peer(|mut stream| async move {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                .await;
            for _ in 0..100 {
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(matches!(get(&target).await, Fetch::Timeout));
    }

    #[tokio::test]
    async fn a_huge_body_is_cut_at_the_limit() {
        let target = peer(|mut stream| async move {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n")
                .await;
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..80 {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        })
        .await;
        match get(&target).await {
            Fetch::Response(response) => {
                assert!(response.truncated);
                assert_eq!(response.body.len(), MAX_BODY);
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_name_goes_in_the_host_header_and_redirects_are_kept() {
        let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 2048];
            let n = stream.read(&mut request).await.unwrap();
            let _ = seen_tx.send(String::from_utf8_lossy(&request[..n]).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 301 Moved\r\nLocation: http://v4only.lab.test/\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let target = Target {
            address: "::1".parse().unwrap(),
            port,
            tls: false,
            host: "redirect4.lab.test".into(),
            path: "/".into(),
        };
        match get(&target).await {
            Fetch::Response(response) => {
                assert_eq!(response.status, 301);
                assert_eq!(
                    response.location.as_deref(),
                    Some("http://v4only.lab.test/")
                );
            }
            other => panic!("{other:?}"),
        }
        let request = seen_rx.await.unwrap();
        assert!(
            request.contains(&format!("host: redirect4.lab.test:{port}")),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_failure() {
        let listener = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let target = Target {
            address: "::1".parse().unwrap(),
            port,
            tls: true,
            host: "closed.lab.test".into(),
            path: "/".into(),
        };
        assert!(matches!(get(&target).await, Fetch::Connect(why) if why.contains("refused")));
    }

    #[test]
    fn nonces_do_not_count_as_differences() {
        let a = b"<html><body><h1>Dich vu cong</h1><input name=csrf value=8f3a9c0d1e2f4a5b6c7d8e9f> 1732700000</body></html>";
        let b = b"<html><body><h1>Dich vu cong</h1><input name=csrf value=0a1b2c3d4e5f6a7b8c9d0e1f> 1732700042</body></html>";
        assert_eq!(body_distance(a, b), 0.0);
    }

    /// The same page as the server in the test below sends it: plain, gzip, zlib
    /// deflate, raw deflate and brotli (made with Google's brotli module).
    const PARAGRAPH: &str = "<p>Dịch vụ công</p>";
    const BROTLI: [u8; 47] = [
        27, 191, 0, 248, 45, 14, 236, 134, 111, 59, 1, 187, 121, 55, 63, 163, 214, 32, 60, 99, 110,
        122, 177, 148, 118, 87, 193, 217, 165, 207, 11, 81, 159, 161, 13, 135, 11, 9, 227, 4, 139,
        242, 147, 124, 169, 198, 0,
    ];

    fn compressed(encoding: &str, page: &[u8]) -> Vec<u8> {
        use flate2::Compression;
        use std::io::Write;
        let mut out = Vec::new();
        match encoding {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(&mut out, Compression::default());
                e.write_all(page).unwrap();
                e.finish().unwrap();
            }
            "deflate" => {
                let mut e = flate2::write::ZlibEncoder::new(&mut out, Compression::default());
                e.write_all(page).unwrap();
                e.finish().unwrap();
            }
            "raw-deflate" => {
                let mut e = flate2::write::DeflateEncoder::new(&mut out, Compression::default());
                e.write_all(page).unwrap();
                e.finish().unwrap();
            }
            "br" => out = BROTLI.to_vec(),
            _ => unreachable!(),
        }
        out
    }

    #[test]
    fn encoded_bodies_are_decoded_as_a_browser_decodes_them() {
        let page = PARAGRAPH.repeat(8).into_bytes();
        for (sent, named) in [
            ("gzip", "gzip"),
            ("gzip", "x-gzip"),
            ("deflate", "deflate"),
            ("raw-deflate", "deflate"),
            ("br", "br"),
        ] {
            let wire = compressed(sent, &page);
            assert_ne!(wire, page);
            let (body, cut) = decode(Some(named), wire, false).unwrap();
            assert_eq!(body, page, "{sent} as {named}");
            assert!(!cut);
            assert_eq!(body_distance(&page, &body), 0.0);
        }
        // Two codings, applied in order and undone last first.
        let twice = compressed("gzip", &compressed("deflate", &page));
        assert_eq!(decode(Some("deflate, gzip"), twice, false).unwrap().0, page);
        assert_eq!(decode(None, page.clone(), false).unwrap().0, page);
    }

    #[test]
    fn a_body_that_does_not_decode_is_an_error_and_a_bomb_is_capped() {
        let broken = decode(Some("gzip"), b"not gzip at all".to_vec(), false);
        assert!(
            matches!(&broken, Err(DecodeError { coding, .. }) if coding == "gzip"),
            "{broken:?}"
        );
        // A coding sixfive does not know, and an empty body, are left as they came.
        assert_eq!(decode(Some("UTF-8"), b"x".to_vec(), false).unwrap().0, b"x");
        for coding in ["gzip", "deflate", "br"] {
            assert_eq!(decode(Some(coding), Vec::new(), false).unwrap().0, b"");
        }
        // 10 MB of zeros compress to a few KB; only MAX_BODY of them are kept.
        let bomb = compressed("gzip", &vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        let (body, cut) = decode(Some("gzip"), bomb, false).unwrap();
        assert_eq!(body.len(), MAX_BODY);
        assert!(cut);
        // A body cut on the wire decodes as far as it goes.
        let page = PARAGRAPH.repeat(4000).into_bytes();
        let mut wire = compressed("gzip", &page);
        wire.truncate(wire.len() / 2);
        let (partial, _) = decode(Some("gzip"), wire, true).unwrap();
        assert!(!partial.is_empty() && page.starts_with(&partial));
    }

    #[test]
    fn script_nonces_view_state_and_csrf_tokens_are_not_differences() {
        let page = |nonce: &str, state: &str, csrf: &str| {
            format!(
                r#"<html><head><meta name="csrf-token" content="{csrf}"><script nonce="{nonce}">go()</script>
                <style nonce='{nonce}'>h1{{}}</style></head><body><form>
                <input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{state}" />
                <input type="hidden" name="__EVENTVALIDATION" value="{state}" />
                <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}"></form>
                <h1>Cổng dịch vụ công</h1></body></html>"#
            )
        };
        // Short, word-like values that the token rule alone would count as differences.
        let v4 = page("abc", "dDwtMTA4", "tokA");
        let v6 = page("xyz", "zZwtOTk5", "tokB");
        assert_eq!(normalised(v4.as_bytes()), normalised(v6.as_bytes()));
        assert_eq!(body_distance(v4.as_bytes(), v6.as_bytes()), 0.0);
        assert!(!normalised(v4.as_bytes()).contains("abc"));
        // Content is kept: another heading is still a difference.
        let other = v6.replace("Cổng dịch vụ công", "Bảo trì hệ thống");
        assert!(body_distance(v4.as_bytes(), other.as_bytes()) > 0.0);
    }

    #[tokio::test]
    async fn requests_ask_as_a_browser_does_and_answers_are_decoded() {
        let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let page = PARAGRAPH.repeat(8);
        let body = compressed("gzip", page.as_bytes());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 2048];
            let n = stream.read(&mut request).await.unwrap();
            let _ = seen_tx.send(String::from_utf8_lossy(&request[..n]).into_owned());
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        });
        let target = Target {
            address: "::1".parse().unwrap(),
            port,
            tls: false,
            host: "gzip.lab.test".into(),
            path: "/".into(),
        };
        match get(&target).await {
            Fetch::Response(response) => {
                assert_eq!(response.body, page.as_bytes());
                assert_eq!(response.encoding.as_deref(), Some("gzip"));
                assert!(response.wire_bytes < response.body_bytes);
            }
            other => panic!("{other:?}"),
        }
        let request = seen_rx.await.unwrap().to_ascii_lowercase();
        assert!(
            request.contains("accept-encoding: gzip, deflate, br"),
            "{request}"
        );
        assert!(request.contains("accept: text/html"), "{request}");
        assert!(
            request.contains("user-agent: mozilla/5.0 (compatible; sixfive/"),
            "{request}"
        );
    }

    #[test]
    fn a_different_page_is_far() {
        let a = b"<html><body><h1>Dich vu cong truc tuyen</h1><p>Nop ho so</p></body></html>";
        let b = b"<html><body><h1>Maintenance</h1><p>Come back later</p></body></html>";
        assert!(body_distance(a, b) > 0.3, "{}", body_distance(a, b));
        assert_eq!(body_distance(b"", b""), 0.0);
    }
}
