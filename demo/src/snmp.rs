//! SNMP responders serving recorded 5G router data (snmprec recordings).
