//! The tutorial's first program, *Starting a New Thread*: two bare threads started with
//! `thread::start_new_thread` (Python's `_thread.start_new_thread`) each print the time five
//! times, every 2 s and every 4 s.
//!
//! What differs from the tutorial: its main thread keeps the process alive with
//! `while 1: pass`, which burns a whole core and never ends. Here main uses the classic
//! `_thread` idiom instead: it allocates one lock per worker and holds it; each worker
//! releases its lock when it is done; main waits by acquiring the locks again, then exits.
//! (`start_new_thread` threads are daemons: the process would not wait for them at exit.)
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in 2 s):
//!
//! ```text
//! cargo run --release --example start_new_thread -- --scale 0.1
//! ```
//!
//! Output (timestamps differ):
//!
//! ```text
//! Thread-1: Thu Jan 22 15:42:17 2009
//! Thread-1: Thu Jan 22 15:42:19 2009
//! Thread-2: Thu Jan 22 15:42:19 2009
//! ...
//! Thread-2: Thu Jan 22 15:42:35 2009
//! ```

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use threadkit::Lock;
use threadkit::thread;

/// Prints the thread's name and the time, five times, `delay` apart.
fn print_time(thread_name: &str, delay: Duration) {
    let mut count = 0;
    while count < 5 {
        threadkit::sleep(delay);
        count += 1;
        println!("{thread_name}: {}", support::ctime());
    }
}

/// A worker's "done" signal: releases the lock main holds for it when dropped, so main
/// wakes even if the worker panics (say, `println!` failing because stdout was closed).
struct Done(Arc<Lock>);

impl Drop for Done {
    fn drop(&mut self) {
        if let Err(e) = self.0.release() {
            eprintln!("{e}");
        }
    }
}

fn main() -> ExitCode {
    let mut running = Vec::new();
    let mut start_error = None;
    // Python's `try: start both ... except: print "Error: unable to start thread"`.
    for (name, delay) in [("Thread-1", 2.0), ("Thread-2", 4.0)] {
        let done = Arc::new(thread::allocate_lock());
        done.acquire(); // held by main until the worker is finished
        let signal = Done(done.clone());
        let delay = support::scaled(delay);
        let started = thread::start_new_thread(move || {
            let _signal = signal;
            print_time(name, delay);
        });
        match started {
            Ok(_ident) => running.push(done),
            Err(e) => {
                start_error = Some(e);
                break;
            }
        }
    }
    if let Some(e) = &start_error {
        println!("Error: unable to start thread");
        eprintln!("{e}");
    }

    // Instead of `while 1: pass`: sleep until every worker that started has released its lock.
    for done in &running {
        done.acquire();
    }
    match start_error {
        None => ExitCode::SUCCESS,
        Some(_) => ExitCode::FAILURE,
    }
}
