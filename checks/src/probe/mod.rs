//! Network primitives the checks share: DNS queries, TCP connects, SMTP sessions.
pub mod dns;
pub mod http;
pub mod resolve;
pub mod snmp;
