//! Unix-nanosecond timestamps as text: the one place that formats them,
//! for people (`venomqa show`), for HAR files and for JSON output.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `2026-11-26 15:50:44.123` (UTC), as tables show a time to people; the
/// raw number if it is out of range.
pub fn utc_millis(unix_ns: u64) -> String {
    with_millis(unix_ns, ' ', "").unwrap_or_else(|| unix_ns.to_string())
}

/// `2026-11-26T15:50:44.123Z`: RFC 3339 to the millisecond, as HAR's
/// `startedDateTime` wants it.
pub fn rfc3339_millis(unix_ns: u64) -> String {
    // Unreachable fallback: every u64 of nanoseconds is within year 2554.
    with_millis(unix_ns, 'T', "Z").unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// `2026-11-26T15:50:44.123456789Z`: RFC 3339 with every digit the time
/// has, for JSON output that scripts read back.
pub fn rfc3339(unix_ns: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ns))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix_ns.to_string())
}

/// Date, `between`, time to the millisecond, `suffix`.
fn with_millis(unix_ns: u64, between: char, suffix: &str) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ns)).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}{between}{:02}:{:02}:{:02}.{:03}{suffix}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_in_utc_with_milliseconds() {
        assert_eq!(utc_millis(1_700_000_000_123_000_000), "2023-11-14 22:13:20.123");
        assert_eq!(rfc3339_millis(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(1_700_000_000_123_000_000), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123456789Z");
    }
}
