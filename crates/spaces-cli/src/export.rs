//! `spaces export`: one table of the watch store in flat columns, as CSV,
//! NDJSON or Parquet, to stdout or to a file written atomically. The
//! columns are the library's (`spaces::watch::export`); this module picks
//! where they go.
//!
//! Text from a provider never reaches a terminal raw: NDJSON goes through
//! the terminal-safe JSON writer, CSV on a terminal has its controls
//! escaped (to a pipe or a file it is written as it is), and Parquet is
//! refused on a terminal.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use clap::builder::TypedValueParser;
use spaces::watch::StoreError;
use spaces::watch::export::{self, Cell, Column, Export, ExportError, Format, Record, Row, Table};

use crate::events::{self, DEFAULT_STORE};
use crate::exit::{Exit, Failure};
use crate::output::{closed, json_line, shown};
use crate::stderr::note;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The store a watcher writes (`spaces watch --store`). It must exist.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
    /// The table: `spaces` (one row per Space: the store's columns, provenance
    /// and the latest Space's fields), `events` (one per event, with the Space
    /// it carried) or `samples` (one per sample of a live Space).
    #[arg(long, value_parser = table_parser())]
    pub table: Table,
    /// The format: `csv`, `ndjson` (one flat object per line) or `parquet`
    /// (only in a spaces built with the `parquet` feature; never to a terminal).
    #[arg(long, value_parser = format_parser())]
    pub format: Format,
    /// Write to FILE instead of stdout: a temporary file beside it, renamed to
    /// FILE once complete, so FILE is never half-written. `-` is stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn table_parser() -> impl TypedValueParser<Value = Table> {
    clap::builder::PossibleValuesParser::new(Table::ALL.iter().map(|table| table.as_str()))
        .try_map(|name| name.parse::<Table>())
}

fn format_parser() -> impl TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(Format::ALL.iter().map(|format| format.as_str()))
        .try_map(|name| name.parse::<Format>())
}

/// What `--format parquet` says in a build without it.
const PARQUET_NOT_BUILT: &str = "--format parquet: this spaces was built without Parquet; \
    build it with its `parquet` feature (`cargo install --path crates/spaces-cli --features parquet`)";

pub fn run(args: ExportArgs) -> ExitCode {
    match export(&args) {
        Ok(None) => Exit::Success.into(),
        Ok(Some(signal)) => ExitCode::from(signal),
        Err(failure) => failure.report(),
    }
}

/// Exports; `Some(exit code)` when a signal stopped it.
fn export(args: &ExportArgs) -> Result<Option<u8>, Failure> {
    if !args.format.is_built() {
        return Err(Failure::new(Exit::Usage, PARQUET_NOT_BUILT));
    }
    let file = args.output.as_deref().filter(|path| *path != Path::new("-"));
    let terminal = file.is_none() && io::stdout().is_terminal();
    if terminal && args.format == Format::Parquet {
        return Err(Failure::new(
            Exit::Usage,
            "--format parquet is binary: write it to a file (-o FILE) or a pipe, not to a terminal",
        ));
    }
    let store = events::open(&args.store)?;
    // A signal stops the export between two rows; a file is then not written at all.
    let stop = events::on_signal();
    let export = Export::new(&store, args.table);
    let table = args.table;
    match file {
        None => {
            let out = BufWriter::new(io::stdout());
            let written = write(export, args.format, terminal, &stop, out).map_err(|error| failure(error, "stdout"))?;
            if let Some(code) = signal(&stop) {
                note!("interrupted: {written} {} of {table} written, the rest not", rows(written));
                return Ok(Some(code));
            }
            note!("{table}: {written} {} written", rows(written));
        }
        Some(path) => {
            let to_file = |out: &mut BufWriter<File>| write(export, args.format, false, &stop, out);
            let Some(written) = write_atomically(path, &stop, to_file)? else {
                note!("interrupted: {} not written", path.display());
                return Ok(signal(&stop));
            };
            note!("{table}: {written} {} written to {}", rows(written), path.display());
        }
    }
    Ok(None)
}

fn rows(count: u64) -> &'static str {
    if count == 1 { "row" } else { "rows" }
}

/// The exit code of the signal that stopped the export, if one did.
fn signal(stop: &Stop) -> Option<u8> {
    match *stop.borrow() {
        0 => None,
        code => Some(code),
    }
}

/// What [`events::on_signal`] gives.
type Stop = tokio::sync::watch::Receiver<u8>;

/// Writes the rows (until a signal) in `format` to `out`.
fn write(
    export: Export<'_>,
    format: Format,
    terminal: bool,
    stopped: &Stop,
    out: impl Write + Send,
) -> Result<u64, ExportError> {
    let columns = export.columns().to_vec();
    let rows = export.take_while(|_| signal(stopped).is_none());
    match format {
        Format::Ndjson => write_ndjson(&columns, rows, out),
        Format::Csv if terminal => export::write_csv(&columns, rows.map(|row| row.map(escaped)), out),
        format => export::write(format, &columns, rows, out),
    }
}

/// A row's text as a terminal may show it.
fn escaped(row: Row) -> Row {
    row.into_iter()
        .map(|cell| match cell {
            Cell::Text(text) => Cell::Text(shown(&text).into_owned()),
            other => other,
        })
        .collect()
}

/// NDJSON through the CLI's terminal-safe writer: the same JSON as the
/// library's, with terminal controls as `\uXXXX`.
fn write_ndjson(
    columns: &[Column],
    rows: impl Iterator<Item = Result<Row, StoreError>>,
    mut out: impl Write,
) -> Result<u64, ExportError> {
    let mut buffer = Vec::with_capacity(64 * 1024);
    let mut written = 0;
    for row in rows {
        let row = row?;
        json_line(&mut buffer, &Record::new(columns, &row))
            .map_err(|error| ExportError::Write(io::Error::other(error)))?;
        buffer.push(b'\n');
        written += 1;
        if buffer.len() >= 64 * 1024 {
            out.write_all(&buffer).map_err(ExportError::Write)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer).and_then(|()| out.flush()).map_err(ExportError::Write)?;
    Ok(written)
}

/// Writes `.<name>.<pid>.tmp` beside `path`, then renames it to `path`;
/// `None` when a signal stopped it. The temporary file is removed on any
/// failure or signal.
fn write_atomically(
    path: &Path,
    stopped: &Stop,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<u64, ExportError>,
) -> Result<Option<u64>, Failure> {
    let Some(name) = path.file_name() else {
        return Err(Failure::new(Exit::Usage, format!("-o {}: not a file name", path.display())));
    };
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temporary = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .map_err(|error| Failure::new(Exit::Failure, format!("cannot create {}: {error}", temporary.display())))?;
    let mut out = BufWriter::new(file);
    let shown = path.display().to_string();
    let written = write(&mut out).map_err(|error| failure(error, &shown)).and_then(|written| {
        if signal(stopped).is_some() {
            return Ok(None);
        }
        let file = out.into_inner().map_err(|error| write_error(error.error(), &shown))?;
        file.sync_all().map_err(|error| write_error(&error, &shown))?;
        std::fs::rename(&temporary, path).map_err(|error| write_error(&error, &shown))?;
        Ok(Some(written))
    });
    if !matches!(written, Ok(Some(_))) {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

fn write_error(error: &io::Error, to: &str) -> Failure {
    Failure::new(Exit::Failure, format!("cannot write {to}: {error}"))
}

/// An export's failure: a closed stdout ends quietly (exit 0), like every command.
fn failure(error: ExportError, to: &str) -> Failure {
    match error {
        ExportError::Write(error) if error.kind() == io::ErrorKind::BrokenPipe => closed(),
        ExportError::Write(error) => write_error(&error, to),
        ExportError::ParquetNotBuilt => Failure::new(Exit::Usage, PARQUET_NOT_BUILT),
        other => Failure::new(Exit::Failure, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use spaces::watch::export::Cell;

    #[test]
    fn csv_on_a_terminal_has_its_text_escaped_and_nothing_else_changed() {
        let row =
            vec![Cell::Text("a\u{1b}[31m\u{202e}b, \"c\"".into()), Cell::Integer(1), Cell::Null, Cell::Bool(true)];
        let expected =
            vec![Cell::Text("a\\u{1b}[31m\\u{202e}b, \"c\"".into()), Cell::Integer(1), Cell::Null, Cell::Bool(true)];
        assert_eq!(super::escaped(row), expected);
    }
}
