//! The tutorial's fourth program, the *work queue*: three worker threads share a
//! [`threadkit::queue::Queue`] of capacity 10 (Python's `Queue.Queue(10)`) and a
//! [`threadkit::Lock`] (Python's `queueLock`). Main fills the queue with the words One..Five
//! while holding the lock, waits until the queue is empty, sets a global exit flag and joins
//! the workers. Each worker loops until the flag is set: under the lock, if the queue is not
//! empty it takes one word, releases the lock and prints "NAME processing WORD"; otherwise it
//! just releases the lock; then it sleeps one second.
//!
//! This is the Python program ported line for line, busy-waiting and global flag included.
//! `work_queue_idiomatic` does the same job the threadkit way (`for word in &queue`,
//! `task_done`/`join`, `shutdown`), with no flag, no extra lock and no polling.
//!
//! What differs from the tutorial: main's "wait for the queue to empty" loop (Python's
//! `while not workQueue.empty(): pass`) sleeps 10 ms between checks instead of burning a
//! core; the exit flag is an `AtomicBool` and the lock a `static` (Python's module globals);
//! the lock is held through a guard, dropped where Python calls `release()`.
//!
//! Run it (the optional `--scale` multiplies every delay; 0.1 runs it in well under a
//! second):
//!
//! ```text
//! cargo run --release --example work_queue
//! cargo run --release --example work_queue -- --scale 0.1
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
use std::sync::atomic::{AtomicBool, Ordering};

use threadkit::queue::Queue;
use threadkit::{Lock, Run, Thread};

/// Python's `exitFlag`: set by main once the queue is empty.
static EXIT_FLAG: AtomicBool = AtomicBool::new(false);

/// Python's `queueLock = threading.Lock()`.
static QUEUE_LOCK: Lock = Lock::new();

/// Python's `myThread`: the thread's own state, available in `run` through `self`.
struct MyThread {
    #[allow(dead_code)] // stored and never read, as in the tutorial
    thread_id: u32,
    name: String,
    q: Queue<&'static str>,
}

impl MyThread {
    /// Python's `myThread(threadID, name, q)`: a new, unstarted thread.
    fn new_thread(thread_id: u32, name: &str, q: Queue<&'static str>) -> Thread {
        Thread::builder().name(name).run(MyThread {
            thread_id,
            name: name.to_string(),
            q,
        })
    }
}

impl Run for MyThread {
    fn run(&mut self) {
        println!("Starting {}", self.name);
        process_data(&self.name, &self.q);
        println!("Exiting {}", self.name);
    }
}

/// Takes words from `q` until the exit flag is set, one per (tutorial) second at most.
fn process_data(thread_name: &str, q: &Queue<&'static str>) {
    while !EXIT_FLAG.load(Ordering::SeqCst) {
        let held = QUEUE_LOCK.guard(); // queueLock.acquire()
        if !q.empty() {
            let data = q.get().expect("the work queue is never shut down");
            drop(held); // queueLock.release()
            println!("{thread_name} processing {data}");
        } else {
            drop(held); // queueLock.release()
        }
        threadkit::sleep(support::scaled(1.0));
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let thread_list = ["Thread-1", "Thread-2", "Thread-3"];
    let name_list = ["One", "Two", "Three", "Four", "Five"];
    let work_queue = Queue::new(10);
    let mut threads = Vec::new();

    // Create new threads
    for (thread_id, t_name) in (1..).zip(thread_list) {
        let thread = MyThread::new_thread(thread_id, t_name, work_queue.clone());
        thread.start()?;
        threads.push(thread);
    }

    // Fill the queue
    {
        let _held = QUEUE_LOCK.guard();
        for word in name_list {
            work_queue.put(word)?;
        }
    }

    // Wait for queue to empty (politely: Python spins with `pass`)
    while !work_queue.empty() {
        threadkit::sleep(support::scaled(0.01));
    }

    // Notify threads it's time to exit
    EXIT_FLAG.store(true, Ordering::SeqCst);

    // Wait for all threads to complete
    for t in &threads {
        t.join()?;
    }
    println!("Exiting Main Thread");
    Ok(())
}
