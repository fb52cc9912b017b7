//! What the tutorial examples share: a time scale, so tests can run the tutorial's
//! seconds-long delays in milliseconds, their command-line flags (read with `lexopt`), and
//! Python's `time.ctime()` timestamp.
//!
//! Include with `#[path = "support/mod.rs"] mod support;`.

#![allow(dead_code)] // each example uses its own subset

use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that sets the time scale when `--scale` is not given.
pub const SCALE_VAR: &str = "THREADKIT_TIME_SCALE";

/// The command line, parsed once: `--scale X` (or `--scale=X`), and the flags an example
/// checks with [`flag`]. Anything else is reported on stderr and ignored.
struct Args {
    /// The raw value given to `--scale` (an empty string if `--scale` ends the line).
    scale: Option<String>,
    /// Long flags without a value (`--exit-flag`), without their dashes.
    flags: Vec<String>,
}

fn args() -> &'static Args {
    static ARGS: OnceLock<Args> = OnceLock::new();
    ARGS.get_or_init(|| {
        let mut args = Args {
            scale: None,
            flags: Vec::new(),
        };
        let mut parser = lexopt::Parser::from_env();
        loop {
            match parser.next() {
                Ok(None) => break,
                Ok(Some(lexopt::Arg::Long("scale"))) => {
                    // The next argument whatever it looks like (`--scale -1` is a bad scale,
                    // not a new option); none at all is an empty value.
                    let raw = parser.value().unwrap_or_default();
                    args.scale = Some(raw.to_string_lossy().into_owned());
                }
                Ok(Some(lexopt::Arg::Long(name))) => args.flags.push(name.to_owned()),
                Ok(Some(other)) => eprintln!("ignoring {}", other.unexpected()),
                Err(e) => eprintln!("ignoring arguments: {e}"),
            }
        }
        args
    })
}

/// Whether `--NAME` is on the command line (`flag("exit-flag")`).
pub fn flag(name: &str) -> bool {
    args().flags.iter().any(|f| f == name)
}

/// The factor applied to every delay: `--scale X` (or `--scale=X`) on the command line, else
/// the `THREADKIT_TIME_SCALE` environment variable, else 1 (the tutorial's own timing).
/// A value that is not a finite, non-negative number is reported on stderr and ignored, as if
/// it had not been given. Read once; later calls return the same value.
pub fn time_scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| {
        let from_args = args()
            .scale
            .clone()
            .and_then(|raw| parse_scale("--scale", raw));
        from_args
            .or_else(|| {
                let raw = std::env::var(SCALE_VAR).ok()?;
                parse_scale(SCALE_VAR, raw)
            })
            .unwrap_or(1.0)
    })
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
