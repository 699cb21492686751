//! 5G sites: the poller that reads a router over SNMP and ICMP, the device profiles that say
//! where each vendor keeps its radio values, and the grading of a poll into a state.
pub mod grading;
pub mod poller;
pub mod profiles;
