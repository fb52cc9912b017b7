//! loom models of [`Condvar`] with threadkit's `Mutex<T>`: wait/notify with no lost wake-up,
//! `notify_all` requeueing onto a held mutex, and a notifier that does not hold the mutex;
//! every interleaving (bounded where three threads run).
//!
//! Run with `.ci/loom`, or:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --test loom_condvar
//! ```
//!
//! loom fails an execution in which every thread sleeps (a lost wake-up) and one in which the
//! flag cell is touched without the mutex ordering it. Deadlines never fire here; the timed
//! wait racing a notify, deadlines firing at any point, is modelled inside the crate
//! (`--lib sync::condvar::loom_tests`).
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::{bounded, exhaustive};
use threadkit::{Condvar, Lock, Mutex};

fn pair(v: usize) -> Arc<(Mutex<usize>, Condvar)> {
    Arc::new((Mutex::from_raw(Lock::new(), v), Condvar::new()))
}

#[test]
fn wait_while_sees_the_notifiers_write() {
    exhaustive(|| {
        let p = pair(0);
        let p2 = p.clone();
        let waiter = thread::spawn(move || {
            let mut g = p2.0.lock();
            p2.1.wait_while(&mut g, |v| *v == 0).unwrap();
            *g
        });
        *p.0.lock() = 7;
        p.1.notify_one();
        assert_eq!(waiter.join().unwrap(), 7);
        assert!(!p.1.notify_one(), "the waiter left the condvar's queue");
    });
}

#[test]
fn notify_under_the_mutex_requeues_and_the_unlock_wakes() {
    exhaustive(|| {
        let p = pair(0);
        let p2 = p.clone();
        let waiter = thread::spawn(move || {
            let mut g = p2.0.lock();
            while *g == 0 {
                p2.1.wait(&mut g).unwrap();
            }
            *g += 1;
        });
        {
            let mut g = p.0.lock();
            *g = 1;
            let n = p.1.notify_all();
            assert!(n <= 1);
        }
        waiter.join().unwrap();
        assert_eq!(*p.0.lock(), 2);
    });
}

#[test]
fn notify_all_wakes_two_waiters() {
    bounded(2, || {
        let p = pair(0);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let p = p.clone();
                thread::spawn(move || {
                    let mut g = p.0.lock();
                    p.1.wait_while(&mut g, |v| *v == 0).unwrap();
                })
            })
            .collect();
        {
            let mut g = p.0.lock();
            *g = 1;
            assert!(p.1.notify_all() <= 2);
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(p.1.notify_all(), 0);
    });
}
