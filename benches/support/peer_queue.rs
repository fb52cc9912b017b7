//! The peers' queue that the queue benches share: a parking_lot `Mutex` around a buffer
//! (`VecDeque` for FIFO, `Vec` for LIFO, `BinaryHeap` for priority) with two `Condvar`s that
//! are notified only when a thread waits, the strongest simple lock-based queue.
//!
//! Include with `#[path = "support/peer_queue.rs"] mod peer_queue;`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

/// The lock-based reference: parking_lot `Mutex<VecDeque>` + `Condvar`s, waking only when a
/// thread waits (waiter counts inside the mutex).
pub struct PlQueue<C> {
    state: parking_lot::Mutex<PlState<C>>,
    not_empty: parking_lot::Condvar,
    not_full: parking_lot::Condvar,
    cap: usize,
}

pub struct PlState<C> {
    buf: C,
    getters: usize,
    putters: usize,
}

pub trait PlBuf: Send {
    fn push(&mut self, v: u64);
    fn pop(&mut self) -> Option<u64>;
    fn len(&self) -> usize;
}

impl PlBuf for VecDeque<u64> {
    fn push(&mut self, v: u64) {
        self.push_back(v);
    }
    fn pop(&mut self) -> Option<u64> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

impl PlBuf for Vec<u64> {
    fn push(&mut self, v: u64) {
        Vec::push(self, v);
    }
    fn pop(&mut self) -> Option<u64> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

impl PlBuf for BinaryHeap<Reverse<u64>> {
    fn push(&mut self, v: u64) {
        BinaryHeap::push(self, Reverse(v));
    }
    fn pop(&mut self) -> Option<u64> {
        BinaryHeap::pop(self).map(|r| r.0)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
}

impl<C: PlBuf> PlQueue<C> {
    pub fn new(buf: C, cap: usize) -> Arc<Self> {
        Arc::new(PlQueue {
            state: parking_lot::Mutex::new(PlState {
                buf,
                getters: 0,
                putters: 0,
            }),
            not_empty: parking_lot::Condvar::new(),
            not_full: parking_lot::Condvar::new(),
            cap,
        })
    }

    pub fn put(&self, v: u64) {
        let mut g = self.state.lock();
        while self.cap != 0 && g.buf.len() >= self.cap {
            g.putters += 1;
            self.not_full.wait(&mut g);
            g.putters -= 1;
        }
        g.buf.push(v);
        // Notified with the mutex held: parking_lot then requeues the waiter onto the
        // mutex instead of letting it wake into a held lock (faster than notifying after
        // unlocking, in our runs).
        if g.getters > 0 {
            self.not_empty.notify_one();
        }
    }

    /// True if no item is queued (a snapshot). The matrix's LIFO runs wait for it before
    /// their stop items; the criterion benches do not need it.
    #[allow(dead_code)]
    pub fn is_empty(&self) -> bool {
        self.state.lock().buf.len() == 0
    }

    pub fn get(&self) -> u64 {
        let mut g = self.state.lock();
        loop {
            if let Some(v) = g.buf.pop() {
                if g.putters > 0 {
                    self.not_full.notify_one();
                }
                return v;
            }
            g.getters += 1;
            self.not_empty.wait(&mut g);
            g.getters -= 1;
        }
    }
}

/// A cheap scramble so the priority runs do not put sorted items.
pub fn scramble(i: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40
}
