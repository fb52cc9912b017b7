//! Runs the two work-queue examples as processes, with a small time scale, and checks the
//! tutorial's output shape: every worker starts and exits, each word is processed exactly
//! once, by a worker, between that worker's start and exit, and main's line comes last.

mod common;

const WORKERS: [&str; 3] = ["Thread-1", "Thread-2", "Thread-3"];
const WORDS: [&str; 5] = ["One", "Two", "Three", "Four", "Five"];

fn check_work_queue_output(example: &str) {
    let out = common::run_example(example, 0.01);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{example} failed: {:?}\n{stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "{example} wrote to stderr:\n{stderr}");
    let lines = common::stdout_lines(&out);
    let position = |line: &str| {
        let found: Vec<usize> = (0..lines.len()).filter(|&i| lines[i] == line).collect();
        assert_eq!(
            found.len(),
            1,
            "{line:?} should appear exactly once in {lines:#?}"
        );
        found[0]
    };

    for worker in WORKERS {
        let started = position(&format!("Starting {worker}"));
        let exited = position(&format!("Exiting {worker}"));
        assert!(
            started < exited,
            "{worker} exits after it starts: {lines:#?}"
        );
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with(&format!("{worker} processing ")) {
                assert!(
                    started < i && i < exited,
                    "{worker} works while running: {lines:#?}"
                );
            }
        }
    }

    let processing: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(" processing "))
        .map(|(worker, word)| {
            assert!(WORKERS.contains(&worker), "unknown worker {worker:?}");
            word
        })
        .collect();
    assert_eq!(processing.len(), 5, "five words processed: {lines:#?}");
    for word in WORDS {
        assert_eq!(
            processing.iter().filter(|&&w| w == word).count(),
            1,
            "{word} processed exactly once: {lines:#?}"
        );
    }

    assert_eq!(
        lines.last().map(String::as_str),
        Some("Exiting Main Thread")
    );
    assert_eq!(
        lines.len(),
        3 + 5 + 3 + 1,
        "nothing else printed: {lines:#?}"
    );
}

#[test]
fn work_queue_tutorial_port() {
    check_work_queue_output("work_queue");
}

#[test]
fn work_queue_idiomatic() {
    check_work_queue_output("work_queue_idiomatic");
}
