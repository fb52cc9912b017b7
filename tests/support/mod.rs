//! Helpers for the proof tests (stress, fault, bad input): a watchdog that turns a hang into a
//! failure, and a runner that re-runs one test of the current binary as a child process.

#![allow(dead_code)] // each test file uses its own subset

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Aborts the process (failing the test run) if it is not dropped within its limit: a test
/// that deadlocks fails with a message instead of hanging CI.
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a [`Watchdog`] for `what`.
pub fn watchdog(what: &'static str, limit: Duration) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("{what}: still running after {limit:?}; a thread is stuck. Aborting.");
            std::process::abort();
        }
    });
    Watchdog {
        done: Some(tx),
        thread: Some(thread),
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Set in a child process to the name of the test whose scenario it runs.
pub const SCENARIO_VAR: &str = "THREADKIT_PROOF_SCENARIO";

/// True in the child process that runs `test`'s scenario.
pub fn in_child(test: &str) -> bool {
    std::env::var(SCENARIO_VAR).is_ok_and(|s| s == test)
}

/// What a child process did.
pub struct Child {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Child {
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The index of the first stdout line that is `line`; fails if there is none. The first
    /// line a scenario prints shares its line with libtest's unfinished `test NAME ... `.
    pub fn line(&self, line: &str) -> usize {
        self.stdout_lines()
            .iter()
            .position(|l| {
                l.strip_suffix(line)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with(" ... "))
            })
            .unwrap_or_else(|| panic!("no line {line:?}\n{}", self.describe()))
    }

    pub fn describe(&self) -> String {
        format!(
            "status: {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "the child failed\n{}",
            self.describe()
        );
    }
}

/// Re-runs test `test` of this binary alone in a child process (with [`SCENARIO_VAR`] set)
/// and returns what it did; kills it and fails if it runs longer than `limit`.
pub fn run_child(test: &str, limit: Duration) -> Child {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(SCENARIO_VAR, test)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{test}: the child was still running after {limit:?}\n\
                 --- stdout ---\n{}--- stderr ---\n{}",
                stdout.join().unwrap(),
                stderr.join().unwrap()
            );
        }
        // Polling the child, not synchronising threads: the sleep only paces the loop.
        std::thread::sleep(Duration::from_millis(5));
    };
    Child {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Serialises the tests of one binary that replace the process-wide excepthook.
static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Replaces the excepthook with one that records `(thread, message)` for threads whose name
/// starts with `prefix`, until dropped. Holds [`HOOK`] meanwhile.
pub struct Recorder {
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Recorder {
    pub fn install(prefix: &'static str) -> Recorder {
        let serial = HOOK.lock().unwrap_or_else(|e| e.into_inner());
        let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> = Default::default();
        let s = seen.clone();
        threadkit::set_excepthook(move |t, p| {
            if t.name().starts_with(prefix) {
                s.lock().unwrap().push((t.name(), p.message().to_string()));
            }
        });
        Recorder {
            seen,
            _serial: serial,
        }
    }

    pub fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        threadkit::reset_excepthook();
    }
}
