//! `sixfive inventory validate|import|list|edit|schema`.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use sixfive_checks::sites::profiles::{Profile, shipped, with_user_profiles};
use sixfive_inventory::store::{EditField, Kind, Stored};
use sixfive_inventory::{LoadOptions, Loaded, Store, StoreUrl};

use crate::Failure;
use crate::cli::{Global, InventoryCommand, ListFormat, ListWhat};
use sixfive_report::table::Table;

/// Runs an inventory command; `color` colours a table on stdout.
pub fn run(command: InventoryCommand, global: &Global, color: bool) -> Result<(), Failure> {
    match command {
        InventoryCommand::Validate { path } => {
            let path = inventory_path(path, global)?;
            let loaded = load(&path, &load_options(true, &profiles(global)?))?;
            let inv = &loaded.inventory;
            writeln!(
                std::io::stdout(),
                "{}: valid: {} agencies, {} hosts, {} sites from {} file{}",
                path.display(),
                inv.agencies.len(),
                inv.hosts.len(),
                inv.sites.len(),
                loaded.files.len(),
                if loaded.files.len() == 1 { "" } else { "s" }
            )?;
            Ok(())
        }
        InventoryCommand::Import { path } => {
            let path = inventory_path(path, global)?;
            let loaded = load(&path, &load_options(true, &profiles(global)?))?;
            block_on(async {
                let store = open_store(global).await?;
                let summary = store
                    .import(&loaded.inventory, &path.display().to_string(), &who())
                    .await?;
                store.close().await;
                let mut out = std::io::stdout();
                match summary.import_id {
                    Some(id) => writeln!(
                        out,
                        "import #{id}: {} added, {} changed, {} removed",
                        summary.added, summary.changed, summary.removed
                    )?,
                    None => writeln!(out, "import: the store already matches the inventory")?,
                }
                Ok(())
            })
        }
        InventoryCommand::List {
            what,
            format,
            agency,
            removed,
        } => block_on(async {
            let store = open_store(global).await?;
            let listing = list(&store, what, agency.as_deref(), removed).await;
            store.close().await;
            let (json, table) = listing?;
            let mut out = std::io::stdout().lock();
            match format {
                ListFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&json).expect("JSON values serialise")
                )?,
                ListFormat::Table => table.write(&mut out, color)?,
            }
            Ok(())
        }),
        InventoryCommand::Edit {
            target,
            stage,
            owner,
            note,
        } => block_on(async {
            let store = open_store(global).await?;
            let fields = [
                (EditField::Stage, stage),
                (EditField::Owner, owner),
                (EditField::Note, note),
            ];
            let edited = edit(&store, &target, fields).await;
            store.close().await;
            let mut out = std::io::stdout().lock();
            for line in edited? {
                writeln!(out, "{line}")?;
            }
            Ok(())
        }),
        InventoryCommand::Schema => {
            let schema = sixfive_inventory::schema::json_schema();
            writeln!(
                std::io::stdout(),
                "{}",
                serde_json::to_string_pretty(schema).expect("JSON values serialise")
            )?;
            Ok(())
        }
    }
}

pub fn inventory_path(given: Option<PathBuf>, global: &Global) -> Result<PathBuf, Failure> {
    given.or_else(|| global.inventory.clone()).ok_or_else(|| {
        Failure::Usage(
            "no inventory given: pass a path, --inventory PATH or set SIXFIVE_INVENTORY".into(),
        )
    })
}

/// The device profiles: shipped ones, and the user's from `--profiles`.
pub fn profiles(global: &Global) -> Result<Vec<Profile>, Failure> {
    match &global.profiles {
        Some(dir) => with_user_profiles(dir).map_err(|e| Failure::Usage(e.to_string())),
        None => Ok(shipped()),
    }
}

/// What the loader checks: the device profiles there are, and secrets when `secrets`.
pub fn load_options(secrets: bool, profiles: &[Profile]) -> LoadOptions {
    LoadOptions {
        profiles: profiles.iter().map(|p| p.name.clone()).collect(),
        secrets,
    }
}

/// Whether the inventory's warnings are log events (`--log-format json`: every line of
/// stderr one JSON object) rather than drawn with their snippet for a person to read.
static WARNINGS_AS_EVENTS: AtomicBool = AtomicBool::new(false);

/// Makes the inventory's warnings log events, for a log that machines read.
pub fn warnings_as_events() {
    WARNINGS_AS_EVENTS.store(true, Ordering::Relaxed);
}

/// Loads and validates; warnings go to stderr, the inventory's errors become the failure.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, Failure> {
    let loaded = sixfive_inventory::load(path, options)?;
    // Warnings follow -q like logs do.
    if WARNINGS_AS_EVENTS.load(Ordering::Relaxed) {
        for warning in &loaded.warnings {
            tracing::warn!(
                file = %warning.file().display(),
                line = warning.line,
                column = warning.column,
                hint = warning.hint.as_deref().unwrap_or_default(),
                "{}",
                warning.message
            );
        }
    } else if tracing::enabled!(tracing::Level::WARN) {
        let mut err = std::io::stderr().lock();
        for warning in &loaded.warnings {
            // A closed stderr is no reason to stop: eprintln! would panic.
            let _ = writeln!(err, "{:?}", miette::Report::new(warning.clone()));
        }
    }
    Ok(loaded)
}

pub async fn open_store(global: &Global) -> Result<Store, Failure> {
    let url = store_url(global)?;
    tracing::info!(store = %url, "opening the store");
    Ok(Store::open(&url).await?)
}

/// The store `--db` names, or the default one, whose folder is made if missing.
pub fn store_url(global: &Global) -> Result<StoreUrl, Failure> {
    Ok(match &global.db {
        Some(text) => text
            .parse::<StoreUrl>()
            .map_err(|e| Failure::Usage(e.to_string()))?,
        None => {
            let url = StoreUrl::default_sqlite().map_err(|e| Failure::Usage(e.to_string()))?;
            url.create_folder()?;
            url
        }
    })
}

pub fn block_on<T>(future: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Who made a change, for the store's history: $SIXFIVE_USER, the login name, else the
/// account sixfive runs as (cron and systemd services set no USER).
pub fn who() -> String {
    ["SIXFIVE_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| {
            let uid = nix::unistd::getuid();
            match nix::unistd::User::from_uid(uid) {
                Ok(Some(user)) => user.name,
                _ => format!("uid {uid}"),
            }
        })
}

/// Applies each given field's hand edit to the host or site `target`; says what it did.
async fn edit(
    store: &Store,
    target: &str,
    fields: [(EditField, Option<String>); 3],
) -> Result<Vec<String>, Failure> {
    let hosts = store.hosts(false).await?;
    let sites = store.sites(false).await?;
    let fqdn = sixfive_inventory::load::normalized_fqdn(target);
    let (kind, key) = if hosts.iter().any(|h| h.entry.fqdn == fqdn) {
        (Kind::Host, fqdn)
    } else if sites.iter().any(|s| s.entry.id == target) {
        (Kind::Site, target.to_owned())
    } else {
        let names = hosts.iter().map(|h| h.entry.fqdn.as_str());
        let names = names.chain(sites.iter().map(|s| s.entry.id.as_str()));
        let hint = sixfive_inventory::did_you_mean(target, names)
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
        return Err(Failure::Usage(format!(
            "{target}: the store has no such host or site{hint}"
        )));
    };
    let who = who();
    let mut done = Vec::new();
    for (field, value) in fields {
        let Some(value) = value else { continue };
        let value = Some(value.as_str()).filter(|v| !v.is_empty());
        store.edit(kind, &key, field, value, &who).await?;
        done.push(match value {
            Some(value) => format!("{} {key}: {} set to {value}", kind.as_str(), field.as_str()),
            None => format!("{} {key}: {} cleared", kind.as_str(), field.as_str()),
        });
    }
    Ok(done)
}

fn when<T>(stored: &Stored<T>) -> String {
    match stored.removed_at {
        Some(at) => format!("removed {}", at.format("%Y-%m-%d")),
        None => stored.added_at.format("%Y-%m-%d").to_string(),
    }
}

async fn list(
    store: &Store,
    what: ListWhat,
    agency: Option<&str>,
    removed: bool,
) -> Result<(serde_json::Value, Table), Failure> {
    if let Some(wanted) = agency {
        let agencies = store.agencies(true).await?;
        let ids = agencies.iter().map(|a| a.entry.id.as_str());
        crate::select::known("agency", &[wanted.to_owned()], ids)?;
    }
    let in_agency = |id: &str| agency.is_none_or(|wanted| wanted == id);
    Ok(match what {
        ListWhat::Hosts => {
            let hosts: Vec<_> = store
                .hosts(removed)
                .await?
                .into_iter()
                .filter(|h| in_agency(&h.entry.agency))
                .collect();
            let mut table = Table::new(["FQDN", "AGENCY", "STAGE", "SERVICES", "TARGET", "SINCE"]);
            for h in &hosts {
                let stage = h
                    .annotations
                    .get("stage")
                    .cloned()
                    .unwrap_or_else(|| h.entry.stage.as_str().into());
                let services: Vec<_> = h.entry.services.iter().map(ToString::to_string).collect();
                table.row([
                    h.entry.fqdn.clone(),
                    h.entry.agency.clone(),
                    stage,
                    services.join(","),
                    h.entry.target.map(|d| d.to_string()).unwrap_or_default(),
                    when(h),
                ]);
            }
            (
                json!({"schema": "sixfive.inventory/v1", "hosts": hosts}),
                table,
            )
        }
        ListWhat::Sites => {
            let sites: Vec<_> = store
                .sites(removed)
                .await?
                .into_iter()
                .filter(|s| in_agency(&s.entry.agency))
                .collect();
            let mut table = Table::new(["ID", "AGENCY", "WARD", "ADDRESS", "PROFILE", "SINCE"]);
            for s in &sites {
                let addresses: Vec<_> = s.entry.address.iter().map(ToString::to_string).collect();
                table.row([
                    s.entry.id.clone(),
                    s.entry.agency.clone(),
                    s.entry.ward.clone().unwrap_or_default(),
                    addresses.join(","),
                    s.entry.profile.clone(),
                    when(s),
                ]);
            }
            (
                json!({"schema": "sixfive.inventory/v1", "sites": sites}),
                table,
            )
        }
        ListWhat::Agencies => {
            let agencies: Vec<_> = store
                .agencies(removed)
                .await?
                .into_iter()
                .filter(|a| in_agency(&a.entry.id))
                .collect();
            let mut table = Table::new(["ID", "NAME", "TÊN", "TARGET"]);
            for a in &agencies {
                table.row([
                    a.entry.id.clone(),
                    a.entry.name.clone(),
                    a.entry.name_vi.clone().unwrap_or_default(),
                    a.entry.target.map(|d| d.to_string()).unwrap_or_default(),
                ]);
            }
            (
                json!({"schema": "sixfive.inventory/v1", "agencies": agencies}),
                table,
            )
        }
        ListWhat::Changes => {
            let changes: Vec<_> = store
                .history(None)
                .await?
                .into_iter()
                .filter(|c| match c.kind {
                    Kind::Agency => in_agency(&c.key),
                    Kind::Host | Kind::Site => {
                        let doc = c.after.as_ref().or(c.before.as_ref());
                        in_agency(doc.and_then(|d| d["agency"].as_str()).unwrap_or_default())
                    }
                })
                .collect();
            let mut table = Table::new(["IMPORT", "AT", "WHO", "KIND", "KEY", "CHANGE"]);
            for c in &changes {
                table.row([
                    format!("#{}", c.import_id),
                    c.at.format("%Y-%m-%d %H:%M").to_string(),
                    c.who.clone(),
                    c.kind.as_str().into(),
                    c.key.clone(),
                    c.change.clone(),
                ]);
            }
            (
                json!({"schema": "sixfive.inventory/v1", "changes": changes}),
                table,
            )
        }
        ListWhat::Audit => {
            let hosts = store.hosts(true).await?;
            let sites = store.sites(true).await?;
            let agency_of: HashMap<(Kind, &str), &str> = hosts
                .iter()
                .map(|h| ((Kind::Host, h.entry.fqdn.as_str()), h.entry.agency.as_str()))
                .chain(
                    sites
                        .iter()
                        .map(|s| ((Kind::Site, s.entry.id.as_str()), s.entry.agency.as_str())),
                )
                .collect();
            let edits: Vec<_> = store
                .audit_log(None)
                .await?
                .into_iter()
                .filter(|e| {
                    agency.is_none()
                        || agency_of
                            .get(&(e.kind, e.key.as_str()))
                            .is_some_and(|a| in_agency(a))
                })
                .collect();
            let mut table = Table::new(["AT", "WHO", "KIND", "KEY", "FIELD", "OLD", "NEW"]);
            for e in &edits {
                table.row([
                    e.at.format("%Y-%m-%d %H:%M").to_string(),
                    e.who.clone(),
                    e.kind.as_str().into(),
                    e.key.clone(),
                    e.field.clone(),
                    e.old_value.clone().unwrap_or_default(),
                    e.new_value.clone().unwrap_or_default(),
                ]);
            }
            (
                json!({"schema": "sixfive.inventory/v1", "audit": edits}),
                table,
            )
        }
    })
}
