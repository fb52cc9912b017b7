//! Runs the tutorial examples as child processes and checks what a user would check: the
//! lines and their shape, how many there are, the orderings the program guarantees, and exit
//! status 0.
//!
//! The examples must be built: `cargo test` builds them, `cargo test --test examples` alone
//! does not (run `cargo build --examples` first). A binary older than one of its sources
//! fails the test with that advice rather than testing old code.
//!
//! Only orderings that the programs enforce (a thread's own order, a lock, a join) or that a
//! margin of at least 200 ms of scaled delay protects are asserted, so a stalled VM cannot
//! fail these tests.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

/// Python's `time.ctime()` format, as the examples print it.
const CTIME: &str = "%a %b %e %H:%M:%S %Y";

/// Splits a `NAME: <ctime>` line into the name and the time, if it has exactly that shape.
fn timestamp_line(line: &str) -> Option<(&str, NaiveDateTime)> {
    let (name, stamp) = line.split_once(": ")?;
    let time = NaiveDateTime::parse_from_str(stamp, CTIME).ok()?;
    // The parser is lenient about spaces: format back to insist on the exact shape.
    (time.format(CTIME).to_string() == stamp).then_some((name, time))
}

/// How many `NAME: <ctime>` lines each name has.
fn timestamp_counts(lines: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for (name, _) in lines.iter().filter_map(|l| timestamp_line(l)) {
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "the example failed\n{}",
        describe(out)
    );
}

fn position(lines: &[String], wanted: &str) -> usize {
    lines
        .iter()
        .position(|l| l == wanted)
        .unwrap_or_else(|| panic!("no line {wanted:?} in {lines:#?}"))
}

/// The path of example `name`'s binary, built and up to date.
fn example(name: &str) -> PathBuf {
    common::example_path(name)
}

/// Runs example `name` with time scale `scale` set in the environment.
fn run(name: &str, scale: f64) -> Output {
    example(name);
    common::run_example(name, scale)
}

/// Runs an example with `args` and `THREADKIT_TIME_SCALE` set to `env_scale` (or unset).
fn run_with(name: &str, args: &[&str], env_scale: Option<&str>) -> (Output, Duration) {
    let mut cmd = Command::new(example(name));
    cmd.args(args);
    match env_scale {
        Some(s) => cmd.env("THREADKIT_TIME_SCALE", s),
        None => cmd.env_remove("THREADKIT_TIME_SCALE"),
    };
    let start = Instant::now();
    let out = cmd.output().expect("the example starts");
    (out, start.elapsed())
}

#[test]
fn ctime_shape_is_checked_exactly() {
    let (name, time) = timestamp_line("Thread-1: Thu Jan 22 15:42:17 2009").unwrap();
    assert_eq!(name, "Thread-1");
    assert_eq!(time.to_string(), "2009-01-22 15:42:17");
    // Single-digit days are space-padded, as Python's ctime() pads them.
    assert!(timestamp_line("Thread-2: Fri Jan  2 03:04:05 2009").is_some());
    assert!(timestamp_line("Thread-2: Fri Jan 2 03:04:05 2009").is_none());
    assert!(timestamp_line("Thread-2: Fri Jan 02 03:04:05 2009").is_none());
    assert!(timestamp_line("Thread-2: Thu Jan  2 03:04:05 2009").is_none()); // a Friday
    assert!(timestamp_line("Thread-2 Fri Jan  2 03:04:05 2009").is_none());
    assert!(timestamp_line("Thread-2: 2009-01-02 03:04:05").is_none());
}

/// Program 1: ten `Thread-N: <ctime>` lines, five per thread, and exit status 0.
#[test]
fn start_new_thread_prints_five_lines_per_thread() {
    let out = run("start_new_thread", 0.01);
    assert_success(&out);
    let lines = common::stdout_lines(&out);
    for line in &lines {
        assert!(
            timestamp_line(line).is_some(),
            "not a `NAME: <ctime>` line: {line:?}\n{}",
            describe(&out)
        );
    }
    let counts = timestamp_counts(&lines);
    assert_eq!(counts.get("Thread-1"), Some(&5), "{lines:#?}");
    assert_eq!(counts.get("Thread-2"), Some(&5), "{lines:#?}");
    assert_eq!(lines.len(), 10, "{lines:#?}");
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

/// Program 1 must not burn a core while it waits, as the tutorial's `while 1: pass` does.
/// The workers sleep for at least 20 delays of 0.05 s = 1 s; a busy main thread would use
/// about that much CPU time (at least half of it even on a loaded machine), a sleeping one a
/// few milliseconds.
#[cfg(unix)]
#[test]
#[allow(clippy::zombie_processes)] // reaped with wait4, which also reports its CPU time
fn start_new_thread_main_does_not_spin() {
    use std::io::Read;

    let mut child = Command::new(example("start_new_thread"))
        .env("THREADKIT_TIME_SCALE", "0.05")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: all-zero bytes are a valid `rusage` (plain integers and timevals).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's `Child` is never waited on
    // here); `status` and `usage` are valid, writable out-parameters.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "wait status {status:#x}\n{stdout}"
    );
    assert_eq!(stdout.lines().count(), 10, "{stdout}");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    assert!(
        cpu < 0.5,
        "the example used {cpu:.3} s of CPU time in a run of at least 1 s"
    );
}

/// Program 2: main prints "Exiting Main Thread" and returns without joining; the process
/// still waits for both workers, so all their lines are there, after it.
#[test]
fn thread_subclass_waits_for_workers_after_main_returns() {
    // Thread-1 prints every 50 ms and ends after 250 ms; Thread-2 every 100 ms, ending at
    // 500 ms. "Exiting Main Thread" comes at most a thread start after 0 ms.
    let out = run("thread_subclass", 0.05);
    assert_success(&out);
    let lines = common::stdout_lines(&out);

    let mut expected_plain = vec![
        "Exiting Main Thread",
        "Exiting Thread-1",
        "Exiting Thread-2",
        "Starting Thread-1",
        "Starting Thread-2",
    ];
    let mut plain: Vec<&str> = lines
        .iter()
        .filter(|l| timestamp_line(l).is_none())
        .map(String::as_str)
        .collect();
    plain.sort_unstable();
    expected_plain.sort_unstable();
    assert_eq!(plain, expected_plain, "{}", describe(&out));
    let counts = timestamp_counts(&lines);
    assert_eq!(counts.get("Thread-1"), Some(&5), "{lines:#?}");
    assert_eq!(counts.get("Thread-2"), Some(&5), "{lines:#?}");
    assert_eq!(lines.len(), 15, "{lines:#?}");

    // Main finished first; the workers' last lines came after it.
    let main_exit = position(&lines, "Exiting Main Thread");
    assert!(
        main_exit < position(&lines, "Exiting Thread-1"),
        "{lines:#?}"
    );
    assert!(
        main_exit < position(&lines, "Exiting Thread-2"),
        "{lines:#?}"
    );
    assert_ne!(
        lines.last().map(String::as_str),
        Some("Exiting Main Thread")
    );

    // Each worker's own lines are in program order.
    for name in ["Thread-1", "Thread-2"] {
        let start = position(&lines, &format!("Starting {name}"));
        let exit = position(&lines, &format!("Exiting {name}"));
        for (i, line) in lines.iter().enumerate() {
            if timestamp_line(line).is_some_and(|(n, _)| n == name) {
                assert!(
                    start < i && i < exit,
                    "{name}'s lines out of order: {lines:#?}"
                );
            }
        }
    }
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

/// Program 2 with its exit flag set (`--exit-flag`): the workers end early through
/// `thread::exit()`, quietly (no excepthook output, no "Exiting NAME"), and the process still
/// exits with status 0.
#[test]
fn thread_subclass_exit_flag_ends_workers_early() {
    // Main sets the flag right after printing; without it Thread-1 would print its fifth
    // line at 500 ms and Thread-2 at 1 s.
    let (out, _) = run_with("thread_subclass", &["--exit-flag"], Some("0.1"));
    assert_success(&out);
    let lines = common::stdout_lines(&out);
    assert!(
        lines.contains(&"Exiting Main Thread".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"Starting Thread-1".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"Starting Thread-2".to_string()),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("Exiting Thread-")),
        "a worker ran to its end: {lines:#?}"
    );
    let counts = timestamp_counts(&lines);
    for name in ["Thread-1", "Thread-2"] {
        assert!(counts.get(name).copied().unwrap_or(0) < 5, "{lines:#?}");
    }
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

/// Program 3: the lock keeps each thread's three lines together; main joins both, so
/// "Exiting Main Thread" is last.
#[test]
fn synchronized_keeps_each_threads_lines_together() {
    let out = run("synchronized", 0.02);
    assert_success(&out);
    let lines = common::stdout_lines(&out);
    assert_eq!(lines.len(), 9, "{}", describe(&out));
    assert_eq!(lines.last().unwrap(), "Exiting Main Thread");
    assert!(
        lines.contains(&"Starting Thread-1".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"Starting Thread-2".to_string()),
        "{lines:#?}"
    );

    // A "Starting" line may fall anywhere before main's line (it is printed before the lock
    // is taken), so look at the timestamp lines alone: two runs of three, one per thread.
    let names: Vec<&str> = lines
        .iter()
        .filter_map(|l| timestamp_line(l))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names.len(), 6, "{lines:#?}");
    let (first, second) = names.split_at(3);
    assert!(first.iter().all(|n| *n == first[0]), "{lines:#?}");
    assert!(second.iter().all(|n| *n == second[0]), "{lines:#?}");
    let mut both = [first[0], second[0]];
    both.sort_unstable();
    assert_eq!(both, ["Thread-1", "Thread-2"], "{lines:#?}");
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

/// At the tutorial's own speed `synchronized` sleeps 3 x 1 s + 3 x 2 s: a run much shorter
/// than that proves the scale was applied.
const UNSCALED_SYNCHRONIZED: Duration = Duration::from_secs(9);

#[test]
fn scale_argument_wins_over_the_environment() {
    for args in [&["--scale", "0.01"][..], &["--scale=0.01"][..]] {
        // The environment asks for the tutorial's timing; the argument must win.
        let (out, elapsed) = run_with("synchronized", args, Some("1"));
        assert_success(&out);
        assert_eq!(common::stdout_lines(&out).len(), 9, "{}", describe(&out));
        assert!(
            elapsed < UNSCALED_SYNCHRONIZED,
            "{args:?} was not applied: the run took {elapsed:?}"
        );
        assert!(out.stderr.is_empty(), "{}", describe(&out));
    }
}

#[test]
fn bad_scale_argument_is_reported_and_ignored() {
    for bad in ["nope", "-1", "NaN", "inf", ""] {
        // Ignored, the bad argument leaves the environment's scale (0: no delays) in force.
        let (out, elapsed) = run_with("synchronized", &["--scale", bad], Some("0"));
        assert_success(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("ignoring time scale {bad:?} from --scale")),
            "{}",
            describe(&out)
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "reported once: {}",
            describe(&out)
        );
        assert_eq!(common::stdout_lines(&out).len(), 9, "{}", describe(&out));
        assert!(elapsed < UNSCALED_SYNCHRONIZED, "the run took {elapsed:?}");
    }
}
