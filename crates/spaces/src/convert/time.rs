//! Timestamp readers for every form the providers send. Each failure names
//! the provider, the field and the value.

use std::fmt::Display;

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use crate::error::Error;
use crate::model::Provider;

/// An ISO 8601 / RFC 3339 date-time, read leniently: X's reference example
/// has non-padded months and days (`2021-7-14T04:35:55Z`), which chrono's
/// `FromStr` accepts while strict RFC 3339 parsing does not.
pub(crate) fn iso8601(provider: Provider, field: impl Display, raw: &str) -> Result<DateTime<Utc>, Error> {
    // Strict RFC 3339 first: it is what providers send nearly always, and
    // chrono's dedicated parser for it is several times faster than the
    // lenient `FromStr` (measured in `benches/decode.rs`).
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.with_timezone(&Utc));
    }
    raw.trim()
        .parse::<DateTime<FixedOffset>>()
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| Error::decode(provider, field, raw, format!("not an ISO 8601 date-time: {error}")))
}

/// Milliseconds since the Unix epoch. Negative values are rejected: no Space
/// predates 1970, so a negative value is corrupt data, not a date.
pub(crate) fn epoch_millis(
    provider: Provider,
    field: impl Display + Copy,
    millis: i64,
) -> Result<DateTime<Utc>, Error> {
    if millis < 0 {
        return Err(Error::decode(provider, field, millis.to_string(), "negative epoch milliseconds"));
    }
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| Error::decode(provider, field, millis.to_string(), "epoch milliseconds out of range"))
}

/// Epoch milliseconds sent as a string of digits (SocialData's `ended_at`).
pub(crate) fn epoch_millis_text(
    provider: Provider,
    field: impl Display + Copy,
    raw: &str,
) -> Result<DateTime<Utc>, Error> {
    let digits = raw.trim();
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Error::decode(provider, field, raw, "expected epoch milliseconds as a string of digits"));
    }
    let millis =
        digits.parse::<i64>().map_err(|_| Error::decode(provider, field, raw, "epoch milliseconds out of range"))?;
    epoch_millis(provider, field, millis)
}

/// Twitter's classic user date, `Sat Jun 16 00:14:36 +0000 2007`.
pub(crate) fn classic_twitter(provider: Provider, field: impl Display, raw: &str) -> Result<DateTime<Utc>, Error> {
    // The fixed layout is read directly: chrono's format-string parser made
    // this one field cost as much as decoding the rest of a SocialData body.
    // Anything that does not fit goes to chrono, for its error message.
    if let Some(time) = classic_twitter_fast(raw.trim()) {
        return Ok(time);
    }
    DateTime::parse_from_str(raw.trim(), "%a %b %d %H:%M:%S %z %Y").map(|time| time.with_timezone(&Utc)).map_err(
        |error| {
            Error::decode(
                provider,
                field,
                raw,
                format!("not a Twitter date like `Sat Jun 16 00:14:36 +0000 2007`: {error}"),
            )
        },
    )
}

/// `Sat Jun 16 00:14:36 +0000 2007`, or `None` for anything else
/// (including a weekday that does not match the date).
fn classic_twitter_fast(raw: &str) -> Option<DateTime<Utc>> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = raw.split(' ');
    let (weekday, month, day, clock, offset, year) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || clock.len() != 8 || offset.len() != 5 {
        return None;
    }
    let number = |text: &str| -> Option<u32> {
        text.bytes().all(|byte| byte.is_ascii_digit()).then(|| text.parse().ok()).flatten()
    };
    let month = MONTHS.iter().position(|name| *name == month)? as u32 + 1;
    let date = chrono::NaiveDate::from_ymd_opt(number(year)? as i32, month, number(day)?)?;
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if WEEKDAYS[date.weekday().num_days_from_monday() as usize] != weekday {
        return None;
    }
    let time = chrono::NaiveTime::from_hms_opt(number(&clock[0..2])?, number(&clock[3..5])?, number(&clock[6..8])?)?;
    if &clock[2..3] != ":" || &clock[5..6] != ":" {
        return None;
    }
    let sign = match &offset[..1] {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let seconds = sign * (number(&offset[1..3])? * 3600 + number(&offset[3..5])? * 60) as i32;
    let local = date.and_time(time).and_local_timezone(FixedOffset::east_opt(seconds)?).single()?;
    Some(local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Provider = Provider::X;

    #[test]
    fn reads_padded_and_non_padded_iso_dates() {
        let padded = iso8601(P, "f", "2021-07-14T04:35:55Z").expect("padded");
        let loose = iso8601(P, "f", "2021-7-14T04:35:55Z").expect("non-padded month");
        assert_eq!(padded, loose);
        assert_eq!(padded.to_rfc3339(), "2021-07-14T04:35:55+00:00");
        let offset = iso8601(P, "f", "2021-07-14T06:35:55.250+02:00").expect("offset");
        assert_eq!(offset.timestamp_millis(), padded.timestamp_millis() + 250);
    }

    #[test]
    fn names_field_and_value_on_bad_dates() {
        let error = iso8601(P, "data.created_at", "yesterday").expect_err("not a date");
        let message = error.to_string();
        assert!(message.starts_with("x: cannot decode `data.created_at` (value `yesterday`)"), "{message}");
        assert!(iso8601(P, "f", "300000-01-01T00:00:00Z").is_err(), "year 300000 is out of range");
    }

    #[test]
    fn reads_epoch_millis_as_number_or_digits() {
        let number = epoch_millis(P, "f", 1_680_293_477_270).expect("number");
        let text = epoch_millis_text(P, "f", "1680293477270").expect("digits");
        assert_eq!(number, text);
        assert_eq!(number.to_rfc3339(), "2023-03-31T20:11:17.270+00:00");
        assert!(epoch_millis(P, "f", -1).is_err());
        assert!(epoch_millis_text(P, "f", "17x0").is_err());
        assert!(epoch_millis_text(P, "f", "").is_err());
        assert!(epoch_millis_text(P, "f", "99999999999999999999").is_err(), "overflows i64");
        assert!(epoch_millis(P, "f", i64::MAX).is_err(), "beyond chrono's range");
    }

    /// Twitter's classic layout, as chrono reads it (the fallback).
    fn chrono_classic(raw: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_str(raw, "%a %b %d %H:%M:%S %z %Y").ok().map(|time| time.with_timezone(&Utc))
    }

    #[test]
    fn the_classic_fast_path_accepts_valid_dates_as_chrono_reads_them() {
        for (raw, expected) in [
            ("Sat Jun 16 00:14:36 +0000 2007", "2007-06-16T00:14:36Z"),
            ("Tue Feb 29 23:59:59 -0530 2000", "2000-03-01T05:29:59Z"),
            ("Mon Jan 01 00:00:00 +1400 2024", "2023-12-31T10:00:00Z"),
            ("Fri Dec 31 23:59:59 +0000 1999", "1999-12-31T23:59:59Z"),
        ] {
            let expected: DateTime<Utc> = expected.parse().expect("test timestamp");
            assert_eq!(classic_twitter_fast(raw), Some(expected), "the fast path reads {raw}");
            assert_eq!(chrono_classic(raw), Some(expected), "chrono agrees on {raw}");
        }
    }

    #[test]
    fn the_classic_fast_path_reads_every_day_of_two_centuries() {
        // Every day 1970..2100 at a clock time and an offset that vary with
        // it: the fast path takes each one, and agrees with chrono.
        let first = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("date");
        for (index, date) in first.iter_days().take_while(|date| date.year() < 2100).enumerate() {
            let seconds = (index * 7919 % 86_400) as u32;
            let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).expect("time");
            let offset = FixedOffset::east_opt((index as i32 % 53 - 26) * 1800).expect("offset");
            let local = date.and_time(time).and_local_timezone(offset).single().expect("fixed offsets are unambiguous");
            let raw = local.format("%a %b %d %H:%M:%S %z %Y").to_string();
            let expected = local.with_timezone(&Utc);
            assert_eq!(classic_twitter_fast(&raw), Some(expected), "{raw}");
            assert_eq!(chrono_classic(&raw), Some(expected), "{raw}");
        }
    }

    #[test]
    fn the_classic_fast_path_declines_what_does_not_fit_and_chrono_decides() {
        for raw in [
            "Sun Jun 16 00:14:36 +0000 2007", // wrong weekday
            "Sat Jun 31 00:14:36 +0000 2007", // no such day
            "Sat Jun 16 24:14:36 +0000 2007",
            "Sat Jun 16 00:14:36 0000 2007",
            "Sat Jun 16 00:14:36 +0000 2007 extra",
            "Sat Jun 16 0:14:36 +0000 2007",
            "Sat Jun 16 00-14-36 +0000 2007",
            "Sat June 16 00:14:36 +0000 2007",
        ] {
            assert_eq!(classic_twitter_fast(raw), None, "the fast path declines {raw}");
            // Declined by the fast path: the chrono fallback decides, as before.
            assert_eq!(classic_twitter(P, "f", raw).ok(), chrono_classic(raw), "{raw}");
        }
    }

    #[test]
    fn reads_classic_twitter_dates() {
        let created = classic_twitter(P, "f", "Sat Jun 16 00:14:36 +0000 2007").expect("classic");
        assert_eq!(created.to_rfc3339(), "2007-06-16T00:14:36+00:00");
        assert!(classic_twitter(P, "f", "2007-06-16").is_err());
    }
}
