//! The watch store: one SQLite file that keeps what a watcher saw. All the
//! crate's SQL is here.
//!
//! Tables (schema version [`SCHEMA_VERSION`], in `schema_version`):
//! - `users`: the watched user ids, and when each was added.
//! - `spaces`: one row per Space seen: its creator, its lifecycle phase and
//!   scheduled start (what the watcher resumes from), when it was first and
//!   last seen, who answered and when, and the latest normalized Space as
//!   JSON (`NULL` once it is gone: X's policy is not to keep content that
//!   is no longer available).
//! - `events`: every lifecycle event, `seq` increasing with each commit
//!   (`AUTOINCREMENT`: never reused, even after a delete), with its type,
//!   Space, user, the time it was observed, and the Space as JSON (none for
//!   `gone`).
//! - `samples`: every poll that saw a live Space: time, participants,
//!   subscribers, speakers.
//!
//! Each poll's changes go in one transaction ([`Store::commit`]): a
//! watcher killed at any moment leaves either all of a poll or none of it.
//! The file is in WAL mode, so `spaces events --follow` and exports read it
//! while a watcher writes.
//!
//! # What is kept of a gone Space
//!
//! X's policy is not to keep content that is no longer available. When a
//! Space is found gone, its row loses its content (`space`) at once and its
//! `gone` event carries none; what stays is its id, its creator's user id
//! (a user the store watches), the phase `gone`, when it was first and last
//! seen, who answered last and when, and the type and time of each of its
//! events. Its earlier events still carry the Space as it was then, and its
//! samples stay, until [`Store::forget_gone`] drops them (and its scheduled
//! start): run it (`spaces forget-gone`) after each watch, or on a
//! schedule. Deleted content is overwritten with zeros in the file
//! (`PRAGMA secure_delete`), not left in its free pages.
//!
//! # Reading
//!
//! [`Store::open_existing`] opens a store to read it (it never creates one);
//! [`Store::event_rows`], [`Store::space_rows`] and [`Store::sample_rows`]
//! read each table a page at a time; [`export`](super::export) writes them
//! as flat columns.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::lifecycle::{EventKind, Known, Phase};
use crate::model::{Provider, Space};

/// The schema this version of the crate writes; a store of a newer one is
/// refused rather than misread.
pub const SCHEMA_VERSION: u32 = 1;

/// The migrations, in order: `MIGRATIONS[n]` takes a store from version `n` to `n + 1`.
const MIGRATIONS: [&str; 1] = ["
    CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        added_at TEXT NOT NULL
    );
    CREATE TABLE spaces (
        space_id TEXT PRIMARY KEY,
        user_id TEXT,
        phase TEXT NOT NULL,
        scheduled_start TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        provider TEXT NOT NULL,
        retrieved_at TEXT NOT NULL,
        space TEXT
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        space_id TEXT NOT NULL,
        user_id TEXT,
        at TEXT NOT NULL,
        space TEXT
    );
    CREATE INDEX events_by_space ON events (space_id, seq);
    CREATE TABLE samples (
        space_id TEXT NOT NULL,
        at TEXT NOT NULL,
        participant_count INTEGER,
        subscriber_count INTEGER,
        speakers INTEGER
    );
    CREATE INDEX samples_by_space ON samples (space_id, at);
"];

/// What can go wrong with a store; each names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused (a file that is not a database, a full disk, ...).
    #[error("store {}: {detail}", .path.display())]
    Sqlite {
        /// The store's file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The file was written by a newer version of `spaces`.
    #[error(
        "store {}: written by a newer spaces (schema {found}; this one reads up to {supported}); upgrade spaces or use another --store",
        .path.display()
    )]
    NewerSchema {
        /// The store's file.
        path: PathBuf,
        /// The schema version in the file.
        found: u32,
        /// The newest this crate reads.
        supported: u32,
    },
    /// Another watcher holds the store.
    #[error("store {}: another watcher is using it (it holds {}); stop it first", .path.display(), .lock.display())]
    Locked {
        /// The store's file.
        path: PathBuf,
        /// The lock file the other watcher holds.
        lock: PathBuf,
    },
    /// There is no store at the path (a reader never creates one).
    #[error("store {}: no such file; run `spaces watch --store {}` first", .path.display(), .path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
}

/// A watched Space as the store knows it: whose, and where in its lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracked {
    /// The creator's user id, when known.
    pub user_id: Option<String>,
    /// Its phase and scheduled start.
    pub known: Known,
}

/// One lifecycle event, as committed and printed.
///
/// Serialized (NDJSON, one per line) as
/// `{"seq", "type", "space_id", "user_id", "at", "space"}`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Its place in the store's event log: increasing, never reused.
    pub seq: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The Space.
    pub space_id: String,
    /// Its creator, when known.
    pub user_id: Option<String>,
    /// When the watcher observed it (a transition that happened while no
    /// watcher ran is observed at the first poll after).
    pub at: DateTime<Utc>,
    /// The Space as then known (`None` for `gone`).
    pub space: Option<Space>,
}

/// What the watcher's lock file adds to the store's name.
const LOCK_SUFFIX: &str = ".lock";

/// `path` with `suffix` added to its file name (`spaces.db` → `spaces.db-wal`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// One sample of a live Space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The Space.
    pub space_id: String,
    /// When it was seen.
    pub at: DateTime<Utc>,
    /// Its participant count, as the provider said.
    pub participant_count: Option<u64>,
    /// Its subscriber count.
    pub subscriber_count: Option<u64>,
    /// How many speakers it had (its speaker ids).
    pub speakers: Option<u64>,
}

impl Sample {
    /// What `space`, seen at `at`, says of its audience.
    pub fn of(space: &Space, at: DateTime<Utc>) -> Sample {
        Sample {
            space_id: space.id.clone(),
            at,
            participant_count: space.participant_count,
            subscriber_count: space.subscriber_count,
            speakers: space.speaker_ids.as_ref().map(|ids| ids.len() as u64),
        }
    }
}

/// What one poll learned, committed at once by [`Store::commit`].
#[derive(Debug, Default)]
pub struct Poll {
    /// When the poll was answered.
    pub at: DateTime<Utc>,
    /// Each Space seen (or confirmed), with what is now known of it.
    pub spaces: Vec<(Space, Tracked)>,
    /// Each Space no longer found: its id and what is now known of it.
    pub gone: Vec<(String, Tracked)>,
    /// The events, in order, without their `seq` (given at commit).
    pub events: Vec<Event>,
    /// The samples.
    pub samples: Vec<Sample>,
}

/// A store opened for reading and writing.
pub struct Store {
    connection: Connection,
    path: PathBuf,
}

/// Held by the one watcher of a store, for as long as it runs.
#[derive(Debug)]
pub struct WatchLock {
    _file: File,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens the store at `path`, creating it if missing and migrating it
    /// to the current schema.
    ///
    /// # Errors
    ///
    /// [`StoreError::NewerSchema`] for a store of a newer `spaces`, and
    /// [`StoreError::Sqlite`] for a file that is not a store.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path).map_err(|error| sqlite(&path, &error))?;
        let mut store = Store { connection, path };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store to read it (`spaces events`, exports). A
    /// store written by an older `spaces` is read as it is.
    ///
    /// # Errors
    ///
    /// [`StoreError::Missing`] when there is no file, and as [`open`](Self::open).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let connection = Connection::open(&path).map_err(|error| sqlite(&path, &error))?;
        let store = Store { connection, path };
        store.configure()?;
        let found = store.version()?;
        if found == 0 {
            let detail = "not a spaces store (no schema version in it)".to_owned();
            return Err(StoreError::Sqlite { path: store.path, detail });
        }
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path: store.path, found, supported: SCHEMA_VERSION });
        }
        Ok(store)
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every file a store at `path` may have: the database, SQLite's
    /// write-ahead log and shared memory (`-wal`, `-shm`), and the
    /// watcher's lock (`.lock`). What to delete to throw a store away.
    pub fn files(path: impl AsRef<Path>) -> [PathBuf; 4] {
        let path = path.as_ref();
        [path.to_path_buf(), beside(path, "-wal"), beside(path, "-shm"), beside(path, LOCK_SUFFIX)]
    }

    /// Takes the store for one watcher: a second one gets
    /// [`StoreError::Locked`] naming the file. The lock is the file
    /// `<store>.lock`, held (an OS lock, released when the process ends,
    /// however it ends) for as long as the returned value lives.
    ///
    /// # Errors
    ///
    /// [`StoreError::Locked`], or [`StoreError::Sqlite`] when the lock file
    /// cannot be created.
    pub fn lock_for_watch(path: impl AsRef<Path>) -> Result<WatchLock, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock = beside(&path, LOCK_SUFFIX);
        let file = File::options().create(true).truncate(false).write(true).open(&lock).map_err(|error| {
            StoreError::Sqlite { path: path.clone(), detail: format!("cannot create {}: {error}", lock.display()) }
        })?;
        match file.try_lock() {
            Ok(()) => Ok(WatchLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked { path, lock }),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(StoreError::Sqlite { path, detail: format!("cannot lock {}: {error}", lock.display()) })
            }
        }
    }

    fn configure(&self) -> Result<(), StoreError> {
        // WAL: readers (`events --follow`, exports) read while the watcher writes.
        // A writer waits a little for another's transaction rather than failing.
        self.connection
            // secure_delete: what is deleted (a gone Space's content) is overwritten, not left in free pages.
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA secure_delete = ON;",
            )
            .and_then(|()| self.connection.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|error| sqlite(&self.path, &error))
    }

    /// The schema version in the file; 0 for a new, empty one.
    fn version(&self) -> Result<u32, StoreError> {
        let table: Option<String> = self
            .connection
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'", [], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|error| sqlite(&self.path, &error))?;
        if table.is_none() {
            return Ok(0);
        }
        self.connection
            .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|error| sqlite(&self.path, &error))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { path: self.path.clone(), found, supported: SCHEMA_VERSION });
        }
        let path = self.path.clone();
        let transaction = self.connection.transaction().map_err(|error| sqlite(&path, &error))?;
        transaction
            .execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(|error| sqlite(&path, &error))?;
        for migration in &MIGRATIONS[found as usize..] {
            transaction.execute_batch(migration).map_err(|error| sqlite(&path, &error))?;
        }
        transaction.execute("DELETE FROM schema_version", []).map_err(|error| sqlite(&path, &error))?;
        transaction
            .execute("INSERT INTO schema_version (version) VALUES (?1)", [SCHEMA_VERSION])
            .map_err(|error| sqlite(&path, &error))?;
        transaction.commit().map_err(|error| sqlite(&path, &error))
    }

    /// Adds the users to the watched ones (each once).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`].
    pub fn watch_users(&mut self, users: &[String], at: DateTime<Utc>) -> Result<(), StoreError> {
        let path = self.path.clone();
        let transaction = self.connection.transaction().map_err(|error| sqlite(&path, &error))?;
        {
            let mut insert = transaction
                .prepare("INSERT OR IGNORE INTO users (user_id, added_at) VALUES (?1, ?2)")
                .map_err(|error| sqlite(&path, &error))?;
            for user in users {
                insert.execute(params![user, time(at)]).map_err(|error| sqlite(&path, &error))?;
            }
        }
        transaction.commit().map_err(|error| sqlite(&path, &error))
    }

    /// Every watched user id, in the order they were added.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`].
    pub fn users(&self) -> Result<Vec<String>, StoreError> {
        let mut select = self
            .connection
            .prepare("SELECT user_id FROM users ORDER BY added_at, rowid")
            .map_err(|error| sqlite(&self.path, &error))?;
        let rows = select.query_map([], |row| row.get(0)).map_err(|error| sqlite(&self.path, &error))?;
        rows.collect::<Result<_, _>>().map_err(|error| sqlite(&self.path, &error))
    }

    /// Every Space not in a final phase, by id: what a watcher resumes from.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`], also for a row this crate cannot have written.
    pub fn tracked(&self) -> Result<HashMap<String, Tracked>, StoreError> {
        let mut select = self
            .connection
            .prepare(
                "SELECT space_id, user_id, phase, scheduled_start FROM spaces WHERE phase IN ('scheduled', 'live')",
            )
            .map_err(|error| sqlite(&self.path, &error))?;
        let rows = select
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|error| sqlite(&self.path, &error))?;
        let mut tracked = HashMap::new();
        for row in rows {
            let (space_id, user_id, phase, scheduled_start) = row.map_err(|error| sqlite(&self.path, &error))?;
            let phase =
                phase.parse::<Phase>().map_err(|detail| StoreError::Sqlite { path: self.path.clone(), detail })?;
            let scheduled_start = scheduled_start.and_then(|at| at.parse::<DateTime<Utc>>().ok());
            tracked.insert(space_id, Tracked { user_id, known: Known { phase, scheduled_start } });
        }
        Ok(tracked)
    }

    /// Whether the store knows `space_id` in a final phase (ended,
    /// canceled, gone): a repeated push event about it changes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`].
    pub fn is_final(&self, space_id: &str) -> Result<bool, StoreError> {
        let mut select = self
            .connection
            .prepare_cached("SELECT 1 FROM spaces WHERE space_id = ?1 AND phase IN ('ended', 'canceled', 'gone')")
            .map_err(|error| sqlite(&self.path, &error))?;
        select.exists([space_id]).map_err(|error| sqlite(&self.path, &error))
    }

    /// Commits one poll: the Spaces' rows, the events (each given its
    /// `seq`), and the samples, all in one transaction. Returns the events
    /// as committed, in order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`]; then nothing of the poll is kept.
    pub fn commit(&mut self, poll: Poll) -> Result<Vec<Event>, StoreError> {
        let path = self.path.clone();
        let fail = |error: rusqlite::Error| sqlite(&path, &error);
        let transaction = self.connection.transaction().map_err(fail)?;
        let at = time(poll.at);
        // Every poll runs the same four statements: prepared once per connection.
        {
            let mut upsert = transaction
                .prepare_cached(
                    "INSERT INTO spaces (space_id, user_id, phase, scheduled_start, first_seen, last_seen, provider, retrieved_at, space)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?5, ?7)
                     ON CONFLICT (space_id) DO UPDATE SET
                        user_id = COALESCE(excluded.user_id, user_id), phase = excluded.phase,
                        scheduled_start = excluded.scheduled_start, last_seen = excluded.last_seen,
                        provider = excluded.provider, retrieved_at = excluded.retrieved_at, space = excluded.space",
                )
                .map_err(fail)?;
            for (space, tracked) in &poll.spaces {
                let json = serde_json::to_string(space).map_err(|error| StoreError::Sqlite {
                    path: path.clone(),
                    detail: format!("cannot serialize Space {}: {error}", space.id),
                })?;
                let scheduled = tracked.known.scheduled_start.map(time);
                upsert
                    .execute(params![
                        space.id,
                        tracked.user_id,
                        tracked.known.phase.as_str(),
                        scheduled,
                        at,
                        space.provider.as_str(),
                        json
                    ])
                    .map_err(fail)?;
            }
            // A Space gone keeps its id, creator, phase and times; its content goes.
            let mut forget = transaction
                .prepare_cached("UPDATE spaces SET phase = ?2, last_seen = ?3, space = NULL WHERE space_id = ?1")
                .map_err(fail)?;
            for (space_id, tracked) in &poll.gone {
                forget.execute(params![space_id, tracked.known.phase.as_str(), at]).map_err(fail)?;
            }
        }
        let mut committed = Vec::with_capacity(poll.events.len());
        {
            let mut insert = transaction
                .prepare_cached("INSERT INTO events (type, space_id, user_id, at, space) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(fail)?;
            for mut event in poll.events {
                let json = event.space.as_ref().and_then(|space| serde_json::to_string(space).ok());
                insert
                    .execute(params![event.kind.as_str(), event.space_id, event.user_id, time(event.at), json])
                    .map_err(fail)?;
                event.seq = u64::try_from(transaction.last_insert_rowid()).unwrap_or_default();
                committed.push(event);
            }
            let mut sample = transaction
                .prepare_cached(
                    "INSERT INTO samples (space_id, at, participant_count, subscriber_count, speakers) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(fail)?;
            for row in &poll.samples {
                let count = |count: Option<u64>| count.and_then(|count| i64::try_from(count).ok());
                sample
                    .execute(params![
                        row.space_id,
                        time(row.at),
                        count(row.participant_count),
                        count(row.subscriber_count),
                        count(row.speakers)
                    ])
                    .map_err(fail)?;
            }
        }
        transaction.commit().map_err(fail)?;
        Ok(committed)
    }

    /// Up to `limit` events after `seq`, in order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`], also for a row this crate cannot have written.
    pub fn events_after(&self, seq: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut select = self
            .connection
            .prepare_cached(
                "SELECT seq, type, space_id, user_id, at, space FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|error| sqlite(&self.path, &error))?;
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = select
            .query_map(params![seq, limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|error| sqlite(&self.path, &error))?;
        let corrupt = |detail: String| StoreError::Sqlite { path: self.path.clone(), detail };
        let mut events = Vec::new();
        for row in rows {
            let (seq, kind, space_id, user_id, at, space) = row.map_err(|error| sqlite(&self.path, &error))?;
            events.push(Event {
                seq: u64::try_from(seq).unwrap_or_default(),
                kind: kind.parse().map_err(corrupt)?,
                space_id,
                user_id,
                at: at.parse().map_err(|error| corrupt(format!("event {seq}: time `{at}`: {error}")))?,
                space: match space {
                    Some(json) => Some(
                        serde_json::from_str(&json)
                            .map_err(|error| corrupt(format!("event {seq}: its Space: {error}")))?,
                    ),
                    None => None,
                },
            });
        }
        Ok(events)
    }
}

/// One row of the `spaces` table, as [`Store::space_rows`] reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpaceRow {
    /// The Space.
    pub space_id: String,
    /// Its creator, when known.
    pub user_id: Option<String>,
    /// Where it is in its lifecycle.
    pub phase: Phase,
    /// Its scheduled start: the latest answer's, or the last one seen when
    /// that answer had none (`None` once [`Store::forget_gone`] ran on a
    /// gone Space).
    pub scheduled_start: Option<DateTime<Utc>>,
    /// When a watcher first saw it.
    pub first_seen: DateTime<Utc>,
    /// When a watcher last saw it (or found it gone).
    pub last_seen: DateTime<Utc>,
    /// The provider whose answer [`space`](Self::space) is.
    pub provider: Provider,
    /// When that answer was received.
    pub retrieved_at: DateTime<Utc>,
    /// The latest Space as the provider described it; `None` once it is gone.
    pub space: Option<Space>,
}

/// What [`Store::forget_gone`] dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Forgotten {
    /// The gone Spaces in the store (each keeps its row, without content).
    pub gone: u64,
    /// The events of gone Spaces whose Space was dropped.
    pub events: u64,
    /// The samples of gone Spaces deleted.
    pub samples: u64,
    /// Whether the write-ahead log was emptied into the file and truncated
    /// (false while another connection, a reader or a watcher, still reads
    /// an older snapshot: then SQLite does it at a later checkpoint).
    pub checkpointed: bool,
}

/// The rows of one table, read a page at a time ([`Store::space_rows`],
/// [`Store::event_rows`], [`Store::sample_rows`]): memory stays flat
/// however large the store. Each page is its own read, so a watcher writing
/// meanwhile is not blocked; rows are read in key order, each once (a row
/// added behind the cursor meanwhile is not read, one added ahead is).
/// After an error the iterator ends.
pub struct Rows<'a, T> {
    store: &'a Store,
    cursor: Cursor,
    fetch: fn(&Store, &mut Cursor, usize) -> Result<Vec<T>, StoreError>,
    page: std::collections::VecDeque<T>,
    done: bool,
}

/// Where a [`Rows`] is: after this key.
enum Cursor {
    Text(String),
    Number(i64),
}

impl<T> Iterator for Rows<'_, T> {
    type Item = Result<T, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(row) = self.page.pop_front() {
            return Some(Ok(row));
        }
        if self.done {
            return None;
        }
        match (self.fetch)(self.store, &mut self.cursor, Store::PAGE) {
            Ok(page) => {
                self.done = page.len() < Store::PAGE;
                self.page = page.into();
                self.page.pop_front().map(Ok)
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

impl Store {
    /// Rows read per query by [`Rows`].
    const PAGE: usize = 512;

    /// Every row of the `spaces` table, by Space id.
    pub fn space_rows(&self) -> Rows<'_, SpaceRow> {
        self.rows(Cursor::Text(String::new()), Store::spaces_page)
    }

    /// Every event after `seq`, in order (as [`events_after`](Self::events_after), a page at a time).
    pub fn event_rows(&self, seq: u64) -> Rows<'_, Event> {
        self.rows(Cursor::Number(i64::try_from(seq).unwrap_or(i64::MAX)), Store::events_page)
    }

    /// Every sample, in the order they were taken.
    pub fn sample_rows(&self) -> Rows<'_, Sample> {
        self.rows(Cursor::Number(0), Store::samples_page)
    }

    fn rows<T>(
        &self,
        cursor: Cursor,
        fetch: fn(&Store, &mut Cursor, usize) -> Result<Vec<T>, StoreError>,
    ) -> Rows<'_, T> {
        Rows { store: self, cursor, fetch, page: std::collections::VecDeque::new(), done: false }
    }

    fn spaces_page(&self, cursor: &mut Cursor, limit: usize) -> Result<Vec<SpaceRow>, StoreError> {
        let Cursor::Text(after) = cursor else { return Ok(Vec::new()) };
        let mut select = self
            .connection
            .prepare_cached(
                "SELECT space_id, user_id, phase, scheduled_start, first_seen, last_seen, provider, retrieved_at, space
                 FROM spaces WHERE space_id > ?1 ORDER BY space_id LIMIT ?2",
            )
            .map_err(|error| sqlite(&self.path, &error))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = select
            .query_map(params![after.as_str(), limit], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    [row.get::<_, String>(4)?, row.get::<_, String>(5)?, row.get::<_, String>(7)?],
                    row.get::<_, String>(6)?,
                    row.get::<_, Option<String>>(8)?,
                ))
            })
            .map_err(|error| sqlite(&self.path, &error))?;
        let corrupt = |detail: String| StoreError::Sqlite { path: self.path.clone(), detail };
        let mut page = Vec::new();
        for row in rows {
            let (space_id, user_id, phase, scheduled_start, [first_seen, last_seen, retrieved_at], provider, space) =
                row.map_err(|error| sqlite(&self.path, &error))?;
            let at = |name: &str, text: &str| {
                text.parse::<DateTime<Utc>>()
                    .map_err(|error| corrupt(format!("Space {space_id}: {name} `{text}`: {error}")))
            };
            page.push(SpaceRow {
                phase: phase.parse().map_err(|detail| corrupt(format!("Space {space_id}: {detail}")))?,
                scheduled_start: scheduled_start.map(|text| at("scheduled_start", &text)).transpose()?,
                first_seen: at("first_seen", &first_seen)?,
                last_seen: at("last_seen", &last_seen)?,
                provider: provider.parse().map_err(|error| corrupt(format!("Space {space_id}: {error}")))?,
                retrieved_at: at("retrieved_at", &retrieved_at)?,
                space: space
                    .map(|json| serde_json::from_str(&json))
                    .transpose()
                    .map_err(|error| corrupt(format!("Space {space_id}: its content: {error}")))?,
                user_id,
                space_id,
            });
        }
        if let Some(last) = page.last() {
            after.clone_from(&last.space_id);
        }
        Ok(page)
    }

    fn events_page(&self, cursor: &mut Cursor, limit: usize) -> Result<Vec<Event>, StoreError> {
        let Cursor::Number(after) = cursor else { return Ok(Vec::new()) };
        let page = self.events_after(u64::try_from(*after).unwrap_or_default(), limit)?;
        if let Some(last) = page.last() {
            *after = i64::try_from(last.seq).unwrap_or(i64::MAX);
        }
        Ok(page)
    }

    fn samples_page(&self, cursor: &mut Cursor, limit: usize) -> Result<Vec<Sample>, StoreError> {
        let Cursor::Number(after) = cursor else { return Ok(Vec::new()) };
        let mut select = self
            .connection
            .prepare_cached(
                "SELECT rowid, space_id, at, participant_count, subscriber_count, speakers
                 FROM samples WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )
            .map_err(|error| sqlite(&self.path, &error))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = select
            .query_map(params![*after, limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    [row.get::<_, Option<i64>>(3)?, row.get::<_, Option<i64>>(4)?, row.get::<_, Option<i64>>(5)?],
                ))
            })
            .map_err(|error| sqlite(&self.path, &error))?;
        let mut page = Vec::new();
        for row in rows {
            let (rowid, space_id, at, [participant_count, subscriber_count, speakers]) =
                row.map_err(|error| sqlite(&self.path, &error))?;
            let count = |count: Option<i64>| count.and_then(|count| u64::try_from(count).ok());
            page.push(Sample {
                at: at.parse().map_err(|error| StoreError::Sqlite {
                    path: self.path.clone(),
                    detail: format!("sample of Space {space_id}: time `{at}`: {error}"),
                })?,
                space_id,
                participant_count: count(participant_count),
                subscriber_count: count(subscriber_count),
                speakers: count(speakers),
            });
            *after = rowid;
        }
        Ok(page)
    }

    /// Drops what the store still keeps of Spaces that are gone, beyond
    /// their row: the Space each earlier event carried (the event itself
    /// stays: its type, Space id, user id and time), their samples, and
    /// their scheduled start. The store already keeps no content of a gone
    /// Space's own row, nor of its `gone` event. All in one transaction,
    /// then the write-ahead log is emptied and truncated; the store
    /// overwrites deleted content with zeros (`PRAGMA secure_delete`), so
    /// none of it stays in the file's free space either. Running it again
    /// drops nothing more; a Space found gone later is dropped by the next
    /// run. It may run while a watcher writes (it waits for the watcher's
    /// transaction).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`]; then nothing was dropped.
    pub fn forget_gone(&mut self) -> Result<Forgotten, StoreError> {
        let path = self.path.clone();
        let fail = |error: rusqlite::Error| sqlite(&path, &error);
        const GONE: &str = "SELECT space_id FROM spaces WHERE phase = 'gone'";
        let transaction = self.connection.transaction().map_err(fail)?;
        let events = transaction
            .execute(&format!("UPDATE events SET space = NULL WHERE space IS NOT NULL AND space_id IN ({GONE})"), [])
            .map_err(fail)?;
        let samples =
            transaction.execute(&format!("DELETE FROM samples WHERE space_id IN ({GONE})"), []).map_err(fail)?;
        transaction
            .execute(
                "UPDATE spaces SET space = NULL, scheduled_start = NULL
                 WHERE phase = 'gone' AND (space IS NOT NULL OR scheduled_start IS NOT NULL)",
                [],
            )
            .map_err(fail)?;
        let gone: i64 = transaction
            .query_row("SELECT count(*) FROM spaces WHERE phase = 'gone'", [], |row| row.get(0))
            .map_err(fail)?;
        transaction.commit().map_err(fail)?;
        // (busy, frames in the log, frames checkpointed); busy = 1 when a reader kept it from finishing.
        let busy: i64 =
            self.connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0)).map_err(fail)?;
        let count = |count: usize| u64::try_from(count).unwrap_or(u64::MAX);
        Ok(Forgotten {
            gone: u64::try_from(gone).unwrap_or_default(),
            events: count(events),
            samples: count(samples),
            checkpointed: busy == 0,
        })
    }
}

fn sqlite(path: &Path, error: &rusqlite::Error) -> StoreError {
    StoreError::Sqlite { path: path.to_path_buf(), detail: error.to_string() }
}
