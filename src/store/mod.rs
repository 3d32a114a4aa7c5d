//! The embedded store: one SQLite file in the user's data directory that keeps what must
//! survive a restart — change counts per snapshot pair, Kinesis checkpoints per shard, alarm
//! acknowledgements and serialized detector state.
//!
//! The file runs in WAL mode with a busy timeout, so two watchband processes (a TUI and a
//! `scan`, say) can share it: readers never block the writer and a writer waits its turn
//! instead of failing with "database is locked".

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long a write waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS change_counts (
    first_snapshot  TEXT NOT NULL,
    second_snapshot TEXT NOT NULL,
    blocks          INTEGER NOT NULL,
    block_size      INTEGER NOT NULL,
    volume_size_gib INTEGER NOT NULL,
    PRIMARY KEY (first_snapshot, second_snapshot)
);
CREATE TABLE IF NOT EXISTS kinesis_checkpoints (
    stream   TEXT NOT NULL,
    shard    TEXT NOT NULL,
    sequence TEXT NOT NULL,
    updated  TEXT NOT NULL,
    PRIMARY KEY (stream, shard)
);
CREATE TABLE IF NOT EXISTS acknowledgements (
    alarm_name    TEXT NOT NULL,
    episode_start TEXT NOT NULL,
    who           TEXT NOT NULL,
    at            TEXT NOT NULL,
    note          TEXT NOT NULL,
    PRIMARY KEY (alarm_name, episode_start)
);
CREATE TABLE IF NOT EXISTS detector_state (
    key     TEXT PRIMARY KEY,
    state   BLOB NOT NULL,
    updated TEXT NOT NULL
);
";

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

/// An operator's acknowledgement of one alarm episode (an alarm that went into ALARM at
/// `episode_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub alarm_name: String,
    pub episode_start: crate::cloud::Time,
    pub who: String,
    pub at: crate::cloud::Time,
    pub note: String,
}

/// The store. Cheap to share behind an `Arc`; calls are short and serialized on one connection.
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
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
            let conn = Connection::open(&path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // WAL lets a second process read while this one writes; NORMAL sync is durable
            // across application crashes, which is all a cache and checkpoints need.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        };
        let conn = open().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: Some(path),
        })
    }

    /// A private store that lives as long as the value (tests, the demo).
    pub fn in_memory() -> StoreResult<Store> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: None,
        })
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
                 WHERE first_snapshot = ?1 AND second_snapshot = ?2",
                params![first.unwrap_or(""), second],
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
                 (first_snapshot, second_snapshot, blocks, block_size, volume_size_gib)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
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
                "SELECT sequence FROM kinesis_checkpoints WHERE stream = ?1 AND shard = ?2",
                params![stream, shard],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn set_checkpoint(&self, stream: &str, shard: &str, sequence: &str) -> StoreResult<()> {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).to_rfc3339();
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO kinesis_checkpoints (stream, shard, sequence, updated)
                 VALUES (?1, ?2, ?3, ?4)",
                params![stream, shard, sequence, now],
            )
            .map(|_| ())
        })
    }

    /// Every checkpoint of a stream, by shard id.
    pub fn checkpoints(&self, stream: &str) -> StoreResult<Vec<(String, String)>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT shard, sequence FROM kinesis_checkpoints WHERE stream = ?1 ORDER BY shard",
            )?;
            let rows = st.query_map(params![stream], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    // ------------------------------------------------------------ acknowledgements

    /// Records (or replaces) the acknowledgement of one alarm episode.
    pub fn acknowledge(&self, ack: &Acknowledgement) -> StoreResult<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO acknowledgements (alarm_name, episode_start, who, at, note)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    ack.alarm_name,
                    ack.episode_start.to_rfc3339(),
                    ack.who,
                    ack.at.to_rfc3339(),
                    ack.note
                ],
            )
            .map(|_| ())
        })
    }

    pub fn acknowledgement(
        &self,
        alarm_name: &str,
        episode_start: crate::cloud::Time,
    ) -> StoreResult<Option<Acknowledgement>> {
        self.with(|c| {
            c.query_row(
                "SELECT alarm_name, episode_start, who, at, note FROM acknowledgements
                 WHERE alarm_name = ?1 AND episode_start = ?2",
                params![alarm_name, episode_start.to_rfc3339()],
                ack_from_row,
            )
            .optional()
        })
    }

    /// Every acknowledgement of an alarm, newest episode first.
    pub fn acknowledgements(&self, alarm_name: &str) -> StoreResult<Vec<Acknowledgement>> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT alarm_name, episode_start, who, at, note FROM acknowledgements
                 WHERE alarm_name = ?1 ORDER BY episode_start DESC",
            )?;
            let rows = st.query_map(params![alarm_name], ack_from_row)?;
            rows.collect()
        })
    }

    // ------------------------------------------------------------ detector state

    pub fn put_detector_state(&self, key: &str, state: &[u8]) -> StoreResult<()> {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).to_rfc3339();
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO detector_state (key, state, updated) VALUES (?1, ?2, ?3)",
                params![key, state, now],
            )
            .map(|_| ())
        })
    }

    pub fn detector_state(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with(|c| {
            c.query_row(
                "SELECT state FROM detector_state WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
        })
    }

    pub fn delete_detector_state(&self, key: &str) -> StoreResult<()> {
        self.with(|c| {
            c.execute("DELETE FROM detector_state WHERE key = ?1", params![key])
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

fn ack_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Acknowledgement> {
    Ok(Acknowledgement {
        alarm_name: r.get(0)?,
        episode_start: parse_time(r.get(1)?, 1)?,
        who: r.get(2)?,
        at: parse_time(r.get(3)?, 3)?,
        note: r.get(4)?,
    })
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
    fn acknowledgements_round_trip_newest_first() {
        let s = Store::in_memory().unwrap();
        let t = |h| chrono::Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        for h in [1, 3, 2] {
            s.acknowledge(&Acknowledgement {
                alarm_name: "a".into(),
                episode_start: t(h),
                who: "op".into(),
                at: t(h + 1),
                note: format!("n{h}"),
            })
            .unwrap();
        }
        let all = s.acknowledgements("a").unwrap();
        assert_eq!(
            all.iter().map(|a| a.note.as_str()).collect::<Vec<_>>(),
            ["n3", "n2", "n1"]
        );
        assert_eq!(s.acknowledgement("a", t(2)).unwrap().unwrap().at, t(3));
        assert!(s.acknowledgement("a", t(9)).unwrap().is_none());
        assert!(s.acknowledgements("b").unwrap().is_empty());
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
    fn a_damaged_file_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("bad.db"), "{err}");
    }
}
