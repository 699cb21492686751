//! The example Da Nang inventory, built into the binary so `sixfive demo` runs without the
//! source tree: written out to a folder of the demo's own and loaded by the normal loader.

use std::path::Path;

/// Each file of `inventory/examples/danang` that the loader reads, with its path there.
macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../inventory/examples/danang/", $path)))),*]
    };
}

pub const FILES: &[(&str, &str)] = embedded![
    "scan.yaml",
    "agencies.yaml",
    "sites.yaml",
    "hosts/dict.yaml",
    "hosts/doet.yaml",
    "hosts/dof.yaml",
    "hosts/doh.yaml",
    "hosts/dolisa.yaml",
    "hosts/donre.yaml",
    "hosts/dotr.yaml",
    "hosts/dpi.yaml",
    "hosts/pc-haichau.yaml",
    "hosts/pc-hoavang.yaml",
    "hosts/pc.yaml",
    "secrets/snmp-community",
    "secrets/snmp-v3-auth",
    "secrets/snmp-v3-priv",
];

/// Writes the example inventory under `dir` (which must exist), as the source tree has it,
/// each file readable by its owner alone: the loader warns of secret files that are not.
pub fn write(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    for (path, text) in FILES {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?
            .write_all(text.as_bytes())?;
    }
    Ok(())
}

/// The example inventory as the loader reads it, for the demo's own tests.
#[cfg(test)]
pub fn inventory() -> sixfive_inventory::Inventory {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path()).unwrap();
    let profiles = [
        "cisco-cellular",
        "generic",
        "mikrotik",
        "peplink",
        "teltonika-rutm",
        "teltonika-rutx",
    ];
    let options = sixfive_inventory::LoadOptions {
        profiles: profiles.map(String::from).to_vec(),
        secrets: true,
    };
    sixfive_inventory::load(dir.path(), &options)
        .unwrap()
        .inventory
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_example_is_the_whole_city() {
        let inventory = super::inventory();
        assert_eq!(inventory.agencies.len(), 11);
        assert_eq!(inventory.hosts.len(), 69);
        assert_eq!(inventory.sites.len(), 18);
    }
}
