//! The SNMP client against net-snmp's snmpd on loopback, over IPv6 and IPv4, v2c and v3
//! authPriv. Under SIXFIVE_LAB=required a missing snmpd fails the run.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_snmp::Oid;
use sixfive_checks::probe::snmp::{Agent, Credentials, Snmp, SnmpError, SnmpValue, Sockets};

#[path = "../../tests/common/skip.rs"]
mod skip;

const COMMUNITY: &str = "sixfive-lab-ro";
const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];
const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const IF_DESCR: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 2];
const IF_TYPE: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 3];
const SYSTEM: [u32; 7] = [1, 3, 6, 1, 2, 1, 1];

/// A snmpd of its own on a free port of [::1] and 127.0.0.1, stopped when dropped.
struct Snmpd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn snmpd() -> Option<Snmpd> {
    let Some(binary) = ["/usr/sbin/snmpd", "/usr/local/sbin/snmpd"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
    else {
        skip::skip("no snmpd: net-snmp's snmpd is not installed (tests/lab/packages.txt)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = UdpSocket::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("snmpd.conf");
    std::fs::write(
        &config,
        format!(
            "rocommunity6 {COMMUNITY} ::1/128\nrocommunity {COMMUNITY} 127.0.0.1/32\n\
             createUser ops SHA-256 auth-pass-0123 AES priv-pass-0123\nrouser ops priv\n\
             sysName lab-router\nsysLocation Hai Chau ward\n"
        ),
    )
    .unwrap();
    let child = Command::new(binary)
        .args(["-f", "-Lo", "-C", "-c"])
        .arg(&config)
        .arg(format!("--persistentDir={}", dir.path().display()))
        .arg(format!("udp6:[::1]:{port},udp:127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("snmpd starts");
    std::thread::sleep(Duration::from_millis(700));
    Some(Snmpd {
        child,
        port,
        _dir: dir,
    })
}

fn v3(auth_pass: &str) -> Credentials {
    Credentials::V3 {
        user: "ops".into(),
        auth: Some((async_snmp::AuthProtocol::Sha256, auth_pass.into())),
        privacy: Some((async_snmp::PrivProtocol::Aes128, "priv-pass-0123".into())),
    }
}

async fn agent(port: u16, v6: bool, credentials: &Credentials) -> Result<Agent, SnmpError> {
    let target: SocketAddr = if v6 {
        format!("[::1]:{port}").parse().unwrap()
    } else {
        format!("127.0.0.1:{port}").parse().unwrap()
    };
    Agent::connect(
        &Sockets::default(),
        target,
        credentials,
        Duration::from_millis(600),
        1,
    )
    .await
}

#[tokio::test]
async fn v2c_and_v3_read_the_agent_over_both_families() {
    let Some(snmpd) = snmpd() else { return };
    let community = Credentials::V2c {
        community: COMMUNITY.into(),
    };
    for v6 in [true, false] {
        for credentials in [&community, &v3("auth-pass-0123")] {
            let agent = agent(snmpd.port, v6, credentials).await.unwrap();
            let values = agent
                .get(&[SYS_NAME.into(), SYS_UPTIME.into()])
                .await
                .unwrap();
            assert_eq!(
                values[0].1,
                SnmpValue::Text(b"lab-router".to_vec()),
                "v6: {v6}, {credentials:?}"
            );
            assert!(matches!(values[1].1, SnmpValue::TimeTicks(_)));
        }
    }
}

#[tokio::test]
async fn a_walk_reads_columns_side_by_side_each_to_its_end() {
    let Some(snmpd) = snmpd() else { return };
    let credentials = Credentials::V2c {
        community: COMMUNITY.into(),
    };
    let agent = agent(snmpd.port, true, &credentials).await.unwrap();
    // The system group outlasts the interface columns by many rows (sysORTable), so the
    // walk goes on with one column after the others ended.
    let roots: [Oid; 3] = [IF_DESCR.into(), SYSTEM.into(), IF_TYPE.into()];
    let columns = agent.walk(&roots).await.unwrap();
    assert_eq!(columns.len(), 3);
    for (root, rows) in roots.iter().zip(&columns) {
        assert!(!rows.is_empty(), "{root:?}");
        assert!(rows.iter().all(|(oid, _)| oid.starts_with(root)));
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "increasing OIDs");
    }
    assert_eq!(columns[0].len(), columns[2].len(), "one row per interface");
    assert!(columns[1].len() > 10, "{:?}", columns[1]);
    assert!(
        columns[0]
            .iter()
            .any(|(_, v)| *v == SnmpValue::Text(b"lo".to_vec())),
        "{columns:?}"
    );
}

#[tokio::test]
async fn a_wrong_v3_key_or_community_is_refused_not_silent() {
    let Some(snmpd) = snmpd() else { return };
    let refused = match agent(snmpd.port, true, &v3("wrong-pass-999")).await {
        Ok(agent) => agent.get(&[SYS_NAME.into()]).await.unwrap_err(),
        Err(error) => error,
    };
    assert!(matches!(refused, SnmpError::AuthFailed(_)), "{refused:?}");
    assert!(!refused.to_string().contains("wrong-pass-999"), "{refused}");

    // snmpd drops a wrong community without a word; its answer to SNMPv3 shows it is alive.
    let wrong = Credentials::V2c {
        community: "not-the-community".into(),
    };
    let agent = agent(snmpd.port, true, &wrong).await.unwrap();
    let refused = agent.get(&[SYS_NAME.into()]).await.unwrap_err();
    assert!(matches!(refused, SnmpError::AuthFailed(_)), "{refused:?}");
    assert!(!refused.to_string().contains("not-the-community"));
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let shown = format!(
        "{:?} {:?}",
        v3("auth-pass-0123"),
        Credentials::V2c {
            community: COMMUNITY.into()
        }
    );
    assert!(
        !shown.contains("auth-pass-0123")
            && !shown.contains("priv-pass-0123")
            && !shown.contains(COMMUNITY),
        "{shown}"
    );
}

#[tokio::test]
async fn a_dead_agent_is_silence_not_a_refusal() {
    let port = UdpSocket::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let community = Credentials::V2c {
        community: COMMUNITY.into(),
    };
    for credentials in [v3("auth-pass-0123"), community] {
        let outcome = match agent(port, true, &credentials).await {
            Ok(agent) => agent.get(&[SYS_NAME.into()]).await.unwrap_err(),
            Err(error) => error,
        };
        assert!(
            matches!(outcome, SnmpError::Timeout | SnmpError::Unreachable(_)),
            "{outcome:?}"
        );
    }
}
