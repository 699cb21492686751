//! `sixfive agent` as a service manager runs it, on loopback only: a city whose names a
//! name server in this test answers NXDOMAIN (so every host is graded without a probe
//! leaving the machine), short intervals, and the agent's /healthz and /readyz read over
//! TCP. It runs on schedule, reloads on SIGHUP (keeping the old inventory when the new one
//! is invalid), holds its SQLite store against a second agent, and stops on SIGTERM with
//! the run under way stored incomplete.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use sixfive_inventory::store::{RunKind, RunStatus};
use sixfive_inventory::{Store, StoreUrl};

/// A name server on 127.0.0.1 answering NXDOMAIN to every query, for the test's life.
fn name_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            // The header, then the question: its name's labels up to the root, type, class.
            let mut end = 12;
            while end < n && buf[end] != 0 {
                end += 1 + usize::from(buf[end]);
            }
            end += 5;
            if end > n {
                continue;
            }
            let mut answer = buf[..end].to_vec();
            answer[2] |= 0x80; // a response
            answer[3] = (answer[3] & 0xf0) | 3; // NXDOMAIN
            answer[6..12].fill(0); // no answer, authority or additional records
            let _ = socket.send_to(&answer, from);
        }
    });
    address
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The city's inventory with `hosts` hosts, every run of each kind every `every`.
fn inventory(dir: &Path, resolver: SocketAddr, hosts: usize, every: &str) -> PathBuf {
    let mut text = format!(
        "version: 1\nscan:\n  resolvers: [\"{resolver}\"]\n  timeouts: {{ dns: 1s }}\n  scope: [198.18.0.0/15]\n  \
         schedule: {{ hosts: {every}, sites: {every}, jitter: 0% }}\n\
         agencies: [{{ id: dict, name: DICT }}]\nhosts:\n"
    );
    for i in 0..hosts {
        text.push_str(&format!(
            "  - {{ fqdn: h{i}.agent.test, agency: dict, services: [https] }}\n"
        ));
    }
    let path = dir.join("city.yaml");
    replace(&path, &text);
    path
}

/// Writes `path` as editors do: a new file renamed over the old, never half written.
fn replace(path: &Path, text: &str) {
    let new = path.with_extension("new");
    std::fs::write(&new, text).unwrap();
    std::fs::rename(&new, path).unwrap();
}

struct Agent {
    child: Child,
    listen: SocketAddr,
    db: PathBuf,
}

impl Agent {
    fn start(dir: &Path, inventory: &Path) -> Agent {
        let db = dir.join("store.db");
        let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = agent_command(&db, inventory, listen)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let agent = Agent { child, listen, db };
        agent.wait_for(|a| a.get("/healthz").is_some_and(|(code, _)| code == 200));
        agent
    }

    /// The status and body of a GET, or None while nothing listens.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(self.listen).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: agent\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let code = response.split(' ').nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_owned();
        Some((code, body))
    }

    fn wait_for(&self, ready: impl Fn(&Agent) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready(self) {
            assert!(
                Instant::now() < deadline,
                "the agent did not get there in 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the agent to exit; its exit code, how long it took, and its log.
    fn wait(mut self) -> (Option<i32>, Duration, String) {
        let started = Instant::now();
        let status = self.child.wait().unwrap();
        let took = started.elapsed();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status.code(), took, log)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn agent_command(db: &Path, inventory: &Path, listen: SocketAddr) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sixfive"));
    command
        .arg("--db")
        .arg(db)
        .arg("--inventory")
        .arg(inventory)
        .args(["-v", "agent", "--listen", &listen.to_string()])
        // A spool of its own: never the user's, shared with other tests' agents.
        .arg("--spool")
        .arg(inventory.with_file_name(format!("spool-{}", listen.port())))
        .env_remove("SIXFIVE_DB")
        .env_remove("SIXFIVE_LOG");
    command
}

fn runs(db: &Path) -> Vec<sixfive_inventory::store::Run> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(db.to_owned())).await.unwrap();
        let runs = store.runs().await.unwrap();
        store.close().await;
        runs
    })
}

fn complete(db: &Path, kind: RunKind) -> usize {
    runs(db)
        .iter()
        .filter(|r| r.kind == kind && r.status == RunStatus::Complete)
        .count()
}

#[test]
fn the_agent_runs_on_schedule_reports_its_health_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let city = inventory(dir.path(), name_server(), 3, "2s");
    let agent = Agent::start(dir.path(), &city);
    // Every interval, a run: three hosts runs mean two came on schedule, past twice the
    // interval since the start, when a kind of work that never ran would be not ready.
    agent.wait_for(|a| complete(&a.db, RunKind::Hosts) >= 3);
    let (code, body) = agent.get("/readyz").unwrap();
    assert_eq!(
        code, 200,
        "no sites is nothing to do, not a stale duty: {body}"
    );
    let (_, health) = agent.get("/healthz").unwrap();
    assert!(
        health.starts_with("ok\n") && health.contains("sites: nothing to do"),
        "{health}"
    );
    assert!(health.contains("last complete run: 20"), "{health}");
    // The city's grades as OpenMetrics, the hosts runs' timing with them, on a page made
    // again every few seconds while runs change the store.
    let graded = |a: &Agent| {
        a.get("/metrics")
            .is_some_and(|(code, page)| code == 200 && page.contains("h0.agent.test"))
    };
    agent.wait_for(graded);
    let (_, page) = agent.get("/metrics").unwrap();
    let level = page
        .lines()
        .find(|l| l.starts_with("sixfive_host_level{") && l.contains("host=\"h0.agent.test\""))
        .unwrap_or_else(|| panic!("{page}"));
    assert!(level.contains("agency=\"dict\""), "{level}");
    assert!(
        page.contains("sixfive_last_complete_run_timestamp_seconds{kind=\"hosts\"}"),
        "{page}"
    );
    assert!(page.ends_with("# EOF\n"), "{page}");
    // The name server's answers, counted as the agent's DNS probes over IPv4.
    let answered = page
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"sixfive_probes_total{kind="dns",family="v4",outcome="ok"} "#)
        })
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{page}"));
    assert!(answered > 0, "{page}");
    assert_eq!(agent.get("/nothing").unwrap().0, 404);

    // A second agent on the same SQLite store is refused, naming the holder.
    let second = agent_command(
        &agent.db,
        &city,
        format!("127.0.0.1:{}", free_port()).parse().unwrap(),
    )
    .output()
    .unwrap();
    assert_eq!(second.status.code(), Some(69));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(said.contains("held by another agent (agent@"), "{said}");
    // One on another store but the same address cannot serve its health: it stops at once.
    let taken = agent_command(&dir.path().join("other.db"), &city, agent.listen)
        .output()
        .unwrap();
    assert_eq!(taken.status.code(), Some(69));
    let said = String::from_utf8_lossy(&taken.stderr);
    assert!(
        said.contains(&format!("cannot listen on {}", agent.listen)),
        "{said}"
    );

    agent.signal("TERM");
    let db = agent.db.clone();
    let (code, took, log) = agent.wait();
    assert_eq!(code, Some(0), "{log}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    assert!(log.contains("agent stopping"), "{log}");
    assert!(
        runs(&db).iter().all(|r| r.status != RunStatus::Running),
        "no run is left running"
    );
}

#[test]
fn sigterm_mid_run_stores_the_run_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    // Three hosts spread over a minute: the run is under way for most of it.
    let city = inventory(dir.path(), name_server(), 3, "1m");
    let agent = Agent::start(dir.path(), &city);
    agent.wait_for(|a| {
        runs(&a.db)
            .iter()
            .any(|r| r.kind == RunKind::Hosts && r.status == RunStatus::Running)
    });
    agent.signal("TERM");
    let db = agent.db.clone();
    let (code, took, log) = agent.wait();
    assert_eq!(code, Some(0), "{log}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    let hosts: Vec<RunStatus> = runs(&db)
        .iter()
        .filter(|r| r.kind == RunKind::Hosts)
        .map(|r| r.status)
        .collect();
    assert_eq!(hosts, [RunStatus::Incomplete]);
}

#[test]
fn sighup_reloads_and_an_invalid_inventory_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = name_server();
    let city = inventory(dir.path(), resolver, 2, "2s");
    let mut agent = Agent::start(dir.path(), &city);
    let mut log = BufReader::new(agent.child.stderr.take().unwrap());
    let mut wait_for_line = |wanted: &str| -> String {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                log.read_line(&mut line).unwrap() > 0,
                "the log ended before {wanted}"
            );
            if line.contains(wanted) {
                return line.clone();
            }
        }
    };
    // A valid change, found by the file watch: the next run has the new host.
    inventory(dir.path(), resolver, 3, "2s");
    let reloaded = wait_for_line("inventory reloaded after a change to its files");
    assert!(reloaded.contains("hosts=3"), "{reloaded}");
    // SIGHUP loads it again, the engine too (what the machine offers may have changed).
    agent.signal("HUP");
    let again = wait_for_line("inventory reloaded after SIGHUP");
    assert!(again.contains("hosts=3"), "{again}");
    // An invalid one: refused with its file and line, the old one kept.
    replace(&city, "version: 1\nscan:\n  rate: fast\n");
    let refused = wait_for_line("inventory not reloaded");
    assert!(
        refused.contains("city.yaml:3:") && refused.contains("`fast` is not a rate"),
        "{refused}"
    );
    // The next run to start, and end, runs the last valid inventory.
    let refused_at = chrono::Utc::now();
    let started_since = |a: &Agent| {
        runs(&a.db).into_iter().find(|r| {
            r.kind == RunKind::Hosts && r.status == RunStatus::Complete && r.started_at > refused_at
        })
    };
    agent.wait_for(|a| started_since(a).is_some());
    let newest = started_since(&agent).unwrap();
    let graded = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(agent.db.clone()))
            .await
            .unwrap();
        store.levels(newest.id).await.unwrap().len()
    });
    assert_eq!(
        graded, 3,
        "the last valid inventory is still the one scanned"
    );
}

#[test]
fn a_reload_that_shortens_the_interval_takes_effect_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = name_server();
    // One host: its run ends at once, and the next would come an hour later.
    let city = inventory(dir.path(), resolver, 1, "1h");
    let agent = Agent::start(dir.path(), &city);
    agent.wait_for(|a| complete(&a.db, RunKind::Hosts) == 1);
    inventory(dir.path(), resolver, 1, "2s");
    agent.wait_for(|a| complete(&a.db, RunKind::Hosts) >= 2);
}

/// On either backend's pool: every host is one work item, none is held by a run that
/// ended (a run lets go of what it did not finish as it ends), and no stored version ended
/// before it began.
macro_rules! consistent_work_and_ordered_versions {
    ($pool:expr, $hosts:expr) => {{
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE duty = 'hosts'")
            .fetch_one(&$pool)
            .await
            .unwrap();
        assert_eq!(items, $hosts, "one work item per host");
        let held_by_ended: Vec<(String, i64)> = sqlx::query_as(
            "SELECT w.item, w.run_id FROM work_items w JOIN scan_runs r ON r.id = w.run_id
             WHERE r.status <> 'running'",
        )
        .fetch_all(&$pool)
        .await
        .unwrap();
        assert!(
            held_by_ended.is_empty(),
            "items held by runs that ended: {held_by_ended:?}"
        );
        let backwards: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM result_versions WHERE to_run IS NOT NULL AND to_run <= from_run",
        )
        .fetch_one(&$pool)
        .await
        .unwrap();
        assert_eq!(backwards, 0, "a version that ended before it began");
    }};
}

/// kill -9 at 50 moments of an agent's writes, one agent after another on one store: the
/// work items stay one per host and free of ended runs, every stored version follows from
/// an earlier run, and on SQLite the file passes its integrity and foreign key checks.
fn kill_9_at_50_moments(db: &str, dir: &Path) {
    const HOSTS: i64 = 20;
    let city = inventory(dir, name_server(), HOSTS as usize, "1s");
    for i in 0..50u64 {
        let listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut child = agent_command(Path::new(db), &city, listen)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread over the first second and a half of each life: imports, runs starting,
        // batches written, runs finishing.
        std::thread::sleep(Duration::from_millis(100 + i * 97 % 1500));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url: StoreUrl = db.parse().unwrap();
        let store = Store::open(&url).await.unwrap();
        let named = url.to_string();
        let runs = store.runs().await.unwrap();
        store.close().await;
        let complete = runs
            .iter()
            .filter(|r| r.kind == RunKind::Hosts && r.status == RunStatus::Complete)
            .count();
        let interrupted = runs.len() - complete;
        println!("50 kills on {named}: {complete} hosts runs complete, {interrupted} cut short");
        assert!(complete > 0, "some runs ended between the kills");
        match url {
            StoreUrl::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert_eq!(integrity, "ok");
                let orphans = sqlx::query("PRAGMA foreign_key_check")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                assert!(
                    orphans.is_empty(),
                    "{} rows name a missing parent",
                    orphans.len()
                );
                consistent_work_and_ordered_versions!(pool, HOSTS);
            }
            StoreUrl::Postgres { options, .. } => {
                let pool = sqlx::PgPool::connect_with(*options).await.unwrap();
                consistent_work_and_ordered_versions!(pool, HOSTS);
            }
        }
    });
}

#[test]
fn kill_9_during_writes_leaves_a_consistent_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    kill_9_at_50_moments(&db, dir.path());
}

/// A new database named `name` on the test's PostgreSQL server, as a store URL; None (the
/// test skipped, and said so) when there is no server.
fn postgres_database(name: &str) -> Option<String> {
    let Ok(admin) = std::env::var("SIXFIVE_TEST_POSTGRES") else {
        common::skip::skip(&format!(
            "no PostgreSQL: {}",
            common::skip::cause(
                "SIXFIVE_TEST_POSTGRES_SKIP_REASON",
                "SIXFIVE_TEST_POSTGRES is unset (tests/run starts a server)"
            )
        ));
        return None;
    };
    let name = format!("{name}_{}", std::process::id());
    let db = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let StoreUrl::Postgres { options, .. } = admin.parse::<StoreUrl>().unwrap() else {
            panic!("not a PostgreSQL URL: {admin}");
        };
        let pool = sqlx::PgPool::connect_with(*options).await.unwrap();
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        }
    });
    Some(db)
}

#[test]
fn kill_9_during_writes_leaves_a_consistent_postgres_store() {
    let Some(db) = postgres_database("sixfive_kill") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    kill_9_at_50_moments(&db, dir.path());
}

/// The names a name server was asked for, and when.
type Asked = Arc<Mutex<Vec<(String, Instant)>>>;

/// A name server on 127.0.0.1 that answers nothing and notes when each name was asked:
/// every lookup times out, so each host's scan takes a second or more, and the moments a
/// host was asked for are the moments it was scanned, seen from the network.
fn silent_name_server() -> (SocketAddr, Asked) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&asked);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, _)) = socket.recv_from(&mut buf) {
            let mut labels = Vec::new();
            let mut at = 12;
            while at < n && buf[at] != 0 && at + 1 + usize::from(buf[at]) <= n {
                let len = usize::from(buf[at]);
                labels.push(String::from_utf8_lossy(&buf[at + 1..at + 1 + len]).to_lowercase());
                at += 1 + len;
            }
            noted
                .lock()
                .unwrap()
                .push((labels.join("."), Instant::now()));
        }
    });
    (address, asked)
}

/// The moments `fqdn` was scanned: its lookups, those less than `apart` after the last
/// taken as one scan.
fn scans_of(asked: &[(String, Instant)], fqdn: &str, apart: Duration) -> Vec<Instant> {
    let mut scans: Vec<Instant> = Vec::new();
    let mut last: Option<Instant> = None;
    for (name, at) in asked {
        if name != fqdn && !name.ends_with(&format!(".{fqdn}")) {
            continue;
        }
        if last.is_none_or(|last| *at - last >= apart) {
            scans.push(*at);
        }
        last = Some(*at);
    }
    scans
}

#[test]
fn three_agents_share_their_zone_and_one_killed_mid_scan_loses_no_host() {
    let Some(db) = postgres_database("sixfive_three") else {
        return;
    };
    const EVERY: Duration = Duration::from_secs(40);
    let lease = sixfive_inventory::store::LEASE;
    let dir = tempfile::tempdir().unwrap();
    let (resolver, asked) = silent_name_server();
    // Twelve hosts in the agents' zone, three in another zone no agent here serves.
    let mut text = format!(
        "version: 1\nscan:\n  resolvers: [\"{resolver}\"]\n  timeouts: {{ dns: 1s }}\n  \
         scope: [198.18.0.0/15]\n  schedule: {{ hosts: 40s, sites: 40s, jitter: 0% }}\n\
         agencies: [{{ id: dict, name: DICT }}]\nhosts:\n"
    );
    let zone_of = |i: usize| if i < 12 { "dc" } else { "district" };
    for i in 0..15 {
        text.push_str(&format!(
            "  - {{ fqdn: h{i}.agent.test, agency: dict, services: [https], zone: {} }}\n",
            zone_of(i)
        ));
    }
    let city = dir.path().join("city.yaml");
    replace(&city, &text);
    // Agents, killed when dropped: a failed assertion leaves none running.
    let mut agents: Vec<Agent> = (0..3)
        .map(|_| {
            let listen = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let child = agent_command(Path::new(&db), &city, listen)
                .args(["--zone", "dc"])
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            Agent {
                child,
                listen,
                db: PathBuf::from(&db),
            }
        })
        .collect();
    let url: StoreUrl = db.parse().unwrap();
    let StoreUrl::Postgres { options, .. } = url else {
        unreachable!()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pool = runtime
        .block_on(sqlx::PgPool::connect_with(*options))
        .unwrap();
    // Kill -9 the first agent seen holding a host: mid-scan, its lease on the host live.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (victim, victim_pid, held, killed_at) = loop {
        assert!(
            Instant::now() < deadline,
            "no agent took a host in a minute"
        );
        let holder: Option<(String, String)> = runtime
            .block_on(
                sqlx::query_as(
                    "SELECT r.agent, w.item FROM work_items w
                     JOIN scan_runs r ON r.id = w.run_id WHERE r.status = 'running' LIMIT 1",
                )
                .fetch_optional(&pool),
            )
            // Before the first agent made the schema, there is no table to read.
            .unwrap_or_default();
        let found = holder.and_then(|(agent, item)| {
            let pid: u32 = agent.rsplit_once("pid ")?.1.parse().ok()?;
            let index = agents.iter().position(|agent| agent.child.id() == pid)?;
            Some((index, item))
        });
        if let Some((index, item)) = found {
            let pid = agents[index].child.id();
            agents[index].child.kill().unwrap();
            agents[index].child.wait().unwrap();
            break (index, pid, item, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Two and a half intervals more for the two left.
    std::thread::sleep(EVERY * 5 / 2);
    let ended = Instant::now();
    for (i, agent) in agents.iter_mut().enumerate() {
        if i != victim {
            agent.child.kill().unwrap();
            agent.child.wait().unwrap();
        }
    }
    let asked = asked.lock().unwrap().clone();
    // The killed agent's host: taken by another once the lease ran out.
    let again = scans_of(&asked, &held, Duration::from_secs(10))
        .into_iter()
        .find(|at| *at > killed_at)
        .unwrap_or_else(|| panic!("{held} was not scanned again after its agent was killed"));
    assert!(
        again - killed_at <= lease + Duration::from_secs(10),
        "{held} was scanned again {:?} after the kill",
        again - killed_at
    );
    for i in 0..15 {
        let fqdn = format!("h{i}.agent.test");
        let scans: Vec<Instant> = scans_of(&asked, &fqdn, Duration::from_secs(10))
            .into_iter()
            .filter(|at| *at > killed_at)
            .collect();
        if zone_of(i) == "district" {
            assert!(scans.is_empty(), "{fqdn} is not the agents' zone's");
            continue;
        }
        // Once an interval: never twice within half of one, never a gap much over one
        // (a host taken late after a lease ran out waits for its place in the interval).
        assert!(scans.len() >= 2, "{fqdn}: {} scans", scans.len());
        for pair in scans.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= EVERY / 2 && gap <= EVERY * 3 / 2 + lease,
                "{fqdn} scanned {gap:?} apart"
            );
        }
        assert!(
            ended - *scans.last().unwrap() <= EVERY * 3 / 2 + lease,
            "{fqdn} was last scanned {:?} before the end",
            ended - *scans.last().unwrap()
        );
    }
    // What the store holds agrees: a grade per scan seen, none twice (two agents scanning a
    // host at once would be one burst of lookups with two grades), at most the scans the
    // kills cut short missing.
    let grades: Vec<(String, i64)> = runtime
        .block_on(
            sqlx::query_as("SELECT host, COUNT(*) FROM host_levels GROUP BY host").fetch_all(&pool),
        )
        .unwrap();
    for (host, stored) in grades {
        let seen = scans_of(&asked, &host, Duration::from_secs(10)).len() as i64;
        assert!(
            stored <= seen && stored + 2 >= seen,
            "{host}: {stored} grades stored, {seen} scans seen"
        );
    }
    // Every window of the agents that lived ended complete (their last ones were killed
    // running): none failed on its store. Only the killed agent's run may be incomplete,
    // closed by the others once its heartbeat had been silent for a minute.
    let cut_short: Vec<(i64, String)> = runtime
        .block_on(
            sqlx::query_as("SELECT id, agent FROM scan_runs WHERE status = 'incomplete'")
                .fetch_all(&pool),
        )
        .unwrap();
    let killed = format!("pid {victim_pid}");
    assert!(
        cut_short.iter().all(|(_, agent)| agent.ends_with(&killed)),
        "runs cut short: {cut_short:?}"
    );
    runtime.block_on(async {
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE zone = 'dc'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(items, 12, "the zone's hosts, each once");
        let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE zone <> 'dc'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(others, 0, "no agent planned another zone's hosts");
    });
}

#[test]
fn the_endpoint_serves_tls_and_basic_auth_from_an_exporter_toolkit_web_config() {
    if Command::new("curl").arg("--version").output().is_err() {
        common::skip::skip("no curl to scrape the agent with (tests/run installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let city = inventory(dir.path(), name_server(), 1, "1h");
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls/key.pem"), key.serialize_pem()).unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: tls/cert.pem\n  key_file: tls/key.pem\n\
             basic_auth_users:\n  prometheus: '{hash}'\n"
        ),
    )
    .unwrap();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut command = agent_command(&dir.path().join("store.db"), &city, listen);
    command.arg("--web.config.file").arg(&web);
    let agent = Agent {
        child: command.stderr(Stdio::piped()).spawn().unwrap(),
        listen,
        db: dir.path().join("store.db"),
    };
    // Prometheus' way in: TLS checked against the certificate, the user's password.
    let scrape = |path: &str, user: Option<&str>| -> (String, String) {
        let mut curl = Command::new("curl");
        curl.args(["-sS", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}"])
            .arg("--cacert")
            .arg(dir.path().join("tls/cert.pem"));
        if let Some(user) = user {
            curl.args(["-u", user]);
        }
        let out = curl
            .arg(format!("https://{listen}{path}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (code.to_owned(), body.to_owned())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while scrape("/healthz", Some("prometheus:s3cret")).0 != "200" {
        assert!(
            Instant::now() < deadline,
            "the agent never answered over TLS"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, page) = scrape("/metrics", Some("prometheus:s3cret"));
    assert_eq!(code, "200", "{page}");
    assert!(page.ends_with("# EOF\n"), "{page}");
    assert_eq!(scrape("/metrics", None).0, "401");
    assert_eq!(scrape("/metrics", Some("prometheus:wrong")).0, "401");
    assert_eq!(scrape("/metrics", Some("nobody:s3cret")).0, "401");
    // Plain HTTP gets no page.
    assert_eq!(agent.get("/metrics"), None);
    // A renewed certificate, taken on SIGHUP: the scraper that trusts only the new one
    // gets in.
    let key = rcgen::KeyPair::generate().unwrap();
    let renewed = params.self_signed(&key).unwrap();
    std::fs::write(dir.path().join("tls/cert.pem"), renewed.pem()).unwrap();
    std::fs::write(dir.path().join("tls/key.pem"), key.serialize_pem()).unwrap();
    assert_ne!(scrape("/healthz", Some("prometheus:s3cret")).0, "200");
    agent.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(30);
    while scrape("/healthz", Some("prometheus:s3cret")).0 != "200" {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not taken"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    agent.signal("TERM");
    let (code, took, log) = agent.wait();
    assert_eq!(code, Some(0), "{log}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
}

#[test]
fn results_the_store_cannot_take_are_kept_on_disk_and_written_once_when_it_answers() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    // Lookups time out: each host's scan takes a second or more, long enough to catch one
    // under way.
    let (resolver, _) = silent_name_server();
    let city = inventory(dir.path(), resolver, 20, "10s");
    let agent = Agent::start(dir.path(), &city);
    let spool = city.with_file_name(format!("spool-{}", agent.listen.port()));
    // The spool's files with `extension`, in its folder per store.
    let files = |extension: &str| -> Vec<PathBuf> {
        let folders = std::fs::read_dir(&spool).into_iter().flatten().flatten();
        (folders.flat_map(|folder| {
            std::fs::read_dir(folder.path())
                .into_iter()
                .flatten()
                .flatten()
        }))
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|x| x == extension))
        .collect()
    };
    // The store away while hosts are being scanned: another process takes its write lock
    // and holds it longer than the agent waits for it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&agent.db);
    let mut holder = runtime
        .block_on(sqlx::SqliteConnection::connect_with(&options))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let held: Result<i64, _> = runtime.block_on(
            sqlx::query_scalar("SELECT COUNT(*) FROM work_items WHERE run_id IS NOT NULL")
                .fetch_one(&mut holder),
        );
        if held.is_ok_and(|held| held > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "no host was taken");
        std::thread::sleep(Duration::from_millis(50));
    }
    runtime
        .block_on(sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut holder))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while files("json").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no batch was kept while the store was away"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // What was kept, by run and host, and not in the store (read inside the lock).
    let mut kept: Vec<(i64, String)> = Vec::new();
    for file in files("json") {
        let batch: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for level in batch["levels"].as_array().unwrap() {
            kept.push((
                batch["run"].as_i64().unwrap(),
                level["host"].as_str().unwrap().into(),
            ));
        }
    }
    assert!(!kept.is_empty(), "a kept batch grades hosts");
    let (_, health) = agent.get("/healthz").unwrap();
    let waiting = health.lines().find(|line| line.starts_with("spool "));
    assert!(
        waiting
            .is_some_and(|line| line.contains(" batches waiting") && !line.contains(": 0 batches")),
        "{health}"
    );
    let graded = |conn: &mut sqlx::SqliteConnection| -> Vec<(i64, String)> {
        runtime
            .block_on(sqlx::query_as("SELECT run_id, host FROM host_levels").fetch_all(conn))
            .unwrap()
    };
    let before = graded(&mut holder);
    assert!(kept.iter().all(|k| !before.contains(k)), "kept and stored");
    runtime
        .block_on(sqlx::raw_sql("COMMIT").execute(&mut holder))
        .unwrap();
    // Back: the next window writes what was kept into its run, once.
    agent.wait_for(|_| files("json").is_empty());
    let after = graded(&mut holder);
    for k in &kept {
        let times = after.iter().filter(|stored| *stored == k).count();
        assert_eq!(times, 1, "{k:?} stored {times} times");
    }
    runtime.block_on(holder.close()).unwrap();
    assert!(files("refused").is_empty(), "a kept batch was refused");
    let (_, health) = agent.get("/healthz").unwrap();
    assert!(
        health.contains(": 0 batches waiting for the store, 0 set aside"),
        "{health}"
    );
    agent.signal("TERM");
    let (code, _, log) = agent.wait();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("batch kept on disk"), "{log}");
}
