//! `THREADKIT_DEADLOCK` takes effect without code: a child process (this test binary run
//! again, on one test) starts two threads that deadlock and never calls
//! `observe::watch_from_env`; the watchdog that the first thread start began from the variable
//! reports the cycle and aborts the child.

use std::process::Command;
use std::sync::Arc;

use threadkit::{Barrier, Lock, Thread};

/// Set in the child's environment: the test body then plays the deadlocking program.
const CHILD: &str = "THREADKIT_TEST_WATCH_ENV_CHILD";

/// The child's program: two threads take two named locks in opposite orders and deadlock;
/// the watchdog aborts the process before the test thread's minute is over.
fn deadlock_without_calling_anything() {
    static FIRST: Lock = Lock::named("env-first");
    static SECOND: Lock = Lock::named("env-second");
    let both_hold = Arc::new(Barrier::new(2).unwrap());
    let b = both_hold.clone();
    let alice = Thread::builder()
        .name("env-alice")
        .spawn(move || {
            let _a = FIRST.guard();
            let _ = b.wait();
            let _b = SECOND.guard();
        })
        .unwrap();
    let b = both_hold.clone();
    let _bob = Thread::builder()
        .name("env-bob")
        .spawn(move || {
            let _b = SECOND.guard();
            let _ = b.wait();
            let _a = FIRST.guard();
        })
        .unwrap();
    drop(alice);
    // Not a threadkit wait (the watchdog looks at the two threads alone); the parent fails
    // the test if the child gets past it.
    std::thread::sleep(std::time::Duration::from_secs(60));
    eprintln!("no watchdog aborted the deadlocked child");
    std::process::exit(3);
}

#[cfg(unix)]
#[test]
fn the_environment_variable_alone_starts_the_watchdog_which_aborts_on_a_deadlock() {
    use std::os::unix::process::ExitStatusExt;
    if std::env::var_os(CHILD).is_some() {
        deadlock_without_calling_anything();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "the_environment_variable_alone_starts_the_watchdog_which_aborts_on_a_deadlock",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("THREADKIT_DEADLOCK", "abort:20")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let report = err
        .lines()
        .position(|l| l == "threadkit: deadlock: 2 threads wait on each other")
        .unwrap_or_else(|| panic!("no cycle report in:\n{err}"));
    let steps = &err.lines().collect::<Vec<_>>()[report + 1..];
    for (who, lock) in [("env-alice", "env-second"), ("env-bob", "env-first")] {
        assert!(
            steps.iter().any(|l| l.starts_with(&format!(
                "  thread \"{who}\" waits for Lock \"{lock}\" at 0x"
            ))),
            "{err}"
        );
    }
    assert!(
        err.lines()
            .any(|l| l == "threadkit: aborting on deadlock (THREADKIT_DEADLOCK=abort)"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn an_unknown_value_is_reported_at_the_first_start_and_no_watchdog_runs() {
    if std::env::var_os(CHILD).is_some() {
        let t = Thread::new(|| {});
        t.start().unwrap();
        t.join().unwrap();
        assert!(
            threadkit::enumerate()
                .iter()
                .all(|t| t.name() != "threadkit-watchdog"),
            "no watchdog for an unknown value"
        );
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "an_unknown_value_is_reported_at_the_first_start_and_no_watchdog_runs",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("THREADKIT_DEADLOCK", "explode")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l
            == "threadkit: THREADKIT_DEADLOCK=\"explode\": expected report or abort, \
                optionally with :interval_ms; no deadlock watchdog started"),
        "{err}"
    );
}

#[test]
fn watch_from_env_hands_over_the_watchdog_the_first_start_began() {
    if std::env::var_os(CHILD).is_some() {
        let t = Thread::new(|| {});
        t.start().unwrap(); // the first start: the watchdog begins
        t.join().unwrap();
        let running = || {
            threadkit::enumerate()
                .iter()
                .filter(|t| t.name() == "threadkit-watchdog")
                .count()
        };
        assert_eq!(running(), 1);
        let dog = threadkit::observe::watch_from_env()
            .unwrap()
            .expect("the running one");
        assert_eq!(running(), 1, "not a second one");
        dog.stop();
        assert_eq!(running(), 0);
        assert!(
            threadkit::observe::watch_from_env()
                .unwrap()
                .is_some_and(|d| {
                    d.stop();
                    true
                })
        );
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "watch_from_env_hands_over_the_watchdog_the_first_start_began",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("THREADKIT_DEADLOCK", "report:20")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
