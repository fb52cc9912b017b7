//! Records a timeline of a small program and writes it as a page and as a trace: a producer
//! fills a bounded queue, three workers take items from it and update a shared ledger under
//! one lock, and main joins them all. The page (`timeline.html`) shows a lane per thread with
//! the waits coloured by primitive: the producer waiting on the full queue (`queue put`), the
//! workers waiting on the empty queue (`queue get`) and on the ledger's lock (`lock`), main
//! waiting on the joins (`join`). With the `serde` feature it also writes `timeline.json`, the
//! Chrome trace-event form that Perfetto (ui.perfetto.dev) and `chrome://tracing` open.
//!
//! ```text
//! cargo run --example timeline --features serde -- target/timeline
//! ```
//!
//! The argument is the folder to write into (made if missing; the current folder without
//! one). Output:
//!
//! ```text
//! 24 items, ledger total 300
//! wrote target/timeline/timeline.html (5 lanes)
//! wrote target/timeline/timeline.json
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use threadkit::observe::timeline;
use threadkit::queue::Queue;
use threadkit::{Lock, Thread};

const ITEMS: u64 = 24;
const WORKERS: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    std::fs::create_dir_all(&dir)?;

    timeline::start();
    timeline::mark("start");
    let queue: Queue<Option<u64>> = Queue::new(2);
    let ledger = Arc::new(Lock::new());
    let total = Arc::new(std::sync::atomic::AtomicU64::new(0));

    let q = queue.clone();
    let producer = Thread::builder().name("producer").target(move || {
        for i in 1..=ITEMS {
            threadkit::sleep(Duration::from_micros(300)); // making the item
            q.put(Some(i)).expect("the queue is open");
        }
        for _ in 0..WORKERS {
            q.put(None).expect("the queue is open");
        }
    });
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (q, ledger, total) = (queue.clone(), ledger.clone(), total.clone());
        workers.push(
            Thread::builder()
                .name(format!("worker-{w}"))
                .target(move || {
                    while let Some(item) = q.get().expect("the queue is open") {
                        let _entry = ledger.guard();
                        // Writing the ledger takes a while, under its lock.
                        std::thread::sleep(Duration::from_millis(1));
                        total.fetch_add(item, std::sync::atomic::Ordering::Relaxed);
                    }
                }),
        );
    }
    // The workers start first and wait on the empty queue (each wait lands on the page);
    // the producer starts once one of them is seen waiting.
    for w in &workers {
        w.start()?;
    }
    while workers.iter().all(|w| w.waiting().is_none()) {
        std::thread::yield_now();
    }
    producer.start()?;
    producer.join()?;
    for w in &workers {
        w.join()?;
    }
    timeline::mark("done");
    timeline::stop();

    println!(
        "{ITEMS} items, ledger total {}",
        total.load(std::sync::atomic::Ordering::Relaxed)
    );
    let recorded = timeline::snapshot();
    let page = dir.join("timeline.html");
    std::fs::write(&page, recorded.to_html())?;
    println!(
        "wrote {} ({} lanes)",
        page.display(),
        recorded.lanes().len()
    );
    #[cfg(feature = "serde")]
    {
        let json = dir.join("timeline.json");
        std::fs::write(&json, recorded.to_chrome_json())?;
        println!("wrote {}", json.display());
    }
    Ok(())
}
