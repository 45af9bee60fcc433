//! Output for people: aligned tables and readable times.

use time::OffsetDateTime;

/// `2026-11-26 15:50:44.123` (UTC) from Unix nanoseconds.
pub fn time_utc(unix_ns: u64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(unix_ns as i128) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => unix_ns.to_string(),
    }
}

/// RFC 3339 (`2026-11-26T15:50:44.123456789Z`) from Unix nanoseconds, for JSON output.
pub fn time_rfc3339(unix_ns: u64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(unix_ns as i128)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix_ns.to_string())
}

/// A table printed with columns padded to their widest cell.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let last = row.len().saturating_sub(1);
            for (i, cell) in row.iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    let pad = widths[i] - cell.chars().count() + 2;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_to_the_widest_cell() {
        let mut table = Table::new(&["A", "LONG"]);
        table.row(vec!["wide cell".into(), "x".into()]);
        assert_eq!(table.render(), "A          LONG\nwide cell  x\n");
    }

    #[test]
    fn times_print_in_utc_with_milliseconds() {
        assert_eq!(time_utc(1_700_000_000_123_000_000), "2023-11-14 22:13:20.123");
        assert_eq!(time_rfc3339(1_700_000_000_123_000_000), "2023-11-14T22:13:20.123Z");
    }
}
