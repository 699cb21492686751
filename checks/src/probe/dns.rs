//! DNS queries to a chosen server over UDP or TCP, with the whole answer kept (header flags,
//! rcode, sections) because checks need more than the records: whether the answer was
//! authoritative, whether the name exists, what the chain of aliases was.
//!
//! hickory-net's client carries the protocol; this module adds what a scanner needs around
//! it: a per-query deadline, one multiplexed UDP client per server, and a window on queries
//! in flight so a large scan never floods a server's receive buffer.

use crate::probe::count::{Outcome, ProbeKind, count};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use hickory_net::NetError;
use hickory_net::client::Client;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_net::xfer::DnsHandle;
use hickory_proto::ProtoError;
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::sync::{Mutex, Semaphore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

/// Header flags for a query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    pub dnssec_ok: bool,
    pub checking_disabled: bool,
}

impl Flags {
    /// What the scan asks its resolvers: DO, so the one answer serves every check,
    /// dns.dnssec's AD bit included.
    pub const VALIDATED: Flags = Flags {
        dnssec_ok: true,
        checking_disabled: false,
    };
    /// DO and CD: the records of a zone that fails validation.
    pub const UNCHECKED: Flags = Flags {
        dnssec_ok: true,
        checking_disabled: true,
    };
}

/// Why DNS gave no usable answer. Whatever the kind, the scan cannot decide: a check that
/// meets one says `error`, never `fail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("no answer (timeout)")]
    Timeout,
    /// The resolver could not be reached at all (no route, nothing listening).
    #[error("cannot reach the resolver: {0}")]
    Unreachable(String),
    #[error("the resolver answered SERVFAIL")]
    ServFail,
    #[error("the resolver refused the query (REFUSED)")]
    Refused,
    /// Another rcode that says nothing about the name (NOTIMP, FORMERR …).
    #[error("the resolver answered {0}")]
    Rcode(ResponseCode),
    #[error("no DNS resolver: set scan.resolvers")]
    NoResolver,
    #[error("cannot read the system's resolvers: {0}")]
    SystemConfig(String),
    /// The answer did not decode: a broken or hostile server, or an answer cut short (a UDP
    /// answer past the payload the query allowed).
    #[error("the answer is malformed ({0})")]
    Malformed(String),
    #[error("more than {0} CNAME hops")]
    TooManyHops(usize),
    #[error("`{name}` is not a DNS name: {why}")]
    NotAName { name: String, why: String },
    #[error("no SOA for {name} ({answer})")]
    NoSoa { name: String, answer: String },
    #[error("NS lookup for {apex} failed: {reason}")]
    NsLookup { apex: String, reason: Box<DnsError> },
    #[error("{0}")]
    Other(String),
}

impl DnsError {
    /// An rcode that says neither yes nor no about the name.
    pub(crate) fn answered(rcode: ResponseCode) -> Self {
        match rcode {
            ResponseCode::ServFail => DnsError::ServFail,
            ResponseCode::Refused => DnsError::Refused,
            other => DnsError::Rcode(other),
        }
    }

    /// What a failed exchange means, told by the error's kind, never by its text.
    fn of(error: &NetError) -> Self {
        use std::io::ErrorKind;
        match error {
            NetError::Timeout => DnsError::Timeout,
            NetError::Io(e) if e.kind() == ErrorKind::TimedOut => DnsError::Timeout,
            NetError::Io(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused
                        | ErrorKind::NetworkUnreachable
                        | ErrorKind::HostUnreachable
                        | ErrorKind::AddrNotAvailable
                ) =>
            {
                DnsError::Unreachable(e.to_string())
            }
            NetError::Proto(e @ ProtoError::Decode(_)) => DnsError::Malformed(e.to_string()),
            other => DnsError::Other(other.to_string()),
        }
    }
}

/// Evidence shows the error as its message.
impl serde::Serialize for DnsError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A DNS answer, or why there was none.
#[derive(Debug, Clone)]
pub enum Answer {
    Message {
        /// Shared: the run's answer cache hands the same message to every check that asks.
        message: Arc<Message>,
        elapsed: Duration,
    },
    Failed(DnsError),
}

impl Answer {
    pub fn message(&self) -> Option<&Message> {
        match self {
            Answer::Message { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The message when it says yes or no (NOERROR, NXDOMAIN), else why it does not: a
    /// SERVFAIL or REFUSED from the scanner's resolver says nothing about the name.
    pub fn conclusive(&self) -> Result<&Message, DnsError> {
        match self {
            Answer::Failed(error) => Err(error.clone()),
            Answer::Message { message, .. } => match message.metadata.response_code {
                ResponseCode::NoError | ResponseCode::NXDomain => Ok(message),
                rcode => Err(DnsError::answered(rcode)),
            },
        }
    }

    pub fn rcode(&self) -> Option<ResponseCode> {
        self.message().map(|m| m.metadata.response_code)
    }

    /// How long the answer took to come, when one came.
    pub fn elapsed(&self) -> Option<Duration> {
        match self {
            Answer::Message { elapsed, .. } => Some(*elapsed),
            _ => None,
        }
    }

    /// A short description for evidence and error details; the time the answer took is a
    /// measurement ([`Answer::elapsed`]), never part of the finding.
    pub fn describe(&self) -> String {
        match self {
            Answer::Message { message, .. } => format!(
                "{} ({} answers{})",
                message.metadata.response_code,
                message.answers.len(),
                if message.metadata.authoritative {
                    ", authoritative"
                } else {
                    ""
                }
            ),
            Answer::Failed(error) => error.to_string(),
        }
    }
}

/// Sends queries, keeping one UDP client per server and at most `window` queries in flight.
pub struct DnsClient {
    timeout: Duration,
    window: Semaphore,
    udp: Mutex<HashMap<SocketAddr, Client<TokioRuntimeProvider>>>,
}

impl DnsClient {
    pub fn new(timeout: Duration, window: usize) -> Arc<Self> {
        Arc::new(Self {
            timeout,
            window: Semaphore::new(window.max(1)),
            udp: Mutex::new(HashMap::new()),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// One query to one server; the deadline covers connecting (TCP) and the answer.
    pub async fn query(
        &self,
        server: SocketAddr,
        name: &Name,
        record_type: RecordType,
        transport: Transport,
    ) -> Answer {
        self.query_with(server, name, record_type, transport, Flags::default())
            .await
    }

    /// A query with DNSSEC flags: DO asks for signatures (and the AD bit), CD asks a
    /// validating resolver for the answer even when validation fails.
    pub async fn query_with(
        &self,
        server: SocketAddr,
        name: &Name,
        record_type: RecordType,
        transport: Transport,
        flags: Flags,
    ) -> Answer {
        let Ok(_permit) = self.window.acquire().await else {
            return Answer::Failed(DnsError::Other("DNS client closed".into()));
        };
        let started = Instant::now();
        let exchange = async {
            let client = match transport {
                Transport::Udp => self.udp_client(server).await,
                Transport::Tcp => tcp_client(server, self.timeout).await?,
            };
            let mut query = Query::query(name.clone(), record_type);
            query.set_query_class(DNSClass::IN);
            let mut message = Message::query();
            message.metadata.recursion_desired = true;
            message.metadata.checking_disabled = flags.checking_disabled;
            message.metadata.authentic_data = flags.dnssec_ok;
            let mut edns = Edns::new();
            edns.set_max_payload(1232).set_dnssec_ok(flags.dnssec_ok);
            message.add_query(query).set_edns(edns);
            let options = DnsRequestOptions::default();
            match client.send(DnsRequest::new(message, options)).next().await {
                Some(Ok(response)) => Ok(response),
                Some(Err(e)) => Err(e),
                None => Err(NetError::Timeout),
            }
        };
        let answer = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Answer::Failed(DnsError::Timeout),
            Ok(Err(e)) => Answer::Failed(DnsError::of(&e)),
            Ok(Ok(response)) => Answer::Message {
                message: Arc::new(response.into_message()),
                elapsed: started.elapsed(),
            },
        };
        let outcome = match &answer {
            Answer::Message { .. } => Outcome::Ok,
            Answer::Failed(DnsError::Timeout) => Outcome::Timeout,
            Answer::Failed(_) => Outcome::Failed,
        };
        count(ProbeKind::Dns, server.ip(), outcome);
        answer
    }

    async fn udp_client(&self, server: SocketAddr) -> Client<TokioRuntimeProvider> {
        let mut clients = self.udp.lock().await;
        clients
            .entry(server)
            .or_insert_with(|| {
                let stream = UdpClientStream::builder(server, TokioRuntimeProvider::default())
                    .with_timeout(Some(self.timeout))
                    .build();
                let (client, background) = Client::from_sender(stream);
                tokio::spawn(background);
                client
            })
            .clone()
    }
}

async fn tcp_client(
    server: SocketAddr,
    timeout: Duration,
) -> Result<Client<TokioRuntimeProvider>, NetError> {
    let (connect, sender) =
        TcpClientStream::new(server, None, Some(timeout), TokioRuntimeProvider::default());
    let stream = connect.await?;
    let (client, background) = Client::with_timeout(stream, sender, timeout);
    tokio::spawn(background);
    Ok(client)
}
