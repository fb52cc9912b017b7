//! [`PriorityQueue`]: lowest first, as Python's `queue.PriorityQueue`, and stable.

use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use super::api::{shared_api, tracked_api};
use super::choice::{Core, Two};
use super::common::{PREALLOCATE_MAX, Refused, Wait};
use super::error::{
    GetError, GetTimeoutError, PutError, PutTimeoutError, QueueId, TaskDoneError, TryGetError,
    TryPutError,
};
use super::iter::{Iter, TryIter};
use super::onelock::{Buffer, OneLock};
use super::split::{Head, Split};

/// The one-lock priority queue's buffer (bounds up to [`ONELOCK_MAX`]): a binary min-heap
/// ordered by item, then by arrival number.
///
/// The items and their arrival numbers live in two parallel vectors (index `i` of one goes
/// with index `i` of the other) rather than in one vector of `(item, number)` pairs: the
/// sifts compare items and read a number only on a tie, so they walk an array of bare items
/// (half the bytes for a `u64`). Sifts move a hole, as std's `BinaryHeap` does: the entry
/// being placed is lifted out, the others shift into the hole one move each, and the entry
/// is written back where the hole ends up. Comparisons are `a < b`, then `b >= a` to tell a
/// tie, rather than one `cmp`: for integer and tuple keys this compiles to one comparison
/// and two jumps, which made a full heap of `u64`s pop and push about 15% faster than a
/// three-way `Ordering` match; a key whose comparison is costly pays for a second one only
/// when it is not less.
pub(crate) struct Heap<T> {
    items: Vec<T>,
    seqs: Vec<u64>,
    next_seq: u64,
}

/// An entry lifted out of a [`Heap`]'s vectors, leaving a hole at `pos`. Dropping it writes
/// the entry into the hole, also when an `Ord` panics mid-sift: the vectors then hold every
/// entry once again (the heap may be out of order, never short of an item).
struct Hole<'a, T> {
    items: &'a mut [T],
    seqs: &'a mut [u64],
    item: ManuallyDrop<T>,
    seq: u64,
    pos: usize,
}

impl<'a, T: Ord> Hole<'a, T> {
    /// Lifts out the entry at `pos`.
    ///
    /// # Safety
    ///
    /// `pos < items.len()`, and `seqs` is as long as `items`.
    #[inline]
    unsafe fn new(items: &'a mut [T], seqs: &'a mut [u64], pos: usize) -> Self {
        debug_assert!(pos < items.len() && items.len() == seqs.len());
        // SAFETY: `pos` is in bounds (caller). The slot's bits now also live in `item`; the
        // slot is not read again until `move_to` or `drop` overwrites it.
        let item = unsafe { ptr::read(items.as_ptr().add(pos)) };
        // SAFETY: in bounds, `seqs` being as long as `items` (caller).
        let seq = unsafe { *seqs.get_unchecked(pos) };
        Hole {
            items,
            seqs,
            item: ManuallyDrop::new(item),
            seq,
            pos,
        }
    }

    /// Whether the lifted entry comes out before the entry at `i`.
    ///
    /// # Safety
    ///
    /// `i` is in bounds and is not the hole.
    #[inline]
    unsafe fn before(&self, i: usize) -> bool {
        debug_assert!(i < self.items.len() && i != self.pos);
        // SAFETY: in bounds and not the hole (caller), so a live entry.
        let (item, seq) = unsafe { (self.items.get_unchecked(i), *self.seqs.get_unchecked(i)) };
        let lifted: &T = &self.item;
        lifted < item || (item >= lifted && self.seq < seq)
    }

    /// Whether the entry at `a` comes out before the entry at `b`.
    ///
    /// # Safety
    ///
    /// `a` and `b` are in bounds and neither is the hole.
    #[inline]
    unsafe fn before_at(&self, a: usize, b: usize) -> bool {
        debug_assert!(a < self.items.len() && b < self.items.len());
        debug_assert!(a != self.pos && b != self.pos);
        // SAFETY: in bounds and not the hole (caller), so live entries.
        let (x, y) = unsafe { (self.items.get_unchecked(a), self.items.get_unchecked(b)) };
        // SAFETY: in bounds (caller), `seqs` being as long as `items`.
        x < y || (y >= x && unsafe { self.seqs.get_unchecked(a) < self.seqs.get_unchecked(b) })
    }

    /// Moves the entry at `i` into the hole, which moves to `i`.
    ///
    /// # Safety
    ///
    /// `i` is in bounds and is not the hole.
    #[inline]
    unsafe fn move_to(&mut self, i: usize) {
        debug_assert!(i < self.items.len() && i != self.pos);
        let base = self.items.as_mut_ptr();
        // SAFETY: both in bounds and distinct (caller); the hole's slot holds no live entry,
        // so overwriting it drops nothing, and slot `i` becomes the hole.
        unsafe { ptr::copy_nonoverlapping(base.add(i), base.add(self.pos), 1) };
        // SAFETY: in bounds, `seqs` being as long as `items`.
        unsafe { *self.seqs.get_unchecked_mut(self.pos) = *self.seqs.get_unchecked(i) };
        self.pos = i;
    }
}

impl<T> Drop for Hole<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `pos` is in bounds (every move kept it so) and holds no live entry: the
        // lifted entry goes back there, once.
        unsafe {
            ptr::copy_nonoverlapping(&*self.item, self.items.as_mut_ptr().add(self.pos), 1);
            *self.seqs.get_unchecked_mut(self.pos) = self.seq;
        }
    }
}

impl<T: Ord> Heap<T> {
    /// Moves the entry at `start` up to its place.
    #[inline]
    fn sift_up(&mut self, start: usize) {
        assert!(start < self.items.len() && self.items.len() == self.seqs.len());
        // SAFETY: checked just above.
        let mut hole = unsafe { Hole::new(&mut self.items, &mut self.seqs, start) };
        while hole.pos > 0 {
            let parent = (hole.pos - 1) / 2;
            // SAFETY: `parent < pos`, which is in bounds.
            if !unsafe { hole.before(parent) } {
                break;
            }
            // SAFETY: as above.
            unsafe { hole.move_to(parent) };
        }
    }

    /// Moves the entry at the root to its place among the first `end` entries: down to a
    /// leaf along the path of earlier children, then up (std's `sift_down_to_bottom`: the
    /// entry came from the bottom, so it usually belongs near there, and this takes about
    /// half the comparisons of stopping on the way down).
    #[inline]
    fn sift_down_to_bottom(&mut self, end: usize) {
        assert!(0 < end && end <= self.items.len() && self.items.len() == self.seqs.len());
        // SAFETY: checked just above.
        let mut hole = unsafe { Hole::new(&mut self.items, &mut self.seqs, 0) };
        let mut child = 1;
        while child + 1 < end {
            // SAFETY: `child + 1 < end`, in bounds; the hole is their parent.
            child += usize::from(unsafe { hole.before_at(child + 1, child) });
            // SAFETY: as above.
            unsafe { hole.move_to(child) };
            child = 2 * hole.pos + 1;
        }
        if child + 1 == end {
            // SAFETY: `child < end`, in bounds; the hole is its parent.
            unsafe { hole.move_to(child) };
        }
        let pos = hole.pos;
        drop(hole);
        self.sift_up(pos);
    }
}

impl<T> Heap<T> {
    /// An empty heap; a capacity of 0 allocates nothing.
    fn with_capacity(capacity: usize) -> Self {
        Heap {
            items: Vec::with_capacity(capacity),
            seqs: Vec::with_capacity(capacity),
            next_seq: 0,
        }
    }
}

impl<T: Ord> Heap<T> {
    /// Files `item` in, numbered after every item before it.
    #[inline]
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        self.items.push(item);
        self.seqs.push(seq);
        self.sift_up(self.items.len() - 1);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        let last = self.items.len().checked_sub(1)?;
        // The first entry trades places with the last and is taken out only once the heap
        // is in order again: if an `Ord` panics meanwhile, it is still in the queue.
        self.items.swap(0, last);
        self.seqs.swap(0, last);
        if last > 0 {
            self.sift_down_to_bottom(last);
        }
        self.seqs.pop();
        self.items.pop()
    }

    #[inline]
    fn len(&self) -> usize {
        self.items.len()
    }

    /// Every item, in the order `pop` would return them.
    fn into_pop_order(self) -> Vec<T> {
        let mut entries: Vec<(T, u64)> = self.items.into_iter().zip(self.seqs).collect();
        // Arrival numbers are distinct, so an unstable sort gives the one pop order.
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        entries.into_iter().map(|(item, _)| item).collect()
    }
}

/// The one-lock core's buffer (a small bounded queue): the heap alone, every item filed in
/// by its put.
impl<T: Ord> Buffer for Heap<T> {
    type Item = T;

    fn for_maxsize(maxsize: usize) -> Self {
        Heap::with_capacity(maxsize.min(PREALLOCATE_MAX))
    }

    #[inline]
    fn push(&mut self, item: T) {
        Heap::push(self, item);
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        Heap::pop(self)
    }

    #[inline]
    fn len(&self) -> usize {
        Heap::len(self)
    }

    fn take_all(&mut self) -> Self {
        let mut empty = Heap::with_capacity(0);
        empty.next_seq = self.next_seq;
        std::mem::replace(self, empty)
    }

    fn into_pop_order(self) -> Vec<T> {
        Heap::into_pop_order(self)
    }

    #[inline]
    fn admit(item: &T) {
        admit(item);
    }

    const MAY_PANIC: bool = true;
}

/// Compares `item` with itself, through both entry points the queue uses (`<` in the heap
/// and the sorts, `cmp` in `into_pop_order`): an `Ord` that panics for this item whatever
/// the other panics here, in the putter. For integer and tuple keys the compiler removes
/// both calls.
#[inline]
fn admit<T: Ord>(item: &T) {
    let _ = item.cmp(item);
    let _ = PartialOrd::lt(item, item);
}

/// The priority queue's head (see [`Split`]): sorted runs, one per batch taken in from the
/// producers, merged as they come so that each run is more than twice as long as the next
/// newer one (so about log2 of the backlog runs at most).
///
/// A get takes the least of the runs' next items (the older run's on a tie: it arrived
/// earlier). Only neighbouring runs merge, so every item of a run arrived after every item
/// of the runs before it, and a stable sort and a stable merge keep equal items in arrival
/// order. A run is sorted greatest first, so its next item is its last and a get is a
/// `Vec::pop`. Against a binary heap of the whole backlog, this reads and writes memory in
/// order: with a backlog of a million `u64`s a heap of items and arrival numbers cost about
/// 170 ns per item (two cache misses per level), and 1 to 2 million items through an
/// unbounded queue with one producer and one consumer took half the throughput of a
/// `Mutex<BinaryHeap>`; the runs cost each item a sort, a few sequential merges and a look
/// at a few runs' ends.
pub(crate) struct Prio<T> {
    /// The runs, oldest first, none empty, each sorted greatest first.
    runs: Vec<Vec<T>>,
    /// A batch just taken in (in arrival order), to be sorted once the tail lock is gone.
    fresh: Vec<T>,
    /// An emptied buffer, kept for the next merge or batch.
    spare: Vec<T>,
    /// Items in `runs`.
    in_runs: usize,
}

impl<T> Default for Prio<T> {
    fn default() -> Self {
        Prio {
            runs: Vec::new(),
            fresh: Vec::new(),
            spare: Vec::new(),
            in_runs: 0,
        }
    }
}

/// Two neighbouring runs being merged; dropping it pushes the merged run. `run` moves the
/// items into `out` least first (each run's least is its last); what one run still holds
/// then is greater than all of `out`, so the merged run is that rest followed by `out`
/// reversed. If an `Ord` panics midway, the drop keeps the items of both runs and `out` in
/// one run (its order is then off, but no item is lost or doubled).
struct Merge<'a, T> {
    runs: &'a mut Vec<Vec<T>>,
    spare: &'a mut Vec<T>,
    older: Vec<T>,
    newer: Vec<T>,
    out: Vec<T>,
}

impl<T: Ord> Merge<'_, T> {
    /// Moves items into `out`, least first (the older run's on a tie), until a run is empty.
    fn run(&mut self) {
        while let (Some(a), Some(b)) = (self.older.last(), self.newer.last()) {
            let from = if b < a {
                &mut self.newer
            } else {
                &mut self.older
            };
            self.out.extend(from.pop());
        }
    }
}

impl<T> Drop for Merge<'_, T> {
    fn drop(&mut self) {
        // After `run`, the one run that is not empty; after a panic, the longer one.
        if self.older.len() < self.newer.len() {
            std::mem::swap(&mut self.older, &mut self.newer);
        }
        let (mut rest, other) = (
            std::mem::take(&mut self.older),
            std::mem::take(&mut self.newer),
        );
        rest.reserve(self.out.len() + other.len());
        rest.extend(self.out.drain(..).rev());
        rest.extend(other); // empty unless an `Ord` panicked
        let out = std::mem::take(&mut self.out);
        if out.capacity() > self.spare.capacity() {
            *self.spare = out;
        }
        self.runs.push(rest);
    }
}

/// The most runs a priority head keeps. The halving rule keeps fewer (a run is more than
/// twice as long as the next newer one when that one is made), but gets shrink runs
/// afterwards; past this many the two newest merge whatever their lengths, so a get never
/// looks at more runs than this.
const MAX_RUNS: usize = 32;

impl<T: Ord> Prio<T> {
    /// Merges the two newest runs while the older is not more than twice as long (or while
    /// there are more than [`MAX_RUNS`]).
    fn merge_runs(&mut self) {
        while let [.., older, newer] = self.runs.as_slice()
            && (older.len() <= 2 * newer.len() || self.runs.len() > MAX_RUNS)
        {
            let (Some(newer), Some(older)) = (self.runs.pop(), self.runs.pop()) else {
                unreachable!("two runs were just seen");
            };
            let mut out = std::mem::take(&mut self.spare);
            out.clear();
            out.reserve(older.len() + newer.len());
            Merge {
                runs: &mut self.runs,
                spare: &mut self.spare,
                older,
                newer,
                out,
            }
            .run();
        }
    }
}

/// A batch of at most this many items is filed into the newest run when that run holds
/// less than [`FILE_INTO_BYTES`] of items, instead of becoming a run of its own.
const FILE_IN_MAX: usize = 8;
/// See [`FILE_IN_MAX`]: the most bytes filing one item in may move (64 `u64`s).
const FILE_INTO_BYTES: usize = 512;

impl<T: Ord> Prio<T> {
    /// Files the fresh items, in arrival order, into the newest run, each before the run's
    /// items equal to it (which arrived earlier, so are popped first). Where a producer
    /// keeps up with a consumer, batches hold a few items each: as runs of their own, each
    /// cost a new buffer and a cascade of small merges (a fifth of the consumer's time with
    /// one producer and one consumer at capacity 1024); filed in, a binary search and a
    /// short move each. An `Ord` that panics leaves the items not yet filed in `fresh`,
    /// counted as they were.
    fn file_in(&mut self) {
        let Some(run) = self.runs.last_mut() else {
            return;
        };
        while let Some(item) = self.fresh.first() {
            let at = run.partition_point(|x| x > item);
            run.insert(at, self.fresh.remove(0));
            self.in_runs += 1;
        }
    }
}

impl<T: Ord> Head for Prio<T> {
    type Item = T;
    const EAGER: bool = true;

    fn for_maxsize(_maxsize: usize) -> Self {
        Prio::default()
    }

    #[inline]
    fn len(&self) -> usize {
        self.in_runs + self.fresh.len()
    }

    #[inline]
    fn pop(&mut self) -> Option<T> {
        if !self.fresh.is_empty() {
            // Left by an `Ord` that panicked while sorting.
            self.settle();
        }
        let mut best = 0;
        for i in 1..self.runs.len() {
            // Strictly less: on a tie the older run's item, which arrived first.
            if self.runs[i].last() < self.runs[best].last() {
                best = i;
            }
        }
        let run = self.runs.get_mut(best)?;
        let item = run.pop();
        if run.is_empty() {
            let run = self.runs.remove(best);
            if run.capacity() > self.spare.capacity() {
                self.spare = run;
            }
        }
        self.in_runs -= 1;
        item
    }

    #[inline]
    fn take_in(&mut self, batch: &mut Vec<T>) -> Option<T> {
        if self.fresh.is_empty() {
            // The buffers trade places: the producers get the (empty) spare with its capacity.
            std::mem::swap(&mut self.fresh, batch);
        } else {
            self.fresh.append(batch);
        }
        None
    }

    #[inline]
    fn settle(&mut self) {
        if self.fresh.is_empty() {
            return;
        }
        if self.fresh.len() <= FILE_IN_MAX
            && self
                .runs
                .last()
                .is_some_and(|run| run.len() * size_of::<T>().max(1) < FILE_INTO_BYTES)
        {
            self.file_in();
            self.merge_runs();
            return;
        }
        // A panicking `Ord` leaves `fresh` a permutation of itself: nothing is lost. Sorted
        // least first, then reversed: equal items end up latest-arrived first, so the
        // earliest is popped first.
        self.fresh.sort();
        self.fresh.reverse();
        let n = self.fresh.len();
        let spare = std::mem::take(&mut self.spare);
        let run = std::mem::replace(&mut self.fresh, spare);
        self.runs.push(run);
        self.in_runs += n;
        self.merge_runs();
    }

    /// See [`admit`](fn@admit).
    #[inline]
    fn admit(item: &T) {
        admit(item);
    }

    fn into_pop_order(mut self, batch: Vec<T>) -> Vec<T> {
        // Runs oldest first, each least first, then the batches: arrival order among equal
        // items, which a stable sort keeps.
        let mut all = Vec::with_capacity(self.len() + batch.len());
        for run in self.runs.drain(..) {
            all.extend(run.into_iter().rev());
        }
        all.append(&mut self.fresh);
        all.extend(batch);
        all.sort();
        all
    }
}

/// A queue that hands out its lowest item first, as Python's `queue.PriorityQueue` (which
/// uses `heapq`), shared between threads.
///
/// Items that compare equal come out in the order they were put: the queue numbers every
/// item on arrival and breaks ties by that number. (Python does not promise this; a common
/// idiom there puts `(priority, counter, item)` tuples to get it.) Put `(priority, item)`
/// tuples, or any `Ord` type (for instance a job ordered by its priority field only); wrap
/// in [`std::cmp::Reverse`] for highest first.
///
/// Everything else is as for [`Queue`](super::Queue): a cheap `Clone` handle, optional bound,
/// blocking/timed/non-blocking operations, `task_done`/`join`, shutdown, iteration.
///
/// # Differences from Python
///
/// As for [`Queue`](super::Queue#differences-from-python), and: stable among equal
/// items; items need `Ord` instead of `<`.
///
/// # Panics
///
/// Every `put` form compares the item with itself before it takes a lock or waits for room
/// (for integer and tuple keys the compiler removes this). So an item whose comparison
/// panics whatever it is compared with (a float key that is NaN behind an `unwrap`) panics in
/// the putter, as in Python, where `put` raises: the item is not queued (the unwind drops
/// it), not counted as a task, and the queue goes on as before. An `Ord` that panics only
/// for some pairs of items panics in the put or get that compares them (in an unbounded
/// queue, or one bounded above 256 items, consumers file items in, and a put only when the
/// queue holds more than 8 MiB of items and it finds 1 024 waiting to be filed); the locks
/// are released and every item stays queued and counted, though the queue's order may then
/// be off.
///
/// ```
/// use std::panic::{AssertUnwindSafe, catch_unwind};
/// use threadkit::queue::PriorityQueue;
///
/// /// A float key: NaN has no place in the order.
/// #[derive(Debug, PartialEq)]
/// struct Key(f64);
/// impl Eq for Key {}
/// impl Ord for Key {
///     fn cmp(&self, other: &Self) -> std::cmp::Ordering {
///         self.0.partial_cmp(&other.0).expect("a NaN key")
///     }
/// }
/// impl PartialOrd for Key {
///     fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
///         Some(self.cmp(other))
///     }
/// }
///
/// let q = PriorityQueue::new(0);
/// q.put(Key(2.0))?;
/// # let hook = std::panic::take_hook();
/// # std::panic::set_hook(Box::new(|_| {})); // keep the doctest's output quiet
/// assert!(catch_unwind(AssertUnwindSafe(|| q.put(Key(f64::NAN)))).is_err());
/// # std::panic::set_hook(hook);
/// q.put(Key(1.0))?;
/// assert_eq!(q.qsize(), 2); // the NaN was never queued
/// assert_eq!(q.get()?, Key(1.0));
/// assert_eq!(q.get()?, Key(2.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Examples
///
/// ```
/// use std::cmp::Ordering;
/// use threadkit::queue::PriorityQueue;
///
/// /// Ordered by priority only: jobs of equal priority compare equal.
/// #[derive(Debug, PartialEq, Eq)]
/// struct Job { priority: u8, what: &'static str }
/// impl Ord for Job {
///     fn cmp(&self, other: &Self) -> Ordering { self.priority.cmp(&other.priority) }
/// }
/// impl PartialOrd for Job {
///     fn partial_cmp(&self, other: &Self) -> Option<Ordering> { Some(self.cmp(other)) }
/// }
///
/// let q = PriorityQueue::new(0);
/// q.put(Job { priority: 2, what: "write report" })?;
/// q.put(Job { priority: 1, what: "fix the build" })?;
/// q.put(Job { priority: 2, what: "answer mail" })?;
/// assert_eq!(q.get()?.what, "fix the build");
/// assert_eq!(q.get()?.what, "write report"); // equal priority: in order of arrival
/// assert_eq!(q.get()?.what, "answer mail");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PriorityQueue<T> {
    core: Arc<PrioCore<T>>,
}

impl<T: Ord> PriorityQueue<T> {
    /// A new priority queue holding at most `maxsize` items; `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::PriorityQueue<u32> = threadkit::queue::PriorityQueue::new(0);
    /// assert_eq!(q.maxsize(), 0);
    /// ```
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue {
            core: Arc::new(if (1..=ONELOCK_MAX).contains(&maxsize) {
                Two::A(OneLock::new("PriorityQueue", maxsize))
            } else {
                Two::B(Split::new("PriorityQueue", maxsize))
            }),
        }
    }

    /// A new queue named `name` (otherwise as [`new`](PriorityQueue::new)): the name shows in its
    /// [`id`](PriorityQueue::id), so in wait records, errors, thread dumps and deadlock reports.
    ///
    /// # Examples
    ///
    /// ```
    /// let q: threadkit::queue::PriorityQueue<u8> = threadkit::queue::PriorityQueue::named(0, "urgent");
    /// assert_eq!(q.id().name(), Some("urgent"));
    /// ```
    pub fn named(maxsize: usize, name: &'static str) -> Self {
        PriorityQueue {
            core: Arc::new(if (1..=ONELOCK_MAX).contains(&maxsize) {
                Two::A(OneLock::new("PriorityQueue", maxsize).with_name(name))
            } else {
                Two::B(Split::new("PriorityQueue", maxsize).with_name(name))
            }),
        }
    }
}

/// The largest bound served by one lock around one heap; larger bounds (and unbounded
/// queues) use the two-lock core with its sorted runs. In the queue-kind matrix (BENCHMARKS.md)
/// the one-lock core was 2 to 90 times the peer's throughput at bounds 1 to 64 (it spins
/// briefly where a two-lock hand-off parks), the two-lock core 0.5 to 1.5 times; at 1024 with
/// one producer and one consumer the two-lock core was ahead (0.92 against 0.67, when it
/// still kept a heap), since there a get's sift through a full heap holds the one lock long
/// enough to stall the put.
const ONELOCK_MAX: usize = 256;

/// A small bounded queue behind one lock, a large or unbounded one in the two-lock core.
type PrioCore<T> = Two<OneLock<Heap<T>>, Split<T, Prio<T>>>;

impl<T: Ord> Default for PriorityQueue<T> {
    /// An unbounded queue.
    fn default() -> Self {
        PriorityQueue::new(0)
    }
}

shared_api!(PriorityQueue, "PriorityQueue::new(0)", Ord);
tracked_api!(PriorityQueue, Ord);

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    thread_local! {
        /// While set, comparing two `Touchy` items panics.
        static TOUCHY: Cell<bool> = const { Cell::new(false) };
    }

    thread_local! {
        /// While `Some(n)`, the comparison of two `Touchy` items after the `n`th panics.
        static COUNT: Cell<Option<u32>> = const { Cell::new(None) };
    }

    #[derive(Debug, PartialEq, Eq)]
    struct Touchy(u32);

    impl Ord for Touchy {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            assert!(!TOUCHY.with(Cell::get), "comparison failed");
            if let Some(n) = COUNT.with(Cell::get) {
                assert!(n > 0, "comparison failed");
                COUNT.with(|c| c.set(Some(n - 1)));
            }
            self.0.cmp(&other.0)
        }
    }

    impl PartialOrd for Touchy {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    /// Ordered by `key` only: items of equal key are told apart by `id` alone.
    #[derive(Debug)]
    struct Tagged {
        key: u32,
        id: u32,
    }

    impl PartialEq for Tagged {
        fn eq(&self, other: &Self) -> bool {
            self.key == other.key
        }
    }

    impl Eq for Tagged {}

    impl Ord for Tagged {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.key.cmp(&other.key)
        }
    }

    impl PartialOrd for Tagged {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    /// The (item, arrival number) pairs the heap holds, sorted.
    fn pairs(heap: &Heap<Touchy>) -> Vec<(u32, u64)> {
        let mut v: Vec<_> = heap
            .items
            .iter()
            .map(|t| t.0)
            .zip(heap.seqs.clone())
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_panic_mid_sift_leaves_every_entry_once_beside_its_own_number() {
        let values = [5, 3, 8, 1, 9, 2, 7, 4, 6, 0];
        let mut heap = Heap::with_capacity(0);
        for v in values {
            heap.push(Touchy(v));
        }
        let mut expected: Vec<(u32, u64)> = values.iter().copied().zip(0..).collect();
        expected.sort_unstable();
        assert_eq!(pairs(&heap), expected);
        // A pop lifts the last entry to the root and sifts it: the first comparison panics,
        // with the hole at the root.
        TOUCHY.with(|t| t.set(true));
        let popped = catch_unwind(AssertUnwindSafe(|| heap.pop()));
        TOUCHY.with(|t| t.set(false));
        assert!(popped.is_err());
        assert_eq!(pairs(&heap), expected, "nothing lost, nothing doubled");
        // A push panics in its first comparison too, after appending its entry.
        TOUCHY.with(|t| t.set(true));
        let pushed = catch_unwind(AssertUnwindSafe(|| heap.push(Touchy(11))));
        TOUCHY.with(|t| t.set(false));
        assert!(pushed.is_err());
        expected.push((11, 10));
        assert_eq!(pairs(&heap), expected);
    }

    #[test]
    fn pops_in_item_then_arrival_order() {
        // Few distinct keys, many ties, pops interleaved with pushes; ids are arrival order.
        let mut heap = Heap::with_capacity(0);
        let mut model: Vec<(u32, u32)> = Vec::new();
        for id in 0..3000u32 {
            let key = id.wrapping_mul(2_654_435_761) % 5;
            heap.push(Tagged { key, id });
            model.push((key, id));
            if id % 3 == 2 {
                model.sort_unstable();
                let (key, id) = model.remove(0);
                let got = heap.pop().unwrap();
                assert_eq!((got.key, got.id), (key, id));
            }
        }
        model.sort_unstable();
        let rest: Vec<(u32, u32)> = heap
            .into_pop_order()
            .iter()
            .map(|t| (t.key, t.id))
            .collect();
        assert_eq!(rest, model);
    }

    /// A xorshift generator: the same numbers on every run.
    fn xorshift(seed: u32) -> impl FnMut(u32) -> u32 {
        let mut rng = seed;
        move |n| {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng % n
        }
    }

    #[test]
    fn the_head_merges_sorted_runs_in_item_then_arrival_order() {
        // Batches of 0 to 40 items of few distinct keys, taken in as a get would, with 0 to
        // 29 gets between them; a model gives the expected (key, id) of every get.
        let mut head = Prio::<Tagged>::for_maxsize(0);
        let mut model: Vec<(u32, u32)> = Vec::new();
        let mut next_id = 0u32;
        let mut random = xorshift(0x2545_f491);
        for _ in 0..400 {
            let mut batch: Vec<Tagged> = (0..random(41))
                .map(|_| {
                    let item = Tagged {
                        key: random(4),
                        id: next_id,
                    };
                    model.push((item.key, item.id));
                    next_id += 1;
                    item
                })
                .collect();
            assert!(head.take_in(&mut batch).is_none());
            assert!(batch.is_empty());
            head.settle();
            assert_eq!(head.len(), model.len());
            for _ in 0..random(30) {
                model.sort_unstable();
                let want = (!model.is_empty()).then(|| model.remove(0));
                assert_eq!(head.pop().map(|t| (t.key, t.id)), want);
            }
        }
        model.sort_unstable();
        let rest: Vec<(u32, u32)> = head
            .into_pop_order(Vec::new())
            .iter()
            .map(|t| (t.key, t.id))
            .collect();
        assert_eq!(rest, model);
    }

    #[test]
    fn a_growing_backlog_stays_in_a_few_runs() {
        // 2 000 batches of 1 to 100 keys, a get after each: the backlog grows to about
        // 100 000 items. A get scans every run's front, so their number must stay small:
        // about log2 of the backlog, never above MAX_RUNS.
        let mut head = Prio::<u32>::for_maxsize(0);
        let mut random = xorshift(0x9e37_79b9);
        let mut most = 0;
        for _ in 0..2000 {
            let mut batch: Vec<u32> = (0..=random(100)).map(|_| random(1 << 20)).collect();
            head.take_in(&mut batch);
            head.settle();
            let least = head.pop().expect("the head holds the batch");
            assert!(head.runs.iter().all(|run| run.last() >= Some(&least)));
            most = most.max(head.runs.len());
            assert!(head.runs.iter().all(|run| !run.is_empty()));
        }
        let backlog = head.len();
        assert!(backlog > 50_000, "{backlog}");
        assert!(most <= 20, "{most} runs for a backlog of {backlog}");
        assert!(head.runs.len() <= MAX_RUNS);
        let all = head.into_pop_order(Vec::new());
        assert_eq!(all.len(), backlog);
        assert!(all.is_sorted());
    }

    #[test]
    fn a_small_batch_is_filed_into_a_short_newest_run_in_order() {
        // A run of 10 keys, then batches of a few that tie with it and with each other: they
        // are filed into that run (no new run), and come out in key, then arrival, order.
        let mut head = Prio::<Tagged>::for_maxsize(0);
        let mut id = 0;
        let mut tagged = |key| {
            id += 1;
            Tagged { key, id }
        };
        let mut batch: Vec<Tagged> = [3, 1, 2, 3, 1, 2, 3, 1, 2, 0].map(&mut tagged).into();
        head.take_in(&mut batch);
        head.settle();
        for keys in [[2, 0, 2], [1, 3, 0]] {
            let mut batch: Vec<Tagged> = keys.map(&mut tagged).into();
            head.take_in(&mut batch);
            head.settle();
        }
        assert_eq!(head.runs.len(), 1, "filed in, not a run of their own");
        let got: Vec<(u32, u32)> = std::iter::from_fn(|| head.pop())
            .map(|t| (t.key, t.id))
            .collect();
        let mut want = got.clone();
        want.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(got.len(), 16);
    }

    #[test]
    fn a_panic_while_filing_in_loses_and_doubles_no_item() {
        let mut head = Prio::<Touchy>::for_maxsize(0);
        let mut batch: Vec<Touchy> = (0..10).map(|v| Touchy(2 * v)).collect();
        head.take_in(&mut batch);
        head.settle();
        let mut batch: Vec<Touchy> = [7, 3, 11].map(Touchy).into();
        head.take_in(&mut batch);
        // Filing the first item takes at most 4 comparisons (a binary search of 10); the
        // second item's search panics.
        COUNT.with(|c| c.set(Some(5)));
        let settled = catch_unwind(AssertUnwindSafe(|| head.settle()));
        COUNT.with(|c| c.set(None));
        assert!(settled.is_err());
        assert_eq!(head.len(), 13);
        assert_eq!(head.fresh.len() + head.runs[0].len(), 13);
        let mut all: Vec<u32> = std::iter::from_fn(|| head.pop()).map(|t| t.0).collect();
        assert_eq!(all.len(), 13, "the items left in the batch are popped too");
        all.sort_unstable();
        let mut want: Vec<u32> = (0..10).map(|v| 2 * v).chain([7, 3, 11]).collect();
        want.sort_unstable();
        assert_eq!(all, want, "nothing lost, nothing doubled");
    }

    #[test]
    fn a_panic_mid_merge_loses_and_doubles_no_item() {
        // Two runs of 20 that merge (the older is not twice as long); the comparison panics
        // midway through the merge.
        let mut head = Prio::<Touchy>::for_maxsize(0);
        let mut batch: Vec<Touchy> = (0..20).rev().map(|v| Touchy(2 * v)).collect();
        head.take_in(&mut batch);
        head.settle();
        let mut batch: Vec<Touchy> = (0..20).map(|v| Touchy(2 * v + 1)).collect();
        head.take_in(&mut batch);
        // Sorting the (already sorted) batch takes 19 comparisons; the merge panics at its
        // sixth.
        COUNT.with(|c| c.set(Some(19 + 5)));
        let settled = catch_unwind(AssertUnwindSafe(|| head.settle()));
        let left = COUNT.with(|c| c.replace(None));
        assert!(settled.is_err());
        assert_eq!(left, Some(0), "the panic came from the merge, not the sort");
        assert!(head.fresh.is_empty());
        assert_eq!(head.len(), 40);
        assert_eq!(head.runs.iter().map(Vec::len).sum::<usize>(), 40);
        let mut all: Vec<u32> = head
            .into_pop_order(Vec::new())
            .iter()
            .map(|t| t.0)
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..40).collect::<Vec<u32>>(),
            "nothing lost, nothing doubled"
        );
    }
}
