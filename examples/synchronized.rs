//! The tutorial's third program, *Synchronizing Threads*: the same thread type as the
//! second program, but each thread holds a shared [`threadkit::Lock`] (Python's
//! `threadLock`) around its whole printing loop, so one thread's three lines all come before
//! the other's. Main joins both threads, then prints "Exiting Main Thread".
//!
//! What differs from the tutorial: the lock is a `static` (Python's module-level
//! `threadLock`), and it is held through a guard (Python's `with threadLock:`) rather than
//! `acquire()` ... `release()`, so it is released even if the printing panics. The tutorial
//! shows the wrong output block for this program (the work-queue program's); the real output
//! is below.
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in 1 s):
//!
//! ```text
//! cargo run --release --example synchronized -- --scale 0.1
//! ```
//!
//! Output (timestamps differ; either thread may take the lock first):
//!
//! ```text
//! Starting Thread-1
//! Starting Thread-2
//! Thread-1: Thu Mar 21 09:11:28 2013
//! Thread-1: Thu Mar 21 09:11:29 2013
//! Thread-1: Thu Mar 21 09:11:30 2013
//! Thread-2: Thu Mar 21 09:11:32 2013
//! Thread-2: Thu Mar 21 09:11:34 2013
//! Thread-2: Thu Mar 21 09:11:36 2013
//! Exiting Main Thread
//! ```

#[path = "support/mod.rs"]
mod support;

use std::error::Error;

use threadkit::{Lock, Run, Thread};

/// Python's `threadLock = threading.Lock()`.
static THREAD_LOCK: Lock = Lock::new();

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
        // Get the lock to synchronise the threads; it is freed, letting the next thread
        // in, when `_held` goes out of scope.
        let _held = THREAD_LOCK.guard();
        print_time(&self.name, self.counter, 3);
    }
}

/// Prints the thread's name and the time `counter` times, `delay` tutorial seconds apart.
fn print_time(thread_name: &str, delay: u32, mut counter: u32) {
    while counter > 0 {
        threadkit::sleep(support::scaled(delay.into()));
        println!("{thread_name}: {}", support::ctime());
        counter -= 1;
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    // Create new threads
    let thread1 = MyThread::new_thread(1, "Thread-1", 1);
    let thread2 = MyThread::new_thread(2, "Thread-2", 2);

    // Start new threads
    thread1.start()?;
    thread2.start()?;

    // Wait for all threads to complete
    let threads = [thread1, thread2];
    for t in &threads {
        t.join()?;
    }
    println!("Exiting Main Thread");
    Ok(())
}
