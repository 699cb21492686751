//! sixfive's terminal UI, where network engineers follow the migration. It reads the
//! store through sixfive-inventory and never probes the network itself.
