//! The inventory in the store: one idempotent import transaction, the stored entries and
//! the history of every addition, change and removal.

use super::*;
use serde_json::value::RawValue;

/// What kind of entry an inventory row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Agency,
    Host,
    Site,
}

text_enum!(Kind {
    Agency = "agency",
    Host = "host",
    Site = "site",
});

/// What one import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// None when the inventory matched the store and nothing was written.
    pub import_id: Option<i64>,
    /// The import the store is as of once this one is done: this one, or when nothing was
    /// written the newest before it, read under the same lock (None if none ever was).
    pub as_of: Option<i64>,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// One entry of an entity's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub import_id: i64,
    pub at: DateTime<Utc>,
    pub who: String,
    pub kind: Kind,
    pub key: String,
    pub change: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A stored entry with when it came and, if it left the inventory, when it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored<T> {
    #[serde(flatten)]
    pub entry: T,
    pub added_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    /// Hand edits (stage, owner, note) over what the inventory file says.
    pub annotations: BTreeMap<String, String>,
}

/// An inventory entry as the store keeps it: its key, its agency and its JSON form.
struct Entity {
    kind: Kind,
    key: String,
    agency: Option<String>,
    doc: Value,
}

fn entities(inventory: &Inventory) -> Result<Vec<Entity>, serde_json::Error> {
    let mut out = Vec::new();
    for agency in &inventory.agencies {
        out.push(Entity {
            kind: Kind::Agency,
            key: agency.id.clone(),
            agency: None,
            doc: serde_json::to_value(agency)?,
        });
    }
    for host in &inventory.hosts {
        out.push(Entity {
            kind: Kind::Host,
            key: host.fqdn.clone(),
            agency: Some(host.agency.clone()),
            doc: serde_json::to_value(host)?,
        });
    }
    for site in &inventory.sites {
        out.push(Entity {
            kind: Kind::Site,
            key: site.id.clone(),
            agency: Some(site.agency.clone()),
            doc: serde_json::to_value(site)?,
        });
    }
    // The loader refuses a key twice, but a library caller's inventory may hold one, and
    // PostgreSQL refuses one statement that upserts a row twice: the last entry wins.
    let mut seen = HashSet::new();
    let mut out: Vec<Entity> = out
        .into_iter()
        .rev()
        .filter(|entity| seen.insert((entity.kind, entity.key.clone())))
        .collect();
    out.reverse();
    Ok(out)
}

impl Store {
    /// Brings the stored inventory in line with `inventory` in one transaction: new entries
    /// are added, changed ones updated, missing ones marked removed (their history and
    /// results stay). Importing an unchanged inventory writes nothing.
    pub async fn import(
        &self,
        inventory: &Inventory,
        source: &str,
        who: &str,
    ) -> Result<ImportSummary, StoreError> {
        let wanted = entities(inventory).map_err(|e| StoreError::Corrupt {
            kind: "inventory entry",
            reason: e.to_string(),
        })?;
        let now = Utc::now();
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            if let Some(lock) = dialect.lock_inventory {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let rows = sqlx::query("SELECT kind, key, doc, removed_at FROM entities")
                .fetch_all(&mut *tx)
                .await?;
            let mut current: HashMap<(Kind, String), (Value, bool)> = HashMap::new();
            for row in rows {
                let kind = stored(&row.try_get::<String, _>("kind")?, "entity kind")?;
                let Json(doc): Json<Value> = row.try_get("doc")?;
                let removed = row.try_get::<Option<DateTime<Utc>>, _>("removed_at")?.is_some();
                current.insert((kind, row.try_get("key")?), (doc, removed));
            }

            let mut summary = ImportSummary::default();
            let mut pending: Vec<(&Entity, &'static str, Option<Value>)> = Vec::new();
            for entity in &wanted {
                match current.remove(&(entity.kind, entity.key.clone())) {
                    None => pending.push((entity, "added", None)),
                    Some((_, true)) => pending.push((entity, "added", None)),
                    Some((doc, false)) if doc != entity.doc => pending.push((entity, "changed", Some(doc))),
                    Some(_) => {}
                }
            }
            let gone: Vec<((Kind, String), Value)> = current
                .into_iter()
                .filter(|(_, (_, removed))| !removed)
                .map(|(id, (doc, _))| (id, doc))
                .collect();
            if pending.is_empty() && gone.is_empty() {
                summary.as_of = sqlx::query_scalar("SELECT MAX(id) FROM imports")
                    .fetch_one(&mut *tx)
                    .await?;
                tx.rollback().await?;
                return Ok(summary);
            }
            summary.added = pending.iter().filter(|p| p.1 == "added").count();
            summary.changed = pending.len() - summary.added;
            summary.removed = gone.len();

            let import_id: i64 = sqlx::query_scalar(
                "INSERT INTO imports (at, source, who, added, changed, removed)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(now)
            .bind(source)
            .bind(who)
            .bind(summary.added as i64)
            .bind(summary.changed as i64)
            .bind(summary.removed as i64)
            .fetch_one(&mut *tx)
            .await?;

            // Multi-row statements: one row per statement costs a round trip to the
            // database's worker each, which made a 10,000-host import take a second.
            for rows in pending.chunks(ROWS_PER_INSERT) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at, removed_at) ",
                );
                upsert.push_values(rows, |mut row, (entity, _, _)| {
                    row.push_bind(entity.kind.as_str())
                        .push_bind(&entity.key)
                        .push_bind(&entity.agency)
                        .push_bind(Json(&entity.doc))
                        .push_bind(now)
                        .push_bind(now)
                        .push("NULL");
                });
                upsert.push(
                    " ON CONFLICT (kind, key) DO UPDATE SET agency = excluded.agency, doc = excluded.doc,
                        updated_at = excluded.updated_at, removed_at = NULL,
                        added_at = CASE WHEN entities.removed_at IS NULL THEN entities.added_at
                                        ELSE excluded.added_at END",
                );
                upsert.build().persistent(false).execute(&mut *tx).await?;
            }
            let history = pending
                .iter()
                .map(|(entity, change, before)| (entity.kind, entity.key.as_str(), *change, before.as_ref(), Some(&entity.doc)))
                .chain(gone.iter().map(|((kind, key), doc)| (*kind, key.as_str(), "removed", Some(doc), None)))
                .collect::<Vec<_>>();
            for rows in history.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO entity_history (import_id, kind, key, change, before, after) ",
                );
                insert.push_values(rows, |mut row, (kind, key, change, before, after)| {
                    row.push_bind(import_id)
                        .push_bind(kind.as_str())
                        .push_bind(*key)
                        .push_bind(*change)
                        .push_bind(before.map(Json))
                        .push_bind(after.map(Json));
                });
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            for (entity, _, before) in &pending {
                // A hand edit stands until an import changes the same field in the file;
                // then the file's value wins (the audit log says so).
                let Some(before) = before else { continue };
                for field in EditField::IN_FILE {
                    let file_value = &entity.doc[field.as_str()];
                    if before[field.as_str()] == *file_value {
                        continue;
                    }
                    let dropped: Option<String> = sqlx::query_scalar(
                        "DELETE FROM annotations WHERE kind = $1 AND key = $2 AND field = $3
                         RETURNING value",
                    )
                    .bind(entity.kind.as_str())
                    .bind(&entity.key)
                    .bind(field.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                    if dropped.is_some() {
                        sqlx::query(
                            "INSERT INTO audit_log (at, who, kind, key, field, old_value, new_value)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(now)
                        .bind(format!("{who} (import #{import_id})"))
                        .bind(entity.kind.as_str())
                        .bind(&entity.key)
                        .bind(field.as_str())
                        .bind(dropped)
                        .bind(file_value.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
            for kind in [Kind::Agency, Kind::Host, Kind::Site] {
                let keys: Vec<&str> = gone.iter().filter(|((k, _), _)| *k == kind).map(|((_, key), _)| key.as_str()).collect();
                for chunk in keys.chunks(ROWS_PER_INSERT) {
                    let mut remove = sqlx::QueryBuilder::new("UPDATE entities SET removed_at = ");
                    remove.push_bind(now).push(" WHERE kind = ").push_bind(kind.as_str()).push(" AND key");
                    push_in!(remove, chunk);
                    remove.build().persistent(false).execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            summary.import_id = Some(import_id);
            summary.as_of = Some(import_id);
            Ok(summary)
        })
    }

    pub async fn agencies(&self, with_removed: bool) -> Result<Vec<Stored<Agency>>, StoreError> {
        self.stored(Kind::Agency, with_removed, None).await
    }

    pub async fn hosts(&self, with_removed: bool) -> Result<Vec<Stored<Host>>, StoreError> {
        self.stored(Kind::Host, with_removed, None).await
    }

    pub async fn sites(&self, with_removed: bool) -> Result<Vec<Stored<Site>>, StoreError> {
        self.stored(Kind::Site, with_removed, None).await
    }

    /// The newest import: the inventory as the store has it now (None before any).
    pub async fn latest_import(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            on_pool!(self, pool => sqlx::query_scalar("SELECT MAX(id) FROM imports")
            .fetch_one(pool)
            .await?),
        )
    }

    /// The inventory's host `fqdn` as the store has it now, unless removed.
    pub async fn host(&self, fqdn: &str) -> Result<Option<Stored<Host>>, StoreError> {
        Ok(self.stored(Kind::Host, false, Some(fqdn)).await?.pop())
    }

    /// The inventory's site `id` as the store has it now, unless removed.
    pub async fn site(&self, id: &str) -> Result<Option<Stored<Site>>, StoreError> {
        Ok(self.stored(Kind::Site, false, Some(id)).await?.pop())
    }

    /// The entries of `kind`, or the one named `key`.
    async fn stored<T: serde::de::DeserializeOwned>(
        &self,
        kind: Kind,
        with_removed: bool,
        key: Option<&str>,
    ) -> Result<Vec<Stored<T>>, StoreError> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "SELECT key, doc, added_at, removed_at FROM entities
                 WHERE kind = $1 AND ($2 OR removed_at IS NULL) AND ($3 IS NULL OR key = $3)
                 ORDER BY key",
            )
            .bind(kind.as_str())
            .bind(with_removed)
            .bind(key)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("key")?,
                    row.try_get::<Json<Box<RawValue>>, _>("doc")?.0,
                    row.try_get::<DateTime<Utc>, _>("added_at")?,
                    row.try_get::<Option<DateTime<Utc>>, _>("removed_at")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut annotations = self.annotations(kind, key).await?;
        rows.into_iter()
            .map(|(key, doc, added_at, removed_at)| {
                // Straight from the text, not through a Value: a big city has 100,000.
                let entry = serde_json::from_str(doc.get()).map_err(|e| StoreError::Corrupt {
                    kind: kind.as_str(),
                    reason: format!("{key}: {e}"),
                })?;
                Ok(Stored {
                    entry,
                    added_at,
                    removed_at,
                    annotations: annotations.remove(&key).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The hand edits of entries of `kind`, or of the one named `key`, by key.
    pub(super) async fn annotations(
        &self,
        kind: Kind,
        key: Option<&str>,
    ) -> Result<HashMap<String, BTreeMap<String, String>>, StoreError> {
        let notes = on_pool!(self, pool => sqlx::query(
            "SELECT key, field, value FROM annotations WHERE kind = $1 AND ($2 IS NULL OR key = $2)",
        )
        .bind(kind.as_str())
        .bind(key)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get::<String, _>("key")?, row.try_get::<String, _>("field")?, row.try_get::<String, _>("value")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut annotations: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        for (key, field, value) in notes {
            annotations.entry(key).or_default().insert(field, value);
        }
        Ok(annotations)
    }

    /// The changes imports made, oldest first; for one entry when `key` is given.
    pub async fn history(&self, key: Option<(Kind, &str)>) -> Result<Vec<Change>, StoreError> {
        let (kind, key) = key.map_or((None, None), |(k, key)| (Some(k.as_str()), Some(key)));
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT h.import_id, i.at, i.who, h.kind, h.key, h.change, h.before, h.after
             FROM entity_history h JOIN imports i ON i.id = h.import_id
             WHERE ($1 IS NULL OR h.kind = $1) AND ($2 IS NULL OR h.key = $2)
             ORDER BY h.id",
        )
        .bind(kind)
        .bind(key)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("import_id")?,
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("who")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("change")?,
            row.try_get::<Option<Json<Value>>, _>("before")?.map(|j| j.0),
            row.try_get::<Option<Json<Value>>, _>("after")?.map(|j| j.0),
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(import_id, at, who, kind, key, change, before, after)| {
                Ok(Change {
                    import_id,
                    at,
                    who,
                    kind: stored(&kind, "entity kind")?,
                    key,
                    change,
                    before,
                    after,
                })
            })
            .collect()
    }
}
