//! Helpers shared by the test files that run examples as child processes.

#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output};

/// The path of a built example. `cargo test` builds every example into
/// `target/<profile>/examples/` beside the `deps/` folder that holds the test binary.
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "example {name} is not built at {}: run the tests with `cargo test`",
        path.display()
    );
    path
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
