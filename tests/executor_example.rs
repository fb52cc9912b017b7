//! Runs `examples/executor.rs` (the work queue done with a `ThreadPoolExecutor`) as a process
//! with a small time scale and checks the tutorial's output shape, as `examples_queue.rs`
//! does for the two work-queue programs: every worker starts and exits once, each word is
//! processed exactly once by a worker between that worker's start and exit, main's line last.

mod common;

const WORKERS: [&str; 3] = ["Thread_0", "Thread_1", "Thread_2"];
const WORDS: [&str; 5] = ["One", "Two", "Three", "Four", "Five"];

#[test]
fn executor_example_has_the_work_queue_output_shape() {
    let out = common::run_example("executor", 0.01);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "executor failed: {:?}\n{stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "executor wrote to stderr:\n{stderr}");
    let lines = common::stdout_lines(&out);
    let position = |line: &str| {
        let found: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == line).collect();
        assert_eq!(found.len(), 1, "{line:?} exactly once in {lines:#?}");
        found[0]
    };
    for worker in WORKERS {
        let started = position(&format!("Starting {worker}"));
        let exited = position(&format!("Exiting {worker}"));
        assert!(started < exited, "{worker}: {lines:#?}");
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with(&format!("{worker} processing ")) {
                assert!(started < i && i < exited, "{worker}: {lines:#?}");
            }
        }
    }
    let words: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(" processing "))
        .map(|(worker, word)| {
            assert!(WORKERS.contains(&worker), "unknown worker {worker:?}");
            word
        })
        .collect();
    for word in WORDS {
        assert_eq!(
            words.iter().filter(|&&w| w == word).count(),
            1,
            "{word}: {lines:#?}"
        );
    }
    assert_eq!(
        lines.last().map(String::as_str),
        Some("Exiting Main Thread")
    );
    assert_eq!(lines.len(), 3 + 5 + 3 + 1, "nothing else: {lines:#?}");
}
