//! `sixfive man`: one page, sixfive(1), that describes every command itself. It names no
//! sixfive-inventory(1) or other page, since only this one is ever written.

use std::io::{self, Write};

use roff::{Roff, bold, roman};

/// Writes the page as roff into `out`.
pub fn write(out: &mut impl Write) -> io::Result<()> {
    let mut command = crate::cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let mut page = Roff::new();
    page.control("SH", ["COMMANDS"]);
    commands(&mut page, &command);
    if let Some(exit_codes) = command.get_after_help() {
        page.control("SH", ["EXIT STATUS"]);
        page.text([roman(exit_codes.to_string())]);
    }
    page.to_writer(out)?;
    man.render_version_section(out)
}

/// Each command under `parent` (recursively) with its usage, what it does and its own
/// arguments; the global ones are in OPTIONS.
fn commands(page: &mut Roff, parent: &clap::Command) {
    let mut children: Vec<_> = parent
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .collect();
    children.sort_by_key(|c| c.get_display_order());
    for command in children {
        if command.has_subcommands() {
            commands(page, command);
            continue;
        }
        let usage = command.clone().render_usage().to_string();
        let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
        page.control("TP", []);
        page.text([bold(usage)]);
        let about = command.get_long_about().or_else(|| command.get_about());
        if let Some(about) = about {
            page.text([roman(about.to_string())]);
        }
        let own: Vec<_> = command
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set() && a.get_id() != "help")
            .collect();
        if own.is_empty() {
            continue;
        }
        page.control("RS", []);
        for arg in own {
            page.control("TP", []);
            page.text([bold(shown(arg))]);
            if let Some(help) = arg.get_help() {
                page.text([roman(help.to_string())]);
            }
        }
        page.control("RE", []);
    }
}

/// An argument as a user writes it: `--format <table|json>`, `--removed`, `<PATH>`, with
/// its default.
fn shown(arg: &clap::Arg) -> String {
    let choices: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    let value = if choices.is_empty() {
        arg.get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string)
    } else {
        choices.join("|")
    };
    let mut text = match (arg.get_short(), arg.get_long()) {
        (None, None) => format!("<{value}>"),
        (short, long) => {
            let names: Vec<String> = short
                .map(|s| format!("-{s}"))
                .into_iter()
                .chain(long.map(|l| format!("--{l}")))
                .collect();
            let mut text = names.join(", ");
            if arg.get_action().takes_values() {
                text.push_str(&format!(" <{value}>"));
            }
            text
        }
    };
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    // A flag's default (false) says nothing.
    if arg.get_action().takes_values() && !defaults.is_empty() {
        text.push_str(&format!(" [default: {}]", defaults.join(",")));
    }
    text
}
