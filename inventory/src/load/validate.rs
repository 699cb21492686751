//! Checks that span entries and files: duplicates, references to agencies and profiles,
//! scope, exemptions and secrets. Each problem points at the field that causes it. A field
//! whose value was bad is not judged again: it holds a default or a stand-in.

use std::collections::HashMap;

use super::tree::Step;
use super::{Context, Item, LoadOptions, did_you_mean, open_to_others, read_secret};
use crate::model::{
    Agency, Endpoint, Grading, Host, Inventory, Level, Scan, Site, SnmpVersion, Stage,
    check_dns_name,
};

pub(super) fn check(
    cx: &mut Context,
    scan: Option<Item<Scan>>,
    agencies: Vec<Item<Agency>>,
    mut hosts: Vec<Item<Host>>,
    sites: Vec<Item<Site>>,
    options: &LoadOptions,
) -> Inventory {
    // A scope read without its bad prefix would put addresses out of it that are not.
    let scope_sound = scan.as_ref().is_none_or(|item| item.sound(&["scope"]));
    let scan = scan.map_or_else(Scan::default, |item| check_scan(cx, item.file, item.value));
    unique(cx, &agencies, "agency id", |a| a.id.clone(), "id");
    for host in &mut hosts {
        if !host.sound(&["fqdn"]) {
            continue;
        }
        if let Err(message) = check_dns_name(&host.value.fqdn) {
            let path = field_path(&host.path, "fqdn");
            cx.at_value(
                host.file,
                &path,
                message,
                Some("write the host's full DNS name".into()),
            );
        }
        host.value.fqdn = normalized_fqdn(&host.value.fqdn);
    }
    unique(cx, &hosts, "host", |h| h.fqdn.clone(), "fqdn");
    unique(cx, &sites, "site id", |s| s.id.clone(), "id");
    let agency_ids: Vec<&str> = agencies
        .iter()
        .filter(|a| a.sound(&["id"]))
        .map(|a| a.value.id.as_str())
        .collect();

    for agency in &agencies {
        let at = |field: &str| field_path(&agency.path, field);
        for (field, value) in [("id", &agency.value.id), ("name", &agency.value.name)] {
            if agency.sound(&[field]) {
                not_empty(cx, agency.file, &at(field), field, value);
            }
        }
    }

    for host in &hosts {
        let at = |field: &str| field_path(&host.path, field);
        if host.sound(&["agency"]) {
            known_agency(
                cx,
                host.file,
                &at("agency"),
                &host.value.agency,
                &agency_ids,
            );
        }
        if !(host.sound(&["stage"]) && host.sound(&["exempt_reason"])) {
            continue;
        }
        if host.value.stage != Stage::Exempt && !host.value.exempt_reason.is_empty() {
            cx.warn(
                host.file,
                &at("exempt_reason"),
                format!(
                    "host {} has an exempt_reason but is not exempt",
                    host.value.fqdn
                ),
                Some("set `stage: exempt`, or drop the reason".into()),
            );
        }
        if host.value.stage == Stage::Exempt && host.value.exempt_reason.trim().is_empty() {
            cx.at_value(
                host.file,
                &at("stage"),
                format!("host {} is exempt without a reason", host.value.fqdn),
                Some("add `exempt_reason:` saying why it stays IPv4-only and until when".into()),
            );
        }
    }

    let sites: Vec<Site> = sites
        .into_iter()
        .map(|site| check_site(cx, site, scope_sound.then_some(&scan), &agency_ids, options))
        .collect();

    Inventory {
        version: crate::model::FORMAT_VERSION,
        scan,
        agencies: agencies.into_iter().map(|a| a.value).collect(),
        hosts: hosts.into_iter().map(|h| h.value).collect(),
        sites,
    }
}

fn check_scan(cx: &mut Context, file: usize, mut scan: Scan) -> Scan {
    let at = |field: &str| vec![Step::Key("scan".into()), Step::Key(field.into())];
    if scan.require == Level::Broken {
        cx.at_value(
            file,
            &at("require"),
            "`require` must be a level from L0 to L5".into(),
            Some("CI and reports call a host ready at this level; L2 is the default".into()),
        );
    }
    for (field, value) in [
        ("concurrency", scan.concurrency),
        ("per_host", scan.per_host),
    ] {
        if value == 0 {
            cx.at_value(
                file,
                &at(field),
                format!("`{field}` must be at least 1"),
                None,
            );
        }
    }
    if let Some(ca_file) = &scan.ca_file {
        scan.ca_file = Some(resolve_path(cx.base_dir(file), ca_file));
    }
    check_grading(
        cx,
        file,
        &[Step::Key("scan".into()), Step::Key("grading".into())],
        &scan.grading,
    );
    scan
}

/// Bands must run downwards, loss shares lie between 0 and 1 and temperatures be Celsius.
fn check_grading(cx: &mut Context, file: usize, path: &[Step], grading: &Grading) {
    let at = |field: &str| field_path(path, field);
    for (field, band) in [
        ("rsrp_dbm", grading.rsrp_dbm),
        ("rsrq_db", grading.rsrq_db),
        ("sinr_db", grading.sinr_db),
    ] {
        if let Some(band) = band
            && !(band.excellent > band.good && band.good > band.fair)
        {
            cx.at_value(
                file,
                &at(field),
                format!(
                    "`{field}` bands must fall: excellent {} > good {} > fair {}",
                    band.excellent, band.good, band.fair
                ),
                Some("each is the lower bound of its band, as in `{ excellent: -80, good: -90, fair: -100 }`".into()),
            );
        }
    }
    for (field, share) in [
        ("loss_warn", grading.loss_warn),
        ("loss_critical", grading.loss_critical),
    ] {
        if let Some(share) = share
            && !(0.0..=1.0).contains(&share)
        {
            cx.at_value(
                file,
                &at(field),
                format!("`{field}` is a share of packets from 0 to 1, not {share}"),
                Some("0.02 means 2% loss".into()),
            );
        }
    }
    // Modems are rated to 75-85 °C; a figure outside 0-150 is a typo or Fahrenheit.
    if let Some(celsius) = grading.temperature_max_c
        && !(0.0..=150.0).contains(&celsius)
    {
        cx.at_value(
            file,
            &at("temperature_max_c"),
            format!("`temperature_max_c` is in °C from 0 to 150, not {celsius}"),
            Some("75 is the top of a Teltonika RUTX's rated range".into()),
        );
    }
}

/// Checks a site; `scan` is `None` when its scope has a bad prefix and cannot be judged by.
fn check_site(
    cx: &mut Context,
    item: Item<Site>,
    scan: Option<&Scan>,
    agency_ids: &[&str],
    options: &LoadOptions,
) -> Site {
    let Item {
        value: mut site,
        file,
        path,
        bad,
    } = item;
    let sound = |field: &[&str]| super::sound(&bad, field);
    let at = |field: &str| field_path(&path, field);
    for (field, value) in [("id", &site.id), ("name", &site.name)] {
        if sound(&[field]) {
            not_empty(cx, file, &at(field), field, value);
        }
    }
    if sound(&["agency"]) {
        known_agency(cx, file, &at("agency"), &site.agency, agency_ids);
    }
    if let Some(point) = site.location
        && !((-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon))
    {
        cx.at_value(
            file,
            &at("location"),
            format!(
                "site {} location {}, {} is not on Earth",
                site.id, point.lat, point.lon
            ),
            Some("latitude is -90 to 90, longitude -180 to 180 (Da Nang: 16.05, 108.2)".into()),
        );
    }
    if sound(&["profile"]) && !options.profiles.iter().any(|p| p == &site.profile) {
        let hint = did_you_mean(&site.profile, options.profiles.iter().map(String::as_str))
            .unwrap_or_else(|| format!("known profiles: {}", options.profiles.join(", ")));
        cx.at_value(
            file,
            &at("profile"),
            format!("unknown device profile `{}`", site.profile),
            Some(hint),
        );
    }
    let address_sound = sound(&["address"]);
    if address_sound && site.address.iter().next().is_none() {
        cx.at_value(
            file,
            &at("address"),
            format!("site {} has no address", site.id),
            Some("write the router's management address or name".into()),
        );
    }
    for endpoint in site.address.iter().filter(|_| address_sound) {
        match endpoint {
            Endpoint::Ip(ip) if scan.is_some_and(|scan| !scan.in_scope(*ip)) => cx.at_value(
                file,
                &at("address"),
                format!("site {} address {ip} is outside the scan scope", site.id),
                Some(
                    "sixfive never probes outside `scan.scope`: fix the address or widen the scope"
                        .into(),
                ),
            ),
            _ => {}
        }
    }

    check_grading(cx, file, &field_path(&path, "grading"), &site.grading);
    let snmp_path = field_path(&path, "snmp");
    let snmp_at = |field: &str| field_path(&snmp_path, field);
    let base = cx.base_dir(file).to_path_buf();
    for secret_file in site.snmp.secret_files_mut() {
        let written = secret_file.named().to_path_buf();
        let path = resolve_path(&base, &written);
        // Named from where the file that names it is, whether or not it exists here; the
        // loader makes that relative to the inventory's root once it knows the root.
        let named = if written.is_absolute() {
            written
        } else {
            super::lexical_absolute(&base.join(&written))
        };
        secret_file.place(named, path);
    }
    if !sound(&["snmp", "version"]) {
        // What the site needs depends on its version.
        return site;
    }
    let snmp = &site.snmp;
    let v3_fields = snmp.user.is_some() || snmp.auth.is_some() || snmp.privacy.is_some();
    let v2c_fields =
        snmp.community.is_some() || snmp.community_env.is_some() || snmp.community_file.is_some();
    let mismatch = match snmp.version {
        SnmpVersion::V2c if v3_fields => Some("SNMPv3 fields (user, auth, priv) on a v2c site"),
        SnmpVersion::V3 if v2c_fields => Some("a community on an SNMPv3 site"),
        _ => None,
    };
    if let Some(what) = mismatch {
        cx.warn(
            file,
            &snmp_path,
            format!("site {}: {what} are ignored", site.id),
            Some("remove them, or set `version:` to what the router speaks".into()),
        );
    }
    if site.snmp.version == SnmpVersion::V3 {
        if site.snmp.user.is_none() && sound(&["snmp", "user"]) {
            cx.at_value(
                file,
                &snmp_path,
                "SNMPv3 needs a `user`".into(),
                Some("add `user:`, and `auth:`/`priv:` with their passphrases".into()),
            );
        }
        if site.snmp.privacy.is_some() && site.snmp.auth.is_none() && sound(&["snmp", "auth"]) {
            cx.at_value(
                file,
                &snmp_at("priv"),
                "SNMPv3 privacy needs authentication".into(),
                Some("add `auth: sha256` and `auth_pass_env:`".into()),
            );
        }
    }
    for secret in site.snmp.secrets() {
        let name = secret.name;
        if [name, &format!("{name}_env"), &format!("{name}_file")]
            .iter()
            .any(|key| !sound(&["snmp", key]))
        {
            continue;
        }
        let key = if secret.env.is_some() {
            format!("{}_env", secret.name)
        } else if secret.file.is_some() {
            format!("{}_file", secret.name)
        } else {
            secret.name.to_owned()
        };
        if secret.literal.is_some() && secret.env.is_none() && secret.file.is_none() {
            cx.warn(
                file,
                &snmp_at(&key),
                format!("site {}: the {} is written in the inventory", site.id, secret.name),
                Some(format!(
                    "move it to an environment variable (`{0}_env`) or a file (`{0}_file`) kept out of git",
                    secret.name
                )),
            );
        }
        if let Some(var) = secret.env
            && !is_env_name(var)
        {
            cx.at_value(
                file,
                &snmp_at(&key),
                format!(
                    "site {}: `{}_env` is not an environment variable name",
                    site.id, secret.name
                ),
                Some("name the variable (letters, digits, `_`), not the secret itself".into()),
            );
            continue;
        }
        if !options.secrets {
            continue;
        }
        if let Some(path) = secret.file
            && cx.checked_secret_files.insert(path.to_path_buf())
            && let Some(mode) = open_to_others(path)
        {
            cx.warn(
                file,
                &snmp_at(&key),
                format!(
                    "the secret file {} is open to group or others (mode {mode:04o})",
                    path.display()
                ),
                Some(format!(
                    "`chmod 600 {}`, owned by the user sixfive runs as (systemd's \
                     `LoadCredential=` gives a service its own copy): a secret should be its \
                     owner's alone, as ssh asks of a private key",
                    path.display()
                )),
            );
        }
        if let Err(error) = read_secret(&secret) {
            // With no source given at all, this lands on `snmp:` itself.
            let path = snmp_at(&key);
            cx.at_value(
                file,
                &path,
                format!("site {}: {error}", site.id),
                Some(format!(
                    "set `{0}_env` to a variable that is set, or `{0}_file` to a readable file",
                    secret.name
                )),
            );
        }
    }
    site
}

fn known_agency(cx: &mut Context, file: usize, path: &[Step], agency: &str, known: &[&str]) {
    if known.contains(&agency) {
        return;
    }
    let hint = did_you_mean(agency, known.iter().copied())
        .unwrap_or_else(|| "declare it under `agencies:` first".into());
    cx.at_value(file, path, format!("unknown agency `{agency}`"), Some(hint));
}

/// Reports every entry whose key repeats an earlier one, pointing back at the first.
fn unique<T>(
    cx: &mut Context,
    items: &[Item<T>],
    what: &str,
    key: impl Fn(&T) -> String,
    field: &str,
) {
    let mut first: HashMap<String, &Item<T>> = HashMap::new();
    for item in items.iter().filter(|item| item.sound(&[field])) {
        let value = key(&item.value);
        match first.get(&value) {
            Some(earlier) => {
                let place = cx.place(earlier.file, &field_path(&earlier.path, field));
                cx.at_value(
                    item.file,
                    &field_path(&item.path, field),
                    format!("duplicate {what} `{value}`"),
                    Some(format!("first defined at {place}")),
                );
            }
            None => {
                first.insert(value, item);
            }
        }
    }
}

/// Host names are kept in lower case without the root's trailing dot, so they compare as
/// DNS does.
pub fn normalized_fqdn(fqdn: &str) -> String {
    fqdn.strip_suffix('.').unwrap_or(fqdn).to_ascii_lowercase()
}

/// A path from the inventory, relative to the file that names it, made canonical so the
/// same inventory read from another working directory stores the same paths.
fn resolve_path(base: &std::path::Path, path: &std::path::Path) -> std::path::PathBuf {
    let joined = base.join(path);
    std::fs::canonicalize(&joined).unwrap_or(joined)
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn not_empty(cx: &mut Context, file: usize, path: &[Step], field: &str, value: &str) {
    if value.trim().is_empty() {
        cx.at_value(file, path, format!("`{field}` is empty"), None);
    }
}

fn field_path(base: &[Step], field: &str) -> Vec<Step> {
    let mut path = base.to_vec();
    path.push(Step::Key(field.into()));
    path
}
