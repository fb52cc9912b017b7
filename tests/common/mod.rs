//! Helpers shared by test files: running examples as child processes, waiting for a dump,
//! starting and joining the threads of a stress test.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

/// The path of a built, up-to-date example. `cargo test` builds every example into
/// `target/<profile>/examples/` beside the `deps/` folder that holds the test binary; a run
/// that built none (`cargo test --test NAME`) or left one older than its sources gets them
/// built here, once, with the cargo that runs the tests.
pub fn example_path(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !up_to_date(&path) {
        BUILD.call_once(|| build_examples(profile_dir));
    }
    assert!(
        up_to_date(&path),
        "example {name} is missing or older than its sources at {}: run `cargo build --examples`",
        path.display()
    );
    path
}

fn build_examples(profile_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--examples", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    // Into the target dir the tests were built in (`.ci/chaos` and `.ci/loom` use their own),
    // not the default one, where the check above would never find them.
    if let Some(target_dir) = profile_dir.parent() {
        cmd.arg("--target-dir").arg(target_dir);
    }
    if profile_dir.ends_with("release") {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cargo starts");
    assert!(status.success(), "cargo build --examples failed: {status}");
}

/// True if the binary exists and is newer than every source it was built from (the list
/// cargo writes beside it, in `NAME.d`).
fn up_to_date(path: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(path) else {
        return false;
    };
    let Ok(deps) = std::fs::read_to_string(path.with_extension("d")) else {
        return true;
    };
    // `target: source source ...`, spaces inside paths escaped as `\ `.
    let sources = deps
        .lines()
        .next()
        .and_then(|l| l.split_once(": "))
        .map(|(_, s)| s)
        .unwrap_or_default()
        .replace("\\ ", "\0");
    sources
        .split_whitespace()
        .map(|s| s.replace('\0', " "))
        .all(|source| modified(Path::new(&source)).is_none_or(|m| m <= built))
}

/// Runs example `name` with time scale `scale` and returns its output.
pub fn run_example(name: &str, scale: f64) -> Output {
    Command::new(example_path(name))
        .env("THREADKIT_TIME_SCALE", scale.to_string())
        .output()
        .expect("the example starts")
}

/// The example's stdout as lines.
pub fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Dumps until `done` says the dump shows what the test waits for (a minute at most).
pub fn dump_until(
    what: &str,
    done: impl Fn(&threadkit::observe::Dump) -> bool,
) -> threadkit::observe::Dump {
    let start = std::time::Instant::now();
    loop {
        let d = threadkit::observe::dump();
        if done(&d) {
            return d;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "never saw {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Starts a named threadkit thread running `f`.
pub fn start(name: String, f: impl FnOnce() + Send + 'static) -> threadkit::Thread {
    let t = threadkit::Thread::builder().name(name).target(f);
    t.start().expect("thread starts");
    t
}

/// Joins `t`, failing the test if it has not ended within `patience` (a lost wake-up or a
/// hang).
pub fn join_within(t: &threadkit::Thread, patience: std::time::Duration) {
    assert!(
        t.join_timeout(patience).expect("joinable").finished(),
        "{} did not end: lost wake-up or hang",
        t.name()
    );
}

/// A stress test's item: producer in the high half, sequence in the low half.
pub fn item(producer: u64, seq: u64) -> u64 {
    (producer << 32) | seq
}
