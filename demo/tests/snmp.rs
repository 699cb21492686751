//! The demo's SNMP responders over real UDP on loopback with async-snmp's client (GET,
//! walks, GETBULK, v1 and v2c, a wrong community). sixfive's own poller, which never probes
//! loopback, reads them in the demo's namespace: tests/demo.rs grades what it found.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_snmp::{Auth, Client, Oid, Retry, Value, oid};
use sixfive_checks::probe::snmp::{Agent, Credentials, Refusal, Snmp, SnmpError, Sockets};
use sixfive_demo::snmp::{Condition, Recording, Router, recording, spawn};

const COMMUNITY: &str = "demo-c0mm-5e1f";
const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const IF_TABLE: [u32; 8] = [1, 3, 6, 1, 2, 1, 2, 2];
const IF_OPER_STATUS: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
const IF_NAME: [u32; 11] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];

async fn router(ip: &str, profile: &str, condition: Condition) -> Router {
    let addr = SocketAddr::new(ip.parse().unwrap(), 0);
    spawn(
        addr,
        COMMUNITY.into(),
        recording(profile, condition).unwrap(),
    )
    .await
    .unwrap()
}

/// A client that gives up after one short wait: async-snmp's default retries would make
/// a silent agent cost 11 s.
async fn client(router: &Router, auth: Auth) -> Client<async_snmp::UdpHandle> {
    Client::builder(router.local_addr(), auth)
        .request_timeout(Duration::from_millis(300))
        .retry(Retry::fixed(0, Duration::ZERO).unwrap())
        .connect()
        .await
        .unwrap()
}

async fn get(client: &Client<async_snmp::UdpHandle>, oid: &Oid) -> Value {
    let response = client.get(oid).await.unwrap();
    response.varbinds[0].value.clone()
}

#[tokio::test]
async fn answers_get_walks_and_getbulk_over_ipv4_and_ipv6() {
    for ip in ["127.0.0.1", "::1"] {
        let router = router(ip, "teltonika-rutx", Condition::Healthy).await;
        assert_eq!(router.local_addr().ip(), ip.parse::<IpAddr>().unwrap());
        let v2c = client(&router, Auth::v2c(COMMUNITY)).await;
        assert_eq!(
            get(&v2c, &SYS_DESCR.into()).await,
            Value::OctetString("Teltonika RUTX50 RUTX_R_00.07.06.1".into()),
            "{ip}"
        );
        let walked = v2c.walk(IF_TABLE.into()).unwrap().collect().await.unwrap();
        let getnext = v2c
            .walk_getnext(IF_TABLE.into())
            .unwrap()
            .collect()
            .await
            .unwrap();
        // Eight columns of lo and wwan0, in order, the same by GETBULK and GETNEXT.
        assert_eq!(walked.len(), 16, "{ip}");
        assert_eq!(walked, getnext, "{ip}");
        assert!(walked.windows(2).all(|w| w[0].oid < w[1].oid));
        assert!(walked.contains(&async_snmp::VarBind::new(
            Oid::from(IF_OPER_STATUS).child(2),
            Value::Integer(1)
        )));

        // sysDescr, then two rows of ifOperStatus and ifName.
        let bulk = v2c
            .get_bulk(
                &[
                    oid!(1, 3, 6, 1, 2, 1, 1, 1),
                    IF_OPER_STATUS.into(),
                    IF_NAME.into(),
                ],
                1,
                2,
            )
            .await
            .unwrap();
        let oids: Vec<String> = bulk.iter().map(|vb| vb.oid.to_string()).collect();
        assert_eq!(
            oids,
            [
                "1.3.6.1.2.1.1.1.0",
                "1.3.6.1.2.1.2.2.1.8.1",
                "1.3.6.1.2.1.31.1.1.1.1.1",
                "1.3.6.1.2.1.2.2.1.8.2",
                "1.3.6.1.2.1.31.1.1.1.1.2",
            ],
            "{ip}"
        );
        assert_eq!(bulk[4].value, Value::OctetString("wwan0".into()));

        // SNMPv1 with the same community; it has no Counter64, so a walk skips them.
        let v1 = client(&router, Auth::v1(COMMUNITY)).await;
        assert_eq!(
            get(&v1, &oid!(1, 3, 6, 1, 2, 1, 1, 5, 0)).await,
            Value::OctetString("sim-sa-healthy".into())
        );
        let if_x = v1
            .walk_getnext(oid!(1, 3, 6, 1, 2, 1, 31, 1, 1, 1))
            .unwrap()
            .collect()
            .await
            .unwrap();
        let names = Oid::from(IF_NAME);
        assert_eq!(if_x.len(), 2, "{ip}: {if_x:?}");
        assert!(if_x.iter().all(|vb| vb.oid.starts_with(&names)));
    }
}

#[tokio::test]
async fn a_wrong_community_gets_no_answer() {
    let router = router("::1", "peplink", Condition::Healthy).await;
    let wrong = client(&router, Auth::v2c("public")).await;
    let error = wrong.get(&SYS_DESCR.into()).await.unwrap_err();
    assert_eq!(error.kind(), async_snmp::ErrorKind::Timeout, "{error}");
    // sixfive's client tells a refusal from silence by SNMPv3 discovery, which the agent
    // answers: the site is auth_failed, as a real router's with a wrong community.
    let credentials = Credentials::V2c {
        community: "public".into(),
    };
    let sockets = Sockets::default();
    let agent = Agent::connect(
        &sockets,
        router.local_addr(),
        &credentials,
        Duration::from_millis(300),
        0,
    )
    .await
    .unwrap();
    let error = agent.get(&[SYS_DESCR.into()]).await.unwrap_err();
    assert!(
        matches!(error, SnmpError::AuthFailed(Refusal::Community)),
        "{error}"
    );
}

#[tokio::test]
async fn unknown_oids_are_told_apart_and_a_walk_ends() {
    let router = router("127.0.0.1", "cisco-cellular", Condition::Healthy).await;
    let v2c = client(&router, Auth::v2c(COMMUNITY)).await;
    assert_eq!(
        get(&v2c, &Oid::from(IF_OPER_STATUS).child(9)).await,
        Value::NoSuchInstance
    );
    assert_eq!(
        get(&v2c, &oid!(1, 3, 6, 1, 4, 1, 9999, 1, 0)).await,
        Value::NoSuchObject
    );
    let last = v2c.get_next(&oid!(1, 3, 6, 1, 5)).await.unwrap();
    assert_eq!(last.varbinds[0].value, Value::EndOfMibView);
}

#[tokio::test]
async fn set_swaps_the_recording_and_uptime_keeps_counting() {
    let router = router("::1", "teltonika-rutx", Condition::UplinkDown).await;
    let v2c = client(&router, Auth::v2c(COMMUNITY)).await;
    let wwan0 = Oid::from(IF_OPER_STATUS).child(2);
    assert_eq!(get(&v2c, &wwan0).await, Value::Integer(2));
    let Value::TimeTicks(before) = get(&v2c, &SYS_UPTIME.into()).await else {
        panic!("sysUpTime is TimeTicks")
    };
    // The recording's start, 12345600 ticks (34 h).
    assert!((12_345_600..12_345_700).contains(&before), "{before}");

    router.set(recording("teltonika-rutx", Condition::Healthy).unwrap());
    assert_eq!(get(&v2c, &wwan0).await, Value::Integer(1));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let Value::TimeTicks(after) = get(&v2c, &SYS_UPTIME.into()).await else {
        panic!("sysUpTime is TimeTicks")
    };
    assert!(after >= before + 20, "{before} then {after}: no reboot");

    router.set(Recording::parse("1.3.6.1.2.1.1.1.0|4|swapped").unwrap());
    assert_eq!(
        get(&v2c, &SYS_DESCR.into()).await,
        Value::OctetString("swapped".into())
    );
    assert_eq!(get(&v2c, &SYS_UPTIME.into()).await, Value::NoSuchObject);
}

#[tokio::test]
async fn dropping_a_router_frees_its_port() {
    let router = router("127.0.0.1", "generic", Condition::Healthy).await;
    let addr = router.local_addr();
    drop(router);
    // The run task ends on the runtime; give it a turn before binding again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = spawn(
        addr,
        COMMUNITY.into(),
        recording("generic", Condition::Healthy).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(again.local_addr(), addr);
}

#[tokio::test]
async fn a_taken_address_is_an_io_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let error = spawn(
        taken.local_addr().unwrap(),
        COMMUNITY.into(),
        recording("peplink", Condition::Healthy).unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse, "{error}");
}

#[test]
fn routers_and_recordings_go_between_tasks() {
    fn shared<T: Send + Sync>() {}
    shared::<Router>();
    shared::<Recording>();
}
