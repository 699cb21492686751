//! Results kept on disk while the store is away: a batch an agent's run could not write
//! (the store unreachable, or too busy to take it) is kept in a file, and written into its
//! run when the store answers again, once, where it fits among the runs since. Only what
//! was under way when the store went away is kept: without the store an agent takes no
//! new work. Bounded: past `limit` bytes a batch is not kept, and the log says so (its
//! hosts' work items are not passed on, so they are scanned again).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sixfive_inventory::results::{CheckRecord, HostLevel, SiteSample};
use sixfive_inventory::run::RunId;
use sixfive_inventory::{Store, StoreError};

/// A `.part` file older than this is a write that will not finish.
const CUT_SHORT_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Spool {
    dir: PathBuf,
    limit: u64,
}

/// What a spool holds: batches waiting for the store, batches the store refused, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolStatus {
    pub waiting: usize,
    pub set_aside: usize,
    pub bytes: u64,
}

/// One batch as its run would have written it.
#[derive(Serialize, Deserialize)]
struct Batch {
    run: RunId,
    levels: Vec<HostLevel>,
    records: Vec<CheckRecord>,
    samples: Vec<SiteSample>,
}

impl Spool {
    pub fn new(dir: PathBuf, limit: u64) -> Self {
        Self { dir, limit }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The spool's files with their sizes, in one pass over its folder.
    fn listing(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                Some((entry.path(), entry.metadata().ok()?.len()))
            })
            .collect()
    }

    /// The spool's files with extension `kind` (`json` waiting, `refused` set aside,
    /// `part` being written or cut short), in the order kept.
    fn files(&self, kind: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = (self.listing().into_iter())
            .map(|(path, _)| path)
            .filter(|path| is(path, kind))
            .collect();
        files.sort();
        files
    }

    /// What the spool holds, for `/healthz`.
    pub fn status(&self) -> SpoolStatus {
        let listing = self.listing();
        let count = |kind| listing.iter().filter(|(path, _)| is(path, kind)).count();
        SpoolStatus {
            waiting: count("json"),
            set_aside: count("refused"),
            bytes: bytes(&listing),
        }
    }

    /// Bytes on disk, batches set aside and half-written included: all count against the
    /// bound.
    fn used(&self) -> u64 {
        bytes(&self.listing())
    }

    /// Removes batches whose writing was cut short (the agent killed mid-write): never
    /// kept, so their hosts are scanned again. Only old ones, as another duty may be writing.
    fn remove_cut_short(&self) {
        for file in self.files("part") {
            let old = std::fs::metadata(&file)
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > CUT_SHORT_AFTER);
            if old {
                tracing::info!(file = %file.display(), "removing a batch whose writing was cut short");
                let _ = std::fs::remove_file(&file);
            }
        }
    }

    /// Keeps a batch of run `run` that the store refused for being away; says why not
    /// when it cannot (the spool is full, the disk refuses).
    pub fn keep(
        &self,
        run: RunId,
        levels: &[HostLevel],
        records: &[CheckRecord],
        samples: &[SiteSample],
    ) -> Result<PathBuf, String> {
        let batch = Batch {
            run,
            levels: levels.to_vec(),
            records: records.to_vec(),
            samples: samples.to_vec(),
        };
        let text = serde_json::to_vec(&batch).map_err(|e| e.to_string())?;
        let used = self.used();
        if used + text.len() as u64 > self.limit {
            return Err(format!(
                "the spool {} is full ({used} of {} bytes)",
                self.dir.display(),
                self.limit
            ));
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        // Named to sort in the order kept; written whole, then renamed into place.
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let file = self.dir.join(format!("{at:024}-run{run}.json"));
        let partial = file.with_extension("part");
        if let Err(e) = write_durably(&partial, &text) {
            // A full disk leaves no half batch counted against the bound.
            let _ = std::fs::remove_file(&partial);
            return Err(e.to_string());
        }
        std::fs::rename(&partial, &file).map_err(|e| e.to_string())?;
        // The rename itself survives a power cut only once the folder is synced.
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| e.to_string())?;
        Ok(file)
    }

    /// Writes every kept batch, oldest first, into its run ([`Store::record_late`]: what
    /// the run holds already is left out, so a batch written before the agent stopped
    /// short of removing its file is not stored twice), then removes the file. Stops at
    /// the first error that says the store is away; a batch the store refuses for itself
    /// is set aside as `.refused`. One replay at a time, whichever duty or agent asks (a
    /// lock file in the spool): another finds it taken and leaves the batches to it.
    /// Returns how many were written.
    pub async fn replay(&self, store: &Store) -> Result<usize, StoreError> {
        if self.files("json").is_empty() && self.files("part").is_empty() {
            return Ok(0);
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".replaying"));
        let Ok(lock) = lock.inspect_err(|error| {
            tracing::warn!(spool = %self.dir.display(), %error, "the spool cannot be locked: its batches wait");
        }) else {
            return Ok(0);
        };
        if lock.try_lock().is_err() {
            return Ok(0);
        }
        self.remove_cut_short();
        let mut written = 0;
        for file in self.files("json") {
            let batch: Batch = match std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|text| serde_json::from_slice(&text).map_err(|e| e.to_string()))
            {
                Ok(batch) => batch,
                Err(why) => {
                    tracing::error!(file = %file.display(), %why, "a spooled batch does not read: set aside");
                    let _ = std::fs::rename(&file, file.with_extension("refused"));
                    continue;
                }
            };
            let written_late = store
                .record_late(batch.run, &batch.levels, &batch.records, &batch.samples)
                .await;
            match written_late {
                Ok(()) => {
                    written += 1;
                    let _ = std::fs::remove_file(&file);
                }
                Err(error) if error.is_unavailable() => return Err(error),
                Err(error) => {
                    tracing::error!(file = %file.display(), %error, "the store refused a spooled batch: set aside");
                    let _ = std::fs::rename(&file, file.with_extension("refused"));
                }
            }
        }
        Ok(written)
    }
}

/// Whether `path` is a spool file of `kind` (its extension).
fn is(path: &Path, kind: &str) -> bool {
    path.extension().is_some_and(|e| e == kind)
}

/// The bytes of the spool's batches in `listing`: waiting, set aside or half-written.
fn bytes(listing: &[(PathBuf, u64)]) -> u64 {
    (listing.iter())
        .filter(|(path, _)| {
            ["json", "refused", "part"]
                .iter()
                .any(|kind| is(path, kind))
        })
        .map(|(_, len)| len)
        .sum()
}

/// Writes `text` to `path` and waits for the disk to hold it.
fn write_durably(path: &Path, text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(text)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use sixfive_inventory::StoreUrl;
    use sixfive_inventory::model::Level;
    use sixfive_inventory::store::{RunKind, RunStatus};

    use super::*;

    #[tokio::test]
    async fn a_kept_batch_is_written_once_however_many_replays_run() {
        let dir = tempfile::tempdir().unwrap();
        let city = dir.path().join("city.yaml");
        std::fs::write(
            &city,
            "version: 1\nagencies: [{ id: lab, name: Lab }]\nhosts:\n  - { fqdn: a.lab.test, agency: lab }\n",
        )
        .unwrap();
        let options = sixfive_inventory::LoadOptions {
            profiles: Vec::new(),
            secrets: true,
        };
        let inventory = sixfive_inventory::load(&city, &options).unwrap().inventory;
        let store = Store::open(&StoreUrl::Sqlite(dir.path().join("s.db")))
            .await
            .unwrap();
        store.import(&inventory, "city.yaml", "test").await.unwrap();
        let spool = Spool::new(dir.path().join("spool"), 1 << 20);
        let level = HostLevel {
            host: "a.lab.test".into(),
            level: Level::L1,
            score: 50,
            internet_nl: None,
            inconclusive: false,
            regressed: false,
        };
        // The run the batch was made in, cut short while the store was away.
        let run = store.begin_run("agent@test", RunKind::Hosts).await.unwrap();
        store.finish_run(run, RunStatus::Incomplete).await.unwrap();
        spool
            .keep(run, std::slice::from_ref(&level), &[], &[])
            .unwrap();
        // Two duties of one agent replaying at once: one writes, the other leaves it.
        let (a, b) = tokio::join!(spool.replay(&store), spool.replay(&store));
        assert_eq!(a.unwrap() + b.unwrap(), 1);
        assert_eq!(spool.replay(&store).await.unwrap(), 0, "nothing is left");
        assert_eq!(store.levels(run).await.unwrap().len(), 1);
        // Kept again (the agent stopped before removing the file): stored once.
        spool.keep(run, &[level], &[], &[]).unwrap();
        assert_eq!(spool.replay(&store).await.unwrap(), 1);
        assert_eq!(store.levels(run).await.unwrap().len(), 1);
        assert_eq!(store.runs().await.unwrap().len(), 1, "no run of its own");
        // Over the bound, a batch is not kept, and says why.
        let small = Spool::new(dir.path().join("small"), 10);
        let refused = small.keep(8, &[], &[], &[]).unwrap_err();
        assert!(refused.contains("is full"), "{refused}");
    }

    #[tokio::test]
    async fn batches_cut_short_are_removed_and_everything_on_disk_counts_against_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreUrl::Sqlite(dir.path().join("s.db")))
            .await
            .unwrap();
        let spool = Spool::new(dir.path().join("spool"), 1 << 20);
        let kept = spool.keep(3, &[], &[], &[]).unwrap();
        // One batch the store refused, one write the agent was killed in, one under way.
        std::fs::rename(&kept, kept.with_extension("refused")).unwrap();
        let killed = spool.dir().join("1-run4.part");
        std::fs::write(&killed, vec![b'x'; 100]).unwrap();
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        (std::fs::File::options().write(true).open(&killed))
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let writing = spool.dir().join("2-run5.part");
        std::fs::write(&writing, vec![b'x'; 100]).unwrap();
        let before = spool.status();
        assert_eq!((before.waiting, before.set_aside), (0, 1));
        assert!(
            before.bytes > 200,
            "set aside and half-written count: {before:?}"
        );
        let bounded = Spool::new(spool.dir().to_path_buf(), before.bytes + 10);
        let full = bounded.keep(6, &[], &[], &[]).unwrap_err();
        assert!(full.contains("is full"), "{full}");

        assert_eq!(spool.replay(&store).await.unwrap(), 0);
        assert!(!killed.exists(), "a write cut short an hour ago is removed");
        assert!(writing.exists(), "a write under way is left to finish");
        assert_eq!(
            spool.status().set_aside,
            1,
            "a refused batch stays for a person"
        );
    }
}
