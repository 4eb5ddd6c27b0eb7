//! Fitting output to the terminal: its width, word wrapping, and the
//! `compare`/`demo` table, whose cells wrap so that no line is wider than
//! the terminal.

use std::io::{self, IsTerminal};

use unicode_width::UnicodeWidthChar;

use crate::output::shown;

/// The width used when neither `COLUMNS` nor a terminal says otherwise.
pub const DEFAULT_WIDTH: usize = 80;

/// A value column is never made narrower than this (or its header), unless
/// the terminal is too narrow for even that; then headers may wrap too.
/// With [`MAX_CELL_LINES`], a cell still shows as much as the 36 characters
/// cells were once cut at.
const MIN_COLUMN: usize = 6;

/// The field column, when it must shrink, keeps at least this much.
const MIN_FIELD_COLUMN: usize = 12;

/// A cell shows at most this many lines; a longer one ends in `…`.
const MAX_CELL_LINES: usize = 6;

/// `* ` or two spaces before every line.
const MARKER: usize = 2;

/// Between the field column and the first value column.
const FIELD_GAP: usize = 2;

/// The output width: `COLUMNS` when it is set to a positive number, else the
/// terminal's width when stdout is a terminal ([`DEFAULT_WIDTH`] if it
/// cannot be read), else unlimited: output piped to a file or to `grep` is
/// never wrapped.
pub fn width() -> usize {
    let columns = std::env::var("COLUMNS").ok().and_then(|value| value.trim().parse::<usize>().ok());
    if let Some(columns) = columns.filter(|&columns| columns > 0) {
        return columns;
    }
    if !io::stdout().is_terminal() {
        return UNLIMITED;
    }
    match terminal_size::terminal_size() {
        Some((terminal_size::Width(columns), _)) if columns > 0 => usize::from(columns),
        _ => DEFAULT_WIDTH,
    }
}

/// The width of output that is not a terminal: lines are never wrapped.
pub const UNLIMITED: usize = usize::MAX;

/// The columns a character takes: its display width, and at least one, so
/// that a line's character count never exceeds its measured width either.
fn char_width(c: char) -> usize {
    c.width().unwrap_or(0).max(1)
}

/// The columns a string takes (see [`char_width`]).
pub fn text_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// Wraps `text` into lines at most `width` columns wide: at spaces, breaking
/// a word longer than a line wherever it must. Line breaks in the text are
/// kept; runs of spaces, tabs and other control characters become one space.
/// Always at least one line (an empty one for empty text).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0;
        for word in paragraph.split(|c: char| c.is_whitespace() || c.is_control()).filter(|word| !word.is_empty()) {
            let word_width = text_width(word);
            if line_width > 0 && line_width + 1 + word_width <= width {
                line.push(' ');
                line.push_str(word);
                line_width += 1 + word_width;
                continue;
            }
            if line_width > 0 {
                lines.push(std::mem::take(&mut line));
                line_width = 0;
            }
            for c in word.chars() {
                if line_width > 0 && line_width + char_width(c) > width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0;
                }
                line.push(c);
                line_width += char_width(c);
            }
        }
        lines.push(line);
    }
    lines
}

/// A table cell in lines at most `width` columns wide: wrapped at spaces
/// like [`wrap`], but a word longer than a line (an id, a timestamp, a URL)
/// is never broken in two: it is cut, ending in `…`.
pub fn wrap_cell(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0;
        for word in units(paragraph) {
            let word = cut(&word, width);
            let word_width = text_width(&word);
            if line_width > 0 && line_width + 1 + word_width > width {
                lines.push(std::mem::take(&mut line));
                line_width = 0;
            }
            if line_width > 0 {
                line.push(' ');
                line_width += 1;
            }
            line.push_str(&word);
            line_width += word_width;
        }
        lines.push(line);
    }
    lines
}

/// The words of a line that wrapping must keep whole: split at spaces, but a
/// date and the time after it (`2023-03-31 18:38:03`) are one.
fn units(paragraph: &str) -> Vec<String> {
    let is_date = |word: &str| {
        word.len() == 10
            && word
                .bytes()
                .enumerate()
                .all(|(at, byte)| if at == 4 || at == 7 { byte == b'-' } else { byte.is_ascii_digit() })
    };
    let is_time = |word: &str| {
        (word.len() == 5 || word.len() == 8)
            && word.bytes().enumerate().all(|(at, byte)| if at % 3 == 2 { byte == b':' } else { byte.is_ascii_digit() })
    };
    let mut units: Vec<String> = Vec::new();
    for word in paragraph.split(|c: char| c.is_whitespace() || c.is_control()).filter(|word| !word.is_empty()) {
        match units.last_mut() {
            Some(date) if is_date(date) && is_time(word) => {
                date.push(' ');
                date.push_str(word);
            }
            _ => units.push(word.to_owned()),
        }
    }
    units
}

/// `word` in at most `width` columns: as it is, or cut ending in `…`.
fn cut(word: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if text_width(word) <= width {
        return std::borrow::Cow::Borrowed(word);
    }
    let mut kept = String::new();
    let mut kept_width = 0;
    for c in word.chars() {
        if kept_width + char_width(c) + 1 > width {
            break;
        }
        kept.push(c);
        kept_width += char_width(c);
    }
    kept.push('…');
    std::borrow::Cow::Owned(kept)
}

/// `text` wrapped to `width`, as lines ending in `\n`.
pub fn fill(text: &str, width: usize) -> String {
    wrap(text, width).into_iter().map(|line| line + "\n").collect()
}

/// At most `max_lines` of `lines`; when some are dropped, the last one kept
/// ends in `…` (within `width`).
fn clip(mut lines: Vec<String>, max_lines: usize, width: usize) -> Vec<String> {
    if lines.len() <= max_lines {
        return lines;
    }
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        while !last.is_empty() && text_width(last) + 1 > width {
            last.pop();
        }
        last.truncate(last.trim_end().len());
        last.push('…');
    }
    lines
}

/// One table row: whether it is marked `*`, and its cells (the first is the
/// field name).
pub struct Row {
    pub marked: bool,
    pub cells: Vec<String>,
}

/// Renders `header` and `rows` in at most `width` columns (unless even the
/// narrowest layout is wider), each line starting with `* ` for a marked row
/// or two spaces. A cell wraps within its column; a row's first line starts
/// with its first cell (the field name), which is wrapped only if the
/// terminal leaves no other way.
pub fn render(header: &[String], rows: &[Row], width: usize) -> String {
    let widths = column_widths(header, rows, width);
    let mut out = String::new();
    render_row(&mut out, false, header, &widths);
    for row in rows {
        render_row(&mut out, row.marked, &row.cells, &widths);
    }
    out
}

fn render_row(out: &mut String, marked: bool, cells: &[String], widths: &Layout) {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(&widths.columns)
        .map(|(cell, &width)| clip(wrap_cell(&shown(cell), width), MAX_CELL_LINES, width))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    for index in 0..height {
        let mut line = String::from(if marked && index == 0 { "* " } else { "  " });
        for (column, (lines, &width)) in wrapped.iter().zip(&widths.columns).enumerate() {
            if column > 0 {
                let gap = if column == 1 { FIELD_GAP } else { widths.gap };
                line.extend(std::iter::repeat_n(' ', gap));
            }
            let text = lines.get(index).map_or("", String::as_str);
            line.push_str(text);
            line.extend(std::iter::repeat_n(' ', width.saturating_sub(text_width(text))));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// A value column is never narrower than this in a table, nor than the
/// widest word it must keep whole (an id, a timestamp): narrower, one block
/// per row reads better.
const MIN_VALUE_COLUMN: usize = 8;

/// `header` and `rows` as a table when it fits `width` with readable value
/// columns, else one block per row ([`render_blocks`]).
pub fn render_fitted(header: &[String], rows: &[Row], width: usize) -> String {
    if fits(header, rows, width) { render(header, rows, width) } else { render_blocks(header, rows, width) }
}

/// Whether `header` and `rows` fit `width` with every value column at
/// least its widest word and [`MIN_VALUE_COLUMN`] wide (or its natural
/// width, when narrower): else [`render_blocks`] reads better.
fn fits(header: &[String], rows: &[Row], width: usize) -> bool {
    let cells = |column: usize| {
        std::iter::once(&header[column]).chain(rows.iter().filter_map(move |row| row.cells.get(column)))
    };
    let natural = |column: usize| cells(column).map(|cell| text_width(&shown(cell))).max().unwrap_or(0);
    let widest_word = |column: usize| {
        cells(column).flat_map(|cell| units(&shown(cell))).map(|word| text_width(&word)).max().unwrap_or(0)
    };
    let Some(field) = (0..header.len()).next().map(natural) else { return true };
    let values: usize =
        (1..header.len()).map(|column| natural(column).min(widest_word(column).max(MIN_VALUE_COLUMN))).sum();
    let gaps = header.len().saturating_sub(2);
    MARKER + field + FIELD_GAP + gaps + values <= width
}

/// One block per row, psql's expanded display (`\x`), for a terminal too
/// narrow for the columns: `-[ field ]---` and then one line per value
/// column, its header and its value (wrapped at spaces, a word too long cut
/// with `…`); marked rows start with `* `.
fn render_blocks(header: &[String], rows: &[Row], width: usize) -> String {
    let label = header.iter().skip(1).map(|name| text_width(name)).max().unwrap_or(0);
    let value_width = width.saturating_sub(MARKER + label + FIELD_GAP).max(MIN_COLUMN);
    let title_of = |name: &String| format!("-[ {} ]", cut(&shown(name), width.saturating_sub(MARKER + 5).max(1)));
    // Every block's rule ends in the same column: a few dashes past the longest title.
    let rule_end = rows
        .iter()
        .filter_map(|row| row.cells.first())
        .map(|name| text_width(&title_of(name)) + 4)
        .max()
        .unwrap_or(0)
        .min(width.saturating_sub(MARKER));
    let mut out = String::new();
    for row in rows {
        let Some((name, values)) = row.cells.split_first() else { continue };
        let title = title_of(name);
        let rule = rule_end.saturating_sub(text_width(&title));
        out.push_str(if row.marked { "* " } else { "  " });
        out.push_str(&title);
        out.extend(std::iter::repeat_n('-', rule));
        out.push('\n');
        for (name, value) in header.iter().skip(1).zip(values) {
            for (index, line) in
                clip(wrap_cell(&shown(value), value_width), MAX_CELL_LINES, value_width).iter().enumerate()
            {
                let name = if index == 0 { name.as_str() } else { "" };
                let padding = label.saturating_sub(text_width(name));
                let text = format!("  {name}{}  {line}", " ".repeat(padding));
                out.push_str(text.trim_end());
                out.push('\n');
            }
        }
    }
    out
}

/// Each column's width, and the gap between value columns.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    columns: Vec<usize>,
    gap: usize,
}

/// Chooses column widths for `width`: every column at its natural width if
/// that fits; else value columns share the room, none narrower than its
/// header or [`MIN_COLUMN`], with two spaces between them, or one if that
/// is what it takes; else headers may wrap and the field column shrinks
/// (down to [`MIN_FIELD_COLUMN`]). Past that, lines overflow.
fn column_widths(header: &[String], rows: &[Row], width: usize) -> Layout {
    let natural: Vec<usize> = (0..header.len())
        .map(|column| {
            std::iter::once(&header[column])
                .chain(rows.iter().filter_map(|row| row.cells.get(column)))
                .flat_map(|cell| wrap_cell(&shown(cell), usize::MAX))
                .map(|line| text_width(&line))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let Some((&field, values)) = natural.split_first() else { return Layout { columns: Vec::new(), gap: 2 } };
    let fixed = |field: usize, gap: usize| MARKER + field + FIELD_GAP + gap * values.len().saturating_sub(1);
    // Each value column starts as wide as its widest word (an id, a
    // timestamp: never cut when there is room) and its header.
    let widest_word = |column: usize| {
        std::iter::once(&header[column])
            .chain(rows.iter().filter_map(|row| row.cells.get(column)))
            .flat_map(|cell| units(&shown(cell)))
            .map(|word| text_width(&word))
            .max()
            .unwrap_or(0)
    };
    let with_headers: Vec<usize> = values
        .iter()
        .zip(&header[1..])
        .enumerate()
        .map(|(index, (&natural, header))| natural.min(MIN_COLUMN.max(widest_word(index + 1))).max(text_width(header)))
        .collect();
    for gap in [2, 1] {
        let room = width.saturating_sub(fixed(field, gap));
        if fixed(field, gap) <= width && with_headers.iter().sum::<usize>() <= room {
            return Layout { columns: std::iter::once(field).chain(grow(with_headers, values, room)).collect(), gap };
        }
    }
    let minimal: Vec<usize> = values.iter().map(|&natural| natural.min(MIN_COLUMN)).collect();
    let room_for_field = width.saturating_sub(fixed(0, 1) + minimal.iter().sum::<usize>());
    let field = room_for_field.clamp(MIN_FIELD_COLUMN.min(field), field);
    let room = width.saturating_sub(fixed(field, 1));
    Layout { columns: std::iter::once(field).chain(grow(minimal, values, room)).collect(), gap: 1 }
}

/// Widens `widths` toward `natural` within `room` in all, always widening
/// the narrowest column that can still grow, so the room is shared evenly.
fn grow(mut widths: Vec<usize>, natural: &[usize], room: usize) -> Vec<usize> {
    let mut spare = room.saturating_sub(widths.iter().sum());
    while spare > 0 {
        let narrowest = (0..widths.len()).filter(|&column| widths[column] < natural[column]).min_by_key(|&c| widths[c]);
        let Some(column) = narrowest else { break };
        widths[column] += 1;
        spare -= 1;
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_breaks_long_words() {
        assert_eq!(wrap("The Algorithm goes open source", 10), ["The", "Algorithm", "goes open", "source"]);
        assert_eq!(wrap("2023-03-31T20:11:17.270Z", 10), ["2023-03-31", "T20:11:17.", "270Z"]);
        assert_eq!(wrap("a  b\tc\n\nd", 80), ["a b c", "", "d"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("ab cdefgh", 3), ["ab", "cde", "fgh"]);
    }

    #[test]
    fn clipped_cells_end_in_an_ellipsis_within_the_width() {
        let lines = clip(wrap(&"word ".repeat(40), 9), MAX_CELL_LINES, 9);
        assert_eq!(lines.len(), MAX_CELL_LINES);
        assert_eq!(lines.last().map(String::as_str), Some("word wor…"));
        assert!(lines.iter().all(|line| text_width(line) <= 9), "{lines:?}");
    }

    fn table(columns: usize, width: usize) -> String {
        let mut header = vec!["field".to_owned()];
        header.extend((1..columns).map(|column| format!("provider{column}")));
        let rows: Vec<Row> = ["id", "settings.narrow_cast_space_type", "creator.description"]
            .iter()
            .map(|field| Row {
                marked: field.starts_with('s'),
                cells: std::iter::once((*field).to_owned())
                    .chain((1..columns).map(|column| format!("value {column} ").repeat(column * 5)))
                    .collect(),
            })
            .collect();
        render(&header, &rows, width)
    }

    #[test]
    fn tables_fit_the_width_and_rows_start_with_their_field() {
        for columns in 2..=6 {
            for width in [50, 60, 80, 100, 120, 200] {
                let out = table(columns, width);
                for line in out.lines() {
                    assert!(line.chars().count() <= width, "{columns} columns at {width}:\n{out}");
                }
                assert!(out.lines().any(|line| line.starts_with("* settings.")), "{out}");
                if width < 80 {
                    continue; // field names may wrap when nothing else fits
                }
                for field in ["field", "id", "settings.narrow_cast_space_type", "creator.description"] {
                    assert!(
                        out.lines().any(|line| line.get(2..).unwrap_or_default().starts_with(&format!("{field} "))),
                        "{field} with {columns} columns at {width}:\n{out}"
                    );
                }
            }
        }
    }

    #[test]
    fn narrow_terminals_keep_minimum_columns() {
        let out = table(5, 20);
        assert!(out.lines().count() > 4, "{out}");
        let layout = column_widths(&["f".into(), "a".into()], &[], 3);
        assert_eq!(layout.columns, [1, 1]);
    }
}
