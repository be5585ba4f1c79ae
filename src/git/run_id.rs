//! Run ids: `20261124T123456Z-1a2b3c`, the UTC start second then 24 random bits, so ids sort by
//! start time and two runs in the same second still differ. Also the UTC timestamps journals use.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A run id. Valid ids are safe as file names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run starting now.
    pub fn new() -> RunId {
        RunId::at(SystemTime::now())
    }

    /// A fresh id for a run starting at `time`.
    pub fn at(time: SystemTime) -> RunId {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // RandomState is seeded randomly per process; the counter and pid keep ids made in one
        // second by one or several processes apart.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        h.write_u128(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        let suffix = h.finish() & 0xff_ffff;
        RunId(format!("{}-{suffix:06x}", compact_utc(time)))
    }

    /// Accepts an id of the shape codefleet makes (`YYYYMMDDTHHMMSSZ-xxxxxx`).
    pub fn parse(text: &str) -> Option<RunId> {
        let b = text.as_bytes();
        let ok = b.len() == 23
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'T'
            && b[9..15].iter().all(u8::is_ascii_digit)
            && b[15] == b'Z'
            && b[16] == b'-'
            && b[17..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        ok.then(|| RunId(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RunId {
    fn default() -> Self {
        RunId::new()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `(year, month, day, hour, minute, second)` in UTC.
fn civil(time: SystemTime) -> (i64, u32, u32, u32, u32, u32) {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `20261124T123456Z`.
pub(crate) fn compact_utc(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// `2026-11-24T12:34:56Z` (RFC 3339).
pub(crate) fn rfc3339_utc(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-11-24T12:34:56.789Z` (RFC 3339, to the millisecond).
pub(crate) fn rfc3339_utc_millis(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(time);
    let ms = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_523_696); // 2026-11-24T12:34:56Z
        assert_eq!(compact_utc(t), "20261124T123456Z");
        assert_eq!(rfc3339_utc(t), "2026-11-24T12:34:56Z");
        let later = t + Duration::from_millis(7);
        assert_eq!(rfc3339_utc_millis(later), "2026-11-24T12:34:56.007Z");
        assert_eq!(
            compact_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }

    #[test]
    fn ids_sort_by_time_and_differ_within_a_second() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_523_696);
        let a = RunId::at(t);
        let b = RunId::at(t);
        let c = RunId::at(t + Duration::from_secs(1));
        assert_ne!(a, b);
        assert!(a < c && b < c);
        assert!(a.as_str().starts_with("20261124T123456Z-"));
        assert_eq!(RunId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(RunId::parse("../etc/passwd"), None);
    }
}
