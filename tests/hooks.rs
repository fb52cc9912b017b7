//! Process tests of what threadkit does to its host program: the panic hook it installs (and
//! how it chains to the one installed before), a panicking excepthook, and the two opt-outs
//! (`set_panic_hook_enabled`, `set_join_at_exit`).
//!
//! Each test re-runs this test binary as a child process running only itself, with
//! `support::SCENARIO_VAR` set (see `tests/exit.rs`): panic hooks and exit handlers are
//! process-wide, so every scenario gets a fresh process.

mod support;

use std::time::Duration;

use support::{Child, in_child};
use threadkit::{JoinError, Lock, Thread};

const CHILD_TIMEOUT: Duration = Duration::from_secs(10);

fn run_child(test: &str) -> Child {
    support::run_child(test, CHILD_TIMEOUT)
}

/// Starts a non-daemon thread named `name` that panics with `message`, joins it and checks
/// that the join reports the panic.
fn panic_in_thread(name: &str, message: &'static str) {
    let t = Thread::builder()
        .name(name)
        .daemon(false)
        .target(move || panic!("{message}"));
    t.start().expect("the thread starts");
    match t.join() {
        Err(JoinError::Panicked(p)) => assert_eq!(p.message(), message),
        other => panic!("join returned {other:?}"),
    }
}

/// The stderr line index of `line`; fails if there is none.
fn stderr_line(child: &Child, line: &str) -> usize {
    child
        .stderr
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no stderr line {line:?}\n{}", child.describe()))
}

fn stderr_lines(child: &Child) -> Vec<&str> {
    child.stderr.lines().collect()
}

#[test]
fn a_panicking_excepthook_is_reported_then_the_thread_panic_gets_the_default_report() {
    const TEST: &str =
        "a_panicking_excepthook_is_reported_then_the_thread_panic_gets_the_default_report";
    if in_child(TEST) {
        threadkit::set_excepthook(|_, _| panic!("the hook broke"));
        panic_in_thread("worker-h", "kaput");
        // The hook's panic ended nothing but the hook: the process goes on.
        println!("MARKER after the join");
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    child.line("MARKER after the join");
    let lines = stderr_lines(&child);
    let hook = stderr_line(&child, "Exception in threading.excepthook:");
    assert!(
        lines[hook + 1].starts_with(&format!("panicked at {}:", file!())),
        "the hook's own location\n{}",
        child.describe()
    );
    assert_eq!(lines[hook + 2], "the hook broke", "{}", child.describe());
    // Then the thread's own panic, in the default excepthook's form.
    let header = stderr_line(&child, "Exception in thread worker-h:");
    assert!(header > hook + 2, "{}", child.describe());
    assert!(
        lines[header + 1].starts_with(&format!("panicked at {}:", file!())),
        "{}",
        child.describe()
    );
    assert_eq!(lines[header + 2], "kaput", "{}", child.describe());
    assert!(
        !child.stderr.contains("thread 'worker-h' panicked"),
        "std's default hook stays quiet for threadkit threads\n{}",
        child.describe()
    );
}

#[test]
fn a_panic_hook_installed_before_sees_threadkit_threads_panics_and_the_excepthook_reports() {
    const TEST: &str =
        "a_panic_hook_installed_before_sees_threadkit_threads_panics_and_the_excepthook_reports";
    if in_child(TEST) {
        // An error reporter, installed before threadkit's first start.
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let thread = std::thread::current().name().unwrap_or("?").to_string();
            println!("MARKER reporter saw {message} in {thread}");
        }));
        panic_in_thread("worker-r", "kaput");
        // A panic in a thread threadkit did not start goes to the reporter too.
        let other = std::thread::Builder::new()
            .name("plain".into())
            .spawn(|| panic!("plain panic"))
            .unwrap();
        assert!(other.join().is_err());
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    child.line("MARKER reporter saw kaput in worker-r");
    child.line("MARKER reporter saw plain panic in plain");
    // The excepthook's report is there, once, with the location threadkit's hook kept.
    let lines = stderr_lines(&child);
    let header = stderr_line(&child, "Exception in thread worker-r:");
    assert!(
        lines[header + 1].starts_with(&format!("panicked at {}:", file!())),
        "{}",
        child.describe()
    );
    assert_eq!(lines[header + 2], "kaput", "{}", child.describe());
    assert_eq!(
        child.stderr.matches("kaput").count(),
        1,
        "{}",
        child.describe()
    );
}

#[test]
fn without_a_hook_before_std_default_reports_other_threads_and_excepthook_threadkit_ones() {
    const TEST: &str =
        "without_a_hook_before_std_default_reports_other_threads_and_excepthook_threadkit_ones";
    if in_child(TEST) {
        panic_in_thread("worker-d", "kaput");
        let other = std::thread::Builder::new()
            .name("plain".into())
            .spawn(|| panic!("plain panic"))
            .unwrap();
        assert!(other.join().is_err());
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    stderr_line(&child, "Exception in thread worker-d:");
    // Printed once: by the excepthook, not by std's default hook as well.
    assert_eq!(
        child.stderr.matches("kaput").count(),
        1,
        "{}",
        child.describe()
    );
    assert!(
        child.stderr.contains("thread 'plain'") && child.stderr.contains("plain panic"),
        "std's default hook still reports other threads\n{}",
        child.describe()
    );
}

#[test]
fn with_the_panic_hook_disabled_the_previous_hook_gets_every_panic_and_the_excepthook_runs() {
    const TEST: &str =
        "with_the_panic_hook_disabled_the_previous_hook_gets_every_panic_and_the_excepthook_runs";
    if in_child(TEST) {
        threadkit::set_panic_hook_enabled(false);
        std::panic::set_hook(Box::new(|_| println!("MARKER host hook called")));
        panic_in_thread("worker-o", "kaput");
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    // The host's hook, installed before the first start, is called for a threadkit thread.
    child.line("MARKER host hook called");
    // The excepthook still reports, without the location only the panic hook can see.
    let lines = stderr_lines(&child);
    let header = stderr_line(&child, "Exception in thread worker-o:");
    assert_eq!(lines[header + 1], "panicked:", "{}", child.describe());
    assert_eq!(lines[header + 2], "kaput", "{}", child.describe());
}

/// Held by the scenario's main thread: a thread that waits on it never goes on.
static NEVER: Lock = Lock::new();

#[test]
fn with_join_at_exit_off_the_process_exits_without_waiting_for_non_daemon_threads() {
    const TEST: &str =
        "with_join_at_exit_off_the_process_exits_without_waiting_for_non_daemon_threads";
    if in_child(TEST) {
        threadkit::set_join_at_exit(false);
        NEVER.acquire();
        let t = Thread::builder().name("stuck").daemon(false).target(|| {
            NEVER.acquire();
            println!("MARKER the thread went on");
        });
        t.start().expect("the thread starts");
        assert!(t.is_alive() && !t.is_daemon());
        println!("MARKER started");
        return; // with the default, the process would wait for `stuck` forever
    }
    let child = run_child(TEST);
    child.assert_success();
    child.line("MARKER started");
    assert!(
        !child.stdout.contains("the thread went on"),
        "{}",
        child.describe()
    );
}
