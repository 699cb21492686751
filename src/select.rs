//! What the selection options (`--agency`, `--tag`, `--host`, `--site`) pick from the
//! inventory. A name the inventory does not know is a usage error naming it, never an
//! empty selection that passes.

use sixfive_inventory::load::normalized_fqdn;
use sixfive_inventory::model::{Host, Site};

use crate::Failure;
use crate::cli::HostSelection;

/// The inventory's hosts that `select` names.
pub fn hosts(
    inventory: &sixfive_inventory::Inventory,
    select: &HostSelection,
) -> Result<Vec<Host>, Failure> {
    let HostSelection { agency, tag, host } = select;
    let agencies = inventory.agencies.iter().map(|a| a.id.as_str());
    let tags = inventory
        .hosts
        .iter()
        .flat_map(|h| h.tags.iter().map(String::as_str));
    let fqdns = inventory.hosts.iter().map(|h| h.fqdn.as_str());
    // Names compare as the loader keeps them: lower case, without the root dot.
    let host: Vec<String> = host.iter().map(|h| normalized_fqdn(h)).collect();
    known("agency", agency, agencies)?;
    known("tag", tag, tags)?;
    known("host", &host, fqdns)?;
    Ok(inventory
        .hosts
        .iter()
        .filter(|h| agency.is_empty() || agency.contains(&h.agency))
        .filter(|h| tag.is_empty() || h.tags.iter().any(|t| tag.contains(t)))
        .filter(|h| host.is_empty() || host.contains(&h.fqdn))
        .cloned()
        .collect())
}

/// The inventory's sites of `agency` (when given) among `ids` (when given).
pub fn sites(
    inventory: &sixfive_inventory::Inventory,
    agency: &[String],
    ids: &[String],
) -> Result<Vec<Site>, Failure> {
    known("site", ids, inventory.sites.iter().map(|s| s.id.as_str()))?;
    Ok(inventory
        .sites
        .iter()
        .filter(|s| agency.is_empty() || agency.contains(&s.agency))
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .cloned()
        .collect())
}

/// Fails naming each of `wanted` (given as `--option`) that is not among `names`, with
/// the closest known name as a hint.
pub fn known<'a>(
    option: &str,
    wanted: &[String],
    names: impl Iterator<Item = &'a str>,
) -> Result<(), Failure> {
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = names.collect();
    let problems: Vec<String> = wanted
        .iter()
        .filter(|w| !names.contains(&w.as_str()))
        .map(|w| {
            let hint = sixfive_inventory::did_you_mean(w, names.iter().copied())
                .map(|hint| format!(" ({hint})"))
                .unwrap_or_default();
            format!("--{option} {w}: the inventory has no such {option}{hint}")
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Usage(problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_is_named_with_the_closest_known_one() {
        let names = ["dict", "health", "education"];
        assert!(known("agency", &["dict".into()], names.into_iter()).is_ok());
        let Err(Failure::Usage(message)) = known(
            "agency",
            &["helth".into(), "nosuch".into()],
            names.into_iter(),
        ) else {
            panic!("unknown agencies are a usage error");
        };
        assert_eq!(
            message,
            "--agency helth: the inventory has no such agency (did you mean `health`?)\n\
             --agency nosuch: the inventory has no such agency"
        );
    }
}
