//! What the tutorial examples share: a time scale, so tests can run the tutorial's
//! seconds-long delays in milliseconds, and Python's `time.ctime()` timestamp.
//!
//! Include with `#[path = "support/mod.rs"] mod support;`.

#![allow(dead_code)] // each example uses its own subset

use std::time::Duration;

/// The factor applied to every delay: `--scale X` on the command line, else the
/// `THREADKIT_TIME_SCALE` environment variable, else 1 (the tutorial's own timing).
/// A value that is not a finite, non-negative number is reported and ignored.
pub fn time_scale() -> f64 {
    let mut args = std::env::args().skip(1);
    let from_args = loop {
        match args.next().as_deref() {
            Some("--scale") => break args.next(),
            Some(a) if a.starts_with("--scale=") => break Some(a["--scale=".len()..].to_string()),
            Some(_) => continue,
            None => break None,
        }
    };
    let raw = from_args.or_else(|| std::env::var("THREADKIT_TIME_SCALE").ok());
    match raw.map(|r| (r.trim().parse::<f64>(), r)) {
        Some((Ok(x), _)) if x.is_finite() && x >= 0.0 => x,
        Some((_, r)) => {
            eprintln!("ignoring time scale {r:?}: expected a non-negative number");
            1.0
        }
        None => 1.0,
    }
}

/// `seconds` of the tutorial's time, scaled by [`time_scale`].
pub fn scaled(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds * time_scale())
}

/// The local time in the format of Python's `time.ctime()`: `Thu Jan 22 15:42:17 2009`.
pub fn ctime() -> String {
    chrono::Local::now().format("%a %b %e %H:%M:%S %Y").to_string()
}
