//! The tutorial's second program, *Creating Thread Using Threading Module*: a thread type
//! with its own fields (Python's `Thread` subclass overriding `run`; here a struct that
//! implements [`threadkit::Run`]). Two of them print the time five times, every 1 s and
//! every 2 s. Main prints "Exiting Main Thread" right after starting them and returns
//! without joining: as in Python, the process still waits for both (they are non-daemon
//! threads) before it exits.
//!
//! What differs from the tutorial: when the global exit flag is set, the tutorial calls
//! `threadName.exit()`, which cannot work (a string has no `exit`); the intent is "end this
//! thread early", which is [`threadkit::thread::exit`]. The tutorial never sets the flag;
//! pass `--exit-flag` to have main set it right after printing "Exiting Main Thread", and see
//! the workers end early without their "Exiting NAME" line.
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in 1 s):
//!
//! ```text
//! cargo run --release --example thread_subclass -- --scale 0.1
//! ```
//!
//! Output (timestamps differ; the "Starting" lines may come in either order):
//!
//! ```text
//! Starting Thread-1
//! Starting Thread-2
//! Exiting Main Thread
//! Thread-1: Thu Mar 21 09:10:03 2013
//! Thread-1: Thu Mar 21 09:10:04 2013
//! Thread-2: Thu Mar 21 09:10:04 2013
//! ...
//! Exiting Thread-1
//! Thread-2: Thu Mar 21 09:10:08 2013
//! Thread-2: Thu Mar 21 09:10:10 2013
//! Thread-2: Thu Mar 21 09:10:12 2013
//! Exiting Thread-2
//! ```

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};

use threadkit::{Run, StartError, Thread};

/// Python's global `exitFlag`: when set, `print_time` ends its thread early.
static EXIT_FLAG: AtomicBool = AtomicBool::new(false);

/// Python's `myThread`: the thread's own state, available in `run` through `self`.
struct MyThread {
    #[allow(dead_code)] // stored and never read, as in the tutorial
    thread_id: u32,
    name: String,
    counter: u32,
}

impl MyThread {
    /// Python's `myThread(threadID, name, counter)`: a new, unstarted thread.
    fn new_thread(thread_id: u32, name: &str, counter: u32) -> Thread {
        Thread::builder().name(name).run(MyThread {
            thread_id,
            name: name.to_string(),
            counter,
        })
    }
}

impl Run for MyThread {
    fn run(&mut self) {
        println!("Starting {}", self.name);
        print_time(&self.name, self.counter, 5);
        println!("Exiting {}", self.name);
    }
}

/// Prints the thread's name and the time `counter` times, `delay` tutorial seconds apart;
/// ends the calling thread early once [`EXIT_FLAG`] is set.
fn print_time(thread_name: &str, delay: u32, mut counter: u32) {
    while counter > 0 {
        if EXIT_FLAG.load(Ordering::Relaxed) {
            threadkit::thread::exit();
        }
        threadkit::sleep(support::scaled(delay.into()));
        println!("{thread_name}: {}", support::ctime());
        counter -= 1;
    }
}

fn main() -> Result<(), StartError> {
    let set_exit_flag = support::flag("exit-flag");

    // Create new threads
    let thread1 = MyThread::new_thread(1, "Thread-1", 1);
    let thread2 = MyThread::new_thread(2, "Thread-2", 2);

    // Start new threads
    thread1.start()?;
    thread2.start()?;

    println!("Exiting Main Thread");
    if set_exit_flag {
        EXIT_FLAG.store(true, Ordering::Relaxed);
    }
    // No join: threadkit waits for the non-daemon threads when main returns.
    Ok(())
}
