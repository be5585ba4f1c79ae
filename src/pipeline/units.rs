//! Durations (`30s`, `10m`, `1h30m`, `500ms`, plain seconds) and sizes (`512KiB`, `1MiB`, `2MB`,
//! plain bytes) as written in pipelines and settings.

use std::time::Duration;

/// Why a duration or size does not parse: a message, and a hint with the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    /// What is wrong.
    pub message: String,
    /// The accepted forms.
    pub hint: &'static str,
}

const DURATION_HINT: &str =
    "write a duration like `30s`, `10m`, `1h30m`, `500ms`, or plain seconds";
const SIZE_HINT: &str = "write a size like `512KiB`, `1MiB`, `2MB`, or plain bytes";

/// Parses a duration: one or more `<number><unit>` parts (`h`, `m`, `s`, `ms`), each unit once and
/// in that order, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let err = |message: String| UnitError {
        message,
        hint: DURATION_HINT,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err("empty duration".into()));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| err(format!("duration `{t}` is too large")));
    }
    let units: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)];
    let mut rest = t;
    let mut total: u64 = 0;
    let mut last_rank: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err(format!("`{t}` is not a duration")));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| err(format!("duration `{t}` is too large")))?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..letters];
        rest = &rest[letters..];
        let Some(rank) = units.iter().position(|(u, _)| *u == unit) else {
            let message = if unit.is_empty() {
                format!("`{t}` has a number without a unit")
            } else {
                format!("unknown unit `{unit}` in duration `{t}`")
            };
            return Err(err(message));
        };
        if last_rank.is_some_and(|r| rank <= r) {
            return Err(err(format!(
                "`{t}` repeats a unit or puts a larger one after a smaller one"
            )));
        }
        last_rank = Some(rank);
        total = number
            .checked_mul(units[rank].1)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| err(format!("duration `{t}` is too large")))?;
    }
    Ok(Duration::from_millis(total))
}

/// Parses a size in bytes: a number (decimals allowed) and an optional unit: `B`, `KB`/`MB`/`GB`
/// (powers of 1000) or `KiB`/`MiB`/`GiB` (powers of 1024), case-insensitive.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let err = |message: String| UnitError {
        message,
        hint: SIZE_HINT,
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim_start());
    if number.is_empty() {
        return Err(err(format!("`{t}` is not a size")));
    }
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(err(format!("unknown unit `{unit}` in size `{t}`"))),
    };
    if let Ok(whole) = number.parse::<u64>() {
        return whole
            .checked_mul(factor)
            .ok_or_else(|| err(format!("size `{t}` is too large")));
    }
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n * (factor as f64) < u64::MAX as f64 => {
            Ok((n * factor as f64).round() as u64)
        }
        Ok(_) => Err(err(format!("size `{t}` is too large"))),
        Err(_) => Err(err(format!("`{t}` is not a size"))),
    }
}

/// Formats a duration the way pipelines write it (`1h30m`, `45s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let (h, m, s, rest) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s"), (rest, "ms")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let secs = |t| parse_duration(t).map(|d| d.as_millis());
        assert_eq!(secs("30s"), Ok(30_000));
        assert_eq!(secs("10m"), Ok(600_000));
        assert_eq!(secs("1h30m"), Ok(5_400_000));
        assert_eq!(secs("1h2m3s4ms"), Ok(3_723_004));
        assert_eq!(secs("500ms"), Ok(500));
        assert_eq!(secs("45"), Ok(45_000));
        assert_eq!(secs(" 2h "), Ok(7_200_000));
        for bad in [
            "", "1x", "m", "10 m", "1m1h", "1s1s", "1.5h", "-1s", "3 days",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert_eq!(e.hint, DURATION_HINT, "{bad}");
        }
        assert!(
            parse_duration("1x")
                .unwrap_err()
                .message
                .contains("unknown unit `x`")
        );
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration("9999999999999999h").is_err());
    }

    #[test]
    fn durations_format_back() {
        for t in ["1h30m", "45s", "250ms", "2h1s"] {
            assert_eq!(format_duration(parse_duration(t).unwrap()), t);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("1mib"), Ok(1 << 20));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("100 B"), Ok(100));
        assert_eq!(parse_size("3GiB"), Ok(3 << 30));
        for bad in [
            "",
            "MiB",
            "1 mebibyte",
            "1.2.3MB",
            "-1KB",
            "99999999999999999999GiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(
            parse_size("12XB")
                .unwrap_err()
                .message
                .contains("unknown unit `XB`")
        );
    }
}
