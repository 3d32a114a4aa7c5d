//! The embedded store: one SQLite file in the user's data directory that keeps what must
//! survive a restart — change counts per snapshot pair, Kinesis checkpoints per shard, the
//! cached copy of the shared acknowledgements (with those not shared yet) and serialized
//! detector state.
//!
//! The file runs in WAL mode with a busy timeout, so two watchband processes (a TUI and a
//! `scan`, say) can share it: readers never block the writer and a writer waits its turn
//! instead of failing with "database is locked".

use crate::interop::{AckItem, ack_time};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long a write waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every row is kept under the account and region it belongs to (`account`, `region` lead each
/// key), so a `dev` and a `prod` stream, volume or alarm of the same name never share a
/// checkpoint, a count or an acknowledgement. Version 1 of the file; [`migrate`] brings an
/// older one here.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS change_counts (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    first_snapshot  TEXT NOT NULL,
    second_snapshot TEXT NOT NULL,
    blocks          INTEGER NOT NULL,
    block_size      INTEGER NOT NULL,
    volume_size_gib INTEGER NOT NULL,
    PRIMARY KEY (account, region, first_snapshot, second_snapshot)
);
CREATE TABLE IF NOT EXISTS kinesis_checkpoints (
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    stream   TEXT NOT NULL,
    shard    TEXT NOT NULL,
    sequence TEXT NOT NULL,
    updated  TEXT NOT NULL,
    PRIMARY KEY (account, region, stream, shard)
);
-- The local copy of the shared acknowledgements table; `shared` is 0 for an acknowledgement
-- made while the table was unreachable.
CREATE TABLE IF NOT EXISTS shared_acknowledgements (
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    alarm_arn    TEXT NOT NULL,
    episode      TEXT NOT NULL,
    alarm_name   TEXT NOT NULL,
    who          TEXT NOT NULL,
    at           TEXT NOT NULL,
    note         TEXT,
    snooze_until TEXT,
    shared       INTEGER NOT NULL,
    PRIMARY KEY (account, region, alarm_arn, episode)
);
CREATE TABLE IF NOT EXISTS detector_state (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    key     TEXT NOT NULL,
    state   BLOB NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (account, region, key)
);
";

/// The file's layout version (`PRAGMA user_version`): 0 before rows carried their account and
/// region, 1 since.
const VERSION: i64 = 1;

/// Brings a version-0 file (rows keyed without account and region) to [`VERSION`], inside one
/// immediate transaction so two processes opening it at once migrate it once:
///
/// - checkpoints and acknowledgements keep their rows: their keys hold an ARN
///   (`arn:aws:kinesis:REGION:ACCOUNT:stream/...@created`, the alarm's ARN), which names the
///   account and region; a row whose key is not such an ARN is dropped (a stream read again
///   from its trim horizon, which is what a missing checkpoint means anyway);
/// - change counts and detector state are dropped: their keys (snapshot ids, a free key) do
///   not say which account they came from, and both are caches computed again on demand.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    let has = |table: &str, column: &str| -> rusqlite::Result<bool> {
        let n: i64 = tx.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
            params![table, column],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    };
    let old_checkpoints =
        has("kinesis_checkpoints", "stream")? && !has("kinesis_checkpoints", "account")?;
    let old_acks =
        has("shared_acknowledgements", "alarm_arn")? && !has("shared_acknowledgements", "account")?;
    for (table, old) in [
        (
            "change_counts",
            has("change_counts", "blocks")? && !has("change_counts", "account")?,
        ),
        ("kinesis_checkpoints", old_checkpoints),
        ("shared_acknowledgements", old_acks),
        (
            "detector_state",
            has("detector_state", "key")? && !has("detector_state", "account")?,
        ),
    ] {
        if old {
            tx.execute_batch(&format!("ALTER TABLE {table} RENAME TO v0_{table}"))?;
        }
    }
    tx.execute_batch(SCHEMA)?;
    if old_checkpoints {
        let rows: Vec<(String, String, String, String)> = {
            let mut st =
                tx.prepare("SELECT stream, shard, sequence, updated FROM v0_kinesis_checkpoints")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (stream, shard, sequence, updated) in rows {
            if let Some(scope) = Scope::of_arn(&stream) {
                tx.execute(
                    "INSERT OR REPLACE INTO kinesis_checkpoints
                     (account, region, stream, shard, sequence, updated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        scope.account,
                        scope.region,
                        stream,
                        shard,
                        sequence,
                        updated
                    ],
                )?;
            }
        }
    }
    if old_acks {
        let rows: Vec<(String, Vec<rusqlite::types::Value>)> = {
            let mut st = tx.prepare(
                "SELECT alarm_arn, episode, alarm_name, who, at, note, snooze_until, shared
                 FROM v0_shared_acknowledgements",
            )?;
            st.query_map([], |r| {
                let values = (1..8)
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((r.get(0)?, values))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        for (arn, v) in rows {
            if let Some(scope) = Scope::of_arn(&arn) {
                tx.execute(
                    "INSERT OR REPLACE INTO shared_acknowledgements
                     (account, region, alarm_arn, episode, alarm_name, who, at, note,
                      snooze_until, shared)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        scope.account,
                        scope.region,
                        arn,
                        v[0],
                        v[1],
                        v[2],
                        v[3],
                        v[4],
                        v[5],
                        v[6]
                    ],
                )?;
            }
        }
    }
    for table in [
        "change_counts",
        "kinesis_checkpoints",
        "shared_acknowledgements",
        "detector_state",
    ] {
        tx.execute_batch(&format!("DROP TABLE IF EXISTS v0_{table}"))?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    tx.commit()
}

/// The account and region a store's rows belong to: the caller identity's account and the
/// region the account is watched in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Scope {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The account and region an ARN names (`arn:PARTITION:SERVICE:REGION:ACCOUNT:...`);
    /// `None` for anything else or an ARN without both.
    pub fn of_arn(arn: &str) -> Option<Scope> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(_), Some(_), Some(region), Some(account), Some(_)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        (!region.is_empty() && !account.is_empty()).then(|| Scope::new(account, region))
    }

    /// The scope of the account a `Cloud` talks to: its caller identity's account and region.
    /// The demo is one simulated account in one region, known without a call, so its injected
    /// faults (`--faults expired`) never cost it its store.
    pub async fn of(cloud: &dyn crate::cloud::Cloud) -> crate::cloud::CloudResult<Scope> {
        if cloud.demo().is_some() {
            return Ok(Scope::new(
                crate::cloud::sim::world::ACCOUNT,
                crate::cloud::sim::world::REGION,
            ));
        }
        let id = cloud.caller_identity().await?;
        Ok(Scope::new(id.account, id.region))
    }
}

/// What went wrong with the store, naming the file when there is one.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory for the store {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {path}: {source} — remove or move the file if it is damaged")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// SQLite would take a zero-length file for a new, empty database: the checkpoints and
    /// caches would be silently gone, and a processor would re-read and re-announce
    /// everything. A truncated store is therefore an error, never a fresh start.
    #[error(
        "the store {path} is empty (0 bytes): its checkpoints are gone, and starting from it \
         would read every record again; to start afresh on purpose, delete the file \
         (rm '{path}')"
    )]
    Empty { path: PathBuf },
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The number of blocks that changed between two snapshots, and the units to read it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCount {
    pub blocks: u64,
    /// Bytes per block (524288 on AWS today).
    pub block_size: i32,
    pub volume_size_gib: i64,
}

impl ChangeCount {
    pub fn changed_bytes(&self) -> u64 {
        self.blocks * self.block_size.max(0) as u64
    }
}

/// The store. Cheap to share behind an `Arc`; calls are short and serialized on one connection.
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Whose rows this handle reads and writes; another scope's rows are invisible to it.
    scope: Scope,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("scope", &self.scope)
            .finish()
    }
}

impl Store {
    /// `watchband/watchband.db` in the user's data directory (`~/.local/share` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("watchband").join("watchband.db"))
    }

    /// Opens (creating if needed) the store file, its directory and its tables.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(StoreError::Empty { path });
        }
        let open = || -> rusqlite::Result<Connection> {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // WAL lets a second process read while this one writes; NORMAL sync is durable
            // across application crashes, which is all a cache and checkpoints need.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            migrate(&mut conn)?;
            Ok(conn)
        };
        let conn = open().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: Some(path),
            scope: Scope::default(),
        })
    }

    /// A private store that lives as long as the value (tests, the demo).
    pub fn in_memory() -> StoreResult<Store> {
        let mut conn = Connection::open_in_memory()?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: None,
            scope: Scope::default(),
        })
    }

    /// This handle, reading and writing the rows of `scope` only. A handle opened without
    /// one works in the empty scope (tests, a store no account was named for).
    pub fn scoped(mut self, scope: Scope) -> Store {
        self.scope = scope;
        self
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic), so a poisoned lock is still safe to use.
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        Ok(f(&conn)?)
    }

    // ------------------------------------------------------------ change counts

    /// The cached count for a snapshot pair; `first` is `None` for a volume's first snapshot.
    pub fn change_count(
        &self,
        first: Option<&str>,
        second: &str,
    ) -> StoreResult<Option<ChangeCount>> {
        self.with(|c| {
            c.query_row(
                "SELECT blocks, block_size, volume_size_gib FROM change_counts
                 WHERE account = ?1 AND region = ?2 AND first_snapshot = ?3
                 AND second_snapshot = ?4",
                params![
                    self.scope.account,
                    self.scope.region,
                    first.unwrap_or(""),
                    second
                ],
                |r| {
                    Ok(ChangeCount {
                        blocks: r.get::<_, i64>(0)? as u64,
                        block_size: r.get(1)?,
                        volume_size_gib: r.get(2)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn put_change_count(
        &self,
        first: Option<&str>,
        second: &str,
        count: &ChangeCount,
    ) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO change_counts
                 (account, region, first_snapshot, second_snapshot, blocks, block_size,
                  volume_size_gib)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    self.scope.account,
                    self.scope.region,
                    first.unwrap_or(""),
                    second,
                    count.blocks as i64,
                    count.block_size,
                    count.volume_size_gib
                ],
            )
            .map(|_| ())
        })
    }

    // ------------------------------------------------------------ Kinesis checkpoints

    /// The last sequence number processed on a shard.
    pub fn checkpoint(&self, stream: &str, shard: &str) -> StoreResult<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT sequence FROM kinesis_checkpoints
                 WHERE account = ?1 AND region = ?2 AND stream = ?3 AND shard = ?4",
                params![self.scope.account, self.scope.region, stream, shard],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn set_checkpoint(&self, stream: &str, shard: &str, sequence: &str) -> StoreResult<()> {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).to_rfc3339();
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO kinesis_checkpoints
                 (account, region, stream, shard, sequence, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    self.scope.account,
                    self.scope.region,
                    stream,
                    shard,
                    sequence,
                    now
                ],
            )
            .map(|_| ())
        })
    }

    /// Every checkpoint of a stream, by shard id.
    pub fn checkpoints(&self, stream: &str) -> StoreResult<Vec<(String, String)>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT shard, sequence FROM kinesis_checkpoints
                 WHERE account = ?1 AND region = ?2 AND stream = ?3 ORDER BY shard",
            )?;
            let rows = st.query_map(
                params![self.scope.account, self.scope.region, stream],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            rows.collect()
        })
    }

    // ------------------------------------------------------------ acknowledgements

    /// Caches an acknowledgement; `shared` says whether the shared table holds it.
    pub fn cache_ack(&self, ack: &AckItem, shared: bool) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO shared_acknowledgements
                 (account, region, alarm_arn, episode, alarm_name, who, at, note, snooze_until,
                  shared)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    self.scope.account,
                    self.scope.region,
                    ack.alarm_arn,
                    ack_time(ack.episode),
                    ack.alarm_name,
                    ack.who,
                    ack_time(ack.at),
                    ack.note,
                    ack.snooze_until.map(ack_time),
                    shared
                ],
            )
            .map(|_| ())
        })
    }

    /// The cached acknowledgement of one episode, and whether it is shared.
    pub fn cached_ack(
        &self,
        alarm_arn: &str,
        episode: crate::cloud::Time,
    ) -> StoreResult<Option<(AckItem, bool)>> {
        self.with(|c| {
            c.query_row(
                &format!("{ACK_COLUMNS} {IN_SCOPE} AND alarm_arn = ?3 AND episode = ?4"),
                params![
                    self.scope.account,
                    self.scope.region,
                    alarm_arn,
                    ack_time(episode)
                ],
                ack_from_row,
            )
            .optional()
        })
    }

    /// The newest cached acknowledgement of an alarm (its snooze outlives its episode).
    pub fn latest_cached_ack(&self, alarm_arn: &str) -> StoreResult<Option<(AckItem, bool)>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "{ACK_COLUMNS} {IN_SCOPE} AND alarm_arn = ?3 ORDER BY episode DESC LIMIT 1"
                ),
                params![self.scope.account, self.scope.region, alarm_arn],
                ack_from_row,
            )
            .optional()
        })
    }

    pub fn uncache_ack(&self, alarm_arn: &str, episode: crate::cloud::Time) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM shared_acknowledgements
                 WHERE account = ?1 AND region = ?2 AND alarm_arn = ?3 AND episode = ?4",
                params![
                    self.scope.account,
                    self.scope.region,
                    alarm_arn,
                    ack_time(episode)
                ],
            )
            .map(|_| ())
        })
    }

    /// Acknowledgements made while the table was unreachable, oldest first.
    pub fn unshared_acks(&self) -> StoreResult<Vec<AckItem>> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "{ACK_COLUMNS} {IN_SCOPE} AND shared = 0 ORDER BY at"
            ))?;
            let rows = st.query_map(params![self.scope.account, self.scope.region], |r| {
                ack_from_row(r).map(|(a, _)| a)
            })?;
            rows.collect()
        })
    }

    /// Every cached acknowledgement, oldest episode first, with whether it is shared.
    pub fn cached_acks(&self) -> StoreResult<Vec<(AckItem, bool)>> {
        self.with(|c| {
            let mut st = c.prepare(&format!("{ACK_COLUMNS} {IN_SCOPE} ORDER BY episode"))?;
            let rows =
                st.query_map(params![self.scope.account, self.scope.region], ack_from_row)?;
            rows.collect()
        })
    }

    // ------------------------------------------------------------ detector state

    pub fn put_detector_state(&self, key: &str, state: &[u8]) -> StoreResult<()> {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).to_rfc3339();
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO detector_state (account, region, key, state, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![self.scope.account, self.scope.region, key, state, now],
            )
            .map(|_| ())
        })
    }

    pub fn detector_state(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with(|c| {
            c.query_row(
                "SELECT state FROM detector_state WHERE account = ?1 AND region = ?2 AND key = ?3",
                params![self.scope.account, self.scope.region, key],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn delete_detector_state(&self, key: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "DELETE FROM detector_state WHERE account = ?1 AND region = ?2 AND key = ?3",
                params![self.scope.account, self.scope.region, key],
            )
            .map(|_| ())
        })
    }
}

fn parse_time(s: String, col: usize) -> rusqlite::Result<crate::cloud::Time> {
    chrono::DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
        })
}

const ACK_COLUMNS: &str = "SELECT alarm_arn, episode, alarm_name, who, at, note, snooze_until, \
     shared FROM shared_acknowledgements";
/// The handle's own rows (`?1` account, `?2` region).
const IN_SCOPE: &str = "WHERE account = ?1 AND region = ?2";

fn ack_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(AckItem, bool)> {
    Ok((
        AckItem {
            alarm_arn: r.get(0)?,
            episode: parse_time(r.get(1)?, 1)?,
            alarm_name: r.get(2)?,
            who: r.get(3)?,
            at: parse_time(r.get(4)?, 4)?,
            note: r.get(5)?,
            snooze_until: r
                .get::<_, Option<String>>(6)?
                .map(|t| parse_time(t, 6))
                .transpose()?,
        },
        r.get(7)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn change_counts_are_keyed_by_pair() {
        let s = Store::in_memory().unwrap();
        let c = ChangeCount {
            blocks: 42,
            block_size: 524288,
            volume_size_gib: 8,
        };
        s.put_change_count(Some("snap-1"), "snap-2", &c).unwrap();
        s.put_change_count(None, "snap-1", &ChangeCount { blocks: 7, ..c })
            .unwrap();
        assert_eq!(s.change_count(Some("snap-1"), "snap-2").unwrap(), Some(c));
        assert_eq!(s.change_count(None, "snap-1").unwrap().unwrap().blocks, 7);
        assert_eq!(s.change_count(Some("snap-2"), "snap-1").unwrap(), None);
        assert_eq!(c.changed_bytes(), 42 * 524288);
    }

    #[test]
    fn an_empty_or_damaged_store_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watchband.db");
        std::fs::write(&path, b"").unwrap();
        let Err(e) = Store::open(&path) else {
            panic!("a zero-length store was opened")
        };
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("delete the file"), "{text}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "the file was left alone"
        );
        std::fs::write(
            &path,
            b"not a database, just bytes of something else entirely",
        )
        .unwrap();
        let Err(e) = Store::open(&path) else {
            panic!("garbage was opened")
        };
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        // A new store is still created where there is none.
        let fresh = dir.path().join("new").join("watchband.db");
        Store::open(&fresh)
            .unwrap()
            .set_checkpoint("s", "0", "1")
            .unwrap();
        assert_eq!(
            Store::open(&fresh)
                .unwrap()
                .checkpoint("s", "0")
                .unwrap()
                .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn checkpoints_replace_per_shard() {
        let s = Store::in_memory().unwrap();
        s.set_checkpoint("st", "shardId-0", "10").unwrap();
        s.set_checkpoint("st", "shardId-0", "20").unwrap();
        s.set_checkpoint("st", "shardId-1", "5").unwrap();
        s.set_checkpoint("other", "shardId-0", "1").unwrap();
        assert_eq!(
            s.checkpoint("st", "shardId-0").unwrap().as_deref(),
            Some("20")
        );
        assert_eq!(s.checkpoint("st", "shardId-9").unwrap(), None);
        assert_eq!(
            s.checkpoints("st").unwrap(),
            vec![
                ("shardId-0".to_string(), "20".to_string()),
                ("shardId-1".to_string(), "5".to_string())
            ]
        );
    }

    #[test]
    fn acknowledgements_are_cached_per_episode_with_their_sharing() {
        let s = Store::in_memory().unwrap();
        let t = |h| chrono::Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        let ack = |h, note: &str| AckItem {
            alarm_arn: "arn:aws:cloudwatch:us-east-1:1:alarm:a".into(),
            alarm_name: "a".into(),
            episode: t(h),
            who: "arn:aws:iam::1:user/op".into(),
            at: t(h + 1),
            note: Some(note.into()),
            snooze_until: (h == 3).then(|| t(9)),
        };
        for h in [1, 3, 2] {
            s.cache_ack(&ack(h, &format!("n{h}")), h != 2).unwrap();
        }
        let arn = "arn:aws:cloudwatch:us-east-1:1:alarm:a";
        assert_eq!(
            s.cached_ack(arn, t(2)).unwrap(),
            Some((ack(2, "n2"), false))
        );
        assert_eq!(
            s.latest_cached_ack(arn).unwrap(),
            Some((ack(3, "n3"), true))
        );
        assert_eq!(s.unshared_acks().unwrap(), vec![ack(2, "n2")]);
        let all = s.cached_acks().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1], (ack(2, "n2"), false));
        s.uncache_ack(arn, t(3)).unwrap();
        assert!(s.cached_ack(arn, t(3)).unwrap().is_none());
        assert!(s.latest_cached_ack("other").unwrap().is_none());
    }

    #[test]
    fn detector_state_blobs() {
        let s = Store::in_memory().unwrap();
        s.put_detector_state("k", &[0, 1, 255]).unwrap();
        assert_eq!(s.detector_state("k").unwrap(), Some(vec![0, 1, 255]));
        s.delete_detector_state("k").unwrap();
        assert_eq!(s.detector_state("k").unwrap(), None);
    }

    #[test]
    fn two_handles_share_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("w.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        a.set_checkpoint("s", "0", "1").unwrap();
        assert_eq!(b.checkpoint("s", "0").unwrap().as_deref(), Some("1"));
        b.put_detector_state("x", b"y").unwrap();
        assert_eq!(a.detector_state("x").unwrap().as_deref(), Some(&b"y"[..]));
        let mode: String = a
            .with(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
        drop((a, b));
        // Reopening keeps the data.
        let c = Store::open(&path).unwrap();
        assert_eq!(c.checkpoint("s", "0").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn accounts_and_regions_never_share_a_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let dev = Store::open(&path)
            .unwrap()
            .scoped(Scope::new("111111111111", "eu-west-1"));
        let prod = Store::open(&path)
            .unwrap()
            .scoped(Scope::new("222222222222", "eu-west-1"));
        let prod_us = Store::open(&path)
            .unwrap()
            .scoped(Scope::new("222222222222", "us-east-1"));
        let count = |blocks| ChangeCount {
            blocks,
            block_size: 524288,
            volume_size_gib: 8,
        };
        dev.put_change_count(Some("snap-1"), "snap-2", &count(1))
            .unwrap();
        prod.put_change_count(Some("snap-1"), "snap-2", &count(2))
            .unwrap();
        assert_eq!(
            dev.change_count(Some("snap-1"), "snap-2").unwrap(),
            Some(count(1))
        );
        assert_eq!(
            prod.change_count(Some("snap-1"), "snap-2").unwrap(),
            Some(count(2))
        );
        assert_eq!(
            prod_us.change_count(Some("snap-1"), "snap-2").unwrap(),
            None
        );

        dev.set_checkpoint("temps", "shardId-0", "10").unwrap();
        prod_us.set_checkpoint("temps", "shardId-0", "99").unwrap();
        assert_eq!(
            dev.checkpoint("temps", "shardId-0").unwrap().as_deref(),
            Some("10")
        );
        assert_eq!(prod.checkpoint("temps", "shardId-0").unwrap(), None);
        assert_eq!(
            prod_us.checkpoints("temps").unwrap(),
            vec![("shardId-0".to_string(), "99".to_string())]
        );

        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap();
        let ack = AckItem {
            alarm_arn: "alarm-a".into(),
            alarm_name: "a".into(),
            episode: t,
            who: "arn:aws:iam::1:user/op".into(),
            at: t,
            note: None,
            snooze_until: None,
        };
        dev.cache_ack(&ack, false).unwrap();
        assert!(dev.cached_ack("alarm-a", t).unwrap().is_some());
        assert!(prod.cached_ack("alarm-a", t).unwrap().is_none());
        assert!(prod.latest_cached_ack("alarm-a").unwrap().is_none());
        assert!(prod.unshared_acks().unwrap().is_empty());
        assert!(prod.cached_acks().unwrap().is_empty());
        prod.uncache_ack("alarm-a", t).unwrap();
        assert_eq!(dev.unshared_acks().unwrap(), vec![ack]);

        dev.put_detector_state("volume", b"dev").unwrap();
        assert_eq!(prod.detector_state("volume").unwrap(), None);
        prod.delete_detector_state("volume").unwrap();
        assert_eq!(
            dev.detector_state("volume").unwrap().as_deref(),
            Some(&b"dev"[..])
        );
    }

    #[test]
    fn a_version_0_file_keeps_what_names_its_account_and_drops_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE change_counts (first_snapshot TEXT NOT NULL,
                   second_snapshot TEXT NOT NULL, blocks INTEGER NOT NULL,
                   block_size INTEGER NOT NULL, volume_size_gib INTEGER NOT NULL,
                   PRIMARY KEY (first_snapshot, second_snapshot));
                 CREATE TABLE kinesis_checkpoints (stream TEXT NOT NULL, shard TEXT NOT NULL,
                   sequence TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (stream, shard));
                 CREATE TABLE shared_acknowledgements (alarm_arn TEXT NOT NULL,
                   episode TEXT NOT NULL, alarm_name TEXT NOT NULL, who TEXT NOT NULL,
                   at TEXT NOT NULL, note TEXT, snooze_until TEXT, shared INTEGER NOT NULL,
                   PRIMARY KEY (alarm_arn, episode));
                 CREATE TABLE detector_state (key TEXT PRIMARY KEY, state BLOB NOT NULL,
                   updated TEXT NOT NULL);
                 INSERT INTO change_counts VALUES ('snap-1', 'snap-2', 5, 524288, 8);
                 INSERT INTO kinesis_checkpoints VALUES
                   ('arn:aws:kinesis:eu-west-1:111111111111:stream/t@2026-01-01T00:00:00.000Z',
                    'shardId-0', '42', 'x'),
                   ('plain-name', 'shardId-0', '7', 'x');
                 INSERT INTO shared_acknowledgements VALUES
                   ('arn:aws:cloudwatch:eu-west-1:111111111111:alarm:a',
                    '2026-01-01T01:00:00Z', 'a', 'op', '2026-01-01T01:05:00Z', 'n', NULL, 0);
                 INSERT INTO detector_state VALUES ('k', x'01', 'x');",
            )
            .unwrap();
        }
        let stream = "arn:aws:kinesis:eu-west-1:111111111111:stream/t@2026-01-01T00:00:00.000Z";
        let alarm = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:a";
        let s = Store::open(&path)
            .unwrap()
            .scoped(Scope::new("111111111111", "eu-west-1"));
        assert_eq!(
            s.checkpoint(stream, "shardId-0").unwrap().as_deref(),
            Some("42")
        );
        let (ack, shared) = s
            .unshared_acks()
            .unwrap()
            .pop()
            .map(|a| (a, false))
            .unwrap();
        assert_eq!(
            (ack.alarm_arn.as_str(), ack.note.as_deref(), shared),
            (alarm, Some("n"), false)
        );
        // Counted again on demand rather than guessed into an account.
        assert_eq!(s.change_count(Some("snap-1"), "snap-2").unwrap(), None);
        assert_eq!(s.detector_state("k").unwrap(), None);
        let unscoped = Store::open(&path).unwrap();
        assert_eq!(
            unscoped.checkpoint("plain-name", "shardId-0").unwrap(),
            None
        );
        // Another account sees none of it; reopening does not migrate twice.
        let other = Store::open(&path)
            .unwrap()
            .scoped(Scope::new("222222222222", "eu-west-1"));
        assert_eq!(other.checkpoint(stream, "shardId-0").unwrap(), None);
        let version: i64 = other
            .with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(version, VERSION);
    }

    #[tokio::test]
    async fn the_demo_s_scope_needs_no_call_even_when_every_call_fails() {
        let sim = crate::cloud::sim::SimCloud::new(crate::cloud::sim::SimOptions {
            faults: "expired".parse().unwrap(),
            ..Default::default()
        });
        // Inside the profile's window of expired credentials.
        sim.advance(std::time::Duration::from_secs(3 * 3600));
        assert!(
            crate::cloud::Cloud::caller_identity(sim.as_ref())
                .await
                .is_err(),
            "the fault profile fails GetCallerIdentity"
        );
        assert_eq!(
            Scope::of(sim.as_ref()).await.unwrap(),
            Scope::new("123456789012", "us-east-1")
        );
    }

    #[test]
    fn a_scope_is_read_from_an_arn() {
        assert_eq!(
            Scope::of_arn("arn:aws:kinesis:eu-west-1:111111111111:stream/t@x"),
            Some(Scope::new("111111111111", "eu-west-1"))
        );
        assert_eq!(Scope::of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(Scope::of_arn("temps"), None);
    }

    #[test]
    fn a_damaged_file_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("bad.db"), "{err}");
    }
}
