//! SNMP behind sixfive's own small client: GET and a GETBULK walk, over IPv6 or IPv4, v2c or
//! v3 USM. async-snmp carries the protocol; this module fixes what a poller of many routers
//! needs around it: explicit timeout and retries (the library's default retries turn a 2 s
//! timeout into 11 s), a walk that shrinks max-repetitions on tooBig and stops on
//! endOfMibView, on leaving the subtree and on OIDs that do not increase, and errors that
//! tell a refused credential apart from silence.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_snmp::transport::UdpTransport;
use async_snmp::{Auth, Client, ErrorKind, Oid, UsmConfig, Value};
use futures::future::{BoxFuture, FutureExt};

use crate::probe::count::Outcome;
use crate::probe::pace::Pace;

/// GETBULK max-repetitions to start a walk of one column with (sites.md).
pub const MAX_REPETITIONS: u32 = 10;
/// Bindings a walk asks for per request when it walks several columns at once: about
/// 1,000 bytes of answer, one packet even on a 1,280-byte IPv6 path, since paths that drop
/// IPv6 fragments are common.
const BINDINGS_PER_REQUEST: u32 = 32;
const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
/// Rows a walk reads at most, so a broken agent cannot keep a poll going for ever.
pub const MAX_WALK_ROWS: usize = 10_000;
/// Bytes of OIDs and values a walk keeps at most: its rows at about 100 bytes each (an OID
/// of a dozen arcs and a short value). Without it an endless table of 8 KB values filled
/// 80 MB per walk before the row limit or the site's deadline stopped it.
pub const MAX_WALK_BYTES: usize = 1 << 20;
/// The longest value kept: nothing the poller reads is longer than a DisplayString (255
/// octets, RFC 2579), and an agent's 60 KB sysDescr is cut here rather than carried into
/// the report and the store.
pub const MAX_VALUE_BYTES: usize = 1024;

/// Credentials as the inventory gives them, secrets already read. Debug hides the secrets.
#[derive(Clone)]
pub enum Credentials {
    V2c {
        community: String,
    },
    V3 {
        user: String,
        auth: Option<(async_snmp::AuthProtocol, String)>,
        privacy: Option<(async_snmp::PrivProtocol, String)>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::V2c { .. } => f.write_str("V2c { community: <redacted> }"),
            Credentials::V3 {
                user,
                auth,
                privacy,
            } => write!(
                f,
                "V3 {{ user: {user:?}, auth: {:?}, privacy: {:?} }}",
                auth.as_ref().map(|(p, _)| p),
                privacy.as_ref().map(|(p, _)| p)
            ),
        }
    }
}

/// A value as sixfive uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnmpValue {
    Integer(i64),
    Unsigned(u64),
    TimeTicks(u32),
    Text(Vec<u8>),
    Oid(Oid),
    /// noSuchObject / noSuchInstance: the agent does not have it.
    Missing,
    Other(String),
}

/// Why a request got no usable answer. It holds async-snmp's errors and OIDs, which name
/// the target and the failure but never a community or a v3 key.
#[derive(Debug, thiserror::Error)]
pub enum SnmpError {
    #[error("no answer (timeout)")]
    Timeout,
    #[error("the agent refused the credentials: {0}")]
    AuthFailed(Refusal),
    #[error("cannot reach the agent: {0}")]
    Unreachable(Box<async_snmp::Error>),
    /// Shared by every agent of the family, as the socket is.
    #[error("cannot reach the agent: cannot open a UDP socket: {0}")]
    Socket(Arc<async_snmp::Error>),
    /// Boxed: its two OIDs would make every request's Result large.
    #[error("the agent broke the walk: {0}")]
    BrokenWalk(Box<BrokenWalk>),
    #[error("SNMP error: SNMPv3 keys: {0}")]
    Keys(async_snmp::CryptoError),
    #[error("SNMP error: {0}")]
    Retries(async_snmp::RetryConfigError),
    #[error("SNMP error: {0}")]
    Protocol(Box<async_snmp::Error>),
}

impl SnmpError {
    /// The outcome as the probe counters count it.
    pub fn outcome(&self) -> Outcome {
        match self {
            SnmpError::Timeout => Outcome::Timeout,
            SnmpError::AuthFailed(_)
            | SnmpError::Unreachable(_)
            | SnmpError::BrokenWalk(_)
            | SnmpError::Protocol(_) => Outcome::Failed,
            SnmpError::Socket(_) | SnmpError::Keys(_) | SnmpError::Retries(_) => Outcome::NotSent,
        }
    }
}

/// How an agent refused the credentials.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// An authentication failure or a Report that async-snmp read.
    #[error("{0}")]
    Agent(Box<async_snmp::Error>),
    #[error(
        "the agent answers SNMPv3 but ignores requests signed with these keys (user, auth or privacy key)"
    )]
    Keys,
    #[error("the agent answers SNMPv3 discovery but ignores this community")]
    Community,
}

/// How an agent broke a walk.
#[derive(Debug, thiserror::Error)]
pub enum BrokenWalk {
    #[error("{oid} does not follow {previous}")]
    NotIncreasing { oid: Oid, previous: Oid },
    #[error("more than {MAX_WALK_ROWS} rows, the last under {root}")]
    TooManyRows { root: Oid },
    #[error("more than {MAX_WALK_BYTES} bytes of values, the last under {root}")]
    TooLarge { root: Oid },
}

/// What a walk has kept so far, against its limits.
#[derive(Default)]
pub(crate) struct Kept {
    rows: usize,
    bytes: usize,
}

impl Kept {
    /// Counts one more row of the column `root`, or says which limit it passes.
    fn take(&mut self, root: &Oid, oid: &Oid, value: &SnmpValue) -> Result<(), SnmpError> {
        let value_bytes = match value {
            SnmpValue::Text(bytes) => bytes.len(),
            SnmpValue::Oid(oid) => oid.arcs().len() * 4,
            SnmpValue::Other(text) => text.len(),
            _ => 8,
        };
        self.rows += 1;
        self.bytes += oid.arcs().len() * 4 + value_bytes;
        if self.rows >= MAX_WALK_ROWS {
            return Err(BrokenWalk::TooManyRows { root: root.clone() }.into());
        }
        if self.bytes > MAX_WALK_BYTES {
            return Err(BrokenWalk::TooLarge { root: root.clone() }.into());
        }
        Ok(())
    }
}

impl From<BrokenWalk> for SnmpError {
    fn from(broken: BrokenWalk) -> Self {
        SnmpError::BrokenWalk(Box::new(broken))
    }
}

impl From<Box<async_snmp::Error>> for SnmpError {
    fn from(error: Box<async_snmp::Error>) -> Self {
        match error.kind() {
            ErrorKind::Timeout | ErrorKind::ConstructionTimeout => SnmpError::Timeout,
            ErrorKind::Auth | ErrorKind::Report => SnmpError::AuthFailed(Refusal::Agent(error)),
            ErrorKind::Network | ErrorKind::Closed => SnmpError::Unreachable(error),
            _ => SnmpError::Protocol(error),
        }
    }
}

/// OIDs and their values, in the agent's order.
pub type Bindings = Vec<(Oid, SnmpValue)>;

/// What a site poller asks of an agent; tests and benchmarks can stand in their own.
pub trait Snmp: Send + Sync {
    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Bindings, SnmpError>>;
    /// Walks several columns side by side (one GETBULK carries them all); one list of
    /// rows per root, in order.
    fn walk<'a>(&'a self, roots: &'a [Oid]) -> BoxFuture<'a, Result<Vec<Bindings>, SnmpError>>;
}

/// The UDP sockets every agent is reached through, one per family, opened on first use.
/// async-snmp's `connect` binds a socket per client with SO_REUSEADDR, and Linux may give
/// two such sockets one ephemeral port: one client's answers then reach the other's socket
/// and time out (seen with 64 sites in flight). One shared socket per family cannot clash.
#[derive(Default)]
pub struct Sockets {
    v6: tokio::sync::OnceCell<Result<UdpTransport, Arc<async_snmp::Error>>>,
    v4: tokio::sync::OnceCell<Result<UdpTransport, Arc<async_snmp::Error>>>,
}

impl Sockets {
    async fn toward(&self, target: SocketAddr) -> Result<&UdpTransport, SnmpError> {
        let (cell, local) = if target.is_ipv6() {
            (&self.v6, "[::]:0")
        } else {
            (&self.v4, "0.0.0.0:0")
        };
        cell.get_or_init(|| async {
            UdpTransport::builder()
                .bind(local)
                // Answers of many agents arrive at once on the one socket.
                .recv_buffer_size(1 << 20)
                .build()
                .await
                .map_err(Arc::from)
        })
        .await
        .as_ref()
        .map_err(|e| SnmpError::Socket(Arc::clone(e)))
    }
}

/// An agent reached over UDP with async-snmp.
pub struct Agent {
    client: Client<async_snmp::UdpHandle>,
    socket: UdpTransport,
    target: SocketAddr,
    timeout: Duration,
    v3: bool,
    pace: Option<Pace>,
}

impl Agent {
    /// Prepares a client for `target` on the shared socket of its family.
    pub async fn connect(
        sockets: &Sockets,
        target: SocketAddr,
        credentials: &Credentials,
        timeout: Duration,
        retries: u32,
    ) -> Result<Self, SnmpError> {
        let auth: Auth = match credentials {
            Credentials::V2c { community } => Auth::v2c(community.as_str()),
            Credentials::V3 {
                user,
                auth,
                privacy,
            } => {
                let usm = UsmConfig::new(user.clone().into_bytes());
                let usm = match (auth, privacy) {
                    (Some((a, a_pass)), Some((p, p_pass))) => usm.auth_priv(*a, a_pass, *p, p_pass),
                    (Some((a, a_pass)), None) => usm.auth(*a, a_pass),
                    (None, _) => Ok(usm),
                }
                .map_err(SnmpError::Keys)?;
                usm.into()
            }
        };
        let retry =
            async_snmp::Retry::fixed(retries, Duration::ZERO).map_err(SnmpError::Retries)?;
        let socket = sockets.toward(target).await?.clone();
        let client = Client::builder(target, auth)
            .request_timeout(timeout)
            .retry(retry)
            .build_with(&socket)
            .await?;
        Ok(Self {
            client,
            socket,
            target,
            timeout,
            v3: matches!(credentials, Credentials::V3 { .. }),
            pace: None,
        })
    }

    /// Makes every request wait for the scan's rate limit.
    pub fn paced(mut self, pace: Pace) -> Self {
        self.pace = Some(pace);
        self
    }

    async fn pace(&self) {
        if let Some(pace) = &self.pace {
            pace.until_ready().await;
        }
    }

    /// An agent refusing credentials often looks silent: v2c agents drop a wrong community,
    /// and async-snmp drops the unauthenticated Reports a bad v3 key gets. When a request
    /// goes unanswered, an unauthenticated v3 request tells: an agent that answers it is
    /// alive, and if it still ignores a request with our credentials right after (not lost
    /// on a lossy link), it is refusing them. An agent without SNMPv3 stays a timeout.
    async fn explain(&self, error: Box<async_snmp::Error>) -> SnmpError {
        match SnmpError::from(error) {
            SnmpError::Timeout
                if self.answers_unauthenticated().await && !self.answers_us().await =>
            {
                SnmpError::AuthFailed(if self.v3 {
                    Refusal::Keys
                } else {
                    Refusal::Community
                })
            }
            other => other,
        }
    }

    async fn answers_us(&self) -> bool {
        self.pace().await;
        self.client.get(&Oid::from(SYS_UPTIME)).await.is_ok()
    }

    async fn answers_unauthenticated(&self) -> bool {
        let probe = Client::builder(
            self.target,
            Auth::from(UsmConfig::new(&b"sixfive-probe"[..])),
        )
        .request_timeout(self.timeout)
        .retry(async_snmp::Retry::none())
        .build_with(&self.socket)
        .await;
        let Ok(probe) = probe else { return false };
        match probe.get(&Oid::from(SYS_UPTIME)).await {
            Ok(_) => true,
            Err(e) => !matches!(
                e.kind(),
                ErrorKind::Timeout | ErrorKind::ConstructionTimeout | ErrorKind::Network
            ),
        }
    }
}

fn convert(value: Value) -> SnmpValue {
    match value {
        Value::Integer(i) => SnmpValue::Integer(i64::from(i)),
        Value::Counter32(n) | Value::Gauge32(n) | Value::UInteger32(n) => {
            SnmpValue::Unsigned(u64::from(n))
        }
        Value::Counter64(n) => SnmpValue::Unsigned(n),
        Value::TimeTicks(t) => SnmpValue::TimeTicks(t),
        Value::OctetString(bytes) => {
            SnmpValue::Text(bytes[..bytes.len().min(MAX_VALUE_BYTES)].to_vec())
        }
        Value::ObjectIdentifier(oid) => SnmpValue::Oid(oid),
        Value::NoSuchObject | Value::NoSuchInstance => SnmpValue::Missing,
        other => SnmpValue::Other(format!("{other:?}")),
    }
}

/// Where a column's walk stands: its last row, else its root.
fn cursor<'a>(roots: &'a [Oid], rows: &'a [Bindings], column: usize) -> &'a Oid {
    rows[column].last().map_or(&roots[column], |(oid, _)| oid)
}

impl Snmp for Agent {
    fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Bindings, SnmpError>> {
        async move {
            self.pace().await;
            let response = match self.client.get_many(oids).await {
                Ok(response) => response,
                Err(e) => return Err(self.explain(e).await),
            };
            Ok(response
                .varbinds
                .into_iter()
                .map(|vb| (vb.oid, convert(vb.value)))
                .collect())
        }
        .boxed()
    }

    fn walk<'a>(&'a self, roots: &'a [Oid]) -> BoxFuture<'a, Result<Vec<Bindings>, SnmpError>> {
        async move {
            let mut rows: Vec<Bindings> = vec![Vec::new(); roots.len()];
            let mut open: Vec<usize> = (0..roots.len()).collect();
            let columns = u32::try_from(roots.len()).unwrap_or(u32::MAX).max(1);
            let mut repetitions = (BINDINGS_PER_REQUEST / columns).clamp(1, MAX_REPETITIONS);
            // Columns per request: all, until an agent refuses even one row of them.
            let mut width = roots.len();
            let mut kept = Kept::default();
            while !open.is_empty() {
                let asked: Vec<usize> = open.iter().copied().take(width).collect();
                let request: Vec<Oid> = asked
                    .iter()
                    .map(|&c| cursor(roots, &rows, c).clone())
                    .collect();
                self.pace().await;
                let varbinds = match self.client.get_bulk(&request, 0, repetitions).await {
                    Ok(varbinds) => varbinds,
                    // tooBig and friends: ask for fewer rows at a time, then fewer columns.
                    Err(e) if e.kind() == ErrorKind::Snmp && (repetitions > 1 || width > 1) => {
                        if repetitions > 1 {
                            repetitions = (repetitions / 2).max(1);
                        } else {
                            width = (asked.len() / 2).max(1);
                        }
                        continue;
                    }
                    Err(e) => return Err(self.explain(e).await),
                };
                let ended = fold_answer(roots, &mut rows, &asked, varbinds, &mut kept)?;
                open.retain(|column| !ended.contains(column));
            }
            Ok(rows)
        }
        .boxed()
    }
}

/// Folds one GETBULK answer into a walk of `roots`, whose rows so far are `rows`, for the
/// columns `asked` (indexes into `roots`): the answer runs row by row, the k-th binding
/// continuing column `asked[k mod n]`; an end of the MIB view or an OID past a column's
/// root ends that column, and an empty answer every column asked. Returns the columns it
/// ended. The agent's bytes are decoded by then; this is where sixfive reads them.
pub(crate) fn fold_answer(
    roots: &[Oid],
    rows: &mut [Bindings],
    asked: &[usize],
    varbinds: Vec<async_snmp::VarBind>,
    kept: &mut Kept,
) -> Result<Vec<usize>, SnmpError> {
    let mut finished = vec![varbinds.is_empty(); asked.len()];
    for (k, vb) in varbinds.into_iter().enumerate() {
        let slot = k % asked.len();
        let column = asked[slot];
        if finished[slot] {
            continue;
        }
        if matches!(vb.value, Value::EndOfMibView) || !vb.oid.starts_with(&roots[column]) {
            finished[slot] = true;
            continue;
        }
        let previous = cursor(roots, rows, column);
        if vb.oid <= *previous {
            return Err(BrokenWalk::NotIncreasing {
                oid: vb.oid,
                previous: previous.clone(),
            }
            .into());
        }
        let value = convert(vb.value);
        kept.take(&roots[column], &vb.oid, &value)?;
        rows[column].push((vb.oid, value));
    }
    Ok(asked
        .iter()
        .zip(finished)
        .filter_map(|(column, done)| done.then_some(*column))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_they_always_did() {
        let broken = SnmpError::from(BrokenWalk::NotIncreasing {
            oid: async_snmp::oid!(1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1),
            previous: async_snmp::oid!(1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 2),
        });
        assert_eq!(
            broken.to_string(),
            "the agent broke the walk: 1.3.6.1.2.1.2.2.1.8.1 does not follow 1.3.6.1.2.1.2.2.1.8.2"
        );
        assert_eq!(
            SnmpError::AuthFailed(Refusal::Community).to_string(),
            "the agent refused the credentials: the agent answers SNMPv3 discovery but ignores this community"
        );
        assert_eq!(SnmpError::Timeout.to_string(), "no answer (timeout)");
    }

    #[test]
    fn a_huge_value_is_cut() {
        let huge = Value::OctetString(vec![b'H'; 60_000].into());
        assert_eq!(convert(huge), SnmpValue::Text(vec![b'H'; MAX_VALUE_BYTES]));
        let short = Value::OctetString(b"wwan0".to_vec().into());
        assert_eq!(convert(short), SnmpValue::Text(b"wwan0".to_vec()));
    }

    #[test]
    fn a_walk_keeps_a_bounded_number_of_rows_and_bytes() {
        let root = async_snmp::oid!(1, 3, 6, 1, 2, 1, 2, 2, 1, 8);
        let row = |n: u32| root.child(n);
        let mut kept = Kept::default();
        let small = SnmpValue::Integer(1);
        let broke = (1..).find_map(|n| kept.take(&root, &row(n), &small).err());
        assert_eq!(
            broke.unwrap().to_string(),
            format!("the agent broke the walk: more than 10000 rows, the last under {root}")
        );
        assert_eq!(kept.rows, MAX_WALK_ROWS);

        let mut kept = Kept::default();
        let big = SnmpValue::Text(vec![b'V'; MAX_VALUE_BYTES]);
        let broke = (1..).find_map(|n| kept.take(&root, &row(n), &big).err());
        assert!(
            kept.rows < 1_100 && kept.bytes > MAX_WALK_BYTES,
            "{}",
            kept.rows
        );
        assert_eq!(
            broke.unwrap().to_string(),
            format!(
                "the agent broke the walk: more than 1048576 bytes of values, the last under {root}"
            )
        );
    }
}
