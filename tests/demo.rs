//! `sixfive demo` as a new user runs it: without root, stdout not a terminal, so it prints
//! the check table of its last run; and what it leaves in its own store. Two more tests
//! prove it sends nothing beyond its private namespace, nor, where the kernel refuses it
//! one, beyond loopback.

use std::path::Path;
use std::process::{Command, Output};

use sixfive_inventory::results::SiteState;
use sixfive_inventory::store::RunStatus;
use sixfive_inventory::{Store, StoreUrl};

#[path = "common/netns.rs"]
mod netns;
#[path = "common/skip.rs"]
mod skip;
use netns::{Netns, as_nobody, ip, sandbox, which};

/// The demo with its home and data under `dir`, as an unprivileged user: `nobody` when the
/// tests run as root (and `setpriv` is there), else the user running the tests.
fn demo(dir: &Path) -> Command {
    demo_after(dir, &[])
}

/// [`demo`], the binary run by `wrapper` (a command that runs its arguments).
fn demo_after(dir: &Path, wrapper: &[&str]) -> Command {
    let binary = env!("CARGO_BIN_EXE_sixfive");
    let mut words = as_nobody();
    words.extend(wrapper);
    words.push(binary);
    let mut command = Command::new(words[0]);
    command
        .args(&words[1..])
        .arg("demo")
        .env_remove("SIXFIVE_DB")
        .env_remove("SIXFIVE_INVENTORY")
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("NO_COLOR", "1");
    command
}

/// Whether the demo could not run here for want of unprivileged namespaces.
fn refused(output: &Output) -> bool {
    !output.status.success()
        && String::from_utf8_lossy(&output.stderr).contains("refuses a private network namespace")
}

/// A demo that succeeded: its stdout, its stderr, and the level of each host its table
/// lists (every one of the city's 69).
fn graded(output: &Output) -> (String, String, Vec<String>) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let levels: Vec<String> = stdout
        .lines()
        .filter(|line| line.contains(".danang.test"))
        .filter_map(|line| Some(line.split_whitespace().nth(2)?.to_owned()))
        .collect();
    assert_eq!(levels.len(), 69, "{stdout}");
    (stdout, stderr, levels)
}

#[test]
fn the_demo_scans_a_city_with_every_kind_of_host_and_site() {
    let dir = sandbox();
    let started = std::time::Instant::now();
    // The user's own store, named in the environment, is left alone.
    let mine = dir.path().join("mine.db");
    let output = demo(dir.path()).env("SIXFIVE_DB", &mine).output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    if refused(&output) {
        return skip::skip("the kernel refuses unprivileged user namespaces");
    }
    let (stdout, stderr, levels) = graded(&output);
    eprintln!("the demo took {seconds:.1} s\n{stdout}");
    // A believable city has hosts at each of several levels, BROKEN among them.
    for level in ["BROKEN", "L0", "L1", "L3"] {
        assert!(
            levels.iter().any(|l| l == level),
            "no host at {level}:\n{stdout}"
        );
    }
    assert!(stdout.contains("hosts  69 scanned"), "{stdout}");
    assert!(stdout.contains("sites  18 polled"), "{stdout}");

    assert!(
        !mine.exists(),
        "SIXFIVE_DB is the user's store, not the demo's"
    );
    let store = dir.path().join("data/sixfive/demo.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(store)).await.unwrap();
        let runs = store.runs().await.unwrap();
        let complete = runs
            .iter()
            .filter(|r| r.status == RunStatus::Complete)
            .count();
        assert!(complete >= 2, "{runs:?}");
        // The first run's sample of each site built with a condition shows it.
        let first = |site: &'static str| {
            let store = &store;
            async move {
                let samples = store.samples(site, 10).await.unwrap();
                samples
                    .into_iter()
                    .min_by_key(|s| s.at)
                    .unwrap_or_else(|| panic!("no sample of {site}"))
            }
        };
        let uplink = first("thanh-khe-ward-01").await;
        assert_eq!(uplink.state, SiteState::Critical, "{uplink:?}");
        assert!(
            uplink.reasons.iter().any(|r| r.contains("uplink is down")),
            "{uplink:?}"
        );
        let no_v6 = first("an-hai-bac-cabinet-01").await;
        assert!(
            no_v6
                .reasons
                .iter()
                .any(|r| r.contains("no IPv6 address on the WAN")),
            "{no_v6:?}"
        );
        let community = first("lien-chieu-ward-01").await;
        assert!(
            matches!(
                community.state,
                SiteState::AuthFailed | SiteState::Unreachable
            ),
            "{community:?}"
        );
        let healthy = first("hai-chau-ward-01").await;
        assert_eq!(healthy.state, SiteState::Ok, "{healthy:?}");
        // Fair and poor radio grade as sites.md says, through the real poller.
        let states: Vec<SiteState> = store
            .latest_samples(None)
            .await
            .unwrap()
            .iter()
            .map(|s| s.state)
            .collect();
        for state in [SiteState::Ok, SiteState::Degraded, SiteState::Critical] {
            assert!(states.contains(&state), "no {state:?} site: {states:?}");
        }
        store.close().await;
    });
    // The secrets the demo's routers are polled with never reach the output, and its copy
    // of them is its own alone, so the loader does not warn.
    for secret in [
        include_str!("../inventory/examples/danang/secrets/snmp-community"),
        include_str!("../inventory/examples/danang/secrets/snmp-v3-auth"),
        include_str!("../inventory/examples/danang/secrets/snmp-v3-priv"),
    ] {
        let secret = secret.trim();
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
    assert!(!stderr.contains("open to group or others"), "{stderr}");
}

/// `--db` names where the demo imports its city: a new SQLite file, never a user's store
/// (its inventory would be replaced) nor a city's shared PostgreSQL, refused before
/// anything is sent.
#[test]
fn the_demo_writes_a_new_store_and_refuses_a_users() {
    let dir = sandbox();
    let usage = |output: &Output, says: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(output.stdout.is_empty());
    };
    let shared = demo(dir.path())
        .args(["--db", "postgres://city:secret@[fd00::5]:5432/sixfive"])
        .output()
        .unwrap();
    usage(
        &shared,
        "does not write to a PostgreSQL server over the network",
    );
    assert!(!String::from_utf8_lossy(&shared.stderr).contains("secret"));

    let mine = dir.path().join("mine.db");
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/inventory/examples/danang");
    let import = Command::new(env!("CARGO_BIN_EXE_sixfive"))
        .arg("--db")
        .arg(&mine)
        .args(["inventory", "import", examples])
        .env("SIXFIVE_USER", "alice")
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = std::fs::read(&mine).unwrap();
    let user_store = demo(dir.path()).arg("--db").arg(&mine).output().unwrap();
    usage(
        &user_store,
        "holds more than the demo's runs (written by alice)",
    );
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        before,
        "the user's store is untouched"
    );

    let new = dir.path().join("new.db");
    let output = demo(dir.path()).arg("--db").arg(&new).output().unwrap();
    if refused(&output) {
        return skip::skip("the kernel refuses unprivileged user namespaces");
    }
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains(&new.display().to_string()));
}

/// Packets the watcher's end of the link has received.
fn received(watcher: &str) -> u64 {
    let output = Command::new("ip")
        .args([
            "netns",
            "exec",
            watcher,
            "cat",
            "/sys/class/net/watch0/statistics/rx_packets",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// A namespace whose only way out is a link to a watcher, with default routes of both
/// families pointing at it, so anything sent beyond it arrives there; and the watcher's
/// count of packets so far. None when the test cannot build them (skipped).
fn watched() -> Option<(Netns, String, String, u64)> {
    if !nix::unistd::getuid().is_root() || !which("ip") {
        skip::skip("needs root and iproute2 to build the watched namespaces");
        return None;
    }
    let id = std::process::id();
    let n = WATCHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (inside, watcher) = (format!("sfdemo-{id}-{n}"), format!("sfwatch-{id}-{n}"));
    let netns = Netns(vec![inside.clone(), watcher.clone()]);
    ip(&format!("netns add {inside}"));
    ip(&format!("netns add {watcher}"));
    ip(&format!(
        "-n {inside} link add out0 type veth peer name watch0 netns {watcher}"
    ));
    // No router solicitations or DAD probes of the link's own: the count is the demo's.
    for (ns, link) in [(&inside, "out0"), (&watcher, "watch0")] {
        for setting in ["router_solicitations=0", "accept_ra=0", "dad_transmits=0"] {
            let status = Command::new("ip")
                .args(["netns", "exec", ns, "sysctl", "-q", "-w"])
                .arg(format!("net.ipv6.conf.{link}.{setting}"))
                .status()
                .unwrap();
            assert!(status.success(), "{setting}");
        }
    }
    ip(&format!("-n {inside} link set lo up"));
    ip(&format!("-n {inside} link set out0 up"));
    ip(&format!("-n {watcher} link set watch0 up"));
    ip(&format!("-n {inside} address add 198.18.99.2/24 dev out0"));
    ip(&format!(
        "-n {inside} address add fd00:99::2/64 dev out0 nodad"
    ));
    ip(&format!(
        "-n {watcher} address add 198.18.99.1/24 dev watch0"
    ));
    ip(&format!(
        "-n {watcher} address add fd00:99::1/64 dev watch0 nodad"
    ));
    ip(&format!("-n {inside} route add default via 198.18.99.1"));
    ip(&format!("-n {inside} -6 route add default via fd00:99::1"));
    // What the link says of itself when it comes up (MLD reports) settles first.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before = received(&watcher);
    Some((netns, inside, watcher, before))
}

/// Watched namespaces made so far by this process, for their names.
static WATCHED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// `command` run in the network namespace `netns`.
fn within(netns: &str, command: &Command) -> Output {
    let mut within = Command::new("ip");
    within.args(["netns", "exec", netns]);
    within.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => within.env(key, value),
            None => within.env_remove(key),
        };
    }
    within.output().unwrap()
}

/// The demo runs in a watched namespace ([`watched`]); nothing it sends leaves its own
/// private namespace.
#[test]
fn the_demo_sends_nothing_outside_its_namespace() {
    let Some((_netns, inside, watcher, before)) = watched() else {
        return;
    };
    let dir = sandbox();
    let output = within(&inside, &demo(dir.path()));
    if refused(&output) {
        return skip::skip("the kernel refuses unprivileged user namespaces");
    }
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = received(&watcher);
    assert_eq!(
        after - before,
        0,
        "the watcher received {} packets",
        after - before
    );
    // The watcher does see what leaves: one datagram to the demo's resolver address, sent
    // from the namespace itself rather than the demo's, arrives.
    let sent = Command::new("ip")
        .args([
            "netns",
            "exec",
            &inside,
            "bash",
            "-c",
            "echo > /dev/udp/198.18.0.53/53",
        ])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(
        received(&watcher) > after,
        "the watcher sees nothing at all"
    );
}

/// Where the kernel gives no user namespaces (a user namespace whose own limit is 0 stands
/// in for such a kernel; the demo, `nobody` in it, holds no privilege over the watched
/// namespace it runs in, as a plain user on a machine), the demo says so and runs the same
/// city on loopback: the same spread of grades, and not a packet beyond loopback.
#[test]
fn without_user_namespaces_the_demo_falls_back_to_loopback_and_sends_nothing_beyond_it() {
    if !which("unshare") {
        return skip::skip("no util-linux unshare to take user namespaces away");
    }
    let Some((_netns, inside, watcher, before)) = watched() else {
        return;
    };
    let dir = sandbox();
    let limit = "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$@\"";
    let wrapper = ["unshare", "-Ur", "sh", "-c", limit, "sh"];
    let output = within(&inside, &demo_after(dir.path(), &wrapper));
    let (stdout, stderr, levels) = graded(&output);
    eprintln!("{stdout}\n{stderr}");
    assert!(
        stderr.contains("refuses a private network namespace")
            && stderr.contains("run on this machine's loopback instead, on 127.0.0.1/::1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("on this machine's loopback (127.0.0.1/::1"),
        "{stderr}"
    );
    for level in ["BROKEN", "L0", "L3"] {
        assert!(
            levels.iter().any(|l| l == level),
            "no host at {level}:\n{stdout}"
        );
    }
    assert!(stdout.contains("auth_failed 1"), "{stdout}");
    let store = dir.path().join("data/sixfive/demo.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(store)).await.unwrap();
        let last = store.runs().await.unwrap().into_iter().max_by_key(|r| r.id);
        let levels = store.levels(last.unwrap().id).await.unwrap();
        assert!(levels.iter().any(|l| l.regressed), "{levels:?}");
        store.close().await;
    });
    let sent = received(&watcher) - before;
    assert_eq!(sent, 0, "the watcher received {sent} packets");
    let community = include_str!("../inventory/examples/danang/secrets/snmp-community").trim();
    assert!(!stdout.contains(community) && !stderr.contains(community));
}
