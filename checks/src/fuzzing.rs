//! Entry points for the fuzz targets (`fuzz/`): the crate's own readers of bytes from the
//! network that are not public API, each run on bytes already received. Hidden from the
//! docs and free to change; nothing else should call them.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tokio::io::AsyncReadExt;

use crate::probe::http::Target;
use crate::probe::snmp::{Bindings, Kept, Snmp, SnmpError, SnmpValue, fold_answer};
use crate::sites::profiles::Profile;

pub use async_snmp::{Oid, Value, VarBind};

/// What an agent holding `values` answers a GET of `oids`: each one's value, or that it
/// has none. The fuzz targets' recorded agent and the poller's tests' answer so.
pub fn recorded_get(values: &std::collections::BTreeMap<Oid, SnmpValue>, oids: &[Oid]) -> Bindings {
    oids.iter()
        .map(|oid| {
            (
                oid.clone(),
                values.get(oid).cloned().unwrap_or(SnmpValue::Missing),
            )
        })
        .collect()
}

/// An OCTET STRING of `bytes`, as an agent's answer carries one.
pub fn octets(bytes: &[u8]) -> Value {
    Value::OctetString(bytes::Bytes::copy_from_slice(bytes))
}

/// Walks `roots` through `answers` as the site poller's walk folds its GETBULK answers,
/// every open column asked each time: the rows of each column, or why the walk stopped.
pub fn snmp_walk(roots: &[Oid], answers: Vec<Vec<VarBind>>) -> Result<Vec<Bindings>, SnmpError> {
    let mut rows: Vec<Bindings> = vec![Vec::new(); roots.len()];
    let mut open: Vec<usize> = (0..roots.len()).collect();
    let mut kept = Kept::default();
    for answer in answers {
        if open.is_empty() {
            break;
        }
        let ended = fold_answer(roots, &mut rows, &open, answer, &mut kept)?;
        open.retain(|column| !ended.contains(column));
    }
    Ok(rows)
}

/// Reads one SMTP reply off `bytes` as a session reads a greeting or its answer to EHLO,
/// through the same cap.
pub fn smtp_reply(bytes: &[u8]) -> Result<String, std::io::Error> {
    let mut reader = bytes.take(crate::probe::smtp::MAX_REPLY_BYTES as u64);
    at_once(crate::probe::smtp::reply(&mut reader))
}

/// Where a redirect's Location header leads from `from`, as the redirect chain follows it.
pub fn redirect_target(from: &Target, location: &str) -> Option<Target> {
    crate::readiness::http::next_target(from, location)
}

/// Reads a router through `agent` as the site poller does with `profile`: the system
/// group, the uplink's interface and address rows, the radio columns. The readings come
/// back as their debug text. `agent` must answer without waiting.
pub fn site_readings(agent: &dyn Snmp, profile: &Profile) -> Result<String, SnmpError> {
    at_once(crate::sites::poller::read(agent, profile)).map(|readings| format!("{readings:?}"))
}

/// Runs a future that never waits (its input is all in memory) to its end without a
/// runtime, so a fuzz target costs no thread or timer per input.
fn at_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a future over bytes in memory waited"),
    }
}
