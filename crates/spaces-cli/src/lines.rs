//! Reading NDJSON input line by line with a cap on each line, so memory stays
//! flat whatever the input: a line over the cap is skipped, not buffered.

use std::io::{self, BufRead};

/// One line read by [`read_capped_line`].
pub enum Line {
    /// The line's bytes (without the newline) are in the buffer.
    Complete,
    /// The line was longer than the cap; its bytes were discarded.
    TooLong,
}

/// Reads the next line into `buf` (cleared first). `None` at end of input.
pub fn read_capped_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<Option<Line>> {
    buf.clear();
    let mut too_long = false;
    let mut read_any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(read_any.then_some(if too_long { Line::TooLong } else { Line::Complete }));
        }
        read_any = true;
        let (chunk, found_newline) = match available.iter().position(|&byte| byte == b'\n') {
            Some(end) => (&available[..end], true),
            None => (available, false),
        };
        if !too_long && buf.len() + chunk.len() <= cap {
            buf.extend_from_slice(chunk);
        } else {
            too_long = true;
            buf.clear();
        }
        let consumed = chunk.len() + usize::from(found_newline);
        reader.consume(consumed);
        if found_newline {
            return Ok(Some(if too_long { Line::TooLong } else { Line::Complete }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<Option<Vec<u8>>> {
        let mut reader = io::BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut found = Vec::new();
        while let Some(line) = read_capped_line(&mut reader, &mut buf, cap).expect("read") {
            found.push(match line {
                Line::Complete => Some(buf.clone()),
                Line::TooLong => None,
            });
        }
        found
    }

    #[test]
    fn splits_lines_and_skips_over_long_ones() {
        let found = lines(b"ab\nabcdefghij\n\nxyz", 5);
        assert_eq!(found, vec![Some(b"ab".to_vec()), None, Some(Vec::new()), Some(b"xyz".to_vec())]);
    }
}
