//! The tutorial's work-queue program (see `work_queue`), done the `concurrent.futures` way:
//! a [`ThreadPoolExecutor`] of three named workers takes the five words as tasks, and main
//! collects the results with [`as_completed`] as they finish. The pool is the queue, the
//! lock, the exit flag and the joins.
//!
//! - The workers are named `Thread_0`, `Thread_1`, `Thread_2` (Python's
//!   `thread_name_prefix="Thread"`). Each announces itself in the pool's initializer, which
//!   also waits at a three-party [`Barrier`] so that all three start before any word is
//!   processed, as the tutorial starts its three threads first; each says goodbye from a
//!   thread-local's destructor, as its thread ends.
//! - A task is one word: it sleeps one (tutorial) second for the work and returns the word
//!   with the worker's name; main prints `NAME processing WORD` as each result arrives.
//! - `shutdown(wait=true)` ends and joins the workers.
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in well under a
//! second):
//!
//! ```text
//! cargo run --release --example executor
//! cargo run --release --example executor -- --scale 0.1
//! ```
//!
//! Output (which worker takes which word, and the order of results, vary from run to run):
//!
//! ```text
//! Starting Thread_0
//! Starting Thread_1
//! Starting Thread_2
//! Thread_0 processing One
//! Thread_1 processing Two
//! Thread_2 processing Three
//! Thread_0 processing Four
//! Thread_1 processing Five
//! Exiting Thread_2
//! Exiting Thread_0
//! Exiting Thread_1
//! Exiting Main Thread
//! ```

#[path = "support/mod.rs"]
mod support;

use std::cell::RefCell;
use std::error::Error;
use std::sync::Arc;

use threadkit::futures::as_completed;
use threadkit::{Barrier, ThreadPoolExecutor};

/// Prints `Exiting NAME` when the worker's thread ends (its thread-locals are dropped).
struct ExitLine(String);

impl Drop for ExitLine {
    fn drop(&mut self) {
        println!("Exiting {}", self.0);
    }
}

thread_local! {
    static EXIT_LINE: RefCell<Option<ExitLine>> = const { RefCell::new(None) };
}

fn main() -> Result<(), Box<dyn Error>> {
    let name_list = ["One", "Two", "Three", "Four", "Five"];
    let all_started = Arc::new(Barrier::new(3)?);

    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .thread_name_prefix("Thread")
        .initializer(move || {
            let name = threadkit::current_thread().name();
            println!("Starting {name}");
            EXIT_LINE.with(|e| *e.borrow_mut() = Some(ExitLine(name)));
            all_started.wait().map(|_| ()) // the three workers start before any work
        })
        .build()?;

    // Submit one task per word.
    let futures = name_list
        .into_iter()
        .map(|word| {
            pool.submit(move || {
                threadkit::sleep(support::scaled(1.0)); // the work
                (threadkit::current_thread().name(), word)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Results as they complete.
    for future in as_completed(&futures) {
        let (worker, word) = future?.result()?;
        println!("{worker} processing {word}");
    }

    // Wait for all threads to complete
    pool.shutdown(true, false)?;
    println!("Exiting Main Thread");
    Ok(())
}
