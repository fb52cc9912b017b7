//! The real main thread. libtest runs every `#[test]` on a thread of its own, so this file has
//! `harness = false` (see Cargo.toml): its `main` is the process's main thread.
//!
//! Checks `current_thread() == main_thread()` on it, the misuse answers for the main thread
//! (join itself, set_daemon, start), and, in a child process, `thread::exit()` called from the
//! main thread: it waits for the non-daemon threads, exits with status 0, and nothing after it
//! runs.

use std::process::Command;
use std::time::Duration;

use threadkit::{JoinError, StartError, Thread, WaitKind, current_thread, main_thread};

const SCENARIO_VAR: &str = "THREADKIT_MAIN_THREAD_SCENARIO";

fn exit_scenario() -> ! {
    let worker = Thread::builder().name("worker").daemon(false).target(|| {
        // Finish only once the main thread is inside `exit`, waiting for this thread.
        while !main_thread()
            .waiting()
            .is_some_and(|w| w.kind() == WaitKind::Join)
        {
            threadkit::sleep(Duration::from_millis(1));
        }
        println!("MARKER worker done");
    });
    worker.start().expect("the thread starts");
    println!("MARKER calling exit");
    threadkit::thread::exit();
}

fn main() {
    if std::env::var(SCENARIO_VAR).is_ok_and(|s| s == "exit") {
        exit_scenario();
    }

    let main = main_thread();
    let me = current_thread();
    assert_eq!(me, main, "the main thread is MainThread");
    assert_eq!(me.name(), "MainThread");
    assert!(!me.is_daemon());
    assert!(threadkit::enumerate().contains(&me));
    assert_eq!(
        me.join(),
        Err(JoinError::CurrentThread {
            thread: "MainThread".into()
        })
    );
    assert!(me.set_daemon(true).is_err());
    assert!(matches!(me.start(), Err(StartError::AlreadyStarted { .. })));
    // Threads started from the main thread are not daemon (inherited).
    let t = Thread::new(|| {});
    assert!(!t.is_daemon());
    t.start().unwrap();
    t.join().unwrap();

    let exe = std::env::current_exe().expect("the test binary knows its path");
    let out = Command::new(exe)
        .env(SCENARIO_VAR, "exit")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let describe = || {
        format!(
            "status {}\n--- stdout ---\n{stdout}--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert_eq!(out.status.code(), Some(0), "{}", describe());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["MARKER calling exit", "MARKER worker done"],
        "exit waits for the non-daemon worker and runs nothing after it\n{}",
        describe()
    );
    println!("main_thread: ok");
}
