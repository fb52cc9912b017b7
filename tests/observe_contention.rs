//! The contention profile (`observe::contention`): exact counts for a lock a thread had to wait
//! for, a wait at least as long as the hold, nothing counted on fast paths or while off, the
//! table and the top rows. The switch is global: the tests take turns.

use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};
use std::time::{Duration, Instant};

use threadkit::observe::{self, contention};
use threadkit::{Lock, Semaphore, Thread};

static SERIAL: StdMutex<()> = StdMutex::new(());

fn serial() -> StdGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    contention::reset();
    g
}

/// Waits until `t` is blocked (its wait record is written).
fn until_blocked(t: &Thread) {
    while t.waiting().is_none() {
        std::thread::yield_now();
    }
}

const HOLD: Duration = Duration::from_millis(50);

/// Main holds `lock`; a thread blocks on it; main keeps it `HOLD` longer and lets go.
fn contend_once(lock: &Arc<Lock>) -> Duration {
    let guard = lock.guard();
    let l = lock.clone();
    let t = Thread::new(move || drop(l.guard()));
    t.start().unwrap();
    until_blocked(&t);
    let held_from = Instant::now();
    std::thread::sleep(HOLD);
    let held = held_from.elapsed();
    drop(guard);
    t.join().unwrap();
    held
}

#[test]
fn a_lock_waited_for_once_counts_once_with_the_wait_at_least_the_hold() {
    let _s = serial();
    contention::enable();
    let lock = Arc::new(Lock::new());
    let held = contend_once(&lock);
    // Uncontended acquisitions count nothing.
    for _ in 0..100 {
        drop(lock.guard());
    }
    let profile = observe::contention();
    contention::disable();
    let row = profile.get(lock.id()).expect("the lock has a row");
    assert_eq!(row.contended(), 1);
    assert_eq!(row.waits(), 1);
    assert!(
        row.total_wait() >= held,
        "{:?} < {held:?}",
        row.total_wait()
    );
    assert_eq!(row.longest_wait(), row.total_wait());
    assert!(row.total_wait() < held + Duration::from_secs(5));
}

#[test]
fn nothing_is_counted_while_off_and_reset_forgets() {
    let _s = serial();
    let lock = Arc::new(Lock::new());
    contend_once(&lock);
    assert!(observe::contention().get(lock.id()).is_none(), "off");
    contention::enable();
    contend_once(&lock);
    contend_once(&lock);
    let row = *observe::contention().get(lock.id()).expect("counted");
    assert_eq!((row.contended(), row.waits()), (2, 2));
    assert!(row.total_wait() >= 2 * HOLD);
    assert!(row.longest_wait() >= HOLD && row.longest_wait() < row.total_wait());
    contention::reset();
    assert!(observe::contention().get(lock.id()).is_none());
    contention::disable();
}

#[test]
fn rows_come_longest_wait_first_and_print_as_a_table() {
    let _s = serial();
    contention::enable();
    let (short, long) = (Arc::new(Lock::new()), Arc::new(Lock::new()));
    contend_once(&short);
    contend_once(&long);
    contend_once(&long);
    // A semaphore wait: a thread blocks on an empty semaphore until a release.
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let t = Thread::new(move || s.acquire());
    t.start().unwrap();
    until_blocked(&t);
    sem.release(1).unwrap();
    t.join().unwrap();
    let profile = observe::contention();
    contention::disable();
    let ours: Vec<_> = profile
        .rows()
        .iter()
        .map(|r| r.object())
        .filter(|o| [short.id(), long.id(), sem.id()].contains(o))
        .collect();
    assert_eq!(ours[..2], [long.id(), short.id()], "{profile}");
    let srow = profile.get(sem.id()).expect("the semaphore wait");
    assert_eq!((srow.contended(), srow.waits()), (1, 1));

    let top = profile.top(1);
    assert_eq!(top.rows().len(), 1);
    assert_eq!(top.rows()[0], profile.rows()[0]);

    let text = profile.to_string();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("object"));
    assert!(header.ends_with("contended    waits    total wait       longest"));
    let long_line = text
        .lines()
        .find(|l| l.starts_with(&long.id().to_string()))
        .expect("a line for the long lock");
    let cols: Vec<&str> = long_line[long.id().to_string().len()..]
        .split_whitespace()
        .collect();
    assert_eq!(cols[..2], ["2", "2"], "{long_line}");
    assert_eq!(text.lines().count(), profile.rows().len() + 1);
}

#[test]
fn a_thread_that_ended_keeps_its_counts() {
    let _s = serial();
    contention::enable();
    let lock = Arc::new(Lock::new());
    contend_once(&lock); // the waiter has ended by now
    let first = *observe::contention().get(lock.id()).unwrap();
    let again = *observe::contention().get(lock.id()).unwrap(); // folded into the retired rows
    contention::disable();
    assert_eq!(first, again);
    assert_eq!(first.contended(), 1);
}
