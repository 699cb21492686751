//! The `sixfive` binary: reads the command line and wires the inventory, checks and store
//! together. Protocol and storage code live in the crates; this only connects them.

mod agent;
mod check;
mod cli;
mod demo;
mod inventory;
mod man;
mod report;
mod run;
mod scan;
mod select;
mod sites;
mod tui;
mod web;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::FromArgMatches;
use miette::Diagnostic;

use cli::{Cli, ColorChoice, Command};

/// A scan allocates small buffers on every thread at once (DNS messages, JSON, records);
/// glibc's allocator spent a quarter of a 10,000-host check's CPU on them. Without
/// transparent huge pages (`no_thp`), mimalloc's peak RSS stays near glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A failure with the exit code it earns (sysexits.h, as CI scripts expect). Each message
/// already says its cause, which is why causes are not listed again below it.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] sixfive_inventory::LoadError),
    #[error(transparent)]
    Store(#[from] sixfive_inventory::StoreError),
    #[error("the scanner cannot start: {0}")]
    Setup(#[from] sixfive_checks::network::SetupError),
    #[error("the scanner cannot start: {0}")]
    Scanner(String),
    #[error("cannot write the output: {}", sixfive_inventory::store::said(.0))]
    Output(#[from] std::io::Error),
    #[error("interrupted: the run is stored as incomplete")]
    Interrupted,
    /// Something the command needs is taken: another agent holds the SQLite store, another
    /// process the address to listen on.
    #[error("{0}")]
    Unavailable(String),
}

impl Failure {
    /// The exit code, or None when the command should end quietly with 0: the reader of
    /// stdout has gone (`| head -1`), so nobody wants the rest, as with any Unix tool.
    fn exit_code(&self) -> Option<u8> {
        use sixfive_inventory::LoadError;
        Some(match self {
            Failure::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return None,
            Failure::Usage(_) => 64,
            Failure::Inventory(LoadError::Invalid(_)) => 65,
            Failure::Inventory(LoadError::Read { .. } | LoadError::Empty(_)) => 66,
            Failure::Store(_) | Failure::Unavailable(_) => 69,
            Failure::Setup(_) | Failure::Scanner(_) => 3,
            Failure::Output(_) => 74,
            // 128 + SIGINT, as a shell reports a command ended by Ctrl-C.
            Failure::Interrupted => 130,
        })
    }
}

/// Whether to colour each stream: tables on stdout, messages and logs on stderr.
#[derive(Debug, Clone, Copy)]
struct Colors {
    stdout: bool,
    stderr: bool,
}

impl Colors {
    /// `--color always` and `never` decide; `auto` colours a terminal unless NO_COLOR is set.
    fn new(choice: ColorChoice) -> Self {
        let on = |terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Self {
            stdout: on(std::io::stdout().is_terminal()),
            stderr: on(std::io::stderr().is_terminal()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match cli::command()
        .try_get_matches()
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches))
    {
        Ok(cli) => cli,
        // Help and the version go to stdout, usage errors to stderr.
        Err(error) if error.use_stderr() => {
            let _ = error.format(&mut cli::command()).print();
            return ExitCode::from(64);
        }
        Err(help) => {
            style_reports(Colors::new(ColorChoice::Auto).stderr);
            return finish(help.print().map(|()| 0).map_err(Failure::Output));
        }
    };
    let colors = Colors::new(cli.global.color);
    // Log lines land on the UI's screen: the TUI (and the demo, which opens it on a
    // terminal) logs only when SIXFIVE_LOG asks, best with stderr sent elsewhere
    // (`2>tui.log`).
    let ui = matches!(cli.command, Command::Tui(_))
        || (matches!(cli.command, Command::Demo) && std::io::stdout().is_terminal());
    if !ui || std::env::var_os("SIXFIVE_LOG").is_some() {
        init_logging(&cli.global, colors.stderr);
    }
    style_reports(colors.stderr);
    // What is still buffered for stdout fails here, not unseen at exit.
    finish(run(cli, colors).and_then(|code| Ok(std::io::stdout().flush().map(|()| code)?)))
}

/// The exit code of a command's outcome, saying what failed on stderr.
fn finish(outcome: Result<u8, Failure>) -> ExitCode {
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => match failure.exit_code() {
            None => ExitCode::SUCCESS,
            Some(code) => {
                report(&failure);
                ExitCode::from(code)
            }
        },
    }
}

/// How problems look on stderr: in colour and with box-drawing characters when `color`,
/// wrapped only on a terminal, so that a log or CI output keeps one line per message.
fn style_reports(color: bool) {
    let wrap = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .wrap_lines(wrap)
                .terminal_links(false)
                .build(),
        )
    }));
}

/// Tells the user what went wrong on stderr: each problem of an invalid inventory under its
/// own header, with its snippet, then their count; any other failure as its message and hint.
/// A stderr that cannot be written to is let be: there is nowhere else to say it.
fn report(failure: &Failure) {
    let shown = |report: miette::Report| format!("{report:?}").trim_end().to_owned();
    let reports: Vec<String> = match failure {
        Failure::Inventory(sixfive_inventory::LoadError::Invalid(invalid)) => invalid
            .problems
            .iter()
            .map(|problem| shown(miette::Report::new(problem.clone())))
            .chain([shown(miette::Report::new(Message::of(invalid)))])
            .collect(),
        other => vec![shown(miette::Report::new(Message::of(other)))],
    };
    let _ = writeln!(std::io::stderr(), "{}", reports.join("\n\n"));
}

/// A failure's message and hint alone, without the causes its message already says.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
struct Message {
    text: String,
    help: Option<String>,
}

impl Message {
    fn of(diagnostic: &dyn Diagnostic) -> Self {
        Self {
            text: diagnostic.to_string(),
            help: diagnostic.help().map(|help| help.to_string()),
        }
    }
}

impl Diagnostic for Message {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn std::fmt::Display>)
    }
}

/// Runs the command; its exit code on success (0, or a `check` verdict).
fn run(cli: Cli, colors: Colors) -> Result<u8, Failure> {
    let color = colors.stdout;
    match cli.command {
        Command::Inventory(command) => inventory::run(command, &cli.global, color).map(|()| 0),
        Command::Check(args) => check::run(args, &cli.global, color),
        Command::Sites(args) => sites::run(args, &cli.global, color),
        Command::Scan(args) => scan::run(args, &cli.global),
        Command::Tui(args) => tui::run(args, &cli.global, color).map(|()| 0),
        Command::Report(args) => report::run(args, &cli.global).map(|()| 0),
        Command::Agent(args) => agent::run(args, &cli.global).map(|()| 0),
        Command::Demo => demo::run(&cli.global, color),
        Command::Schema { document } => {
            let name = format!("{document:?}").to_lowercase();
            let schema = sixfive_report::schema(&name).expect("every document has a schema");
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema).map_err(std::io::Error::from)?;
            writeln!(out)?;
            Ok(0)
        }
        Command::Completions { shell } => {
            // clap_complete panics when its writer fails; a buffer does not.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli::command(), "sixfive", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(0)
        }
        Command::Man => {
            man::write(&mut std::io::stdout().lock())?;
            Ok(0)
        }
    }
}

fn init_logging(global: &cli::Global, color: bool) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // async-snmp logs every timeout as an error; sixfive reports them as results, so its
    // own log shows from -vv on. The demo's name server (hickory-server) logs every query
    // at info, which would bury the demo's own lines at -v.
    let chatty = if global.verbose >= 2 { level } else { "off" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIXFIVE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{level},async_snmp={chatty},hickory_server={chatty}"
        ))
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match global.log_format {
        cli::LogFormat::Text => logs.with_ansi(color).init(),
        cli::LogFormat::Json => {
            logs.json().init();
            inventory::warnings_as_events();
        }
    }
}
