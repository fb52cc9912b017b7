//! Process exit with a pool still alive (leaked, or in a `static`): as in Python, the pool is
//! shut down at exit, its workers finish the queued tasks, and the process waits for them
//! (they are non-daemon threads) instead of hanging or cutting them short. Each scenario runs
//! in a child process (a re-run of this binary).

mod support;

use std::time::Duration;

use support::{in_child, run_child};
use threadkit::ThreadPoolExecutor;

#[test]
fn a_leaked_pool_finishes_its_queue_at_exit_and_the_process_ends() {
    const TEST: &str = "a_leaked_pool_finishes_its_queue_at_exit_and_the_process_ends";
    if in_child(TEST) {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("leaked")
            .build()
            .unwrap();
        for i in 0..3 {
            drop(
                pool.submit(move || {
                    // Still queued or running when main has returned and exit began.
                    while threadkit::main_thread().is_alive() {
                        threadkit::sleep(Duration::from_millis(1));
                    }
                    println!("task {i} done");
                })
                .unwrap(),
            );
        }
        std::mem::forget(pool); // never shut down by the program
        println!("main returns");
        return;
    }
    let child = run_child(TEST, Duration::from_secs(60));
    child.assert_success();
    let main = child.line("main returns");
    for i in 0..3 {
        assert!(
            child.line(&format!("task {i} done")) > main,
            "{}",
            child.describe()
        );
    }
}
