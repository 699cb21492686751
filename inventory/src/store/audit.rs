//! Hand edits of stage, owner and note over what the inventory file says, each with who,
//! when and the old and new value.

use super::*;

/// A field that people edit by hand, over the inventory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    Stage,
    Owner,
    Note,
}

impl EditField {
    /// The fields the inventory file also sets (a host's `stage` and `owner`); `note`
    /// lives only in the store.
    pub const IN_FILE: [EditField; 2] = [EditField::Stage, EditField::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            EditField::Stage => "stage",
            EditField::Owner => "owner",
            EditField::Note => "note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub kind: Kind,
    pub key: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

impl Store {
    /// Sets a hand-edited field (None clears it) and logs who changed what, together.
    pub async fn edit(
        &self,
        kind: Kind,
        key: &str,
        field: EditField,
        value: Option<&str>,
        who: &str,
    ) -> Result<(), StoreError> {
        if let (EditField::Stage, Some(stage)) = (field, value) {
            stage
                .parse::<crate::model::Stage>()
                .map_err(StoreError::BadEdit)?;
        }
        let now = Utc::now();
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            let present: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM entities WHERE kind = $1 AND key = $2 AND removed_at IS NULL",
            )
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            if present == 0 {
                return Err(StoreError::NotFound { kind: kind.as_str(), key: key.to_owned() });
            }
            let old: Option<String> = sqlx::query_scalar(
                "SELECT value FROM annotations WHERE kind = $1 AND key = $2 AND field = $3",
            )
            .bind(kind.as_str())
            .bind(key)
            .bind(field.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            match value {
                Some(value) => sqlx::query(
                    "INSERT INTO annotations (kind, key, field, value) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, key, field) DO UPDATE SET value = $4",
                )
                .bind(kind.as_str())
                .bind(key)
                .bind(field.as_str())
                .bind(value)
                .execute(&mut *tx)
                .await?,
                None => sqlx::query("DELETE FROM annotations WHERE kind = $1 AND key = $2 AND field = $3")
                    .bind(kind.as_str())
                    .bind(key)
                    .bind(field.as_str())
                    .execute(&mut *tx)
                    .await?,
            };
            sqlx::query(
                "INSERT INTO audit_log (at, who, kind, key, field, old_value, new_value)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(who)
            .bind(kind.as_str())
            .bind(key)
            .bind(field.as_str())
            .bind(old)
            .bind(value)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Hand edits, oldest first; for one entry when `key` is given.
    pub async fn audit_log(
        &self,
        key: Option<(Kind, &str)>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (kind, key) = key.map_or((None, None), |(k, key)| (Some(k.as_str()), Some(key)));
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT at, who, kind, key, field, old_value, new_value FROM audit_log
             WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR key = $2) ORDER BY id",
        )
        .bind(kind)
        .bind(key)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("who")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("field")?,
            row.try_get::<Option<String>, _>("old_value")?,
            row.try_get::<Option<String>, _>("new_value")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(at, who, kind, key, field, old_value, new_value)| {
                Ok(AuditEntry {
                    at,
                    who,
                    kind: stored(&kind, "entity kind")?,
                    key,
                    field,
                    old_value,
                    new_value,
                })
            })
            .collect()
    }
}
