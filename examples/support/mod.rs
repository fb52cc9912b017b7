//! What the tutorial examples share: a time scale, so tests can run the tutorial's
//! seconds-long delays in milliseconds, and Python's `time.ctime()` timestamp.
//!
//! Include with `#[path = "support/mod.rs"] mod support;`.

#![allow(dead_code)] // each example uses its own subset

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that sets the time scale when `--scale` is not given.
pub const SCALE_VAR: &str = "THREADKIT_TIME_SCALE";

/// The factor applied to every delay: `--scale X` (or `--scale=X`) on the command line, else
/// the `THREADKIT_TIME_SCALE` environment variable, else 1 (the tutorial's own timing).
/// A value that is not a finite, non-negative number is reported on stderr and ignored, as if
/// it had not been given. Read once; later calls return the same value.
pub fn time_scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| {
        let from_args = scale_arg().and_then(|raw| parse_scale("--scale", raw));
        from_args
            .or_else(|| {
                let raw = std::env::var(SCALE_VAR).ok()?;
                parse_scale(SCALE_VAR, raw)
            })
            .unwrap_or(1.0)
    })
}

/// The value given to `--scale`, if any (an empty string if `--scale` ends the line).
fn scale_arg() -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--scale" {
            return Some(args.next().unwrap_or_default());
        }
        if let Some(value) = arg.strip_prefix("--scale=") {
            return Some(value.to_string());
        }
    }
    None
}

fn parse_scale(source: &str, raw: String) -> Option<f64> {
    match raw.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
        _ => {
            eprintln!("ignoring time scale {raw:?} from {source}: expected a non-negative number");
            None
        }
    }
}

/// `seconds` of the tutorial's time, scaled by [`time_scale`]. A product too large for a
/// `Duration` saturates (threadkit sleeps that long forever, rather than panicking).
pub fn scaled(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds * time_scale()).unwrap_or(Duration::MAX)
}

/// The local time in the format of Python's `time.ctime()`: `Thu Jan 22 15:42:17 2009`.
pub fn ctime() -> String {
    chrono::Local::now()
        .format("%a %b %e %H:%M:%S %Y")
        .to_string()
}
