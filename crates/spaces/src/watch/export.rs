//! The watch store's tables as flat columns, for spreadsheets and analysts:
//! CSV, NDJSON (one flat object per row) or Parquet (with the crate's
//! `parquet` feature).
//!
//! Every format has the same columns, in the same order, with the same
//! values ([`columns`] lists them):
//!
//! - `spaces`: `space_id`, `user_id`, `phase`, `scheduled_start`,
//!   `first_seen`, `last_seen` (the store's own), `provider` and
//!   `retrieved_at` (who gave the latest answer, and when), then the latest
//!   Space's fields.
//! - `events`: `seq`, `type`, `space_id`, `user_id`, `at`, then
//!   `scheduled_start` and `provider` from the Space the event carries, then
//!   its other fields (`at` is when that Space was retrieved).
//! - `samples`: `space_id`, `at`, `participant_count`, `subscriber_count`,
//!   `speakers`.
//!
//! A Space's fields are [`Space::fields`], named by their dotted paths
//! (`title`, `creator.username`, `settings.is_locked`), in the model's
//! order, but for `id`, `provider` and `scheduled_start`, which are columns
//! before them already. Lists (`hosts`, `topic_ids`, ...) are JSON text. A
//! row without a Space (a gone Space, a `gone` event, an event whose Space
//! [`Store::forget_gone`](super::Store::forget_gone) dropped) has nulls
//! there. Times are RFC 3339 text in UTC in CSV and NDJSON, and
//! `TIMESTAMP(MICROS, UTC)` in Parquet; JSON text is Parquet's `JSON` type.
//! CSV writes null as an empty field.
//!
//! Rows are read from the store a page at a time and written as they come
//! (Parquet buffers one row group, [`ROW_GROUP_ROWS`] rows): memory stays
//! flat whatever the size of the store.
//!
//! ```
//! use spaces::watch::Store;
//! use spaces::watch::export::{Export, Format, Table};
//!
//! let dir = std::env::temp_dir().join(format!("spaces-export-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = Store::open(dir.join("spaces.db"))?; // a watcher fills it
//! let mut csv = Vec::new();
//! let rows = Export::new(&store, Table::Spaces).write(Format::Csv, &mut csv)?;
//! assert_eq!(rows, 0);
//! assert!(String::from_utf8(csv)?.starts_with("space_id,user_id,phase,scheduled_start,first_seen,"));
//! # drop(store);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::store::{Event, Sample, SpaceRow, Store, StoreError};
use crate::fields::{Field, FieldValue, SettingsField, UserField};
use crate::model::Space;

/// Rows per Parquet row group: what a Parquet export holds in memory at once.
pub const ROW_GROUP_ROWS: usize = 8_192;

/// A table of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// One row per Space: what is known of it now.
    Spaces,
    /// One row per lifecycle event, in `seq` order.
    Events,
    /// One row per sample of a live Space, in the order they were taken.
    Samples,
}

impl Table {
    /// Every table.
    pub const ALL: &'static [Table] = &[Table::Spaces, Table::Events, Table::Samples];

    /// Its name: `spaces`, `events`, `samples`.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Spaces => "spaces",
            Table::Events => "events",
            Table::Samples => "samples",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Table {
    type Err = String;

    fn from_str(name: &str) -> Result<Table, String> {
        Table::ALL
            .iter()
            .copied()
            .find(|table| table.as_str() == name)
            .ok_or_else(|| format!("no table `{name}`; expected spaces, events or samples"))
    }
}

/// A format to write a table in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// RFC 4180 CSV with a header row (the `csv` crate).
    Csv,
    /// One flat JSON object per line.
    Ndjson,
    /// Apache Parquet, uncompressed (the `parquet` crate; needs the crate's
    /// `parquet` feature, see [`Format::is_built`]).
    Parquet,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[Format::Csv, Format::Ndjson, Format::Parquet];

    /// Its name: `csv`, `ndjson`, `parquet`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }

    /// Whether this build can write it: Parquet only with the `parquet` feature.
    pub fn is_built(self) -> bool {
        self != Format::Parquet || cfg!(feature = "parquet")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|format| format.as_str() == name)
            .ok_or_else(|| format!("no format `{name}`; expected csv, ndjson or parquet"))
    }
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// Text.
    Text,
    /// JSON text (a list).
    Json,
    /// A signed 64-bit integer (counts, `seq`, Twitter's codes).
    Integer,
    /// A yes or no.
    Bool,
    /// A point in time, UTC.
    Time,
}

/// One column of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Column {
    /// Its name: `space_id`, `title`, `creator.username`, ...
    pub name: &'static str,
    /// What it holds.
    pub kind: ColumnType,
}

/// One value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text, or JSON text in a [`ColumnType::Json`] column.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A yes or no.
    Bool(bool),
    /// A point in time.
    Time(DateTime<Utc>),
}

impl Cell {
    /// The value as CSV writes it: RFC 3339 for a time, `true`/`false`,
    /// and nothing for null.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Null => Cow::Borrowed(""),
            Cell::Text(text) => Cow::Borrowed(text),
            Cell::Integer(number) => Cow::Owned(number.to_string()),
            Cell::Bool(value) => Cow::Borrowed(if *value { "true" } else { "false" }),
            Cell::Time(at) => Cow::Owned(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_none(),
            Cell::Text(text) => serializer.serialize_str(text),
            Cell::Integer(number) => serializer.serialize_i64(*number),
            Cell::Bool(value) => serializer.serialize_bool(*value),
            Cell::Time(_) => serializer.serialize_str(&self.text()),
        }
    }
}

/// One row: a cell per column, in the columns' order.
pub type Row = Vec<Cell>;

/// A row as one flat JSON object (`{"space_id": ..., "creator.username": ...}`):
/// what an NDJSON export writes on each line.
#[derive(Clone, Copy, Debug)]
pub struct Record<'r> {
    columns: &'r [Column],
    row: &'r [Cell],
}

impl<'r> Record<'r> {
    /// `row` under the names of `columns`.
    pub fn new(columns: &'r [Column], row: &'r [Cell]) -> Record<'r> {
        Record { columns, row }
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, cell) in self.columns.iter().zip(self.row) {
            map.serialize_entry(column.name, cell)?;
        }
        map.end()
    }
}

/// What can stop an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (a full disk, a closed pipe: see the error's kind).
    #[error("cannot write the export: {0}")]
    Write(io::Error),
    /// The format's writer refused (a value it cannot encode).
    #[error("cannot write {format}: {detail}")]
    Encode {
        /// The format.
        format: Format,
        /// What its writer said.
        detail: String,
    },
    /// Parquet was asked of a build without the crate's `parquet` feature.
    #[error("this build cannot write Parquet: it needs the `parquet` feature of crate `spaces`")]
    ParquetNotBuilt,
}

/// The columns of one Space on its own, outside a store (what `spaces show
/// --format csv` writes): every field of the model, in its order
/// (`provider`, `id`, `state`, ...), under the names and with the types
/// the store's tables give them (dotted names, lists as JSON text).
pub fn space_columns() -> Vec<Column> {
    Field::ALL.iter().map(|&field| Column { name: field.as_str(), kind: column_type(field) }).collect()
}

/// One Space as a row of [`space_columns`]: the cells its fields have in
/// the store's tables.
pub fn space_cells(space: &Space) -> Row {
    Field::ALL.iter().map(|&field| cell(space.field(field))).collect()
}

/// The columns of a table, in order. See the module docs.
pub fn columns(table: Table) -> Vec<Column> {
    let column = |name, kind| Column { name, kind };
    use ColumnType::{Integer, Text, Time};
    let mut columns = match table {
        Table::Spaces => vec![
            column("space_id", Text),
            column("user_id", Text),
            column("phase", Text),
            column("scheduled_start", Time),
            column("first_seen", Time),
            column("last_seen", Time),
            column("provider", Text),
            column("retrieved_at", Time),
        ],
        Table::Events => vec![
            column("seq", Integer),
            column("type", Text),
            column("space_id", Text),
            column("user_id", Text),
            column("at", Time),
            column("scheduled_start", Time),
            column("provider", Text),
        ],
        Table::Samples => {
            return vec![
                column("space_id", Text),
                column("at", Time),
                column("participant_count", Integer),
                column("subscriber_count", Integer),
                column("speakers", Integer),
            ];
        }
    };
    columns.extend(content_fields().map(|field| column(field.as_str(), column_type(field))));
    columns
}

/// The Space's fields that have columns of their own after the leading
/// ones: all but those the leading columns already hold.
fn content_fields() -> impl Iterator<Item = Field> {
    Field::ALL.iter().copied().filter(|field| !matches!(field, Field::Id | Field::Provider | Field::ScheduledStart))
}

/// What each field of the model holds. No `_`: a field added to the model
/// does not compile until it has its column type here.
fn column_type(field: Field) -> ColumnType {
    use ColumnType::{Bool, Integer, Json, Text, Time};
    match field {
        Field::Provider
        | Field::Id
        | Field::State
        | Field::StateRaw
        | Field::Title
        | Field::Lang
        | Field::MediaKey
        | Field::CreatorId => Text,
        Field::CreatedAt | Field::UpdatedAt | Field::ScheduledStart | Field::StartedAt | Field::EndedAt => Time,
        Field::IsTicketed | Field::ReplayAvailable | Field::ClippingAvailable => Bool,
        Field::HostIds
        | Field::SpeakerIds
        | Field::InvitedUserIds
        | Field::Hosts
        | Field::Speakers
        | Field::InvitedUsers
        | Field::TopicIds
        | Field::Topics => Json,
        Field::ParticipantCount | Field::SubscriberCount | Field::TotalLiveListeners | Field::TotalReplayWatched => {
            Integer
        }
        Field::Creator(member) => match member {
            UserField::Id
            | UserField::Username
            | UserField::Name
            | UserField::Description
            | UserField::Location
            | UserField::Url
            | UserField::VerifiedType
            | UserField::ProfileImageUrl => Text,
            UserField::CreatedAt => Time,
            UserField::Protected | UserField::Verified => Bool,
            UserField::FollowersCount | UserField::FollowingCount | UserField::TweetCount | UserField::ListedCount => {
                Integer
            }
        },
        Field::Settings(member) => match member {
            SettingsField::DisallowJoin
            | SettingsField::IsLocked
            | SettingsField::IsMuted
            | SettingsField::IsEmployeeOnly
            | SettingsField::NoIncognito => Bool,
            SettingsField::ConversationControls
            | SettingsField::NarrowCastSpaceType
            | SettingsField::MaxGuestSessions
            | SettingsField::MaxAdminCapacity => Integer,
        },
    }
}

/// A field's value as a cell: lists as JSON text. A count beyond `i64`
/// (no real one is) is null.
fn cell(value: FieldValue<'_>) -> Cell {
    match value {
        FieldValue::Absent => Cell::Null,
        FieldValue::Provider(provider) => Cell::Text(provider.as_str().to_owned()),
        FieldValue::Text(text) => Cell::Text(text.into_owned()),
        FieldValue::Time(at) => Cell::Time(at),
        FieldValue::Bool(value) => Cell::Bool(value),
        FieldValue::Count(count) => i64::try_from(count).map_or(Cell::Null, Cell::Integer),
        FieldValue::Number(number) => Cell::Integer(number),
        FieldValue::State(state) => Cell::Text(state.as_str().to_owned()),
        FieldValue::Ids(_) | FieldValue::Users(_) | FieldValue::Topics(_) => {
            serde_json::to_string(&value).map_or(Cell::Null, Cell::Text)
        }
    }
}

fn text(value: Option<&str>) -> Cell {
    value.map_or(Cell::Null, |text| Cell::Text(text.to_owned()))
}

fn time(value: Option<DateTime<Utc>>) -> Cell {
    value.map_or(Cell::Null, Cell::Time)
}

fn count(value: Option<u64>) -> Cell {
    value.and_then(|count| i64::try_from(count).ok()).map_or(Cell::Null, Cell::Integer)
}

/// The content columns of a Space (all null without one).
fn content(space: Option<&Space>, row: &mut Row) {
    match space {
        Some(space) => row.extend(content_fields().map(|field| cell(space.field(field)))),
        None => row.extend(content_fields().map(|_| Cell::Null)),
    }
}

fn space_row(space: &SpaceRow) -> Row {
    let mut row = vec![
        Cell::Text(space.space_id.clone()),
        text(space.user_id.as_deref()),
        Cell::Text(space.phase.as_str().to_owned()),
        time(space.scheduled_start),
        Cell::Time(space.first_seen),
        Cell::Time(space.last_seen),
        Cell::Text(space.provider.as_str().to_owned()),
        Cell::Time(space.retrieved_at),
    ];
    content(space.space.as_ref(), &mut row);
    row
}

fn event_row(event: &Event) -> Row {
    let space = event.space.as_ref();
    let mut row = vec![
        i64::try_from(event.seq).map_or(Cell::Null, Cell::Integer),
        Cell::Text(event.kind.as_str().to_owned()),
        Cell::Text(event.space_id.clone()),
        text(event.user_id.as_deref()),
        Cell::Time(event.at),
        time(space.and_then(|space| space.scheduled_start)),
        text(space.map(|space| space.provider.as_str())),
    ];
    content(space, &mut row);
    row
}

fn sample_row(sample: &Sample) -> Row {
    vec![
        Cell::Text(sample.space_id.clone()),
        Cell::Time(sample.at),
        count(sample.participant_count),
        count(sample.subscriber_count),
        count(sample.speakers),
    ]
}

/// The rows of one table of a store, with their columns: an iterator of
/// rows, read a page at a time, that [`write`](Export::write) writes in a format.
pub struct Export<'a> {
    columns: Vec<Column>,
    rows: Box<dyn Iterator<Item = Result<Row, StoreError>> + 'a>,
}

impl<'a> Export<'a> {
    /// The table `table` of `store`.
    pub fn new(store: &'a Store, table: Table) -> Export<'a> {
        let rows: Box<dyn Iterator<Item = Result<Row, StoreError>> + 'a> = match table {
            Table::Spaces => Box::new(store.space_rows().map(|row| row.map(|row| space_row(&row)))),
            Table::Events => Box::new(store.event_rows(0).map(|event| event.map(|event| event_row(&event)))),
            Table::Samples => Box::new(store.sample_rows().map(|sample| sample.map(|sample| sample_row(&sample)))),
        };
        Export { columns: columns(table), rows }
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Writes every row in `format`; returns how many rows were written.
    ///
    /// # Errors
    ///
    /// As [`write()`].
    pub fn write(self, format: Format, out: impl Write + Send) -> Result<u64, ExportError> {
        write(format, &self.columns, self.rows, out)
    }
}

impl Iterator for Export<'_> {
    type Item = Result<Row, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

/// Writes `rows` under `columns` in `format`; returns how many rows were written.
///
/// # Errors
///
/// [`ExportError::Store`] when a row cannot be read, [`ExportError::Write`]
/// when `out` fails, [`ExportError::Encode`] when the format's writer
/// refuses, [`ExportError::ParquetNotBuilt`] for Parquet without the
/// `parquet` feature. What was written before the error stays written.
pub fn write(
    format: Format,
    columns: &[Column],
    rows: impl Iterator<Item = Result<Row, StoreError>>,
    out: impl Write + Send,
) -> Result<u64, ExportError> {
    match format {
        Format::Csv => write_csv(columns, rows, out),
        Format::Ndjson => write_ndjson(columns, rows, out),
        #[cfg(feature = "parquet")]
        Format::Parquet => parquet::write(columns, rows, out),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Err(ExportError::ParquetNotBuilt),
    }
}

/// CSV: a header row of the column names, then one record per row.
///
/// # Errors
///
/// As [`write()`].
pub fn write_csv(
    columns: &[Column],
    rows: impl Iterator<Item = Result<Row, StoreError>>,
    out: impl Write,
) -> Result<u64, ExportError> {
    let failed = |error: csv::Error| match error.into_kind() {
        csv::ErrorKind::Io(error) => ExportError::Write(error),
        other => ExportError::Encode { format: Format::Csv, detail: format!("{other:?}") },
    };
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(columns.iter().map(|column| column.name)).map_err(failed)?;
    let mut record = csv::StringRecord::with_capacity(1024, columns.len());
    let mut written = 0;
    for row in rows {
        record.clear();
        for cell in &row? {
            record.push_field(&cell.text());
        }
        writer.write_record(&record).map_err(failed)?;
        written += 1;
    }
    writer.flush().map_err(ExportError::Write)?;
    Ok(written)
}

/// NDJSON: one flat object per row ([`Record`]).
///
/// # Errors
///
/// As [`write()`].
pub fn write_ndjson(
    columns: &[Column],
    rows: impl Iterator<Item = Result<Row, StoreError>>,
    out: impl Write,
) -> Result<u64, ExportError> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let mut written = 0;
    for row in rows {
        let row = row?;
        serde_json::to_writer(&mut out, &Record::new(columns, &row)).map_err(|error| {
            if error.is_io() {
                ExportError::Write(io::Error::from(error))
            } else {
                ExportError::Encode { format: Format::Ndjson, detail: error.to_string() }
            }
        })?;
        out.write_all(b"\n").map_err(ExportError::Write)?;
        written += 1;
    }
    out.flush().map_err(ExportError::Write)?;
    Ok(written)
}

#[cfg(feature = "parquet")]
mod parquet {
    //! The Parquet writer: the `parquet` crate's column writers, without
    //! Arrow. Each column is `OPTIONAL`: text `BYTE_ARRAY (STRING)`, JSON
    //! `BYTE_ARRAY (JSON)`, integers `INT64`, yes/no `BOOLEAN`, times
    //! `INT64 (TIMESTAMP(MICROS, true))`.

    use std::io::{self, Write};
    use std::sync::Arc;

    use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as PhysicalType};
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
    use parquet::errors::ParquetError;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;

    use super::{Cell, Column, ColumnType, ExportError, Format, ROW_GROUP_ROWS, Row};
    use crate::watch::store::StoreError;

    pub fn write(
        columns: &[Column],
        rows: impl Iterator<Item = Result<Row, StoreError>>,
        out: impl Write + Send,
    ) -> Result<u64, ExportError> {
        let mut sink = Sink { out, error: None };
        let written = write_to(columns, rows, &mut sink);
        written.map_err(|error| match (error, sink.error.take()) {
            // The writer's own error wraps the output's: give the output's, with its kind.
            (ExportError::Encode { .. }, Some(error)) => ExportError::Write(error),
            (error, _) => error,
        })
    }

    fn write_to<W: Write + Send>(
        columns: &[Column],
        rows: impl Iterator<Item = Result<Row, StoreError>>,
        sink: &mut Sink<W>,
    ) -> Result<u64, ExportError> {
        let schema = Arc::new(schema(columns).map_err(failed)?);
        let properties =
            WriterProperties::builder().set_created_by(format!("spaces {}", env!("CARGO_PKG_VERSION"))).build();
        let mut writer = SerializedFileWriter::new(sink, schema, Arc::new(properties)).map_err(failed)?;
        let mut group: Vec<Row> = Vec::with_capacity(ROW_GROUP_ROWS.min(1024));
        let mut written = 0;
        for row in rows {
            group.push(row?);
            written += 1;
            if group.len() == ROW_GROUP_ROWS {
                row_group(&mut writer, columns, &group)?;
                group.clear();
            }
        }
        if !group.is_empty() {
            row_group(&mut writer, columns, &group)?;
        }
        writer.close().map_err(failed)?;
        Ok(written)
    }

    fn failed(error: ParquetError) -> ExportError {
        ExportError::Encode { format: Format::Parquet, detail: error.to_string() }
    }

    /// The output, keeping its first error (the Parquet writer's own errors
    /// lose its kind, which tells a closed pipe from a full disk).
    struct Sink<W> {
        out: W,
        error: Option<io::Error>,
    }

    impl<W: Write> Sink<W> {
        fn keep<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
            result.map_err(|error| {
                let kind = error.kind();
                let message = error.to_string();
                self.error.get_or_insert(error);
                io::Error::new(kind, message)
            })
        }
    }

    impl<W: Write> Write for Sink<W> {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let result = self.out.write(bytes);
            self.keep(result)
        }

        fn flush(&mut self) -> io::Result<()> {
            let result = self.out.flush();
            self.keep(result)
        }
    }

    fn schema(columns: &[Column]) -> Result<Type, ParquetError> {
        let fields = columns
            .iter()
            .map(|column| {
                let (physical, logical) = match column.kind {
                    ColumnType::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                    ColumnType::Json => (PhysicalType::BYTE_ARRAY, Some(LogicalType::Json)),
                    ColumnType::Integer => (PhysicalType::INT64, None),
                    ColumnType::Bool => (PhysicalType::BOOLEAN, None),
                    ColumnType::Time => (PhysicalType::INT64, Some(LogicalType::timestamp(true, TimeUnit::MICROS))),
                };
                Type::primitive_type_builder(column.name, physical)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Type::group_type_builder("spaces").with_fields(fields).build()
    }

    /// One row group: each column in turn, its values and definition
    /// levels (1 for a value, 0 for null; a cell not of the column's type
    /// is null).
    fn row_group<W: Write + Send>(
        writer: &mut SerializedFileWriter<W>,
        columns: &[Column],
        rows: &[Row],
    ) -> Result<(), ExportError> {
        let mut group = writer.next_row_group().map_err(failed)?;
        for (index, column) in columns.iter().enumerate() {
            let mut chunk = group
                .next_column()
                .map_err(failed)?
                .ok_or_else(|| failed(ParquetError::General(format!("no column {} in the schema", column.name))))?;
            let cells = rows.iter().map(|row| row.get(index).unwrap_or(&Cell::Null));
            let written = match column.kind {
                ColumnType::Text | ColumnType::Json => {
                    let (values, levels) = values(cells, |cell| match cell {
                        Cell::Text(text) => Some(ByteArray::from(text.as_bytes().to_vec())),
                        _ => None,
                    });
                    chunk.typed::<ByteArrayType>().write_batch(&values, Some(&levels), None)
                }
                ColumnType::Integer => {
                    let (values, levels) = values(cells, |cell| match cell {
                        Cell::Integer(number) => Some(*number),
                        _ => None,
                    });
                    chunk.typed::<Int64Type>().write_batch(&values, Some(&levels), None)
                }
                ColumnType::Bool => {
                    let (values, levels) = values(cells, |cell| match cell {
                        Cell::Bool(value) => Some(*value),
                        _ => None,
                    });
                    chunk.typed::<BoolType>().write_batch(&values, Some(&levels), None)
                }
                ColumnType::Time => {
                    let (values, levels) = values(cells, |cell| match cell {
                        Cell::Time(at) => Some(at.timestamp_micros()),
                        _ => None,
                    });
                    chunk.typed::<Int64Type>().write_batch(&values, Some(&levels), None)
                }
            };
            written.map_err(failed)?;
            chunk.close().map_err(failed)?;
        }
        group.close().map_err(failed)?;
        Ok(())
    }

    /// The present values of a column and the definition level of each row.
    fn values<'c, T>(cells: impl Iterator<Item = &'c Cell>, value: impl Fn(&Cell) -> Option<T>) -> (Vec<T>, Vec<i16>) {
        let mut values = Vec::new();
        let mut levels = Vec::new();
        for cell in cells {
            match value(cell) {
                Some(present) => {
                    values.push(present);
                    levels.push(1);
                }
                None => levels.push(0),
            }
        }
        (values, levels)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A Space with every field of the model set.
    fn full() -> Space {
        let user = |id: &str| {
            json!({
                "id": id, "username": "u", "name": "n", "description": "d", "location": "l", "url": "https://x.com",
                "created_at": "2007-06-16T00:14:36Z", "protected": false, "verified": true, "verified_type": "blue",
                "followers_count": 1, "following_count": 2, "tweet_count": 3, "listed_count": 4,
                "profile_image_url": "https://pbs.twimg.com/a.jpg"
            })
        };
        serde_json::from_value(json!({
            "provider": "x", "id": "1jMJgLdenVjxL", "state": "live", "state_raw": "live", "title": "t", "lang": "en",
            "media_key": "28_1", "created_at": "2023-03-31T18:38:03Z", "updated_at": "2023-03-31T18:38:04Z",
            "scheduled_start": "2023-03-31T19:00:00Z", "started_at": "2023-03-31T19:00:01Z",
            "ended_at": "2023-03-31T20:00:00Z", "is_ticketed": false, "creator_id": "2244994945",
            "creator": user("2244994945"), "host_ids": ["1"], "speaker_ids": ["2"], "invited_user_ids": ["3"],
            "hosts": [user("1")], "speakers": [user("2")], "invited_users": [user("3")], "topic_ids": ["9"],
            "topics": [{"id": "9", "name": "Tech", "description": "d"}], "participant_count": 5,
            "subscriber_count": 6, "total_live_listeners": 7, "total_replay_watched": 8, "replay_available": true,
            "clipping_available": false,
            "settings": {
                "disallow_join": false, "is_locked": true, "is_muted": false, "is_employee_only": false,
                "conversation_controls": 0, "narrow_cast_space_type": 1, "no_incognito": true,
                "max_guest_sessions": 10, "max_admin_capacity": 2
            }
        }))
        .expect("a full Space")
    }

    fn kind_of(cell: &Cell) -> Option<ColumnType> {
        match cell {
            Cell::Null => None,
            Cell::Text(text) if text.starts_with('[') => Some(ColumnType::Json),
            Cell::Text(_) => Some(ColumnType::Text),
            Cell::Integer(_) => Some(ColumnType::Integer),
            Cell::Bool(_) => Some(ColumnType::Bool),
            Cell::Time(_) => Some(ColumnType::Time),
        }
    }

    #[test]
    fn every_field_has_a_column_of_its_values_type() {
        let space = full();
        for (field, value) in space.fields() {
            assert!(!value.is_absent(), "{field}: the full Space has every field");
            assert_eq!(kind_of(&cell(value)), Some(column_type(field)), "{field}");
        }
    }

    #[test]
    fn columns_are_named_once_each_and_rows_fit_them() {
        for &table in Table::ALL {
            let columns = columns(table);
            let mut names: Vec<&str> = columns.iter().map(|column| column.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), columns.len(), "{table}: a column name twice");
        }
        let space = full();
        let at = Utc::now();
        let row = space_row(&SpaceRow {
            space_id: space.id.clone(),
            user_id: Some("2244994945".into()),
            phase: crate::watch::lifecycle::Phase::Live,
            scheduled_start: space.scheduled_start,
            first_seen: at,
            last_seen: at,
            provider: space.provider,
            retrieved_at: at,
            space: Some(space.clone()),
        });
        let columns = columns(Table::Spaces);
        assert_eq!(row.len(), columns.len());
        for (column, cell) in columns.iter().zip(&row) {
            assert_eq!(kind_of(cell), Some(column.kind), "{}", column.name);
        }
        let event = Event {
            seq: 7,
            kind: crate::watch::lifecycle::EventKind::Started,
            space_id: space.id.clone(),
            user_id: None,
            at,
            space: Some(space),
        };
        let columns = super::columns(Table::Events);
        let row = event_row(&event);
        assert_eq!(row.len(), columns.len());
        for (column, cell) in columns.iter().zip(&row) {
            if column.name != "user_id" {
                assert_eq!(kind_of(cell), Some(column.kind), "{}", column.name);
            }
        }
        let gone = Event { kind: crate::watch::lifecycle::EventKind::Gone, space: None, ..event };
        let row = event_row(&gone);
        assert_eq!(row.len(), columns.len());
        assert!(row[5..].iter().all(|cell| *cell == Cell::Null), "a gone event has no content");
    }

    #[test]
    fn leading_columns_then_the_spaces_fields_with_dotted_names() {
        let names = |table| columns(table).into_iter().map(|column| column.name).collect::<Vec<_>>();
        let spaces = names(Table::Spaces);
        assert_eq!(
            spaces[..10],
            [
                "space_id",
                "user_id",
                "phase",
                "scheduled_start",
                "first_seen",
                "last_seen",
                "provider",
                "retrieved_at",
                "state",
                "state_raw"
            ]
        );
        assert!(spaces.contains(&"creator.username") && spaces.contains(&"settings.is_locked"));
        assert!(!spaces.contains(&"id"));
        let events = names(Table::Events);
        assert_eq!(events[..7], ["seq", "type", "space_id", "user_id", "at", "scheduled_start", "provider"]);
        assert_eq!(events[7..], spaces[8..], "events and spaces share their content columns");
        assert_eq!(names(Table::Samples), ["space_id", "at", "participant_count", "subscriber_count", "speakers"]);
    }

    #[test]
    fn a_space_on_its_own_has_every_field_under_the_stores_names() {
        let space = full();
        let columns = space_columns();
        let row = space_cells(&space);
        assert_eq!(columns.len(), row.len());
        assert_eq!(columns[..3].iter().map(|column| column.name).collect::<Vec<_>>(), ["provider", "id", "state"]);
        let stored = super::columns(Table::Spaces);
        for (column, cell) in columns.iter().zip(&row) {
            assert_eq!(kind_of(cell), Some(column.kind), "{}", column.name);
            if let Some(same) = stored.iter().find(|stored| stored.name == column.name) {
                assert_eq!(same.kind, column.kind, "{}: as in the store", column.name);
            }
        }
    }

    #[test]
    fn names_parse_back() {
        for &table in Table::ALL {
            assert_eq!(table.as_str().parse::<Table>(), Ok(table));
        }
        for &format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert!("users".parse::<Table>().is_err() && "xlsx".parse::<Format>().is_err());
        assert_eq!(Format::Parquet.is_built(), cfg!(feature = "parquet"));
    }
}
