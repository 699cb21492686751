//! Network primitives: DNS queries and lookups, HTTP and TLS to one address, ICMP echo
//! series, SMTP sessions, SNMP, and the classes of addresses (which ones an IPv6 user can
//! reach). The checks and the site poller judge what they measure.
pub mod address;
pub mod count;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod pace;
pub mod resolve;
pub mod smtp;
pub mod snmp;
