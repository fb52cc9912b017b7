//! The core of a [`SimpleQueue`](super::SimpleQueue) (and so of the thread pool's job queue):
//! a linked list of blocks of slots, each put and get claiming its slot with one
//! compare-and-swap and no lock (the algorithm of crossbeam-channel's list flavour, which
//! std's `mpsc` channel also uses), with the sleepers of the bounded ring
//! ([`lockfree`](super::lockfree)).
//!
//! # Why not two locks, as an unbounded `Queue`
//!
//! The two-lock [`Split`](super::split::Split) core runs fast while each lock stays on one
//! core for a while: a consumer takes the producers' whole batch at once, which is why an
//! unbounded [`Queue`](super::Queue) keeps it: with one producer and one consumer it ran at
//! 1.3 to 1.8 times the best peer's throughput on 2 cores, this list at 0.8 to 1.0 (medians of
//! three sittings of the queue matrix, each list build alternating with the two-lock one).
//! With several consumers its locks travel instead, and a lock holder that loses its
//! processor stops everyone behind it. The thread pool is that case (a submitter, and
//! workers taking jobs): with its jobs in this list, 100 000 tasks without futures took 0.59
//! of the time they took in the two-lock core, with futures 0.73, in a scope 0.61 (criterion,
//! medians of 6 alternating runs on 2 cores). Here nobody holds anything: a put or get that
//! loses its processor between its claim and its write (or read) delays only the get of that
//! one slot.
//!
//! # Why not crossbeam-queue's `SegQueue`
//!
//! It is the same algorithm, but a shutdown needs its own flag beside it, which a put could
//! read just before the shutdown and act on just after it: here the shut-down mark is a bit of
//! `tail`, so a put's claim and its refusal are one compare-and-swap. And it is no faster: a
//! `SimpleQueue` (with its sleepers, and the changes below: spare blocks, a get that skips
//! the `tail` read, a plain store to publish an item) moved 1.07 to 1.23 times `SegQueue`'s
//! items per second, 1x1 to 8x8 threads that put and poll without sleeping (medians of 7
//! alternating runs of 1 000 000 items on 2 cores).
//!
//! # The list
//!
//! A position (`head`, `tail`) is `(lap * LAP + offset) << SHIFT`, where a lap is one block
//! of [`BLOCK_CAP`] slots, `offset < LAP`, and the bit under `SHIFT` is a mark: in `tail`,
//! "shut down"; in `head`, "the block after this one exists", so that a get need not look at
//! `tail` again until it moves to the next block. Offset `BLOCK_CAP` (one past the last slot)
//! means "the next block is being linked in": whoever finds it waits for the put or get that
//! moved the position there to finish linking.
//!
//! - A **put** claims `tail`'s slot by moving `tail` on (CAS). The put that claims a block's
//!   last slot links in the next block (allocated before its CAS, so that nobody waits on an
//!   allocation): it points `tail` at it, moves `tail` past the gap, and links it from the
//!   full block. Then it writes its item and stores the slot's `written` byte (Release: a
//!   plain store, as only the put writes that byte).
//! - A **get** finds the queue empty when `head` equals `tail` (but the marks); otherwise it
//!   claims `head`'s slot (CAS), waits for the slot's `written` byte (the put has claimed it
//!   and is writing: the item is as good as there, so "not ready" is never "empty"), and
//!   reads the item. While `head` is below the `tail` last seen (kept on the consumers' line),
//!   a get does not read `tail` at all. The get that claims a block's last slot moves `head` into the next block.
//! - **Freeing a block.** The get of a block's last slot frees the block once every other get
//!   of it has read its item: it walks the slots, and at a slot not yet read it sets the
//!   slot's `DESTROY` bit and leaves; that slot's get, seeing the bit as it sets its `READ`
//!   bit, goes on freeing from the next slot. The last one to finish frees it, once.
//!
//! Items put by one producer get increasing positions, and gets take positions in order:
//! first in, first out per producer.
//!
//! # Counting, sleeping and waking
//!
//! As the ring's (see [`lockfree`](super::lockfree)): [`count`]`(tail)` is the number of
//! puts ever made and `count(head)` the number of gets, so `qsize` costs two loads. A put
//! never waits; getters sleep on the ring's protocol, with "empty" read as
//! `count(head) == count(tail)`.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;

use crossbeam_utils::CachePadded;

use super::common::{Refused, Wait, source_by_get};
use super::error::QueueId;
use super::lockfree::{Backoff, ItemCell, Sleepers, loom_fence, unshared};
use crate::primitive::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};

/// Slots per lap of a position: a block's slots and the one gap that says "linking".
#[cfg(not(loom))]
const LAP: usize = 32;
/// Under loom, blocks of 3 slots: models of a few items then cross blocks, link and free them.
#[cfg(loom)]
const LAP: usize = 4;
/// Items per block.
const BLOCK_CAP: usize = LAP - 1;
/// Positions move in steps of `1 << SHIFT`; the bit below is the mark.
const SHIFT: usize = 1;
/// In `tail`: shut down. In `head`: the next block is linked in.
const MARK: usize = 1;

/// A slot's bits: the item is written (in `written`); it is read, and the get of the block's
/// last slot left the freeing of the block to this slot's get (in `state`).
const WRITE: u8 = 1;
const READ: u8 = 2;
const DESTROY: u8 = 4;

/// Items put (or gets made) before position `pos`: a lap holds [`BLOCK_CAP`] items, and the
/// gap at offset `BLOCK_CAP` counts as the next lap's start. The mark is ignored.
#[inline]
fn count(pos: usize) -> usize {
    let step = pos >> SHIFT;
    (step / LAP)
        .wrapping_mul(BLOCK_CAP)
        .wrapping_add(step % LAP)
}

/// One place in a block.
struct Slot<T> {
    item: ItemCell<T>,
    /// [`WRITE`] once the put has written the item: a byte of its own, which only the put
    /// writes, so that the put publishes its item with a plain store instead of a
    /// read-modify-write.
    written: AtomicU8,
    /// [`READ`] | [`DESTROY`], where the get and the block's freer meet.
    state: AtomicU8,
}

impl<T> Slot<T> {
    /// Waits until the put that claimed this slot has written it.
    #[inline]
    fn wait_write(&self) {
        let backoff = Backoff::new();
        while self.written.load(Ordering::Acquire) & WRITE == 0 {
            backoff.snooze();
        }
    }
}

/// A block of slots and the link to the next one.
struct Block<T> {
    /// The next block, once the put of this block's last slot has linked it in.
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// A new, empty block on the heap.
    fn alloc() -> Box<Block<T>> {
        Box::new(Block {
            next: AtomicPtr::new(std::ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                item: ItemCell::new(),
                written: AtomicU8::new(0),
                state: AtomicU8::new(0),
            }),
        })
    }

    /// Waits until the next block is linked in, and returns it.
    fn wait_next(&self) -> *mut Block<T> {
        let backoff = Backoff::new();
        loop {
            let next = self.next.load(Ordering::Acquire);
            if !next.is_null() {
                return next;
            }
            backoff.snooze();
        }
    }

    /// Frees `this` once the gets of its slots from `start` on have read them: at the first
    /// slot not read yet, leaves the freeing to that slot's get (see the module docs).
    ///
    /// # Safety
    ///
    /// `this` is a block whose every slot has been claimed by a get, every get of the slots
    /// before `start` (and of the last one) has read its item, and the caller is the one get
    /// whose turn it is to free it (the last slot's, or the one whose `READ` found `DESTROY`).
    unsafe fn destroy(this: *mut Block<T>, start: usize, spares: &Spares<T>) {
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block lives until this walk reaches its end: only this walk frees
            // it, and the gets still reading it set `READ` before they leave it alone.
            let slot = unsafe { &(*this).slots[i] };
            if slot.state.load(Ordering::Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, Ordering::AcqRel) & READ == 0
            {
                return; // that slot's get goes on from `i + 1`
            }
        }
        // SAFETY: every slot has been read, and nobody else reaches the block any more:
        // `head` has moved past it, and the puts are done with it.
        unsafe { Block::recycle(this, spares) };
    }

    /// Keeps `this` among the queue's spare blocks, for a put that links a block in; frees it
    /// if every place is taken. It is kept as it is: the put that takes it makes it new
    /// ([`reset`](Block::reset)).
    ///
    /// # Safety
    ///
    /// `this` is ours alone, its items all taken.
    unsafe fn recycle(this: *mut Block<T>, spares: &Spares<T>) {
        if !spares.give(this) {
            // SAFETY: ours alone, and not kept: freed once.
            drop(unsafe { Box::from_raw(this) });
        }
    }

    /// Makes a kept block new: no next block, every slot unwritten and unread.
    fn reset(&self) {
        self.next.store(std::ptr::null_mut(), Ordering::Relaxed);
        for slot in &self.slots {
            slot.written.store(0, Ordering::Relaxed);
            slot.state.store(0, Ordering::Relaxed);
        }
    }
}

/// Places for spare blocks: one cache line of pointers.
#[cfg(not(loom))]
const SPARES: usize = 8;
/// Under loom, two: a block given back while another is kept.
#[cfg(loom)]
const SPARES: usize = 2;
/// The most memory the spare blocks may keep: as many blocks as fit (up to [`SPARES`]), and
/// always one.
const SPARE_BYTES: usize = 16 * 1024;

/// Empty blocks kept for the puts that link one in, each place null or a block.
///
/// Why keep blocks: a put that allocates every block and a get that frees it on another
/// thread pay the allocator's cross-thread path (in glibc, the arena lock both threads take,
/// and with a backlog of millions of items memory handed back to the system and faulted in
/// again). Why several: a burst of gets frees blocks faster than the puts take them, and
/// with one place the rest went back to the allocator. Why the put resets a block, not the
/// get that frees it: the put writes every line of the block next anyway, where a reset by
/// the get moved each line to the get's processor and back. Measured against one spare reset
/// by the get (`SimpleQueue`, 2 cores): 2 000 000 items through 1x1 to 4x4 threads 1.15 to
/// 1.5 times the items per second, and its throughput beside crossbeam-channel's in the
/// queue matrix (medians of 35 alternating rounds) 1.32 -> 1.64 at 1x1, 0.84 -> 0.86 at
/// 2x2, 0.71 -> 0.87 at 4x4, 0.85 -> 0.90 at 8x8; a thread pool's 100 000 tasks without
/// futures 1.1 times as many per second, with futures and one at a time unchanged.
struct Spares<T>([AtomicPtr<Block<T>>; SPARES]);

impl<T> Spares<T> {
    fn new() -> Self {
        Spares(std::array::from_fn(
            |_| AtomicPtr::new(std::ptr::null_mut()),
        ))
    }

    /// How many places are used: fewer for large items.
    fn places() -> usize {
        (SPARE_BYTES / size_of::<Block<T>>()).clamp(1, SPARES)
    }

    /// A kept block, ours alone; null if none. As a kept block was left: see [`Block::reset`].
    fn take(&self) -> *mut Block<T> {
        for place in &self.0[..Self::places()] {
            if !place.load(Ordering::Relaxed).is_null() {
                let block = place.swap(std::ptr::null_mut(), Ordering::Acquire);
                if !block.is_null() {
                    return block;
                }
            }
        }
        std::ptr::null_mut()
    }

    /// How many blocks are kept now.
    #[cfg(all(test, not(loom)))]
    fn kept(&self) -> usize {
        let places = self.0.iter();
        places
            .filter(|p| !p.load(Ordering::Relaxed).is_null())
            .count()
    }

    /// Keeps `block` (ours alone, its items all taken); false if every place is taken.
    fn give(&self, block: *mut Block<T>) -> bool {
        self.0[..Self::places()].iter().any(|place| {
            place.load(Ordering::Relaxed).is_null()
                && place
                    .compare_exchange(
                        std::ptr::null_mut(),
                        block,
                        Ordering::Release,
                        Ordering::Relaxed,
                    )
                    .is_ok()
        })
    }
}

/// An end of the list: a position and the block it is in.
struct End<T> {
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

impl<T> End<T> {
    fn new(first: *mut Block<T>) -> Self {
        End {
            index: AtomicUsize::new(0),
            block: AtomicPtr::new(first),
        }
    }
}

/// The consumers' end, and what only they read beside it.
struct Front<T> {
    end: End<T>,
    /// `tail` as a get last read it (never past the real one, which only grows). A get whose
    /// position is below it knows a put has claimed its slot without reading `tail`, whose
    /// line the puts keep moving: on the consumers' own line, as the two-lock core's
    /// `popped_seen` is on the producers'.
    tail_seen: AtomicUsize,
}

/// An unbounded FIFO queue on a list of slot blocks: see the module docs.
pub(crate) struct List<T> {
    /// Where the next get takes from.
    head: CachePadded<Front<T>>,
    /// Where the next put goes, with the shut-down mark.
    tail: CachePadded<End<T>>,
    /// Empty blocks kept for the puts that link one in (see [`Spares`]). A place's block is
    /// taken with a swap, given with a CAS from null.
    spares: CachePadded<Spares<T>>,
    sleepers: Sleepers,
    /// The queue owns the `T`s in its blocks.
    _items: PhantomData<Box<T>>,
}

// SAFETY: an item is written into a slot only by the put that claimed the slot (by its CAS on
// `tail`) and read only by the get that claimed it (CAS on `head`), after the slot's `written`
// byte (Release, then Acquire) says it is written, so no two threads touch an item cell at
// once; a block is freed by exactly one get, after every get of it has read its item.
// Items move between threads, hence `T: Send`. Everything else is atomics or read-only.
unsafe impl<T: Send> Sync for List<T> {}
// SAFETY: the queue owns its items and blocks (raw pointers only for the links).
unsafe impl<T: Send> Send for List<T> {}

impl<T> List<T> {
    pub(crate) fn new(kind: &'static str) -> Self {
        let first = Box::into_raw(Block::<T>::alloc());
        List {
            head: CachePadded::new(Front {
                end: End::new(first),
                tail_seen: AtomicUsize::new(0),
            }),
            tail: CachePadded::new(End::new(first)),
            spares: CachePadded::new(Spares::new()),
            sleepers: Sleepers::new(kind),
            _items: PhantomData,
        }
    }

    pub(crate) fn id(&self) -> QueueId {
        self.sleepers.id()
    }

    /// This queue core, named `name`.
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.sleepers.name(name);
        self
    }

    /// Puts ever made.
    #[inline]
    fn puts(&self) -> usize {
        count(self.tail.index.load(Ordering::SeqCst))
    }

    /// Items in the queue, counting puts and gets under way. `head` is read first: every get
    /// it counts followed its put, so the `tail` read after it counts at least as many.
    #[inline]
    pub(crate) fn qsize(&self) -> usize {
        let head = self.head.end.index.load(Ordering::SeqCst);
        let tail = self.tail.index.load(Ordering::SeqCst);
        count(tail).wrapping_sub(count(head))
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.tail.index.load(Ordering::SeqCst) & MARK != 0
    }

    // ----- put -------------------------------------------------------------------------

    /// Puts `item` (never waits); hands it back if the queue is shut down.
    #[inline]
    pub(crate) fn put(
        &self,
        item: T,
        _wait: Wait,
        _location: &'static Location<'static>,
    ) -> Result<(), (T, Refused)> {
        let backoff = Backoff::new();
        let mut tail = self.tail.index.load(Ordering::Acquire);
        let mut block = self.tail.block.load(Ordering::Acquire);
        let mut next_block: Option<Box<Block<T>>> = None;
        loop {
            if tail & MARK != 0 {
                return Err((item, Refused::ShutDown));
            }
            let offset = (tail >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another put is linking in the next block.
                backoff.snooze();
                tail = self.tail.index.load(Ordering::Acquire);
                block = self.tail.block.load(Ordering::Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.new_block());
            }
            match self.tail.index.compare_exchange_weak(
                tail,
                tail + (1 << SHIFT),
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        self.link(block, next_block.take());
                    } else if let Some(unused) = next_block {
                        // Taken for a slot another put got: kept for the next link.
                        // SAFETY: a new block, ours alone.
                        unsafe { Block::recycle(Box::into_raw(unused), &self.spares) };
                    }
                    // SAFETY: `block` is `tail`'s block, read after `tail` (Acquire, which
                    // sees the block a put linked in before it moved `tail` into it), and our
                    // CAS moved `tail` on from that same value: the slot at `offset` is ours.
                    // The block lives: it is freed only after this slot has been read.
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: the slot is ours, and empty (a new block's slots all are).
                    unsafe { slot.item.write(item) };
                    slot.written.store(WRITE, Ordering::Release);
                    self.sleepers.put_done();
                    return Ok(());
                }
                Err(now) => {
                    tail = now;
                    block = self.tail.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// After claiming `full`'s last slot: links in the next block (`tail` is at the gap, so
    /// no other put moves it meanwhile).
    #[cold]
    #[inline(never)]
    fn link(&self, full: *mut Block<T>, next: Option<Box<Block<T>>>) {
        let next = Box::into_raw(next.unwrap_or_else(|| self.new_block()));
        self.tail.block.store(next, Ordering::Release);
        self.tail.index.fetch_add(1 << SHIFT, Ordering::Release);
        // SAFETY: `full` lives until its last slot, which this put claimed and has not
        // written yet, has been read.
        unsafe { (*full).next.store(next, Ordering::Release) };
    }

    /// An empty block: a spare made new if there is one, else a new one.
    #[cold]
    #[inline(never)]
    fn new_block(&self) -> Box<Block<T>> {
        let spare = self.spares.take();
        if spare.is_null() {
            return Block::alloc();
        }
        // SAFETY: the spare is a block whose items were all taken, which `recycle` gave up
        // (Release, seen by the Acquire swap that took it), and that swap made it ours alone.
        let block = unsafe { Box::from_raw(spare) };
        block.reset();
        block
    }

    // ----- get -------------------------------------------------------------------------

    /// Takes the next item, waiting for one as `wait` allows.
    #[inline]
    #[track_caller]
    pub(crate) fn get(
        &self,
        wait: Wait,
        location: &'static Location<'static>,
    ) -> Result<T, Refused> {
        match self.take_now() {
            Err(Refused::NotNow) => self.get_slow(wait, location),
            done => done,
        }
    }

    /// Takes the next item if there is one: `NotNow` if the queue is empty, `ShutDown` if it
    /// is also shut down.
    #[inline]
    fn take_now(&self) -> Result<T, Refused> {
        let backoff = Backoff::new();
        let mut head = self.head.end.index.load(Ordering::Acquire);
        let mut block = self.head.end.block.load(Ordering::Acquire);
        loop {
            let offset = (head >> SHIFT) % LAP;
            if offset == BLOCK_CAP {
                // Another get is moving `head` into the next block.
                backoff.snooze();
                head = self.head.end.index.load(Ordering::Acquire);
                block = self.head.end.block.load(Ordering::Acquire);
                continue;
            }
            let mut new_head = head + (1 << SHIFT);
            if new_head & MARK == 0 {
                // Not known to have a next block: is there an item at all? Only if `tail`
                // was not seen past this slot already is it read again.
                let mut tail = self.head.tail_seen.load(Ordering::Relaxed);
                if head >> SHIFT >= tail >> SHIFT {
                    loom_fence();
                    tail = self.tail.index.load(Ordering::SeqCst);
                    self.head.tail_seen.store(tail, Ordering::Relaxed);
                    if head >> SHIFT == tail >> SHIFT {
                        return Err(if tail & MARK != 0 {
                            Refused::ShutDown
                        } else {
                            Refused::NotNow
                        });
                    }
                }
                if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                    new_head |= MARK;
                }
            }
            match self.head.end.index.compare_exchange_weak(
                head,
                new_head,
                Ordering::SeqCst,
                Ordering::Acquire,
            ) {
                // SAFETY: our CAS claimed the slot at `offset` of `block` (read after `head`,
                // as in `put`), which `tail` had passed: see `read`.
                Ok(_) => return Ok(unsafe { self.read(block, offset, new_head) }),
                Err(now) => {
                    head = now;
                    block = self.head.end.block.load(Ordering::Acquire);
                    backoff.spin();
                }
            }
        }
    }

    /// Reads the item out of the slot at `offset` of `block`, which this get has claimed by
    /// moving `head` to `new_head`; moves `head` into the next block after the last slot,
    /// and frees the block when its turn comes.
    ///
    /// # Safety
    ///
    /// This thread's CAS on `head` claimed that slot, and a put has claimed it too (`tail`
    /// was past it).
    #[inline]
    unsafe fn read(&self, block: *mut Block<T>, offset: usize, new_head: usize) -> T {
        if offset + 1 == BLOCK_CAP {
            // SAFETY: the block lives until its last slot, ours, is read.
            unsafe { self.next_block(block, new_head) };
        }
        // SAFETY: as above, the block lives until our slot is read.
        let slot = unsafe { &(*block).slots[offset] };
        slot.wait_write();
        // SAFETY: the slot is ours, and its `written` byte (Acquire) says the put's write is
        // done and visible: the item is there, read out once.
        let item = unsafe { slot.item.read() };
        if offset + 1 == BLOCK_CAP {
            // SAFETY: every slot of the block has been claimed by a get, and ours, the last,
            // is read: freeing starts here.
            unsafe { Block::destroy(block, 0, &self.spares) };
        } else if slot.state.fetch_or(READ, Ordering::AcqRel) & DESTROY != 0 {
            // SAFETY: the last slot's get left the rest of the freeing to us.
            unsafe { Block::destroy(block, offset + 1, &self.spares) };
        }
        item
    }

    /// After claiming `block`'s last slot: moves `head` into the next block.
    ///
    /// # Safety
    ///
    /// `block` lives (its last slot is claimed by this get and not read).
    #[cold]
    #[inline(never)]
    unsafe fn next_block(&self, block: *mut Block<T>, new_head: usize) {
        // SAFETY: the caller's promise.
        let next = unsafe { (*block).wait_next() };
        let mut next_index = (new_head & !MARK).wrapping_add(1 << SHIFT);
        // SAFETY: `next` lives: nothing in it has been read yet.
        if !unsafe { (*next).next.load(Ordering::Relaxed) }.is_null() {
            next_index |= MARK;
        }
        self.head.end.block.store(next, Ordering::Release);
        self.head.end.index.store(next_index, Ordering::Release);
    }

    /// The queue looked empty: fails, or spins, then parks until an item or shutdown.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn get_slow(&self, wait: Wait, location: &'static Location<'static>) -> Result<T, Refused> {
        let must_sleep = || self.get_must_sleep();
        self.sleepers
            .get_slow(wait, location, || self.take_now(), must_sleep)
    }

    /// In a getter's `validate`, after setting its bit: empty and not shut down.
    fn get_must_sleep(&self) -> bool {
        let tail = self.tail.index.load(Ordering::SeqCst);
        let head = self.head.end.index.load(Ordering::SeqCst);
        tail & MARK == 0 && count(tail) == count(head)
    }

    // ----- tasks -----------------------------------------------------------------------

    /// Items put and not yet counted done: a `SimpleQueue` has no `task_done`, so only
    /// `shutdown_immediate` counts items done (those it removed). `Debug` shows it.
    pub(crate) fn unfinished(&self) -> usize {
        self.sleepers.unfinished(|| self.puts())
    }

    // ----- shutdown --------------------------------------------------------------------

    /// Shuts the queue down; with `immediate`, also removes (and returns, in get order) every
    /// item and counts each done. Wakes every parked getter.
    pub(crate) fn shutdown(&self, immediate: bool) -> Vec<T> {
        self.tail.index.fetch_or(MARK, Ordering::SeqCst);
        let mut removed = Vec::new();
        if immediate {
            // No put can claim a slot any more; a put that claimed one before the mark is
            // waited for by `take_now`, so this takes every item the queue holds.
            while let Ok(item) = self.take_now() {
                removed.push(item);
            }
            self.sleepers.mark_done(removed.len(), || self.puts());
        }
        self.sleepers.wake_after_shutdown(|| self.puts());
        removed
    }

    /// Everything `Debug` shows, without blocking (no `maxsize`: there is none).
    pub(crate) fn debug_fields(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        f.debug_struct(name)
            .field("addr", &format_args!("{:#x}", self.sleepers.addr()))
            .field("qsize", &self.qsize())
            .field("unfinished", &self.unfinished())
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: every put and get has finished, so the slots from `head` to `tail`
        // hold exactly the items left, and every block from `head`'s on is ours to free.
        let mut head = unshared(&mut self.head.end.index) & !MARK;
        let tail = unshared(&mut self.tail.index) & !MARK;
        let mut block = unshared_ptr(&mut self.head.end.block);
        while head != tail {
            let offset = (head >> SHIFT) % LAP;
            if offset < BLOCK_CAP {
                // SAFETY: the slot lies between `head` and `tail`: its put finished and no
                // get took it, so it holds an item, dropped here once.
                unsafe { (*block).slots[offset].item.drop_in_place() };
            } else {
                // SAFETY: every item of this block has been dropped or taken; the next
                // block was linked in before `tail` moved past the gap.
                let next = unsafe { unshared_ptr(&mut (*block).next) };
                // SAFETY: the block is ours alone, freed once.
                drop(unsafe { Box::from_raw(block) });
                block = next;
            }
            head = head.wrapping_add(1 << SHIFT);
        }
        // SAFETY: the block `head` is in: ours alone, freed once.
        drop(unsafe { Box::from_raw(block) });
        for place in &mut self.spares.0 {
            let spare = unshared_ptr(place);
            if !spare.is_null() {
                // SAFETY: the spare is an empty block, ours alone, freed once.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

/// The value of an atomic pointer that no other thread can reach (`&mut`).
fn unshared_ptr<T>(a: &mut AtomicPtr<T>) -> *mut T {
    #[cfg(not(loom))]
    return *a.get_mut();
    #[cfg(loom)]
    return a.with_mut(|v| *v);
}

source_by_get!([T: Send] List<T>, T);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::queue::lockfree::{addr_of, assert_own_lines};

    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn items_cross_blocks_in_order_and_are_counted() {
        let q = List::<usize>::new("SimpleQueue");
        let n = 5 * BLOCK_CAP + 3;
        for i in 0..n {
            q.put(i, Wait::Poll, here()).unwrap();
            assert_eq!(q.qsize(), i + 1);
        }
        for i in 0..n {
            assert_eq!(q.get(Wait::Poll, here()), Ok(i));
            assert_eq!(q.qsize(), n - i - 1);
        }
        assert_eq!(q.get(Wait::Poll, here()), Err(Refused::NotNow));
        assert_eq!(q.unfinished(), n);
    }

    #[test]
    fn positions_count_items_across_the_gap() {
        for lap in 0..3 {
            let at = |offset: usize| ((lap * LAP + offset) << SHIFT) | MARK;
            assert_eq!(count(at(0)), lap * BLOCK_CAP);
            assert_eq!(count(at(BLOCK_CAP - 1)), lap * BLOCK_CAP + BLOCK_CAP - 1);
            // The gap counts as the next lap's first position.
            assert_eq!(count(at(BLOCK_CAP)), (lap + 1) * BLOCK_CAP);
        }
    }

    #[test]
    fn shutdown_immediate_takes_every_item_across_blocks_and_counts_those_done() {
        let q = List::<usize>::new("SimpleQueue");
        for i in 0..2 * BLOCK_CAP + 1 {
            q.put(i, Wait::Poll, here()).unwrap();
        }
        assert_eq!(q.get(Wait::Poll, here()), Ok(0));
        let removed = q.shutdown(true);
        assert_eq!(removed, (1..2 * BLOCK_CAP + 1).collect::<Vec<_>>());
        // The item got is not done (no `task_done` in a `SimpleQueue`); those removed are.
        assert_eq!((q.unfinished(), q.qsize()), (1, 0));
        assert_eq!(q.get(Wait::Forever, here()), Err(Refused::ShutDown));
        assert_eq!(
            q.put(9, Wait::Poll, here()).unwrap_err(),
            (9, Refused::ShutDown)
        );
    }

    #[test]
    fn blocks_freed_by_gets_are_kept_up_to_the_places_and_taken_back_new() {
        let kept = |q: &List<u64>| q.spares.kept();
        let q = List::<u64>::new("SimpleQueue");
        // Each round's gets free ten blocks: the places keep what they can hold, the rest go
        // back to the allocator; the next round's puts take the kept ones before allocating.
        let n = 10 * BLOCK_CAP as u64;
        for round in 0..3 {
            for i in 0..n {
                q.put(round * n + i, Wait::Poll, here()).unwrap();
            }
            assert_eq!(kept(&q), 0, "round {round}: the puts took every kept block");
            for i in 0..n {
                assert_eq!(q.get(Wait::Poll, here()), Ok(round * n + i));
            }
            assert_eq!(kept(&q), SPARES, "round {round}");
        }
        // A kept block comes back as new: no link, no slot written or read.
        let block = q.new_block();
        assert_eq!(kept(&q), SPARES - 1);
        assert!(block.next.load(Ordering::Relaxed).is_null());
        for slot in &block.slots {
            assert_eq!(slot.written.load(Ordering::Relaxed), 0);
            assert_eq!(slot.state.load(Ordering::Relaxed), 0);
        }
    }

    #[test]
    fn the_spare_blocks_keep_at_most_their_bytes_and_always_one() {
        assert_eq!(Spares::<u64>::places(), SPARES);
        assert!(SPARES * size_of::<Block<u64>>() <= SPARE_BYTES);
        assert_eq!(Spares::<[u8; 1024]>::places(), 1);
        let q = List::<[u8; 1024]>::new("SimpleQueue");
        for _ in 0..3 * BLOCK_CAP {
            q.put([7; 1024], Wait::Poll, here()).unwrap();
        }
        for _ in 0..3 * BLOCK_CAP {
            assert_eq!(q.get(Wait::Poll, here()), Ok([7; 1024]));
        }
        assert_eq!(q.spares.kept(), 1);
    }

    #[test]
    fn dropping_the_queue_drops_the_items_left_once_and_frees_its_blocks() {
        use std::sync::Arc;
        let token = Arc::new(());
        for left in [0, 1, BLOCK_CAP - 1, BLOCK_CAP, BLOCK_CAP + 1, 3 * BLOCK_CAP] {
            let q = List::new("SimpleQueue");
            for _ in 0..left + BLOCK_CAP + 2 {
                q.put(token.clone(), Wait::Poll, here()).unwrap();
            }
            for _ in 0..BLOCK_CAP + 2 {
                drop(q.get(Wait::Poll, here()).unwrap());
            }
            assert_eq!(Arc::strong_count(&token), left + 1);
            drop(q);
            assert_eq!(Arc::strong_count(&token), 1, "{left} left");
        }
    }

    #[test]
    fn the_ends_each_have_a_line() {
        let q = List::<u8>::new("SimpleQueue");
        assert_own_lines(&[
            addr_of(&*q.head),
            addr_of(&*q.tail),
            addr_of(&*q.sleepers.parked),
            addr_of(&*q.sleepers.done),
        ]);
    }
}

/// loom models of the list (blocks of 3 slots under loom): puts linking a block in while gets
/// move into it, gets of one block freeing it exactly once between them, and a timed get
/// racing a put with deadlines that may fire at any point (see
/// `primitive::park_loom::with_firing_deadlines`). The models through the public
/// `SimpleQueue` are in `tests/loom_queue.rs`. Run with
/// `RUSTFLAGS="--cfg loom" cargo test --release --target-dir target/loom --lib queue::list`.
#[cfg(all(test, loom))]
mod loom_tests {
    use std::sync::atomic::{AtomicBool, Ordering as StdOrdering};
    use std::time::Duration;

    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::primitive::park_loom::{bounded, with_firing_deadlines};

    const LONG: Duration = Duration::from_secs(3600);

    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn a_put_linking_the_next_block_races_a_get_moving_into_it() {
        // Four items through blocks of three: the third put links the second block while
        // the getter may be at the gap, waiting for it; the items come out in order.
        bounded(3, || {
            let q = Arc::new(List::<u32>::new("SimpleQueue"));
            let p = q.clone();
            let producer = thread::spawn(move || {
                for i in 1..=4 {
                    p.put(i, Wait::Forever, here()).unwrap();
                }
            });
            let got: Vec<u32> = (0..4)
                .map(|_| q.get(Wait::Forever, here()).unwrap())
                .collect();
            producer.join().unwrap();
            assert_eq!(got, [1, 2, 3, 4]);
            assert_eq!((q.qsize(), q.unfinished()), (0, 4));
        });
    }

    #[test]
    fn two_getters_of_one_block_free_it_once() {
        // A full first block and one item in the second: two getters take them in any
        // interleaving, so either may be the one to free the first block (the last slot's
        // getter, or an earlier one that finds the `DESTROY` bit). Each item is got once;
        // loom fails a model that touches a freed block or leaks one.
        bounded(3, || {
            let q = Arc::new(List::<u32>::new("SimpleQueue"));
            for i in 1..=4 {
                q.put(i, Wait::Poll, here()).unwrap();
            }
            let getters: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    thread::spawn(move || {
                        let a = q.get(Wait::Poll, here()).unwrap();
                        let b = q.get(Wait::Poll, here()).unwrap();
                        assert!(a < b, "one getter's items in order");
                        [a, b]
                    })
                })
                .collect();
            let mut got: Vec<u32> = getters
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, [1, 2, 3, 4]);
            assert_eq!(q.get(Wait::Poll, here()), Err(Refused::NotNow));
        });
    }

    #[test]
    fn a_put_takes_back_the_block_a_get_just_gave_up() {
        // Blocks of three: the getter's third get frees the first block (kept as a spare)
        // while the producer's third put links in the third block, taking that spare (made
        // new) if it is there by then, or a new block; its fourth put and the getter's last
        // get then meet in that block. Loom fails a model where a reused slot looks written
        // before its put wrote it, or a block is touched after it was freed.
        bounded(3, || {
            let q = Arc::new(List::<u32>::new("SimpleQueue"));
            for i in 1..=3 {
                q.put(i, Wait::Poll, here()).unwrap();
            }
            let p = q.clone();
            let producer = thread::spawn(move || {
                for i in 4..=7 {
                    p.put(i, Wait::Poll, here()).unwrap();
                }
            });
            let got: Vec<u32> = (0..7)
                .map(|_| q.get(Wait::Forever, here()).unwrap())
                .collect();
            producer.join().unwrap();
            assert_eq!(got, [1, 2, 3, 4, 5, 6, 7]);
        });
    }

    #[test]
    fn a_timed_get_racing_a_put_gets_it_or_leaves_it_queued() {
        // Both answers must occur across the executions (the timer really races the put);
        // the item is got exactly once. (The parked bit may stay set: a look that declined
        // to sleep leaves it for the next put to clear, see `lockfree`.)
        static GOT: AtomicBool = AtomicBool::new(false);
        static TIMED_OUT: AtomicBool = AtomicBool::new(false);
        with_firing_deadlines(|| {
            loom::model::Builder::new().check(|| {
                let q = Arc::new(List::<u32>::new("SimpleQueue"));
                let q2 = q.clone();
                let getter = thread::spawn(move || q2.get(Wait::For(LONG), here()));
                q.put(7, Wait::Forever, here()).unwrap();
                match getter.join().unwrap() {
                    Ok(item) => {
                        assert_eq!(item, 7);
                        assert_eq!(q.qsize(), 0);
                        GOT.store(true, StdOrdering::Relaxed);
                    }
                    Err(why) => {
                        assert_eq!(why, Refused::Timeout);
                        assert_eq!(q.get(Wait::Poll, here()), Ok(7));
                        TIMED_OUT.store(true, StdOrdering::Relaxed);
                    }
                }
            });
        });
        assert!(GOT.load(StdOrdering::Relaxed) && TIMED_OUT.load(StdOrdering::Relaxed));
    }
}
