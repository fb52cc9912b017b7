//! The tutorial's work-queue program (see `work_queue`), done the threadkit way: the same
//! three workers, the same words, the same output, but no global exit flag, no extra lock
//! and no busy-waiting.
//!
//! - Each worker is a plain `for word in &queue` loop: it blocks in `get` while the queue is
//!   empty and ends by itself once the queue is shut down and drained.
//! - A worker marks each word done with `task_done()` when it has processed it (the
//!   one-second sleep stands for the work).
//! - Main puts the words, `join()`s the queue (returns once every word has been marked done:
//!   no polling), then `shutdown()`s it, which ends the workers' loops, and joins the
//!   workers.
//!
//! The queue is its own lock, so the tutorial's `queueLock` is gone; it is its own exit
//! signal, so `exitFlag` is gone; and nobody wakes up once a second to look for work.
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in well under a
//! second):
//!
//! ```text
//! cargo run --release --example work_queue_idiomatic
//! cargo run --release --example work_queue_idiomatic -- --scale 0.1
//! ```
//!
//! Output (which worker takes which word varies from run to run):
//!
//! ```text
//! Starting Thread-1
//! Starting Thread-2
//! Starting Thread-3
//! Thread-1 processing One
//! Thread-2 processing Two
//! Thread-3 processing Three
//! Thread-1 processing Four
//! Thread-2 processing Five
//! Exiting Thread-3
//! Exiting Thread-1
//! Exiting Thread-2
//! Exiting Main Thread
//! ```

#[path = "support/mod.rs"]
mod support;

use std::error::Error;

use threadkit::Thread;
use threadkit::queue::Queue;

/// A worker: processes words until the queue is shut down and empty.
fn process_data(work_queue: &Queue<&'static str>) {
    let name = threadkit::current_thread().name();
    println!("Starting {name}");
    for word in work_queue {
        println!("{name} processing {word}");
        threadkit::sleep(support::scaled(1.0)); // the work
        if let Err(e) = work_queue.task_done() {
            eprintln!("{e}"); // cannot happen: one task_done per word taken
        }
    }
    println!("Exiting {name}");
}

fn main() -> Result<(), Box<dyn Error>> {
    let work_queue = Queue::new(10);

    let mut threads = Vec::new();
    for name in ["Thread-1", "Thread-2", "Thread-3"] {
        let q = work_queue.clone();
        let t = Thread::builder()
            .name(name)
            .target(move || process_data(&q));
        t.start()?;
        threads.push(t);
    }

    for word in ["One", "Two", "Three", "Four", "Five"] {
        work_queue.put(word)?;
    }

    work_queue.join(); // every word processed
    work_queue.shutdown(); // the workers' loops end

    for t in &threads {
        t.join()?;
    }
    println!("Exiting Main Thread");
    Ok(())
}
