//! sixfive's probes: what it asks of hosts (DNS, TCP, ICMPv6, HTTP, TLS, SMTP) and of 5G
//! routers (SNMP), and how the answers grade a host or a site. It reads the inventory and
//! writes results through the store; it never draws anything.
//!
//! Laid out by concern: [`probe`] holds the network primitives, [`readiness`] the host checks
//! (a file per check) and their grading, [`sites`] the 5G site poller, its device
//! profiles and grading, and [`run`] the driver every front end runs them through.

#[doc(hidden)]
pub mod fuzzing;
pub mod memo;
pub mod network;
pub mod probe;
pub mod readiness;
pub mod run;
pub mod sites;

pub use readiness::scanner::Scanner;
pub use run::{Engine, RecheckRequest, Run, RunOutcome, RunRequest};
pub use sites::poller::SitePoller;
