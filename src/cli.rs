//! The command line, as clap reads it. Global options come before or after the command.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sixfive",
    version,
    about = "IPv6 readiness and 5G site health for city networks",
    long_about = "sixfive scans a city's application hosts for IPv6 readiness and polls its 5G \
                  sites, keeping an inventory with history in a store (SQLite by default, \
                  PostgreSQL when agents share one).",
    after_help = "Exit codes: 0 ok; for `check` 1 a host below the required level, 2 a host \
                  BROKEN or regressed, 3 inconclusive (scanner or resolver trouble); for \
                  `sites` 1 a site at or past --fail-on, 3 the scanner cannot start; `scan` \
                  gives 2, then 3, then 1; 64 usage error; 65 invalid inventory; 66 inventory \
                  not found; 69 store unavailable; 74 output not written (a reader that closed \
                  the pipe ends the command with 0); 130 interrupted, the run stored incomplete."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Inventory file, or a folder of YAML files merged into one.
    #[arg(
        long,
        global = true,
        env = "SIXFIVE_INVENTORY",
        value_name = "PATH",
        hide_env_values = true
    )]
    pub inventory: Option<PathBuf>,
    /// Store: a SQLite path or sqlite://PATH, or postgres://user@host/db
    /// [default: $XDG_DATA_HOME/sixfive/sixfive.db]
    #[arg(
        long,
        global = true,
        env = "SIXFIVE_DB",
        value_name = "URL",
        hide_env_values = true
    )]
    pub db: Option<String>,
    /// A folder of device profiles (YAML) to use beside, or instead of, the shipped ones.
    #[arg(
        long,
        global = true,
        env = "SIXFIVE_PROFILES",
        value_name = "DIR",
        hide_env_values = true
    )]
    pub profiles: Option<PathBuf>,
    /// More log detail on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines as text, or as JSON objects (journald, Loki).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    pub log_format: LogFormat,
    /// Colour in messages and tables; NO_COLOR in the environment means never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// The command line as parsed, completed and documented. Commands that print something
/// fixed (completions, the man page, schemas) take the global options, which mean nothing
/// to them, without listing them in their help.
pub fn command() -> clap::Command {
    let command = Cli::command();
    // clap skips a global option a subcommand already has, so a hidden copy takes its place.
    let hidden: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .map(|arg| arg.clone().hide(true))
        .collect();
    let hide = |sub: clap::Command| sub.args(hidden.clone());
    // The demo builds its own city: --inventory means nothing to it.
    let inventory = hidden
        .iter()
        .find(|arg| arg.get_id() == "inventory")
        .cloned();
    command
        .mut_subcommand("demo", |demo| demo.args(inventory))
        .mut_subcommand("completions", hide)
        .mut_subcommand("man", hide)
        .mut_subcommand("schema", hide)
        .mut_subcommand("inventory", |inventory| {
            inventory.mut_subcommand("schema", hide)
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show sixfive on a demo city: no root, no packet beyond this machine.
    ///
    /// Builds the example Da Nang city (11 agencies, 69 hosts, 18 sites) in a private
    /// network namespace that sixfive enters itself (unprivileged user and network
    /// namespaces): name servers, web and mail servers and 5G routers with the faults real
    /// cities have, on ULA and 198.18.0.0/15 addresses; where the kernel refuses those
    /// namespaces, on this machine's loopback instead (127.64.0.0/15 and ::1, at ports of
    /// their own, the scan confined to loopback). It scans the city three times while
    /// the city fixes some faults (and breaks one host) between runs, then opens the
    /// terminal UI on the result; when stdout is not a terminal it prints the last run's
    /// check table and a summary instead. The store is
    /// $XDG_DATA_HOME/sixfive/demo.db, made afresh on every demo, or --db if given: a new
    /// SQLite file or one only the demo wrote (written to, never emptied; a store with
    /// anything else, or a PostgreSQL over TCP, is refused, as the demo's inventory would
    /// replace that store's; SIXFIVE_DB is not used, for the same reason). --inventory is
    /// not read: the demo city is built in.
    Demo,
    /// Check, import and list the inventory.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Scan the inventory's hosts for IPv6 readiness; the exit code tells CI the verdict.
    Check(CheckArgs),
    /// Poll the 5G sites' routers (SNMP, ICMP), grade them and store the samples.
    Sites(SitesArgs),
    /// Print the JSON Schema of a machine-readable output.
    Schema {
        #[arg(value_enum)]
        document: SchemaDocument,
    },
    /// Scan the hosts and poll the sites in one stored run; print a summary. --agency
    /// narrows both, --tag and --host the hosts, --site the sites.
    Scan(ScanArgs),
    /// Track the migration in a terminal UI over the store; it follows new runs live.
    Tui(TuiArgs),
    /// Write the migration's progress report for managers, from the store alone (it never
    /// scans): the share of hosts ready city-wide and per agency and its change, each
    /// agency's outlook against its target date, blockers by cause, the fixes that
    /// unblock the most, site health, the burn-up and every host.
    Report(ReportArgs),
    /// Run as a long-lived agent: check hosts and poll sites on the inventory's
    /// `scan.schedule`, store every run, and serve /metrics, /healthz and /readyz.
    ///
    /// Each run spreads its hosts or sites over its interval; a run that overruns delays
    /// the next of its kind. SIGHUP, or a change to the inventory's files, reloads the
    /// inventory (an invalid one is refused and the old one kept, with the reason in the
    /// log). SIGTERM or SIGINT stops within 10 s, the runs under way stored incomplete.
    /// One agent holds a SQLite store; a second is refused (exit 69).
    Agent(AgentArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Where /metrics, /healthz and /readyz are served.
    #[arg(long, value_name = "ADDR:PORT", default_value = "[::1]:9465")]
    pub listen: std::net::SocketAddr,
    /// Take only this zone's hosts and sites (their `zone` in the inventory); several
    /// agents of one zone on one PostgreSQL store share its work [default: every zone].
    #[arg(long, value_name = "ZONE")]
    pub zone: Option<String>,
    /// TLS and basic auth for the endpoint, in Prometheus exporter-toolkit's web config
    /// format (tls_server_config: cert_file, key_file; basic_auth_users: bcrypt hashes).
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config: Option<PathBuf>,
    /// Where results the store could not take (it was away) are kept until it answers,
    /// in a folder per store, at most 256 MiB [default: $STATE_DIRECTORY/spool under
    /// systemd, else $XDG_STATE_HOME/sixfive/spool, else ~/.local/state/sixfive/spool].
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// Also a /metrics series per host, check and family (sixfive_host_check): a big
    /// city's hosts make millions.
    #[arg(long)]
    pub metrics_per_check: bool,
    #[command(flatten)]
    pub pace: Pace,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// The level that counts as ready [default: the inventory's scan.require when
    /// --inventory is given, else L2].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub require: Option<sixfive_inventory::model::Level>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// The report's language: en or vi.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: sixfive_report::progress::Lang,
    /// Only this agency's hosts and sites.
    #[arg(long, value_name = "ID")]
    pub agency: Option<String>,
    /// Measure the change from this date (YYYY-MM-DD) [default: 30 days before --at or
    /// today].
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// The store as it stood at the end of this day (UTC, YYYY-MM-DD) [default: now].
    #[arg(long, value_name = "DATE")]
    pub at: Option<chrono::NaiveDate>,
    /// The level that counts as ready [default: the inventory's scan.require when
    /// --inventory is given, else L2].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub require: Option<sixfive_inventory::model::Level>,
    /// The file to write; - for stdout (not for xlsx).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page (inline CSS and SVG) that prints on A4.
    Html,
    /// A workbook: a sheet per section, real numbers and dates, a chart of the trend.
    Xlsx,
    /// Every figure a row: section, agency, item, label, measure, value.
    Csv,
    /// `sixfive.report/v1` (`sixfive schema report`).
    Json,
    /// Markdown tables, for a ticket or a wiki.
    Md,
}

fn parse_lang(text: &str) -> Result<sixfive_report::progress::Lang, String> {
    text.parse()
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Check the inventory and report every problem with its file, line and column.
    Validate {
        /// The inventory to check [default: --inventory].
        path: Option<PathBuf>,
    },
    /// Check the inventory and bring the store in line with it, keeping history.
    Import {
        /// The inventory to import [default: --inventory].
        path: Option<PathBuf>,
    },
    /// List what the store holds.
    List {
        /// What to list.
        #[arg(value_enum, default_value_t = ListWhat::Hosts)]
        what: ListWhat,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only this agency's hosts or sites.
        #[arg(long, value_name = "ID")]
        agency: Option<String>,
        /// Include entries removed from the inventory.
        #[arg(long)]
        removed: bool,
    },
    /// Print the inventory file's JSON Schema, for editors.
    Schema,
    /// Set a host's or a site's stage, owner or note by hand (an empty value clears it).
    /// The store logs who changed what (`inventory list audit`). An edit stands until the
    /// inventory file changes the same field; then the file's value wins.
    #[command(group(clap::ArgGroup::new("fields").required(true).multiple(true)))]
    Edit {
        /// A host's FQDN or a site's id, as imported.
        target: String,
        #[arg(long, group = "fields", value_parser = parse_stage)]
        stage: Option<String>,
        #[arg(long, group = "fields")]
        owner: Option<String>,
        #[arg(long, group = "fields")]
        note: Option<String>,
    },
}

/// A stage as the inventory writes it, or empty to clear the edit.
fn parse_stage(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    serde_json::from_value::<sixfive_inventory::model::Stage>(text.into())
        .map(|stage| stage.as_str().to_owned())
        .map_err(|_| {
            "a stage is one of planned, in-progress, dual-stack, ipv6-only, exempt".to_owned()
        })
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The level every selected host must reach [default: the inventory's scan.require, else L2].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub require: Option<sixfive_inventory::model::Level>,
    /// Output on stdout [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    #[command(flatten)]
    pub select: HostSelection,
    /// Only hosts added or changed since a date (YYYY-MM-DD, from the store's import
    /// history) or a git revision of the inventory (a commit, tag or branch).
    #[arg(long, value_name = "DATE|REV")]
    pub changed_since: Option<String>,
    #[command(flatten)]
    pub pace: Pace,
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    /// Output on stdout [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<SitesFormat>,
    /// Only this site (repeatable).
    #[arg(long, value_name = "ID")]
    pub site: Vec<String>,
    /// ICMP echo requests per address family and site; 0 leaves ICMP out.
    #[arg(long, value_name = "N", default_value_t = sixfive_checks::sites::poller::PINGS)]
    pub pings: u32,
    /// Exit 1 when some site is in this state or worse (auth_failed and unreachable are
    /// worse than critical).
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub pace: Pace,
}

/// How fast a run may probe, over the inventory's `scan` settings for this run only.
#[derive(Debug, Args)]
pub struct Pace {
    /// Probes per second in total, like 2000/s [default: the inventory's scan.rate, else 500/s].
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<sixfive_inventory::model::Rate>,
    /// Probes in flight in total [default: the inventory's scan.concurrency, else 256].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
}

impl Pace {
    /// The inventory's scan settings with these overrides.
    pub fn apply(&self, scan: &mut sixfive_inventory::model::Scan) {
        if let Some(rate) = self.rate {
            scan.rate = rate;
        }
        if let Some(concurrency) = self.concurrency {
            scan.concurrency = concurrency;
        }
    }
}

/// A rate as the inventory writes it (`2000/s`), or a bare number of probes per second.
fn parse_rate(text: &str) -> Result<sixfive_inventory::model::Rate, String> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        format!("{text}/s").parse()
    } else {
        text.parse()
    }
}

/// Which hosts a command takes; each option narrows, repeatable, none for all.
#[derive(Debug, Args)]
pub struct HostSelection {
    /// Only hosts of this agency (repeatable).
    #[arg(long, value_name = "ID")]
    pub agency: Vec<String>,
    /// Only hosts with this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Only this host (repeatable).
    #[arg(long, value_name = "FQDN")]
    pub host: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The level every selected host must reach [default: the inventory's scan.require, else L2].
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub require: Option<sixfive_inventory::model::Level>,
    /// Exit 1 when some site is in this state or worse.
    #[arg(long, value_enum, default_value_t = FailOn::Critical)]
    pub fail_on: FailOn,
    /// Summary on stdout [default: table on a terminal, else json (`sixfive.scan/v1`)].
    #[arg(long, value_enum)]
    pub format: Option<SitesFormat>,
    // --agency selects that agency's sites too; --tag and --host narrow the hosts only.
    #[command(flatten)]
    pub select: HostSelection,
    /// Only this site (repeatable; narrows the sites only).
    #[arg(long, value_name = "ID")]
    pub site: Vec<String>,
    /// ICMP echo requests per address family and site; 0 leaves ICMP out.
    #[arg(long, value_name = "N", default_value_t = sixfive_checks::sites::poller::PINGS)]
    pub pings: u32,
    #[command(flatten)]
    pub pace: Pace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaDocument {
    /// `sixfive.check/v1`
    Check,
    /// `sixfive.sites/v1`
    Sites,
    /// `sixfive.scan/v1`
    Scan,
    /// `sixfive.report/v1`
    Report,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Degraded,
    Critical,
    /// Also auth_failed.
    Unreachable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SitesFormat {
    Table,
    /// `sixfive.sites/v1`: one document with every site.
    Json,
}

fn parse_level(text: &str) -> Result<sixfive_inventory::model::Level, String> {
    match text.parse()? {
        sixfive_inventory::model::Level::Broken => Err("require a level from L0 to L5".into()),
        level => Ok(level),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
    Junit,
    /// SARIF 2.1.0: each finding points at the host's line in the inventory.
    Sarif,
    /// GitHub Actions annotations (`::error file=…,line=…::…`), one line per finding.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Hosts,
    Sites,
    Agencies,
    /// What each import added, changed and removed.
    Changes,
    /// Who edited a stage, owner or note by hand, when, and the old and new value.
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}
