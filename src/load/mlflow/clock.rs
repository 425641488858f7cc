//! Timestamps as trackers write them: milliseconds since the Unix epoch
//! (MLflow, DVCLive) and ISO 8601 strings (Sacred), to and from UTC.
//!
//! No date crate: two small conversions on the proleptic Gregorian calendar
//! (Howard Hinnant's algorithms) are all the readers need. Out-of-range input
//! gives `None`, never a panic. Shared by the MLflow, DVCLive and Sacred readers.

/// Milliseconds of 0000-01-01 .. 9999-12-31: what an ISO 8601 date can show.
const MS_RANGE: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

/// `1664364007025` -> `2022-09-28T11:20:07.025Z`.
pub(crate) fn iso_from_unix_ms(ms: i64) -> Option<String> {
    if !MS_RANGE.contains(&ms) {
        return None;
    }
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    ))
}

/// `2026-02-01T15:00:00` -> `2026-02-01`, when the text starts with a date.
pub(crate) fn date_prefix(text: &str) -> Option<String> {
    let d = text.get(..10)?;
    let b = d.as_bytes();
    let ok = b.iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    ok.then(|| d.to_string())
}

/// Seconds since the Unix epoch of `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+HH:MM|+HHMM]`;
/// a time without an offset is taken as UTC (Sacred writes `utcnow()`).
pub(crate) fn unix_seconds_from_iso(text: &str) -> Option<f64> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|s| s.iter().all(u8::is_ascii_digit))
            .map(|_| text[r].parse::<i64>().unwrap_or(0))
    };
    let sep = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"T ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 24 || minute > 59 {
        return None;
    }
    let mut at = 19;
    let mut fraction = 0.0;
    if sep(19, b".,") {
        let n = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
        fraction = format!("0.{}", &text[20..20 + n]).parse().unwrap_or(0.0);
        at = 20 + n;
    }
    let offset = match &text[at..] {
        "" | "Z" | "z" => 0,
        zone => zone_offset_seconds(zone)?,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some((seconds - offset) as f64 + fraction)
}

/// `+02:00`, `-0530`, `+01` -> seconds east of UTC.
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !(rest.len() == 2 || rest.len() == 4) || !rest.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = rest[..2].parse().ok()?;
    let minutes: i64 = if rest.len() == 4 {
        rest[2..].parse().ok()?
    } else {
        0
    };
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_to_iso_utc() {
        assert_eq!(
            iso_from_unix_ms(1_664_364_007_025).as_deref(),
            Some("2022-09-28T11:20:07.025Z")
        );
        assert_eq!(
            iso_from_unix_ms(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            iso_from_unix_ms(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
        assert_eq!(
            iso_from_unix_ms(-1).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(iso_from_unix_ms(i64::MAX), None);
        assert_eq!(iso_from_unix_ms(i64::MIN), None);
    }

    #[test]
    fn iso_to_seconds_with_fraction_and_offsets() {
        let t = unix_seconds_from_iso("2024-02-08T23:02:14.620335").unwrap();
        assert!((t - 1_707_433_334.620335).abs() < 1e-6, "{t}");
        assert_eq!(unix_seconds_from_iso("1970-01-01 00:00:10Z"), Some(10.0));
        assert_eq!(
            unix_seconds_from_iso("1970-01-01T01:00:00+01:00"),
            Some(0.0)
        );
        assert_eq!(
            unix_seconds_from_iso("1970-01-01T00:00:00-0030"),
            Some(1800.0)
        );
        for bad in [
            "",
            "2024-02-08",
            "2024-13-01T00:00:00",
            "2024-02-08T00:00:00 UTC",
            "é",
        ] {
            assert_eq!(unix_seconds_from_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trip_over_many_days() {
        for days in (-719_000..2_900_000).step_by(997) {
            let ms = days * 86_400_000 + 12_345;
            let iso = iso_from_unix_ms(ms).unwrap();
            let back = unix_seconds_from_iso(&iso).unwrap();
            assert!((back * 1000.0 - ms as f64).abs() < 0.5, "{iso}");
        }
    }
}
