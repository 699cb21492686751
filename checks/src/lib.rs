//! sixfive's probes: what it asks of hosts (DNS, TCP, ICMPv6, HTTP, TLS, SMTP) and of 5G
//! routers (SNMP), and how the answers grade a host or a site. It reads the inventory and
//! writes results through the store; it never draws anything.

pub mod check;
pub mod dns;
pub mod engine;
pub mod http;
pub mod icmp;
pub mod internet_nl;
pub mod level;
pub mod memo;
pub mod network;
pub mod pmtu;
pub mod poller;
pub mod probe;
pub mod profiles;
pub mod run;
pub mod sites;
pub mod smtp;
pub mod tcp;
pub mod tls;

pub use engine::Scanner;
pub use poller::SitePoller;
pub use run::{Engine, Run, RunOutcome, RunRequest};
