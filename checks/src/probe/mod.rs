//! Network primitives the checks and the site poller share: DNS queries and lookups, HTTP
//! and TLS to one address, ICMP echo series, SMTP sessions and SNMP. They measure; they do
//! not judge.
pub mod address;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod resolve;
pub mod smtp;
pub mod snmp;
