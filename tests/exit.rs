//! Process tests of how threads end and how the process exits: "exit like Python".
//!
//! Each test re-runs this test binary as a child process, running only itself (`--exact`),
//! with `support::SCENARIO_VAR` set. In the child, the test function plays its scenario and returns
//! (or exits); in the parent, it checks the child's stdout, stderr and exit status. Children
//! run with `RUST_BACKTRACE=0` so their output is the same everywhere, and are killed (and
//! the test failed) if they run longer than [`CHILD_TIMEOUT`].
//!
//! libtest may run a test function on a thread of its own, which threadkit treats as a
//! foreign thread (threads it creates default to daemon), so the scenarios set the daemon
//! flag explicitly.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use support::{Child, in_child};
use threadkit::{JoinError, Lock, Thread};

/// A child still running after this long is stuck: it is killed and the test fails.
const CHILD_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `test`'s scenario in a child process and waits at most [`CHILD_TIMEOUT`] for it.
fn run_child(test: &str) -> Child {
    support::run_child(test, CHILD_TIMEOUT)
}

/// Held from the start of a scenario until the process exits: [`release_at_exit`] frees it
/// from an `atexit` handler, so a thread that waits on it can only go on once the process is
/// exiting.
static EXIT_GATE: Lock = Lock::new();

/// Registers an `atexit` handler that releases [`EXIT_GATE`]. Handlers run in reverse order
/// of registration, so when this is called after threadkit started its first thread (which
/// registers threadkit's exit wait), the gate opens before threadkit waits for the threads.
#[cfg(unix)]
fn release_at_exit() {
    extern "C" fn open_gate() {
        // Only the scenario's own thread holds the gate; releasing cannot fail or unwind.
        let _ = EXIT_GATE.release();
    }
    // SAFETY: `open_gate` is a plain function that lives as long as the program and never
    // unwinds.
    let registered = unsafe { libc::atexit(open_gate) };
    assert_eq!(registered, 0, "atexit failed");
}

/// Starts a non-daemon thread that prints `marker` once the process is exiting.
#[cfg(unix)]
fn start_exit_waiter(marker: &'static str) -> Thread {
    EXIT_GATE.acquire();
    let t = Thread::builder()
        .name("exit-waiter")
        .daemon(false)
        .target(move || {
            EXIT_GATE.acquire();
            println!("{marker}");
        });
    t.start().expect("the thread starts");
    release_at_exit();
    t
}

#[cfg(unix)]
#[test]
fn non_daemon_thread_is_waited_for_when_the_process_exits() {
    const TEST: &str = "non_daemon_thread_is_waited_for_when_the_process_exits";
    if in_child(TEST) {
        let t = start_exit_waiter("MARKER waited for at exit");
        assert!(t.is_alive() && !t.is_daemon());
        return; // the thread is still blocked: only the process's exit lets it go on
    }
    let child = run_child(TEST);
    child.assert_success();
    let summary = child
        .stdout_lines()
        .iter()
        .position(|l| l.starts_with("test result: ok."))
        .unwrap_or_else(|| panic!("no test summary\n{}", child.describe()));
    // The harness had finished and was exiting when the thread went on, and it waited.
    assert!(
        child.line("MARKER waited for at exit") > summary,
        "{}",
        child.describe()
    );
}

#[cfg(unix)]
#[test]
fn process_exit_waits_for_non_daemon_threads_too() {
    const TEST: &str = "process_exit_waits_for_non_daemon_threads_too";
    if in_child(TEST) {
        start_exit_waiter("MARKER waited for at process::exit");
        std::process::exit(3);
    }
    let child = run_child(TEST);
    assert_eq!(child.status.code(), Some(3), "{}", child.describe());
    child.line("MARKER waited for at process::exit");
}

/// Blocked on this lock forever, a thread can end only with the process.
static NEVER: Lock = Lock::new();

#[test]
fn daemon_thread_is_not_waited_for() {
    const TEST: &str = "daemon_thread_is_not_waited_for";
    if in_child(TEST) {
        NEVER.acquire();
        let t = Thread::builder()
            .name("stuck-daemon")
            .daemon(true)
            .target(|| {
                NEVER.acquire();
                println!("MARKER the daemon went on");
            });
        t.start().expect("the thread starts");
        assert!(t.is_alive() && t.is_daemon());
        println!("MARKER daemon started");
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    child.line("MARKER daemon started");
    assert!(
        !child.stdout.contains("the daemon went on"),
        "{}",
        child.describe()
    );
}

#[test]
fn start_new_thread_thread_is_not_waited_for() {
    const TEST: &str = "start_new_thread_thread_is_not_waited_for";
    if in_child(TEST) {
        NEVER.acquire();
        let (tx, rx) = mpsc::channel();
        threadkit::thread::start_new_thread(move || {
            tx.send(()).unwrap();
            NEVER.acquire();
            println!("MARKER the low-level thread went on");
        })
        .expect("the thread starts");
        rx.recv().unwrap(); // it is running
        println!("MARKER low-level thread started");
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    child.line("MARKER low-level thread started");
    assert!(
        !child.stdout.contains("the low-level thread went on"),
        "{}",
        child.describe()
    );
}

#[test]
fn default_excepthook_reports_a_panic_in_python_form() {
    const TEST: &str = "default_excepthook_reports_a_panic_in_python_form";
    if in_child(TEST) {
        let t = Thread::builder()
            .name("worker-x")
            .daemon(false)
            .target(|| panic!("kaput"));
        t.start().expect("the thread starts");
        match t.join() {
            Err(JoinError::Panicked(p)) => {
                assert_eq!(p.message(), "kaput");
                println!("MARKER joined a panicked thread");
            }
            other => panic!("join returned {other:?}"),
        }
        return;
    }
    let child = run_child(TEST);
    // A panic ends its thread only: the process goes on and exits with status 0.
    child.assert_success();
    child.line("MARKER joined a panicked thread");
    let stderr: Vec<&str> = child.stderr.lines().collect();
    let header = stderr
        .iter()
        .position(|l| *l == "Exception in thread worker-x:")
        .unwrap_or_else(|| panic!("no excepthook header\n{}", child.describe()));
    let at = stderr.get(header + 1).copied().unwrap_or_default();
    assert!(
        at.starts_with(&format!("panicked at {}:", file!())),
        "no location in this file after the header\n{}",
        child.describe()
    );
    assert_eq!(
        stderr.get(header + 2).copied(),
        Some("kaput"),
        "{}",
        child.describe()
    );
    // The excepthook replaces Rust's own panic message for threadkit threads.
    assert!(
        !child.stderr.contains("thread 'worker-x' panicked"),
        "{}",
        child.describe()
    );
}

#[test]
fn shutdown_waits_for_non_daemon_threads_including_ones_started_meanwhile() {
    const TEST: &str = "shutdown_waits_for_non_daemon_threads_including_ones_started_meanwhile";
    if in_child(TEST) {
        NEVER.acquire();
        let stuck = Thread::builder()
            .name("stuck-daemon")
            .daemon(true)
            .target(|| NEVER.acquire());
        stuck.start().expect("the thread starts");
        let outer = Thread::builder().name("outer").daemon(false).target(|| {
            // Non-daemon by default: inherited from `outer`.
            let inner = Thread::builder().name("inner").target(|| {
                threadkit::sleep(Duration::from_millis(50));
                println!("MARKER inner finished");
            });
            assert!(!inner.is_daemon());
            inner.start().expect("the thread starts");
            println!("MARKER outer finished");
        });
        outer.start().expect("the thread starts");
        threadkit::shutdown();
        println!("MARKER shutdown returned");
        assert!(!outer.is_alive());
        assert!(stuck.is_alive()); // daemons are not waited for
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    let returned = child.line("MARKER shutdown returned");
    assert!(
        child.line("MARKER outer finished") < returned,
        "{}",
        child.describe()
    );
    assert!(
        child.line("MARKER inner finished") < returned,
        "{}",
        child.describe()
    );
}

/// Prints a marker when dropped.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        println!("MARKER dropped {}", self.0);
    }
}

#[test]
fn thread_exit_runs_destructors_and_ends_the_thread_cleanly() {
    const TEST: &str = "thread_exit_runs_destructors_and_ends_the_thread_cleanly";
    if in_child(TEST) {
        fn deep() -> ! {
            let _inner = Noisy("inner");
            threadkit::thread::exit();
        }
        let t = Thread::builder().name("quitter").daemon(false).target(|| {
            let _outer = Noisy("outer");
            deep();
        });
        t.start().expect("the thread starts");
        assert_eq!(t.join(), Ok(()));
        println!("MARKER joined quitter");

        // The same in a start_new_thread thread: the channel's sender is dropped last.
        let (tx, rx) = mpsc::channel::<()>();
        threadkit::thread::start_new_thread(move || {
            let _tx = tx;
            let _low = Noisy("low-level");
            threadkit::thread::exit();
        })
        .expect("the thread starts");
        assert!(rx.recv().is_err()); // the sender was dropped: the thread unwound
        println!("MARKER low-level thread ended");
        return;
    }
    let child = run_child(TEST);
    child.assert_success();
    let inner = child.line("MARKER dropped inner");
    let outer = child.line("MARKER dropped outer");
    let joined = child.line("MARKER joined quitter");
    assert!(inner < outer && outer < joined, "{}", child.describe());
    assert!(
        child.line("MARKER dropped low-level") < child.line("MARKER low-level thread ended"),
        "{}",
        child.describe()
    );
    // Quietly: no excepthook report, no panic message.
    assert!(
        !child.stderr.contains("Exception in thread") && !child.stderr.contains("panicked"),
        "{}",
        child.describe()
    );
}
