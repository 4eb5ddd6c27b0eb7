//! The watch store read back: its schema (migration, a newer one refused,
//! one watcher at a time), the event log after a seq, exports read back
//! (CSV and NDJSON; Parquet with the `parquet` feature), forgetting gone
//! Spaces, and, through the binary, `spaces events`, `export` and
//! `forget-gone`, `--follow` included.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use spaces::watch::export::{self, Cell, Column, ColumnType, Export, ExportError, Format, Table};
use spaces::watch::lifecycle::{EventKind, Known, Phase};
use spaces::watch::{Event, Poll, SCHEMA_VERSION, Sample, Store, StoreError, Tracked};
use spaces::{Provider, Space};

use crate::cli::{run, spaces_bin, text};
use crate::support::fixture;

/// A title no other row holds, to look for in the file's bytes.
const GONE_TITLE: &str = "Gone-Space-title-7f3a9c, nowhere else";

/// A Space from an X fixture.
fn space(name: &str) -> Space {
    spaces::decode(Provider::X, &fixture(Provider::X, name).body).expect("the fixture decodes")
}

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-12-03T18:00:00.250Z".parse::<DateTime<Utc>>().expect("a time") + Duration::minutes(minutes)
}

fn tracked(user: &str, phase: Phase, scheduled_start: Option<DateTime<Utc>>) -> Tracked {
    Tracked { user_id: Some(user.to_owned()), known: Known { phase, scheduled_start } }
}

fn event(kind: EventKind, space_id: &str, user: &str, at: DateTime<Utc>, space: Option<&Space>) -> Event {
    Event { seq: 0, kind, space_id: space_id.to_owned(), user_id: Some(user.to_owned()), at, space: space.cloned() }
}

/// The Spaces of [`history`]: `gone` (live with speakers and topics, then
/// gone), `scheduled`, and `live` (seen live twice).
struct Spaces {
    gone: Space,
    scheduled: Space,
    live: Space,
}

fn spaces() -> Spaces {
    let mut gone = space("live-with-speakers-and-topics.json");
    // A title that CSV must quote, with a line break and a terminal escape.
    gone.title = Some(format!("{GONE_TITLE} \"quoted\"\nnext line \u{1b}[31m"));
    gone.participant_count = Some(42);
    let scheduled = space("scheduled.json");
    let mut live = space("minimal.json");
    live.participant_count = Some(7);
    Spaces { gone, scheduled, live }
}

/// A store with three polls: `gone` starts (with a sample), `scheduled` is
/// scheduled and `live` starts (with a sample), then `gone` is gone and
/// `live` sampled again. Events 1 to 4.
fn history(path: &Path) -> (Store, Spaces) {
    let spaces = spaces();
    let Spaces { gone, scheduled, live } = &spaces;
    let mut store = Store::open(path).expect("a new store");
    store.watch_users(&["1111111111".to_owned()], at(0)).expect("users");
    let first = Poll {
        at: at(0),
        spaces: vec![(gone.clone(), tracked("1111111111", Phase::Live, None))],
        events: vec![event(EventKind::Started, &gone.id, "1111111111", at(0), Some(gone))],
        samples: vec![Sample::of(gone, at(0))],
        ..Poll::default()
    };
    let second = Poll {
        at: at(1),
        spaces: vec![
            (scheduled.clone(), tracked("1111111111", Phase::Scheduled, scheduled.scheduled_start)),
            (live.clone(), tracked("1111111111", Phase::Live, None)),
        ],
        events: vec![
            event(EventKind::Scheduled, &scheduled.id, "1111111111", at(1), Some(scheduled)),
            event(EventKind::Started, &live.id, "1111111111", at(1), Some(live)),
        ],
        samples: vec![Sample::of(live, at(1))],
        ..Poll::default()
    };
    let third = Poll {
        at: at(2),
        spaces: vec![(live.clone(), tracked("1111111111", Phase::Live, None))],
        gone: vec![(gone.id.clone(), tracked("1111111111", Phase::Gone, None))],
        events: vec![event(EventKind::Gone, &gone.id, "1111111111", at(2), None)],
        samples: vec![Sample::of(live, at(2))],
    };
    for poll in [first, second, third] {
        store.commit(poll).expect("a poll commits");
    }
    (store, spaces)
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Runs SQL on the store's file directly, as another program would.
fn sql(path: &Path, statement: &str) {
    let connection = rusqlite::Connection::open(path).expect("the file opens");
    connection.execute_batch(statement).expect("the statement runs");
}

fn schema_version(path: &Path) -> u32 {
    let connection = rusqlite::Connection::open(path).expect("the file opens");
    connection.query_row("SELECT version FROM schema_version", [], |row| row.get(0)).expect("a version")
}

// ---------------------------------------------------------------------------
// The schema

#[test]
fn an_empty_file_is_migrated_to_the_current_schema() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    std::fs::write(&path, b"").expect("an empty file");
    // A reader does not take an empty file for a store.
    match Store::open_existing(&path) {
        Err(StoreError::Sqlite { path: named, detail }) => {
            assert_eq!(named, path);
            assert!(detail.contains("not a spaces store"), "{detail}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    drop(Store::open(&path).expect("an empty file becomes a store"));
    assert_eq!(schema_version(&path), SCHEMA_VERSION);
    let connection = rusqlite::Connection::open(&path).expect("the file opens");
    let mut tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut select| select.query_map([], |row| row.get(0))?.collect())
        .expect("tables");
    tables.sort();
    assert_eq!(tables, ["events", "samples", "schema_version", "spaces", "users"]);
    drop(connection);
    // Opened again: nothing to migrate, nothing lost.
    let mut store = Store::open(&path).expect("it opens again");
    store.watch_users(&["2244994945".to_owned()], at(0)).expect("a user");
    drop(store);
    let store = Store::open_existing(&path).expect("and reads");
    assert_eq!(store.users().expect("users"), ["2244994945"]);
    assert_eq!(schema_version(&path), SCHEMA_VERSION);
}

#[test]
fn a_missing_store_is_not_created_by_a_reader() {
    let dir = temp();
    let path = dir.path().join("nothing.db");
    match Store::open_existing(&path) {
        Err(error @ StoreError::Missing { .. }) => {
            assert!(error.to_string().contains(&path.display().to_string()), "{error}");
        }
        other => panic!("expected Missing, got {:?}", other.map(|_| ())),
    }
    assert!(!path.exists());
}

#[test]
fn a_store_of_a_newer_schema_is_refused_and_left_alone() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    drop(history(&path));
    let newer = SCHEMA_VERSION + 1;
    sql(&path, &format!("UPDATE schema_version SET version = {newer}"));
    for opened in [Store::open(&path), Store::open_existing(&path)] {
        match opened {
            Err(error @ StoreError::NewerSchema { .. }) => {
                let StoreError::NewerSchema { path: named, found, supported } = &error else { unreachable!() };
                assert_eq!((named, *found, *supported), (&path, newer, SCHEMA_VERSION));
                let message = error.to_string();
                assert!(message.contains("newer spaces") && message.contains(&format!("schema {newer}")), "{message}");
            }
            other => panic!("expected NewerSchema, got {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(schema_version(&path), newer, "a refused store is not migrated back");
}

#[test]
fn a_second_watcher_is_refused_naming_the_lock_file() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let first = Store::lock_for_watch(&path).expect("the first watcher takes the store");
    let lock = dir.path().join("spaces.db.lock");
    match Store::lock_for_watch(&path) {
        Err(error @ StoreError::Locked { .. }) => {
            let StoreError::Locked { path: named, lock: held } = &error else { unreachable!() };
            assert_eq!((named, held), (&path, &lock));
            assert!(error.to_string().contains(&lock.display().to_string()), "{error}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // Readers need no lock: they read while a watcher writes.
    drop(history(&path));
    assert_eq!(Store::open_existing(&path).expect("a reader").events_after(0, 10).expect("events").len(), 4);
    drop(first);
    drop(Store::lock_for_watch(&path).expect("once the first is gone, another may watch"));
}

// ---------------------------------------------------------------------------
// Reading

#[test]
fn events_after_a_seq_come_in_order_once_each() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (store, spaces) = history(&path);
    let store = {
        drop(store);
        Store::open_existing(&path).expect("a reader")
    };
    let all = store.events_after(0, 100).expect("events");
    let seen: Vec<(u64, EventKind, &str)> =
        all.iter().map(|event| (event.seq, event.kind, event.space_id.as_str())).collect();
    assert_eq!(
        seen,
        [
            (1, EventKind::Started, spaces.gone.id.as_str()),
            (2, EventKind::Scheduled, spaces.scheduled.id.as_str()),
            (3, EventKind::Started, spaces.live.id.as_str()),
            (4, EventKind::Gone, spaces.gone.id.as_str()),
        ]
    );
    assert_eq!(all[0].space.as_ref(), Some(&spaces.gone), "an event keeps the Space as then seen");
    assert_eq!(all[0].at, at(0));
    assert_eq!(all[3].space, None, "a gone event carries no content");
    let seqs = |events: &[Event]| events.iter().map(|event| event.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&store.events_after(1, 100).expect("events")), [2, 3, 4]);
    assert_eq!(seqs(&store.events_after(2, 1).expect("events")), [3]);
    assert!(store.events_after(4, 100).expect("events").is_empty());
    assert!(store.events_after(u64::MAX, 100).expect("events").is_empty());
    let rows: Vec<Event> = store.event_rows(2).collect::<Result<_, _>>().expect("event rows");
    assert_eq!(rows, all[2..]);
}

#[test]
fn rows_are_read_a_page_at_a_time_each_once() {
    const COUNT: usize = 1_300; // more than two pages
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let mut store = Store::open(&path).expect("a store");
    let base = space("minimal.json");
    let mut poll = Poll { at: at(0), ..Poll::default() };
    // Inserted in reverse, read by id.
    for n in (0..COUNT).rev() {
        let mut space = base.clone();
        space.id = format!("1Id{n:010}");
        poll.events.push(event(EventKind::Started, &space.id, "1", at(0), Some(&space)));
        poll.samples.push(Sample::of(&space, at(0)));
        poll.spaces.push((space, tracked("1", Phase::Live, None)));
    }
    store.commit(poll).expect("commits");
    let ids: Vec<String> = store.space_rows().map(|row| row.expect("a row").space_id).collect();
    let expected: Vec<String> = (0..COUNT).map(|n| format!("1Id{n:010}")).collect();
    assert_eq!(ids, expected);
    let seqs: Vec<u64> = store.event_rows(0).map(|event| event.expect("an event").seq).collect();
    assert_eq!(seqs, (1..=COUNT as u64).collect::<Vec<_>>());
    let samples: Vec<String> = store.sample_rows().map(|sample| sample.expect("a sample").space_id).collect();
    assert_eq!(samples.len(), COUNT);
    assert_eq!(samples.first().map(String::as_str), Some(expected[COUNT - 1].as_str()), "in the order taken");
}

#[test]
fn space_rows_keep_provenance_and_drop_a_gone_spaces_content() {
    let dir = temp();
    let (store, spaces) = history(&dir.path().join("spaces.db"));
    let rows: Vec<_> = store.space_rows().collect::<Result<_, _>>().expect("rows");
    let row = |id: &str| rows.iter().find(|row| row.space_id == id).expect("a row");
    let gone = row(&spaces.gone.id);
    assert_eq!((gone.phase, gone.space.as_ref()), (Phase::Gone, None));
    assert_eq!((gone.first_seen, gone.last_seen), (at(0), at(2)));
    let live = row(&spaces.live.id);
    assert_eq!((live.phase, live.provider, live.retrieved_at), (Phase::Live, Provider::X, at(2)));
    assert_eq!(live.space.as_ref(), Some(&spaces.live));
    let scheduled = row(&spaces.scheduled.id);
    assert_eq!(scheduled.scheduled_start, spaces.scheduled.scheduled_start);
    assert_eq!(scheduled.user_id.as_deref(), Some("1111111111"));
}

// ---------------------------------------------------------------------------
// Exports read back

/// Every table of a [`history`] store, as the library's own rows.
fn tables(store: &Store) -> Vec<(Table, Vec<Column>, Vec<Vec<Cell>>)> {
    Table::ALL
        .iter()
        .map(|&table| {
            let export = Export::new(store, table);
            let columns = export.columns().to_vec();
            (table, columns, export.collect::<Result<_, _>>().expect("rows"))
        })
        .collect()
}

fn column<'a>(columns: &[Column], row: &'a [Cell], name: &str) -> &'a Cell {
    let index = columns.iter().position(|column| column.name == name).unwrap_or_else(|| panic!("no column {name}"));
    &row[index]
}

#[test]
fn flat_rows_hold_the_spaces_fields_under_dotted_names() {
    let dir = temp();
    let (store, spaces) = history(&dir.path().join("spaces.db"));
    let tables = tables(&store);
    let (_, columns, rows) = &tables[0];
    assert_eq!(rows.len(), 3);
    let row = |id: &str| rows.iter().find(|row| row[0] == Cell::Text(id.to_owned())).map(Vec::as_slice).expect("a row");
    let live = row(&spaces.live.id);
    assert_eq!(column(columns, live, "provider"), &Cell::Text("x".into()));
    assert_eq!(column(columns, live, "retrieved_at"), &Cell::Time(at(2)));
    assert_eq!(column(columns, live, "participant_count"), &Cell::Integer(7));
    let scheduled = row(&spaces.scheduled.id);
    assert_eq!(column(columns, scheduled, "title"), &Cell::Text("Rust API clients, live Q&A".into()));
    assert_eq!(column(columns, scheduled, "creator.username"), &Cell::Text("alice_audio".into()));
    let Cell::Text(hosts) = column(columns, scheduled, "hosts") else { panic!("hosts are JSON text") };
    let hosts: Value = serde_json::from_str(hosts).expect("hosts are JSON");
    assert_eq!(hosts, serde_json::to_value(&spaces.scheduled.hosts).expect("hosts serialize"));
    // A gone Space: its row, no content.
    let gone = row(&spaces.gone.id);
    assert_eq!(column(columns, gone, "phase"), &Cell::Text("gone".into()));
    let title = columns.iter().position(|column| column.name == "state").expect("content starts at state");
    assert!(gone[title..].iter().all(|cell| *cell == Cell::Null), "{gone:?}");
    // Events: the Space each carried; none for `gone`.
    let (_, columns, rows) = &tables[1];
    assert_eq!(column(columns, &rows[0], "title"), &Cell::Text(spaces.gone.title.clone().expect("a title")));
    assert_eq!(column(columns, &rows[0], "type"), &Cell::Text("started".into()));
    assert_eq!(
        column(columns, &rows[1], "scheduled_start"),
        &Cell::Time(spaces.scheduled.scheduled_start.expect("one"))
    );
    assert_eq!(column(columns, &rows[3], "title"), &Cell::Null);
    // Samples.
    let (_, columns, rows) = &tables[2];
    assert_eq!(rows.len(), 3);
    assert_eq!(column(columns, &rows[0], "participant_count"), &Cell::Integer(42));
    assert_eq!(column(columns, &rows[0], "speakers"), &Cell::Integer(3));
}

#[test]
fn csv_exports_read_back_with_the_csv_crate() {
    let dir = temp();
    let (store, _) = history(&dir.path().join("spaces.db"));
    for (table, columns, rows) in tables(&store) {
        let mut out = Vec::new();
        let written = Export::new(&store, table).write(Format::Csv, &mut out).expect("exports");
        assert_eq!(written, rows.len() as u64);
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader.headers().expect("a header").iter().map(str::to_owned).collect();
        assert_eq!(header, columns.iter().map(|column| column.name).collect::<Vec<_>>(), "{table}");
        let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
        assert_eq!(records.len(), rows.len(), "{table}");
        for (record, row) in records.iter().zip(&rows) {
            let read: Vec<&str> = record.iter().collect();
            let cells: Vec<String> = row.iter().map(|cell| cell.text().into_owned()).collect();
            assert_eq!(read, cells, "{table}: a record reads back as written");
            // And each value as its column's type.
            for ((column, cell), text) in columns.iter().zip(row).zip(&read) {
                let back = match (column.kind, *text) {
                    (_, "") => Cell::Null,
                    (ColumnType::Text | ColumnType::Json, text) => Cell::Text(text.to_owned()),
                    (ColumnType::Integer, text) => Cell::Integer(text.parse().expect("an integer")),
                    (ColumnType::Bool, text) => Cell::Bool(text.parse().expect("true or false")),
                    (ColumnType::Time, text) => Cell::Time(text.parse().expect("RFC 3339")),
                };
                assert_eq!(&back, cell, "{table}.{}", column.name);
            }
        }
    }
}

#[test]
fn ndjson_exports_are_one_flat_object_per_row() {
    let dir = temp();
    let (store, spaces) = history(&dir.path().join("spaces.db"));
    for (table, columns, rows) in tables(&store) {
        let mut out = Vec::new();
        Export::new(&store, table).write(Format::Ndjson, &mut out).expect("exports");
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), rows.len(), "{table}");
        for (line, row) in lines.iter().zip(&rows) {
            let object: serde_json::Map<String, Value> = serde_json::from_str(line).expect("a JSON object");
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            assert_eq!(keys, columns.iter().map(|column| column.name).collect::<Vec<_>>(), "{table}: in order");
            for ((column, cell), value) in columns.iter().zip(row).zip(object.values()) {
                assert!(!value.is_array() && !value.is_object(), "{table}.{}: flat", column.name);
                assert_eq!(value, &serde_json::to_value(cell).expect("a cell serializes"), "{table}.{}", column.name);
            }
        }
        if table == Table::Events {
            let first: Value = serde_json::from_str(lines[0]).expect("JSON");
            assert_eq!(first["title"], spaces.gone.title.clone().expect("a title").as_str());
            assert_eq!(first["participant_count"], 42);
            assert_eq!(first["is_ticketed"], true);
            assert_eq!(first["at"], "2026-12-03T18:00:00.250Z");
            let speakers: Value =
                serde_json::from_str(first["speaker_ids"].as_str().expect("JSON text")).expect("JSON");
            assert_eq!(speakers, serde_json::json!(["1111111111", "2222222222", "3333333333"]));
        }
    }
}

#[test]
fn a_failing_output_is_a_write_error_with_its_kind() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = temp();
    let (store, _) = history(&dir.path().join("spaces.db"));
    for &format in Format::ALL.iter().filter(|format| format.is_built()) {
        match Export::new(&store, Table::Events).write(format, Closed) {
            Err(ExportError::Write(error)) => assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{format}"),
            other => panic!("{format}: expected a write error, got {other:?}"),
        }
    }
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_an_error_naming_it() {
    let dir = temp();
    let (store, _) = history(&dir.path().join("spaces.db"));
    let error = Export::new(&store, Table::Spaces).write(Format::Parquet, Vec::new()).expect_err("not built");
    assert!(matches!(error, ExportError::ParquetNotBuilt));
    assert!(error.to_string().contains("`parquet` feature"), "{error}");
    assert!(!Format::Parquet.is_built());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_exports_read_back_with_the_parquet_crate() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    let dir = temp();
    let (store, _) = history(&dir.path().join("spaces.db"));
    for (table, columns, rows) in tables(&store) {
        let path = dir.path().join(format!("{table}.parquet"));
        let file = std::fs::File::create(&path).expect("a file");
        let written = Export::new(&store, table).write(Format::Parquet, file).expect("exports");
        assert_eq!(written, rows.len() as u64);
        let reader = SerializedFileReader::new(std::fs::File::open(&path).expect("it opens")).expect("Parquet");
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let names: Vec<String> = schema.columns().iter().map(|column| column.name().to_owned()).collect();
        assert_eq!(names, columns.iter().map(|column| column.name).collect::<Vec<_>>(), "{table}");
        let read: Vec<parquet::record::Row> =
            reader.get_row_iter(None).expect("rows").collect::<Result<_, _>>().expect("rows read");
        assert_eq!(read.len(), rows.len(), "{table}");
        for (record, row) in read.iter().zip(&rows) {
            let values: Vec<&Field> = record.get_column_iter().map(|(_, value)| value).collect();
            assert_eq!(values.len(), columns.len());
            for ((column, cell), value) in columns.iter().zip(row).zip(values) {
                let back = match value {
                    Field::Null => Cell::Null,
                    Field::Str(text) => Cell::Text(text.clone()),
                    Field::Bytes(bytes) => Cell::Text(String::from_utf8(bytes.data().to_vec()).expect("UTF-8")),
                    Field::Long(number) => Cell::Integer(*number),
                    Field::Bool(value) => Cell::Bool(*value),
                    Field::TimestampMicros(micros) => {
                        Cell::Time(DateTime::from_timestamp_micros(*micros).expect("a time"))
                    }
                    other => panic!("{table}.{}: unexpected {other:?}", column.name),
                };
                assert_eq!(&back, cell, "{table}.{}", column.name);
            }
        }
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_exports_stream_in_row_groups() {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = temp();
    let mut store = Store::open(dir.path().join("spaces.db")).expect("a store");
    let base = space("live-with-speakers-and-topics.json");
    let count = export::ROW_GROUP_ROWS * 2 + 5;
    let mut poll = Poll { at: at(0), ..Poll::default() };
    for n in 0..count {
        poll.samples.push(Sample { participant_count: Some(n as u64), ..Sample::of(&base, at(0)) });
    }
    store.commit(poll).expect("commits");
    let path = dir.path().join("samples.parquet");
    let file = std::fs::File::create(&path).expect("a file");
    assert_eq!(Export::new(&store, Table::Samples).write(Format::Parquet, file).expect("exports"), count as u64);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).expect("it opens")).expect("Parquet");
    let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
    let full = export::ROW_GROUP_ROWS as i64;
    assert_eq!(groups, [full, full, 5]);
}

// ---------------------------------------------------------------------------
// Forgetting gone Spaces

/// Whether `needle` is anywhere in the store's files (the database and its log).
fn in_files(path: &Path, needle: &str) -> Vec<PathBuf> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), PathBuf::from(wal)]
        .into_iter()
        .filter(|file| {
            let bytes = std::fs::read(file).unwrap_or_default();
            bytes.windows(needle.len()).any(|window| window == needle.as_bytes())
        })
        .collect()
}

#[test]
fn forget_gone_drops_a_gone_spaces_earlier_content_and_samples_only() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (mut store, spaces) = history(&path);
    let before = store.events_after(0, 100).expect("events");
    assert!(before[0].space.is_some(), "until forgotten, an earlier event keeps what was seen");
    let forgotten = store.forget_gone().expect("forgets");
    assert_eq!((forgotten.gone, forgotten.events, forgotten.samples), (1, 1, 1));
    assert!(forgotten.checkpointed);
    let after = store.events_after(0, 100).expect("events");
    assert_eq!(after.len(), before.len(), "events stay");
    for (was, is) in before.iter().zip(&after) {
        if was.space_id == spaces.gone.id {
            assert_eq!(is.space, None, "event {}: its Space is dropped", is.seq);
            assert_eq!((is.seq, is.kind, &is.user_id, is.at), (was.seq, was.kind, &was.user_id, was.at));
        } else {
            assert_eq!(is, was, "another Space's event is untouched");
        }
    }
    let samples: Vec<Sample> = store.sample_rows().collect::<Result<_, _>>().expect("samples");
    assert_eq!(samples.iter().map(|sample| sample.space_id.as_str()).collect::<Vec<_>>(), [&spaces.live.id; 2]);
    let gone = store.space_rows().map(|row| row.expect("a row")).find(|row| row.space_id == spaces.gone.id);
    let gone = gone.expect("a gone Space keeps its row");
    assert_eq!((gone.phase, gone.space, gone.scheduled_start), (Phase::Gone, None, None));
    assert_eq!(gone.user_id.as_deref(), Some("1111111111"));
    // Nothing of its content is left in the file, nor in its log.
    assert_eq!(in_files(&path, GONE_TITLE), Vec::<PathBuf>::new());
    // Again: nothing more to drop.
    let again = store.forget_gone().expect("forgets");
    assert_eq!((again.gone, again.events, again.samples), (1, 0, 0));
}

#[test]
fn before_forget_gone_the_earlier_content_is_there_to_drop() {
    // The check above looks for the title in the files; here it is, before.
    let dir = temp();
    let path = dir.path().join("spaces.db");
    drop(history(&path));
    assert!(!in_files(&path, GONE_TITLE).is_empty(), "the title is in the store before forget-gone");
}

// ---------------------------------------------------------------------------
// Through the binary

fn spaces_at(store: &Path, args: &[&str]) -> Output {
    let mut command = spaces_bin();
    command.args(args).arg("--store").arg(store);
    run(command, b"")
}

fn lines(output: &Output) -> Vec<Value> {
    text(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

#[test]
fn spaces_events_prints_the_log_as_ndjson_from_after_a_seq() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (store, _) = history(&path);
    let events: Vec<Value> = store
        .events_after(0, 100)
        .expect("events")
        .iter()
        .map(|event| serde_json::to_value(event).expect("an event serializes"))
        .collect();
    let output = spaces_at(&path, &["events"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(lines(&output), events);
    let keys: Vec<&str> = events[0].as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["seq", "type", "space_id", "user_id", "at", "space"]);
    // The escape in the title is a JSON escape, never a raw byte on the terminal.
    assert!(!output.stdout.contains(&0x1b) && text(&output.stdout).contains("\\u001b[31m"));
    let output = spaces_at(&path, &["events", "--after", "2"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(lines(&output), events[2..]);
    assert!(spaces_at(&path, &["events", "--after", "4"]).stdout.is_empty());
}

#[test]
fn a_missing_or_newer_store_is_refused_by_every_reader() {
    let dir = temp();
    let missing = dir.path().join("missing.db");
    let readers: [&[&str]; 3] = [&["events"], &["export", "--table", "spaces", "--format", "csv"], &["forget-gone"]];
    for args in readers {
        let output = spaces_at(&missing, args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr, format!("error: {}\n", StoreError::Missing { path: missing.clone() }), "{args:?}");
        assert!(output.stdout.is_empty());
        assert!(!missing.exists(), "{args:?}: a reader never creates a store");
    }
    let newer = dir.path().join("newer.db");
    drop(history(&newer));
    sql(&newer, &format!("UPDATE schema_version SET version = {}", SCHEMA_VERSION + 1));
    for args in readers {
        let output = spaces_at(&newer, args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: store ") && stderr.contains("written by a newer spaces"), "{stderr}");
    }
}

#[test]
fn spaces_export_writes_flat_rows_to_stdout_or_atomically_to_a_file() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (store, _) = history(&path);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("a directory");
    for (table, columns, rows) in tables(&store) {
        // CSV to a file: what the library writes, renamed into place.
        let file = out.join(format!("{table}.csv"));
        let output = spaces_at(
            &path,
            &["export", "--table", table.as_str(), "--format", "csv", "-o", &file.display().to_string()],
        );
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(output.stdout.is_empty());
        assert_eq!(stderr, format!("{table}: {} rows written to {}\n", rows.len(), file.display()));
        let mut expected = Vec::new();
        Export::new(&store, table).write(Format::Csv, &mut expected).expect("exports");
        assert_eq!(std::fs::read(&file).expect("the file"), expected, "{table}");
        // NDJSON to stdout: one flat object per row.
        let output = spaces_at(&path, &["export", "--table", table.as_str(), "--format", "ndjson"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let objects = lines(&output);
        assert_eq!(objects.len(), rows.len());
        for (object, row) in objects.iter().zip(&rows) {
            assert_eq!(object, &serde_json::to_value(export::Record::new(&columns, row)).expect("a record"));
        }
    }
    let left: Vec<String> = std::fs::read_dir(&out)
        .expect("the directory")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn spaces_export_refuses_what_it_cannot_write() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    drop(history(&path));
    let file = dir.path().join("spaces.parquet");
    let output =
        spaces_at(&path, &["export", "--table", "spaces", "--format", "parquet", "-o", &file.display().to_string()]);
    let stderr = text(&output.stderr);
    if cfg!(feature = "parquet") {
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(std::fs::read(&file).expect("a Parquet file").starts_with(b"PAR1"));
    } else {
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("`parquet` feature"), "{stderr}");
        assert!(!file.exists());
    }
    // A directory that is not there: nothing written, nothing left.
    let nowhere = dir.path().join("no/such/dir/spaces.csv");
    let output =
        spaces_at(&path, &["export", "--table", "spaces", "--format", "csv", "-o", &nowhere.display().to_string()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stderr).starts_with("error: cannot create "), "{}", text(&output.stderr));
    let output = spaces_at(&path, &["export", "--table", "users", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

#[test]
fn spaces_forget_gone_drops_what_is_left_of_gone_spaces() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (store, spaces) = history(&path);
    drop(store);
    let output = spaces_at(&path, &["forget-gone"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!("{}: 1 gone Space; dropped the Space of 1 event and 1 sample\n", path.display())
    );
    let events = lines(&spaces_at(&path, &["events"]));
    let gone: Vec<&Value> = events.iter().filter(|event| event["space_id"] == spaces.gone.id.as_str()).collect();
    assert_eq!(gone.len(), 2);
    assert!(gone.iter().all(|event| event["space"].is_null()), "{gone:?}");
    assert!(
        events
            .iter()
            .filter(|event| event["space_id"] != spaces.gone.id.as_str())
            .all(|event| event["space"].is_object())
    );
    assert_eq!(in_files(&path, GONE_TITLE), Vec::<PathBuf>::new());
    let again = spaces_at(&path, &["forget-gone"]);
    assert!(text(&again.stdout).ends_with("1 gone Space; dropped the Space of 0 events and 0 samples\n"));
}

/// `spaces events --follow` on `path`, its stdout read line by line.
fn follow(path: &Path) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut child = spaces_bin()
        .args(["events", "--follow", "--store"])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn spaces");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

/// A poll with one `started` event of a new Space `id`.
fn one_event(id: &str, at: DateTime<Utc>) -> Poll {
    let mut space = space("minimal.json");
    space.id = id.to_owned();
    Poll {
        at,
        events: vec![event(EventKind::Started, id, "1111111111", at, Some(&space))],
        spaces: vec![(space, tracked("1111111111", Phase::Live, None))],
        ..Poll::default()
    }
}

#[test]
fn spaces_events_follow_prints_each_new_event_then_ends_on_sigint() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (mut store, _) = history(&path);
    let (child, mut stdout) = follow(&path);
    let mut line = String::new();
    for seq in 1..=4 {
        line.clear();
        stdout.read_line(&mut line).expect("a line");
        let event: Value = serde_json::from_str(&line).expect("an event");
        assert_eq!(event["seq"], seq);
    }
    // Committed after it started (as a running watcher would): printed as it commits.
    let committed = store.commit(one_event("1NewSpace0001", at(3))).expect("commits");
    let started = std::time::Instant::now();
    line.clear();
    stdout.read_line(&mut line).expect("the new event");
    let event: Value = serde_json::from_str(&line).expect("an event");
    assert_eq!((event["seq"].as_u64(), event["space_id"].as_str()), (Some(committed[0].seq), Some("1NewSpace0001")));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "it took {:?}", started.elapsed());
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(interrupted.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout ends");
    let output = child.wait_with_output().expect("it ends");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert_eq!(rest, "", "nothing after the last event");
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn spaces_events_follow_ends_quietly_when_its_reader_goes() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    let (mut store, _) = history(&path);
    let (mut child, mut stdout) = follow(&path);
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line");
    drop(stdout);
    // The next events it writes find no reader.
    for n in 0..3 {
        store.commit(one_event(&format!("1NewSpace000{n}"), at(3 + n))).expect("commits");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still running after its reader went");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// `spaces ARGS` with stdout on a terminal (a pseudo-terminal `script` makes).
fn on_a_terminal(args: &str) -> Output {
    let program = spaces_bin().get_program().to_string_lossy().into_owned();
    let mut command = Command::new("script");
    command.args(["-q", "-e", "-c", &format!("{program} {args}"), "/dev/null"]);
    run(command, b"")
}

#[test]
fn spaces_export_on_a_terminal_escapes_provider_text_and_refuses_parquet() {
    let dir = temp();
    let path = dir.path().join("spaces.db");
    drop(history(&path));
    let store = path.display();
    let output = on_a_terminal(&format!("export --store {store} --table events --format csv"));
    let shown = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(!shown.contains('\u{1b}'), "a raw escape reached the terminal: {shown:?}");
    assert!(shown.contains(r#""quoted""\nnext line \u{1b}[31m"#), "{shown}");
    let output = on_a_terminal(&format!("export --store {store} --table events --format parquet"));
    let shown = text(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{shown}");
    let expected = if cfg!(feature = "parquet") { "not to a terminal" } else { "`parquet` feature" };
    assert!(shown.contains(expected), "{shown}");
}
