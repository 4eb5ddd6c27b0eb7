//! `--format` and `--fields`, resolved for one command: which format it
//! prints in, which columns a table or CSV has, and the writer that streams
//! a list of Spaces in that format (JSON as one array written element by
//! element, NDJSON line by line, CSV row by row), flushing each, so that a
//! run cut short keeps every Space it printed.
//!
//! CSV has the columns of [`spaces::watch::export::space_columns`]: the
//! store's flattening (dotted names, lists as JSON text), one home for it.
//! Provider text in a table or a CSV cell goes through [`shown`], as
//! everywhere that is not JSON.

use std::io::{self, IsTerminal};

use serde::Serialize;
use spaces::Space;
use spaces::watch::export::{Cell, Column, space_cells, space_columns};

use crate::args::{Format, OutputArgs};
use crate::exit::{Exit, Failure};
use crate::output::{json_line, shown, write_stdout_bytes};
use crate::table::{self, Row};

/// What a command prints as one Space: a Space, or one merged from several
/// providers (its JSON adds `sources` and `conflicts`; a CSV row or a table
/// has its Space's columns).
pub trait Item: Serialize {
    /// The Space a CSV row or a table row shows.
    fn space(&self) -> &Space;
}

impl Item for Space {
    fn space(&self) -> &Space {
        self
    }
}

impl Item for spaces::Merged {
    fn space(&self) -> &Space {
        &self.space
    }
}

/// How a command prints its Spaces, once its options are checked.
#[derive(Clone, Debug)]
pub struct Output {
    pub format: Format,
    /// Every column a Space has.
    columns: Vec<Column>,
    /// The columns `--fields` picked (indexes in `columns`, in the order
    /// given); empty: the format's own.
    picked: Vec<usize>,
    /// Provider text in CSV is escaped ([`shown`]) when stdout is a
    /// terminal, as `spaces export` does; a file or a pipe gets it as it is.
    escape_csv: bool,
}

impl OutputArgs {
    /// The format for `command` (as messages show it: "`spaces search`"): the one
    /// asked, else `default`. A format in `refused` (with why) is a usage
    /// error naming the format and the command, as are `--fields` with
    /// JSON or NDJSON and a field that does not exist.
    pub fn resolve(&self, command: &str, default: Format, refused: &[(Format, &str)]) -> Result<Output, Failure> {
        let format = self.format.unwrap_or(default);
        if let Some((_, why)) = refused.iter().find(|(refused, _)| *refused == format) {
            let message = format!("--format {} does not apply to {command}: {why}", format.as_str());
            return Err(Failure::new(Exit::Usage, message));
        }
        if self.fields.is_empty() {
            return Ok(Output::of(format));
        }
        if matches!(format, Format::Json | Format::Ndjson) {
            let message = format!(
                "--fields picks the columns of --format table or csv; {command} prints every field as {}",
                format.as_str()
            );
            return Err(Failure::new(Exit::Usage, message));
        }
        let columns = space_columns();
        let picked = self
            .fields
            .iter()
            .map(|name| {
                let name = name.trim();
                columns.iter().position(|column| column.name == name).ok_or_else(|| {
                    let names: Vec<&str> = columns.iter().map(|column| column.name).collect();
                    let message = format!("--fields: no field `{}`; the fields are: {}", shown(name), names.join(", "));
                    Failure::new(Exit::Usage, message)
                })
            })
            .collect::<Result<Vec<usize>, Failure>>()?;
        Ok(Output { picked, ..Output::of(format) })
    }
}

impl Output {
    /// `format` with its own columns (no `--fields`).
    pub fn of(format: Format) -> Output {
        let escape_csv = io::stdout().is_terminal();
        Output { format, columns: space_columns(), picked: Vec::new(), escape_csv }
    }

    /// The names `--fields` picked; empty without it.
    pub fn fields(&self) -> Vec<&'static str> {
        self.picked.iter().map(|&index| self.columns[index].name).collect()
    }

    /// The columns a CSV or a picked table has, as indexes in `columns`.
    fn shown_columns(&self) -> Vec<usize> {
        if self.picked.is_empty() { (0..self.columns.len()).collect() } else { self.picked.clone() }
    }

    /// The CSV header row, with its newline.
    fn csv_header(&self) -> Result<Vec<u8>, String> {
        csv_record(self.shown_columns().into_iter().map(|index| self.columns[index].name.to_owned()))
    }

    /// One Space as a CSV row, with its newline.
    fn csv_row(&self, space: &Space) -> Result<Vec<u8>, String> {
        let cells = space_cells(space);
        csv_record(self.shown_columns().into_iter().map(|index| match cells.get(index) {
            Some(cell) if self.escape_csv => shown(&cell.text()).into_owned(),
            Some(cell) => cell.text().into_owned(),
            None => String::new(),
        }))
    }

    /// One item of a list as the format writes it (without a separator or
    /// newline for JSON and NDJSON): `value` as compact JSON, or its Space as
    /// a CSV row. Nothing for a table, which is rendered at the end.
    pub fn item(&self, value: &impl Item) -> Result<Vec<u8>, String> {
        match self.format {
            Format::Json | Format::Ndjson => {
                let mut line = Vec::new();
                json_line(&mut line, value).map(|()| line).map_err(|error| error.to_string())
            }
            Format::Csv => self.csv_row(value.space()),
            Format::Table => Ok(Vec::new()),
        }
    }

    /// The table of the columns `--fields` picked, one row per Space, in at
    /// most `width` columns; `None` without `--fields` (the command's own
    /// table applies).
    pub fn picked_table(&self, spaces: &[&Space], width: usize) -> Option<String> {
        if self.picked.is_empty() {
            return None;
        }
        let header: Vec<String> = self.fields().into_iter().map(str::to_owned).collect();
        let rows: Vec<Row> = spaces
            .iter()
            .map(|space| {
                let cells = space_cells(space);
                let cells = self
                    .picked
                    .iter()
                    .map(|&index| match cells.get(index) {
                        None | Some(Cell::Null) => "—".to_owned(),
                        Some(cell) => shown(&cell.text()).into_owned(),
                    })
                    .collect();
                Row { marked: false, cells }
            })
            .collect();
        Some(table::render_fitted(&header, &rows, width))
    }
}

/// One CSV record (RFC 4180 quoting, by the `csv` crate) and its newline.
fn csv_record(fields: impl IntoIterator<Item = String>) -> Result<Vec<u8>, String> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    writer.write_record(fields).map_err(|error| error.to_string())?;
    writer.into_inner().map_err(|error| error.to_string())
}

fn serialize_failure(error: &str) -> Failure {
    Failure::new(Exit::Failure, format!("cannot serialize a Space: {error}"))
}

/// Writes a list of Spaces to stdout as they come: JSON as one array
/// (`[`, each Space, `]`: the array is closed by [`end`](Self::end), so
/// it is whole unless the process is killed), NDJSON a line each, CSV a
/// header then a row each. Each item is flushed as it is written. A table
/// is not written here: it needs every row to size its columns.
pub struct Writer {
    format: Format,
    items: usize,
}

impl Writer {
    /// Starts the list: `[` for JSON, the header row for CSV.
    pub fn start(output: &Output) -> Result<Writer, Failure> {
        match output.format {
            Format::Json => write_stdout_bytes(b"[")?,
            Format::Csv => write_stdout_bytes(&output.csv_header().map_err(|error| serialize_failure(&error))?)?,
            Format::Ndjson | Format::Table => {}
        }
        Ok(Writer { format: output.format, items: 0 })
    }

    /// Writes one item, as [`Output::item`] made it.
    pub fn item(&mut self, item: &[u8]) -> Result<(), Failure> {
        let mut bytes = Vec::with_capacity(item.len() + 2);
        match self.format {
            Format::Json => {
                bytes.extend_from_slice(if self.items == 0 { b"\n" } else { b",\n" });
                bytes.extend_from_slice(item);
            }
            Format::Ndjson => {
                bytes.extend_from_slice(item);
                bytes.push(b'\n');
            }
            Format::Csv => bytes.extend_from_slice(item),
            Format::Table => return Ok(()),
        }
        self.items += 1;
        write_stdout_bytes(&bytes)
    }

    /// Makes `value` an item and writes it.
    pub fn write(&mut self, output: &Output, value: &impl Item) -> Result<(), Failure> {
        let item = output.item(value).map_err(|error| serialize_failure(&error))?;
        self.item(&item)
    }

    /// Ends the list: `]` for JSON.
    pub fn end(self) -> Result<(), Failure> {
        match self.format {
            Format::Json if self.items == 0 => write_stdout_bytes(b"]\n"),
            Format::Json => write_stdout_bytes(b"\n]\n"),
            Format::Ndjson | Format::Csv | Format::Table => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::args::{Format, OutputArgs};

    fn args(format: Option<Format>, fields: &[&str]) -> OutputArgs {
        OutputArgs { format, fields: fields.iter().map(|field| (*field).to_owned()).collect() }
    }

    #[test]
    fn the_default_applies_and_a_refused_format_names_itself_and_the_command() {
        let output = args(None, &[]).resolve("search", Format::Ndjson, &[]).expect("the default");
        assert_eq!(output.format, Format::Ndjson);
        let refused = args(Some(Format::Table), &[])
            .resolve("show --ids-file", Format::Ndjson, &[(Format::Table, "why")])
            .expect_err("refused");
        assert_eq!(refused.exit as u8, 2);
        assert!(refused.message.contains("--format table") && refused.message.contains("show --ids-file"));
    }

    #[test]
    fn fields_are_flat_names_for_tables_and_csv_only() {
        let output = args(Some(Format::Csv), &["id", " creator.username"]).resolve("show", Format::Json, &[]);
        assert_eq!(output.expect("known fields").fields(), ["id", "creator.username"]);
        let unknown = args(Some(Format::Table), &["id", "nope"]).resolve("show", Format::Json, &[]).expect_err("no");
        assert_eq!(unknown.exit as u8, 2);
        assert!(unknown.message.contains("`nope`") && unknown.message.contains("settings.is_locked"));
        let json = args(None, &["id"]).resolve("show", Format::Json, &[]).expect_err("not with JSON");
        assert!(json.message.contains("--fields") && json.message.contains("json"), "{}", json.message);
    }

    #[test]
    fn csv_quotes_and_escapes_provider_text_for_a_terminal() {
        let space: spaces::Space = serde_json::from_value(serde_json::json!({
            "provider": "x", "id": "1jMJgLdenVjxL", "state": "live", "title": "a, \"b\"\u{1b}[2J"
        }))
        .expect("a Space");
        let mut output = args(Some(Format::Csv), &["id", "title"]).resolve("show", Format::Json, &[]).expect("csv");
        output.escape_csv = true;
        let row = String::from_utf8(output.item(&space).expect("a row")).expect("UTF-8");
        assert_eq!(row, "1jMJgLdenVjxL,\"a, \"\"b\"\"\\u{1b}[2J\"\n");
        output.escape_csv = false;
        let row = String::from_utf8(output.item(&space).expect("a row")).expect("UTF-8");
        assert_eq!(row, "1jMJgLdenVjxL,\"a, \"\"b\"\"\u{1b}[2J\"\n", "a file gets the text as it is");
    }
}
