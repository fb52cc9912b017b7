//! The wait record: what a blocked thread waits on, kept in its registry entry.
//!
//! This file is the record alone (its types and the slot it lives in); it imports nothing of
//! the crate, so the registry, the threads and the one blocking path (`sync/wait.rs`, which
//! writes records) all stand above it. [`WaitInfo::owner`], which needs the registry, is
//! implemented in `registry.rs`.
//!
//! # One object id
//!
//! Every object a thread can wait on, and every error about an object, names it with one
//! [`ObjectId`]: its [`ObjectKind`] and its address (stable while the object lives, the same
//! for every handle or reference to it, and what `const` constructors allow: a `static Lock`
//! needs no id assigned at run time), with room for a name.
//!
//! # The live owner
//!
//! A record does not store who holds the object. It stores where to find out ([`Owner`]): the
//! thread being joined (by ident, never reused) or the lock word of the lock waited for, which
//! holds its holder's ident and is read when the record is read, so a reader always gets the
//! holder at that moment, never the one at park time, and never a thread that merely reuses a
//! number. See [`WaitSlot::read`] for why reading a lock word through a record is safe even
//! though the lock may be dropped as soon as its waiter wakes.

use std::fmt;
use std::panic::Location;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
use std::time::{Duration, Instant};

/// What a blocked thread waits for.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Event, Thread, WaitKind};
///
/// let ready = Arc::new(Event::new());
/// let r = ready.clone();
/// let t = Thread::new(move || r.wait());
/// t.start()?;
/// let info = loop {
///     if let Some(info) = t.waiting() { break info; }
///     std::thread::yield_now();
/// };
/// ready.set(); // let the thread finish before checking the snapshot
/// t.join()?;
/// assert_eq!(info.kind(), WaitKind::Event);
/// assert_eq!(info.kind().to_string(), "event");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitKind {
    /// Acquiring a [`Lock`](crate::Lock) (or a [`Mutex`](crate::Mutex)).
    Lock,
    /// Joining a thread: the object is that thread's entry.
    Join,
    /// Waiting in [`Thread::start`](crate::Thread::start) for the new thread to run.
    Start,
    /// [`sleep`](crate::sleep).
    Sleep,
    /// Acquiring an `RLock`.
    RLock,
    /// Waiting on a `Condition`: for a notification (the object is the condition), or, once
    /// notified or timed out, for its lock back (the object is the lock, the owner its holder).
    Condition,
    /// Acquiring a `Semaphore` or `BoundedSemaphore`.
    Semaphore,
    /// Waiting for an `Event` to be set.
    Event,
    /// Waiting at a `Barrier` for the other parties.
    Barrier,
    /// A queue `get` waiting for an item.
    QueueGet,
    /// A queue `put` waiting for room.
    QueuePut,
    /// A queue `join` waiting for every item to be marked done.
    QueueJoin,
    /// Waiting on a [`Condvar`](crate::Condvar): for a notification (the object is the
    /// condvar), or, once notified or timed out, for its `Mutex` back.
    Condvar,
    /// Acquiring an [`RwLock`](crate::RwLock) for reading (shared or upgradable); the owner is
    /// the writer in the way, if any.
    RwLockRead,
    /// Acquiring an [`RwLock`](crate::RwLock) for writing (or upgrading a read): the owner is
    /// the writer in the way, if any (readers in the way are not tracked).
    RwLockWrite,
    /// Waiting for a [`TaskFuture`](crate::TaskFuture) to finish: the owner is the worker
    /// running its task, none while it is queued.
    Future,
    /// [`ThreadPoolExecutor::wait_idle`](crate::ThreadPoolExecutor::wait_idle): waiting for
    /// every submitted task to finish.
    ExecutorIdle,
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl WaitKind {
    /// The kind as printed by `Display`, as a `&'static str` (the timeline keeps it per span).
    pub(crate) fn label(self) -> &'static str {
        match self {
            WaitKind::Lock => "lock",
            WaitKind::Join => "join",
            WaitKind::Start => "start",
            WaitKind::Sleep => "sleep",
            WaitKind::RLock => "rlock",
            WaitKind::Condition => "condition",
            WaitKind::Semaphore => "semaphore",
            WaitKind::Event => "event",
            WaitKind::Barrier => "barrier",
            WaitKind::QueueGet => "queue get",
            WaitKind::QueuePut => "queue put",
            WaitKind::QueueJoin => "queue join",
            WaitKind::Condvar => "condvar",
            WaitKind::RwLockRead => "rwlock read",
            WaitKind::RwLockWrite => "rwlock write",
            WaitKind::Future => "future",
            WaitKind::ExecutorIdle => "executor idle",
        }
    }
}

/// Every [`WaitKind`], in declaration order: a kind's code in a [`WaitSlot`] is its index
/// here plus one (see `codes_decode_to_their_kind`).
const WAIT_KINDS: [WaitKind; 17] = [
    WaitKind::Lock,
    WaitKind::Join,
    WaitKind::Start,
    WaitKind::Sleep,
    WaitKind::RLock,
    WaitKind::Condition,
    WaitKind::Semaphore,
    WaitKind::Event,
    WaitKind::Barrier,
    WaitKind::QueueGet,
    WaitKind::QueuePut,
    WaitKind::QueueJoin,
    WaitKind::Condvar,
    WaitKind::RwLockRead,
    WaitKind::RwLockWrite,
    WaitKind::Future,
    WaitKind::ExecutorIdle,
];

impl WaitKind {
    /// This kind's code in a [`WaitSlot`]: never 0, which means "not waiting".
    fn code(self) -> u8 {
        WAIT_KINDS
            .iter()
            .position(|&k| k == self)
            .map_or(0, |i| i as u8 + 1)
    }
}

/// What kind of object an [`ObjectId`] names.
///
/// # Examples
///
/// ```
/// use threadkit::{Lock, ObjectKind};
///
/// let lock = Lock::new();
/// assert_eq!(lock.id().kind(), ObjectKind::Lock);
/// assert_eq!(ObjectKind::Lock.to_string(), "Lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A [`Lock`](crate::Lock), also under a [`Mutex`](crate::Mutex) or a
    /// [`ReentrantMutex`](crate::ReentrantMutex).
    Lock,
    /// An [`RLock`](crate::RLock).
    RLock,
    /// A [`Condition`](crate::Condition).
    Condition,
    /// A [`Semaphore`](crate::Semaphore).
    Semaphore,
    /// A [`BoundedSemaphore`](crate::BoundedSemaphore).
    BoundedSemaphore,
    /// An [`Event`](crate::Event).
    Event,
    /// A [`Barrier`](crate::Barrier).
    Barrier,
    /// A [`queue::Queue`](crate::queue::Queue).
    Queue,
    /// A [`queue::LifoQueue`](crate::queue::LifoQueue).
    LifoQueue,
    /// A [`queue::PriorityQueue`](crate::queue::PriorityQueue).
    PriorityQueue,
    /// A [`queue::SimpleQueue`](crate::queue::SimpleQueue).
    SimpleQueue,
    /// A thread (joined, or being started): the address of its registry entry.
    Thread,
    /// A [`sleep`](crate::sleep): no object, the address of the sleeping call's frame.
    Sleep,
    /// A [`Condvar`](crate::Condvar).
    Condvar,
    /// An [`RwLock`](crate::RwLock) (its raw lock, [`RawRwLock`](crate::RawRwLock)).
    RwLock,
    /// A [`TaskFuture`](crate::TaskFuture) (its shared state).
    Future,
    /// A [`ThreadPoolExecutor`](crate::ThreadPoolExecutor).
    ThreadPoolExecutor,
}

/// Every [`ObjectKind`], in declaration order: codes in a [`WaitSlot`] as for [`WAIT_KINDS`].
const OBJECT_KINDS: [ObjectKind; 17] = [
    ObjectKind::Lock,
    ObjectKind::RLock,
    ObjectKind::Condition,
    ObjectKind::Semaphore,
    ObjectKind::BoundedSemaphore,
    ObjectKind::Event,
    ObjectKind::Barrier,
    ObjectKind::Queue,
    ObjectKind::LifoQueue,
    ObjectKind::PriorityQueue,
    ObjectKind::SimpleQueue,
    ObjectKind::Thread,
    ObjectKind::Sleep,
    ObjectKind::Condvar,
    ObjectKind::RwLock,
    ObjectKind::Future,
    ObjectKind::ThreadPoolExecutor,
];

impl ObjectKind {
    /// The type's name, as Python would print it: `"Lock"`, `"BoundedSemaphore"`, ...
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::ObjectKind::PriorityQueue.as_str(), "PriorityQueue");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Lock => "Lock",
            ObjectKind::RLock => "RLock",
            ObjectKind::Condition => "Condition",
            ObjectKind::Semaphore => "Semaphore",
            ObjectKind::BoundedSemaphore => "BoundedSemaphore",
            ObjectKind::Event => "Event",
            ObjectKind::Barrier => "Barrier",
            ObjectKind::Queue => "Queue",
            ObjectKind::LifoQueue => "LifoQueue",
            ObjectKind::PriorityQueue => "PriorityQueue",
            ObjectKind::SimpleQueue => "SimpleQueue",
            ObjectKind::Thread => "Thread",
            ObjectKind::Sleep => "sleep",
            ObjectKind::Condvar => "Condvar",
            ObjectKind::RwLock => "RwLock",
            ObjectKind::Future => "Future",
            ObjectKind::ThreadPoolExecutor => "ThreadPoolExecutor",
        }
    }

    fn code(self) -> u8 {
        OBJECT_KINDS
            .iter()
            .position(|&k| k == self)
            .map_or(0, |i| i as u8 + 1)
    }

    fn from_code(code: u8) -> Option<ObjectKind> {
        OBJECT_KINDS.get(usize::from(code).checked_sub(1)?).copied()
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which object a wait record or an error is about, the same way everywhere in the crate:
/// its [`ObjectKind`] and its address, plus an optional name.
///
/// The address is the object's identity: stable while it lives, the same for every reference
/// or handle to it, and free to compute (a `const` constructor, such as a `static Lock`'s,
/// needs no id assigned at run time). Two objects alive at the same time never share an id;
/// an object dropped and another built at the same place later may. Equality and hashing
/// look at the kind and the address only, not the name.
///
/// Displays (and debug-prints) as `Lock at 0x5581c3a0`, or `Lock "db" at 0x5581c3a0` when
/// the object has a name.
///
/// # Examples
///
/// ```
/// use threadkit::{Lock, ObjectKind};
///
/// let lock = Lock::new();
/// let err = lock.release().unwrap_err(); // not locked
/// assert_eq!(err.object(), lock.id());
/// assert_eq!(lock.id().kind(), ObjectKind::Lock);
/// assert_eq!(lock.id().addr(), &lock as *const Lock as usize);
/// assert_eq!(lock.id().name(), None);
/// assert_eq!(lock.id().to_string(), format!("Lock at {:#x}", lock.id().addr()));
/// assert_eq!(format!("{:?}", lock.id()), lock.id().to_string());
/// ```
#[derive(Clone, Copy)]
pub struct ObjectId {
    kind: ObjectKind,
    addr: usize,
    name: Option<&'static str>,
}

impl ObjectId {
    /// The id of the `kind` object at `addr`, without a name.
    #[inline]
    pub(crate) const fn new(kind: ObjectKind, addr: usize) -> Self {
        ObjectId {
            kind,
            addr,
            name: None,
        }
    }

    /// The id of the object `object` points to.
    #[inline]
    pub(crate) fn of<T: ?Sized>(kind: ObjectKind, object: &T) -> Self {
        ObjectId::new(kind, std::ptr::from_ref(object).cast::<u8>().addr())
    }

    /// This id with a name.
    #[allow(dead_code)]
    pub(crate) const fn with_name(self, name: &'static str) -> Self {
        ObjectId {
            name: Some(name),
            ..self
        }
    }

    /// This id with `name` (a primitive's optional name, as it keeps it).
    #[inline]
    pub(crate) const fn named(self, name: Option<&'static str>) -> Self {
        ObjectId { name, ..self }
    }

    /// What kind of object it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::{ObjectKind, queue::Queue};
    /// assert_eq!(Queue::<u8>::new(0).id().kind(), ObjectKind::Queue);
    /// ```
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The object's address.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadkit::queue::Queue;
    ///
    /// let q: Queue<u8> = Queue::new(0);
    /// let handle = q.clone();
    /// assert_eq!(handle.id().addr(), q.id().addr()); // one queue, one id
    /// assert_ne!(Queue::<u8>::new(0).id().addr(), q.id().addr()); // another queue
    /// ```
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// The object's name, if it was given one (`Lock::named("db")` and the other primitives'
    /// `named` constructors).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadkit::Event::new().id().name(), None);
    /// assert_eq!(threadkit::Lock::named("db").id().name(), Some("db"));
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }
}

impl PartialEq for ObjectId {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.addr == other.addr
    }
}

impl Eq for ObjectId {}

impl std::hash::Hash for ObjectId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.addr.hash(state);
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => write!(f, "{} {:?} at {:#x}", self.kind, name, self.addr),
            None => write!(f, "{} at {:#x}", self.kind, self.addr),
        }
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Where a reader of a record finds the waited-for object's owner.
#[derive(Clone, Copy)]
pub(crate) enum Owner {
    /// Nobody owns the object (an event, a queue, a condition waiting for a notification).
    None,
    /// A fixed thread, by ident (never reused): the thread being joined or started.
    Thread(u64),
    /// A lock word (`Lock::state`): when the record is read, its owner bits give the holder's
    /// ident at that moment. Valid while the record is live (see [`WaitSlot::read`]).
    LockWord(*const crate::primitive::AtomicU64),
    /// A lock word, as [`LockWord`](Owner::LockWord), and the holder's recursion count beside
    /// it (an `RLock`'s), read with the word.
    LockWordCounted(
        *const crate::primitive::AtomicU64,
        *const crate::primitive::AtomicUsize,
    ),
}

/// What a primitive tells the wait path about the wait it is starting.
#[derive(Clone, Copy)]
pub(crate) struct Blocked {
    pub(crate) kind: WaitKind,
    /// The object waited on.
    pub(crate) object: ObjectId,
    /// Where to find its owner when the record is read.
    pub(crate) owner: Owner,
    /// The caller's source location.
    pub(crate) location: &'static Location<'static>,
    /// A `Condition` wait only: the condition's lock (its id and its word). A notifier that
    /// moves this waiter onto that lock's queue marks the slot ([`WaitSlot::mark_requeued`]),
    /// and from then on readers see a wait for the lock and its holder.
    pub(crate) requeue: Option<(ObjectId, *const crate::primitive::AtomicU64)>,
    /// With [`requeue`](Self::requeue): the lock's recursion count (an `RLock`'s), so a reader
    /// of a requeued waiter's record gets the holder's depth too; null for a plain lock (and
    /// without a requeue target).
    pub(crate) requeue_count: *const crate::primitive::AtomicUsize,
    /// A wait for a future of a thread pool: the pool's id (`executor::future::pool_id`), 0
    /// otherwise. While the future is queued it has no owner; a deadlock search looks the
    /// pool up to see whether any of its workers can still start it.
    pub(crate) pool: usize,
    /// Whether the operation has a deadline (it ends on its own): deadlock reports skip it.
    pub(crate) timed: bool,
}

impl Blocked {
    /// A wait on `object`, which has no owner.
    #[inline]
    pub(crate) fn on(
        kind: WaitKind,
        object: ObjectId,
        location: &'static Location<'static>,
    ) -> Self {
        Blocked {
            kind,
            object,
            owner: Owner::None,
            location,
            requeue: None,
            requeue_count: std::ptr::null(),
            pool: 0,
            timed: false,
        }
    }

    /// This wait, for a task of the pool `pool` (its id; 0 for none).
    #[inline]
    pub(crate) fn of_pool(self, pool: usize) -> Self {
        Blocked { pool, ..self }
    }

    /// This wait, timed if `deadline` is some.
    #[inline]
    pub(crate) fn timed_by(self, deadline: Option<Instant>) -> Self {
        Blocked {
            timed: deadline.is_some(),
            ..self
        }
    }

    /// This wait, with `owner` as where its owner is found.
    #[inline]
    pub(crate) fn owned_by(self, owner: Owner) -> Self {
        Blocked { owner, ..self }
    }
}

/// A record read from a [`WaitSlot`], its owner resolved to an ident at read time.
#[derive(Clone, Copy)]
pub(crate) struct WaitRecord {
    pub(crate) kind: WaitKind,
    pub(crate) object: ObjectId,
    /// The owner's ident when the record was read, 0 when none or unknown.
    pub(crate) owner: u64,
    /// The owner's recursion count when the record was read (an `RLock`'s holder), 0 when
    /// the object has none or it is unknown.
    pub(crate) owner_depth: usize,
    pub(crate) location: &'static Location<'static>,
    pub(crate) since: Instant,
    /// `since` as stored: equal in two reads only for the same operation.
    pub(crate) since_raw: u64,
    /// Whether the operation waits with a deadline (so it ends on its own).
    pub(crate) timed: bool,
    /// The pool whose task is waited for (`Blocked::pool`), 0 when none.
    pub(crate) pool: usize,
}

/// The clock origin of [`WaitSlot::since`]: set before the first wait is recorded.
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The time from `since` (a [`WaitSlot`] start, in nanoseconds from [`EPOCH`]) to `now`, for
/// the contention profile.
pub(crate) fn elapsed_since_raw(since: u64, now: Instant) -> std::time::Duration {
    let epoch = *EPOCH.get_or_init(Instant::now);
    let now = now.saturating_duration_since(epoch);
    now.saturating_sub(std::time::Duration::from_nanos(since))
}

const OWNER_NONE: u8 = 0;
const OWNER_THREAD: u8 = 1;
const OWNER_WORD: u8 = 2;

/// Where a thread's current wait is recorded, in its registry entry: written only by the
/// thread itself (a seqlock: a few plain stores per wait, no lock, no read-modify-write) and
/// read by anyone, without blocking, through [`WaitSlot::read`].
///
/// `seq` is odd while a record is being written. A record lives from [`set`](Self::set) to
/// [`clear`](Self::clear): the whole blocking operation, across every park it makes.
pub(crate) struct WaitSlot {
    seq: AtomicU32,
    /// 0 when not waiting, else [`WaitKind::code`].
    kind: AtomicU8,
    object_kind: AtomicU8,
    owner_tag: AtomicU8,
    /// 0 when the wait has no requeue target, else the target's [`ObjectKind::code`].
    requeue_kind: AtomicU8,
    /// Whether the owner word named the slot's own thread when the record was written (a
    /// thread blocked on a lock it holds itself). Otherwise a reader that finds the thread in
    /// the word knows the wait is over: the lock was handed to it, the record not yet cleared.
    self_held: AtomicBool,
    /// Set by a notifier (not the slot's thread) once it moved this waiter onto the lock's
    /// queue; reset by [`set`](Self::set).
    requeued: AtomicBool,
    /// Readers about to follow a pointer of the live record: [`clear`](Self::clear) waits
    /// for them to leave before the operation (and the object's borrow) can end.
    readers: AtomicU32,
    /// Where the thread is in its spin between queueing and sleeping (`SPIN_IDLE`,
    /// `SPINNING`, `SPIN_WOKEN`): see `sync::wait::Waiting::spin_before_sleep`.
    spin: AtomicU8,
    /// How many of the thread's spins before sleeping in a row ended without a notification:
    /// written and read by the slot's thread only (see
    /// `sync::wait::Waiting::spin_before_sleep`).
    spin_misses: AtomicU8,
    object: AtomicUsize,
    /// The object's name (a `&'static str`, as pointer and length), null when it has none.
    name_ptr: AtomicPtr<u8>,
    name_len: AtomicUsize,
    /// An ident or a lock word's address, as `owner_tag` says.
    owner: AtomicU64,
    /// The address of the owner's recursion count (an `RLock`'s), 0 when none.
    owner_count: AtomicUsize,
    requeue_object: AtomicUsize,
    requeue_word: AtomicUsize,
    /// The address of the requeue target's recursion count (`Blocked::requeue_count`), 0
    /// when none.
    requeue_count: AtomicUsize,
    /// The requeue target's name, as `name_ptr` and `name_len` are the object's.
    requeue_name_ptr: AtomicPtr<u8>,
    requeue_name_len: AtomicUsize,
    /// `Blocked::pool`.
    pool: AtomicUsize,
    location: AtomicPtr<Location<'static>>,
    /// Nanoseconds from [`EPOCH`] to the start of the wait.
    since: AtomicU64,
    /// Whether the operation waits with a deadline: set by its first timed park, reset when
    /// a new operation's record is written. Read with the record (it ends on its own).
    timed: AtomicBool,
    /// The locks this thread holds, in the order it took them, while held-lock tracking is
    /// on (see `sync::held`). Written only by this thread; read by anyone without blocking it.
    pub(crate) held: HeldList,
    /// The backtrace of the live wait, by its start (`since`), while wait backtraces are on
    /// (`observe::set_wait_backtraces`): written by this thread when a wait begins, read by
    /// dumps with a try-lock.
    pub(crate) backtrace: Mutex<Option<(u64, std::sync::Arc<std::backtrace::Backtrace>)>>,
}

/// One entry of a thread's held-lock list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeldLock {
    pub(crate) object: ObjectId,
    pub(crate) location: &'static Location<'static>,
}

/// [`WaitSlot::spin`]: not spinning.
const SPIN_IDLE: u8 = 0;
/// [`WaitSlot::spin`]: queued, spinning before it sleeps.
const SPINNING: u8 = 1;
/// [`WaitSlot::spin`]: unparked by a notifier while it spun.
const SPIN_WOKEN: u8 = 2;

impl WaitSlot {
    pub(crate) const fn new() -> Self {
        WaitSlot {
            seq: AtomicU32::new(0),
            kind: AtomicU8::new(0),
            object_kind: AtomicU8::new(0),
            owner_tag: AtomicU8::new(0),
            requeue_kind: AtomicU8::new(0),
            self_held: AtomicBool::new(false),
            requeued: AtomicBool::new(false),
            readers: AtomicU32::new(0),
            spin: AtomicU8::new(SPIN_IDLE),
            spin_misses: AtomicU8::new(0),
            object: AtomicUsize::new(0),
            name_ptr: AtomicPtr::new(std::ptr::null_mut()),
            name_len: AtomicUsize::new(0),
            owner: AtomicU64::new(0),
            owner_count: AtomicUsize::new(0),
            requeue_object: AtomicUsize::new(0),
            requeue_word: AtomicUsize::new(0),
            requeue_count: AtomicUsize::new(0),
            requeue_name_ptr: AtomicPtr::new(std::ptr::null_mut()),
            requeue_name_len: AtomicUsize::new(0),
            pool: AtomicUsize::new(0),
            location: AtomicPtr::new(std::ptr::null_mut()),
            since: AtomicU64::new(0),
            timed: AtomicBool::new(false),
            held: HeldList::new(),
            backtrace: Mutex::new(None),
        }
    }

    /// True while a record is live. Only meaningful on the slot's own thread (which alone
    /// writes `kind`).
    #[inline]
    pub(crate) fn is_live(&self) -> bool {
        self.kind.load(Ordering::Relaxed) != 0
    }

    /// Records the wait that starts now (or, with `since`, a later stage of a wait that
    /// started then). Only the thread that owns the slot calls this; `own` is its ident.
    pub(crate) fn set(&self, on: &Blocked, since: Option<u64>, own: u64) {
        let nested = since.is_some();
        let since = since.unwrap_or_else(|| {
            let epoch = *EPOCH.get_or_init(Instant::now);
            let since = Instant::now().saturating_duration_since(epoch);
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        });
        let (owner_tag, owner, owner_count) = match on.owner {
            Owner::None => (OWNER_NONE, 0, 0),
            Owner::Thread(ident) => (OWNER_THREAD, ident, 0),
            Owner::LockWord(word) => (OWNER_WORD, word.addr() as u64, 0),
            Owner::LockWordCounted(word, count) => (OWNER_WORD, word.addr() as u64, count.addr()),
        };
        let self_held = match on.owner {
            Owner::LockWord(word) | Owner::LockWordCounted(word, _) => {
                // SAFETY: the calling thread is inside the operation that borrows the object
                // (it records its wait on it), so the word is alive.
                own != 0 && word_holder(unsafe { &*word }.load(Ordering::Relaxed)) == own
            }
            Owner::None | Owner::Thread(_) => false,
        };
        let (requeue_kind, requeue_object, requeue_word, requeue_count) = match on.requeue {
            Some((id, word)) => (
                id.kind.code(),
                id.addr,
                word.addr(),
                on.requeue_count.addr(),
            ),
            None => (0, 0, 0, 0),
        };
        let (requeue_name_ptr, requeue_name_len) = on
            .requeue
            .and_then(|(id, _)| id.name)
            .map_or((std::ptr::null_mut(), 0), |n| {
                (n.as_ptr().cast_mut(), n.len())
            });
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        self.kind.store(on.kind.code(), Ordering::Relaxed);
        self.object_kind
            .store(on.object.kind.code(), Ordering::Relaxed);
        self.object.store(on.object.addr, Ordering::Relaxed);
        let (name_ptr, name_len) = on.object.name.map_or((std::ptr::null_mut(), 0), |n| {
            (n.as_ptr().cast_mut(), n.len())
        });
        self.name_ptr.store(name_ptr, Ordering::Relaxed);
        self.name_len.store(name_len, Ordering::Relaxed);
        self.owner_tag.store(owner_tag, Ordering::Relaxed);
        self.owner.store(owner, Ordering::Relaxed);
        self.owner_count.store(owner_count, Ordering::Relaxed);
        self.requeue_kind.store(requeue_kind, Ordering::Relaxed);
        self.self_held.store(self_held, Ordering::Relaxed);
        self.requeue_object.store(requeue_object, Ordering::Relaxed);
        self.requeue_word.store(requeue_word, Ordering::Relaxed);
        self.requeue_count.store(requeue_count, Ordering::Relaxed);
        self.requeue_name_ptr
            .store(requeue_name_ptr, Ordering::Relaxed);
        self.requeue_name_len
            .store(requeue_name_len, Ordering::Relaxed);
        self.pool.store(on.pool, Ordering::Relaxed);
        self.requeued.store(false, Ordering::Relaxed);
        self.location.store(
            std::ptr::from_ref(on.location).cast_mut(),
            Ordering::Relaxed,
        );
        self.since.store(since, Ordering::Relaxed);
        if !nested || on.timed {
            self.timed.store(on.timed, Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The start of the live record, for a later stage of the same wait. Only the slot's
    /// thread calls this.
    pub(crate) fn since_raw(&self) -> u64 {
        self.since.load(Ordering::Relaxed)
    }

    /// Ends the wait. Only the thread that owns the slot calls this, before the operation
    /// that recorded the wait returns (so before the object can be dropped).
    ///
    /// After the store of `kind = 0`, no new reader can follow the record's pointers (a reader
    /// checks `kind` after announcing itself, both `SeqCst`: see [`read`](Self::read)); a
    /// reader already past that check is waited out here. It holds the flag for a handful of
    /// loads, and this runs on a slow path only (after a park).
    pub(crate) fn clear(&self) {
        self.kind.store(0, Ordering::SeqCst);
        while self.readers.load(Ordering::SeqCst) != 0 {
            std::hint::spin_loop();
        }
    }

    /// Marks the live operation as timed (it parks with a deadline). Called by the waiting
    /// thread only, before it parks.
    #[inline]
    pub(crate) fn mark_timed(&self) {
        if !self.timed.load(Ordering::Relaxed) {
            self.timed.store(true, Ordering::Relaxed);
        }
    }

    /// The slot's thread, queued and about to sleep, starts spinning: from now until
    /// [`spin_end`](Self::spin_end) a notifier may [`wake_spinning`](Self::wake_spinning) it.
    #[inline]
    pub(crate) fn spin_begin(&self) {
        self.spin.store(SPINNING, Ordering::Relaxed);
    }

    /// Whether a notifier has taken the spinning thread out of its queue (its `park` will
    /// return without sleeping, or after a short sleep).
    #[inline]
    pub(crate) fn spin_woken(&self) -> bool {
        self.spin.load(Ordering::Relaxed) == SPIN_WOKEN
    }

    /// The slot's thread stops spinning (and goes to sleep, or has been woken).
    #[inline]
    pub(crate) fn spin_end(&self) {
        self.spin.store(SPIN_IDLE, Ordering::Relaxed);
    }

    /// How many of the thread's spins before sleeping in a row ended without a notification;
    /// only the slot's thread reads and writes it.
    #[inline]
    pub(crate) fn spin_misses(&self) -> u8 {
        self.spin_misses.load(Ordering::Relaxed)
    }

    /// Sets the count [`spin_misses`](Self::spin_misses) returns.
    #[inline]
    pub(crate) fn set_spin_misses(&self, misses: u8) {
        self.spin_misses.store(misses, Ordering::Relaxed);
    }

    /// Called by a notifier, under the queue lock of the queue the slot's thread is parked
    /// in: true (and the thread will see it) if the thread is still spinning, so that
    /// unparking it costs no wake-up from sleep.
    #[inline]
    pub(crate) fn wake_spinning(&self) -> bool {
        self.spin
            .compare_exchange(SPINNING, SPIN_WOKEN, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Called by a notifier, under the parking lot's queue lock, for a thread it has just
    /// moved from a condition's queue onto the lock's: the record now reads as a wait for the
    /// lock. The thread is parked (it is in a queue), so its entry, and this slot, are alive.
    pub(crate) fn mark_requeued(&self) {
        self.requeued.store(true, Ordering::Release);
    }

    /// A consistent snapshot of the record, its owner resolved now, if the thread (ident
    /// `own`) is waiting. Never blocks: gives up (answering `None`) if the writer keeps
    /// changing the record.
    ///
    /// A lock can be handed to a waiter while it is still parked (or before it clears its
    /// record): a word that names the waiter itself then means the wait is over, and this
    /// answers `None`, unless the thread already held the lock when it began to wait (a
    /// self-deadlock, which a reader must see as such).
    ///
    /// # Reading the owner from the lock word
    ///
    /// The record holds the address of the lock word, and the lock may be freed as soon as
    /// its waiter's operation returns. A reader therefore announces itself (`readers += 1`,
    /// `SeqCst`), then checks that the record it read is still live (`kind != 0` and `seq`
    /// unchanged, `SeqCst` loads), and only then loads the word. The waiter's
    /// [`clear`](Self::clear) stores `kind = 0` (`SeqCst`) and then waits for `readers` to
    /// be 0. In the single order of `SeqCst` operations either the reader's check comes
    /// first (then the waiter sees the reader announced and waits until it leaves), or the
    /// store comes first (then the reader sees `kind == 0` and does not follow the pointer).
    /// So the word is only read while the waiter is still inside the operation that borrows
    /// the lock. (The alternative, a lock word that stays valid, would mean reference-counting
    /// every lock; the flag costs the waiter one load on its slow path.)
    pub(crate) fn read(&self, own: u64) -> Option<WaitRecord> {
        for _ in 0..64 {
            let seq = self.seq.load(Ordering::Acquire);
            if seq & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let kind = self.kind.load(Ordering::Relaxed);
            let object_kind = self.object_kind.load(Ordering::Relaxed);
            let object = self.object.load(Ordering::Relaxed);
            let name_ptr = self.name_ptr.load(Ordering::Relaxed);
            let name_len = self.name_len.load(Ordering::Relaxed);
            let owner_tag = self.owner_tag.load(Ordering::Relaxed);
            let owner = self.owner.load(Ordering::Relaxed);
            let owner_count = self.owner_count.load(Ordering::Relaxed);
            let requeue_kind = self.requeue_kind.load(Ordering::Relaxed);
            let self_held = self.self_held.load(Ordering::Relaxed);
            let requeue_object = self.requeue_object.load(Ordering::Relaxed);
            let requeue_word = self.requeue_word.load(Ordering::Relaxed);
            let requeue_count = self.requeue_count.load(Ordering::Relaxed);
            let requeue_name_ptr = self.requeue_name_ptr.load(Ordering::Relaxed);
            let requeue_name_len = self.requeue_name_len.load(Ordering::Relaxed);
            let pool = self.pool.load(Ordering::Relaxed);
            let location = self.location.load(Ordering::Relaxed);
            let since = self.since.load(Ordering::Relaxed);
            let timed = self.timed.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != seq {
                continue;
            }
            let kind = *WAIT_KINDS.get(usize::from(kind).checked_sub(1)?)?;
            let mut id = ObjectId::new(ObjectKind::from_code(object_kind)?, object);
            if !name_ptr.is_null() {
                // SAFETY: a non-null name pointer read in an unchanged sequence comes with
                // the length written beside it, both from one `&'static str` taken apart by
                // `set`: valid UTF-8, alive for the whole program.
                id.name = Some(unsafe {
                    std::str::from_utf8_unchecked(std::slice::from_raw_parts(name_ptr, name_len))
                });
            }
            // SAFETY: a non-zero kind read in an unchanged sequence comes with the location
            // written beside it, a `&'static Location` turned into a pointer by `set`.
            let location = unsafe { location.as_ref()? };
            let epoch = *EPOCH.get()?;
            let mut owner_tag = owner_tag;
            let mut owner = owner;
            let mut owner_count = owner_count;
            let mut self_held = self_held;
            if requeue_kind != 0 && self.requeued.load(Ordering::Acquire) {
                id = ObjectId::new(ObjectKind::from_code(requeue_kind)?, requeue_object);
                if !requeue_name_ptr.is_null() {
                    // SAFETY: as for the object's name above: pointer and length of one
                    // `&'static str`, written together by `set`.
                    id.name = Some(unsafe {
                        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                            requeue_name_ptr,
                            requeue_name_len,
                        ))
                    });
                }
                owner_tag = OWNER_WORD;
                owner = requeue_word as u64;
                owner_count = requeue_count;
                self_held = false;
            }
            let (owner, owner_depth) = match owner_tag {
                OWNER_THREAD => (owner, 0),
                OWNER_WORD => self.read_word(seq, owner as usize, owner_count)?,
                _ => (0, 0),
            };
            if owner_tag == OWNER_WORD && own != 0 && owner == own && !self_held {
                return None; // handed the lock: the wait is over
            }
            return Some(WaitRecord {
                kind,
                object: id,
                owner,
                owner_depth,
                location,
                since: epoch + Duration::from_nanos(since),
                since_raw: since,
                timed,
                pool,
            });
        }
        None
    }

    /// The holder's ident from the lock word at `word`, and its recursion count from the
    /// count at `count` (if not 0; a snapshot the holder writes, at least 1 while held), if the
    /// record of sequence `seq` is still live (else `None`: the wait is over). See
    /// [`read`](Self::read).
    fn read_word(&self, seq: u32, word: usize, count: usize) -> Option<(u64, usize)> {
        self.readers.fetch_add(1, Ordering::SeqCst);
        let live = self.kind.load(Ordering::SeqCst) != 0 && self.seq.load(Ordering::SeqCst) == seq;
        let read = live.then(|| {
            // SAFETY: the record is live, so its thread is inside the operation that borrows
            // the lock, and cannot leave it (its `clear` waits for `readers` to drop to 0)
            // before these loads: the word, and the count beside it in the same lock, are
            // alive.
            let state = unsafe { &*(word as *const crate::primitive::AtomicU64) }
                .load(crate::primitive::Ordering::Relaxed);
            let depth = (count != 0).then(|| {
                // SAFETY: as above.
                unsafe { &*(count as *const crate::primitive::AtomicUsize) }
                    .load(crate::primitive::Ordering::Relaxed)
            });
            (state, depth)
        });
        self.readers.fetch_sub(1, Ordering::Release);
        let (state, depth) = read?;
        let holder = word_holder(state);
        // A new holder stores its count just after taking the word: 0 then means its first
        // level.
        let depth = match depth {
            Some(d) if holder != 0 => d.max(1),
            _ => 0,
        };
        Some((holder, depth))
    }
}

/// The lock word's layout (`Lock::state`), shared by the lock, which writes it, and the
/// record's reader, which decodes a holder from it: bit 0 is set while the lock is held.
pub(crate) const WORD_LOCKED: u64 = 0b01;
/// Bit 1: threads are parked (or about to park) on the lock.
pub(crate) const WORD_PARKED: u64 = 0b10;
/// The holder's ident (never 0, never reused) sits above the two flag bits.
pub(crate) const WORD_OWNER_SHIFT: u32 = 2;

/// The holder's ident in lock word state `s`, 0 when the lock is free.
#[inline]
pub(crate) fn word_holder(s: u64) -> u64 {
    if s & WORD_LOCKED == 0 {
        0
    } else {
        s >> WORD_OWNER_SHIFT
    }
}

/// A snapshot of what a thread is blocked on, from [`Thread::waiting`](crate::Thread::waiting).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::{ObjectKind, Thread, WaitKind};
///
/// let t = Thread::new(|| threadkit::sleep(Duration::from_millis(200)));
/// t.start()?;
/// let info = loop {
///     if let Some(info) = t.waiting() { break info; }
///     std::thread::yield_now();
/// };
/// assert_eq!(info.kind(), WaitKind::Sleep);
/// assert_eq!(info.object().kind(), ObjectKind::Sleep);
/// assert!(info.location().file().ends_with(".rs"));
/// t.join()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WaitInfo {
    pub(crate) rec: WaitRecord,
}

impl WaitInfo {
    pub(crate) fn from_record(rec: WaitRecord) -> Self {
        WaitInfo { rec }
    }

    /// The kind of wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Event, Thread, WaitKind};
    ///
    /// let gate = Arc::new(Event::new());
    /// let g = gate.clone();
    /// let worker = Thread::new(move || g.wait());
    /// worker.start()?;
    /// let w = worker.clone();
    /// let joiner = Thread::new(move || w.join().unwrap());
    /// joiner.start()?;
    /// let info = loop {
    ///     if let Some(info) = joiner.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// let owner = info.owner(); // looked up while the joined thread is alive
    /// gate.set(); // let both threads finish before checking
    /// joiner.join()?;
    /// assert_eq!(info.kind(), WaitKind::Join);
    /// assert_eq!(owner, Some(worker)); // the thread being joined
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> WaitKind {
        self.rec.kind
    }

    /// The object waited on: the same for every thread waiting on it. For a `Condition`
    /// waiter that was notified, the condition's lock (which it now waits for).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.object(), lock.id());
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn object(&self) -> ObjectId {
        self.rec.object
    }

    /// The ident of the thread that owned the object when this snapshot was taken (a lock's
    /// holder at that moment, the thread being joined), if any: idents are never reused, so
    /// this never names a thread that merely came later. [`owner`](WaitInfo::owner) turns it
    /// into a handle while that thread is alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard();
    /// let l = lock.clone();
    /// let t = Thread::new(move || l.acquire());
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.owner_ident(), Some(threadkit::get_ident()));
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner_ident(&self) -> Option<u64> {
        (self.rec.owner != 0).then_some(self.rec.owner)
    }

    /// The owner's recursion depth when this snapshot was taken: for a wait on an
    /// [`RLock`](crate::RLock) (also a [`Condition`](crate::Condition) over one, notified or
    /// timed out and waiting to take it back), how many times its holder has taken it; `None`
    /// for objects without a count, or when nobody holds the object. A snapshot the holder
    /// writes: it may be a level behind.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{RLock, Thread, WaitKind};
    ///
    /// let lock = Arc::new(RLock::new());
    /// let (a, b) = (lock.guard(), lock.guard()); // depth 2
    /// let l = lock.clone();
    /// let t = Thread::new(move || drop(l.guard()));
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting().filter(|i| i.kind() == WaitKind::RLock) { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.owner_ident(), Some(threadkit::get_ident()));
    /// assert_eq!(info.owner_depth(), Some(2));
    /// drop((b, a));
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn owner_depth(&self) -> Option<usize> {
        (self.rec.owner != 0 && self.rec.owner_depth != 0).then_some(self.rec.owner_depth)
    }

    /// The caller's source location of the blocking call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let line = line!() + 1;
    /// let t = Thread::new(move || { l.acquire(); l.release().unwrap(); });
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert_eq!(info.location().file(), file!());
    /// assert_eq!(info.location().line(), line); // the `l.acquire()` call
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.rec.location
    }

    /// When the blocking operation began to wait: the same across every time it parks, for
    /// as long as the operation lasts.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Instant;
    /// use threadkit::{Lock, Thread};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let guard = lock.guard(); // released on unwinding too, should an assert fail
    /// let l = lock.clone();
    /// let t = Thread::new(move || {
    ///     l.acquire();
    ///     l.release().unwrap();
    /// });
    /// let before = Instant::now();
    /// t.start()?;
    /// let info = loop {
    ///     if let Some(info) = t.waiting() { break info; }
    ///     std::thread::yield_now();
    /// };
    /// assert!(before <= info.since() && info.since() <= Instant::now());
    /// // Later snapshots of the same wait report the same start.
    /// assert_eq!(t.waiting().map(|i| i.since()), Some(info.since()));
    /// drop(guard);
    /// t.join()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn since(&self) -> Instant {
        self.rec.since
    }
}

impl fmt::Debug for WaitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitInfo")
            .field("kind", &self.kind())
            .field("object", &self.object())
            .field("owner", &self.owner_ident())
            .field("location", &format_args!("{}", self.location()))
            .field("waited", &self.since().elapsed())
            .finish()
    }
}

/// How many held locks a [`HeldList`] keeps in its lock-free slots; more go to its spill list.
pub(crate) const HELD_SLOTS: usize = 16;

/// One slot of a [`HeldList`]: a [`HeldLock`] taken apart into atomics.
struct HeldSlot {
    addr: AtomicUsize,
    /// `ObjectKind as u8` (the discriminant: no table lookup on the hot path).
    kind: AtomicU8,
    name_ptr: AtomicPtr<u8>,
    name_len: AtomicUsize,
    location: AtomicPtr<Location<'static>>,
}

impl HeldSlot {
    const fn new() -> Self {
        HeldSlot {
            addr: AtomicUsize::new(0),
            kind: AtomicU8::new(0),
            name_ptr: AtomicPtr::new(std::ptr::null_mut()),
            name_len: AtomicUsize::new(0),
            location: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    #[inline]
    fn store(&self, h: HeldLock) {
        let (name_ptr, name_len) = h.object.name.map_or((std::ptr::null_mut(), 0), |n| {
            (n.as_ptr().cast_mut(), n.len())
        });
        self.addr.store(h.object.addr, Ordering::Relaxed);
        self.kind.store(h.object.kind as u8, Ordering::Relaxed);
        self.name_ptr.store(name_ptr, Ordering::Relaxed);
        self.name_len.store(name_len, Ordering::Relaxed);
        self.location
            .store(std::ptr::from_ref(h.location).cast_mut(), Ordering::Relaxed);
    }

    /// The raw fields, decoded by [`decode`](Self::decode) once they are known consistent.
    #[inline]
    fn load(&self) -> RawHeld {
        RawHeld {
            addr: self.addr.load(Ordering::Relaxed),
            kind: self.kind.load(Ordering::Relaxed),
            name_ptr: self.name_ptr.load(Ordering::Relaxed),
            name_len: self.name_len.load(Ordering::Relaxed),
            location: self.location.load(Ordering::Relaxed),
        }
    }
}

/// A slot's fields as loaded, not yet known to be consistent.
#[derive(Clone, Copy)]
struct RawHeld {
    addr: usize,
    kind: u8,
    name_ptr: *mut u8,
    name_len: usize,
    location: *mut Location<'static>,
}

impl RawHeld {
    /// The entry, if the fields were written together by [`HeldSlot::store`] (the caller
    /// checked that: its own thread's slot, or an unchanged sequence).
    fn decode(self) -> Option<HeldLock> {
        let kind = *OBJECT_KINDS.iter().find(|&&k| k as u8 == self.kind)?;
        let mut object = ObjectId::new(kind, self.addr);
        if !self.name_ptr.is_null() {
            // SAFETY: pointer and length were stored together by `HeldSlot::store` from one
            // `&'static str`: valid UTF-8, alive for the whole program.
            object.name = Some(unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                    self.name_ptr,
                    self.name_len,
                ))
            });
        }
        // SAFETY: stored together with the rest by `HeldSlot::store`, from a
        // `&'static Location`.
        let location = unsafe { self.location.as_ref()? };
        Some(HeldLock { object, location })
    }
}

/// A thread's held-lock list: written only by its own thread, with plain stores (no lock, no
/// read-modify-write, as parking_lot_core keeps its thread-local `resources`), and read by
/// anyone without blocking that thread: a seqlock over a fixed array of [`HELD_SLOTS`] slots
/// (odd `seq` while a change is being written; a reader that sees it change reads again).
///
/// Entries beyond the slots (a thread holding more than [`HELD_SLOTS`] locks at once) go to a
/// spill list behind a mutex, touched only then; a reader tries that lock without blocking and
/// counts the entries it could not read.
///
/// Each list belongs to a generation (`sync::held`'s): a list from an earlier one (tracking was
/// turned off meanwhile, so releases were not seen) reads as empty and is cleared by its
/// thread's next change.
pub(crate) struct HeldList {
    seq: AtomicU32,
    generation: AtomicU32,
    /// Entries in `slots`.
    len: AtomicU32,
    /// Entries in `spill` (read by its own thread without the lock).
    spilled: AtomicU32,
    slots: [HeldSlot; HELD_SLOTS],
    spill: Mutex<Vec<HeldLock>>,
}

/// What a reader got from a [`HeldList`]: the entries, and how many it could not read.
#[derive(Debug, Default)]
pub(crate) struct HeldRead {
    pub(crate) locks: Vec<HeldLock>,
    /// Entries held but not read (the spill list was busy).
    pub(crate) unread: usize,
}

impl HeldList {
    pub(crate) const fn new() -> Self {
        HeldList {
            seq: AtomicU32::new(0),
            generation: AtomicU32::new(0),
            len: AtomicU32::new(0),
            spilled: AtomicU32::new(0),
            slots: [const { HeldSlot::new() }; HELD_SLOTS],
            spill: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn begin(&self) -> u32 {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        seq
    }

    #[inline]
    fn end(&self, seq: u32) {
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    fn spill(&self) -> std::sync::MutexGuard<'_, Vec<HeldLock>> {
        // Pushes and removes cannot panic half-way: the list is always whole.
        self.spill.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts generation `generation` if the list is of an earlier one (inside a change).
    #[inline]
    fn renew(&self, generation: u32) {
        if self.generation.load(Ordering::Relaxed) != generation {
            self.generation.store(generation, Ordering::Relaxed);
            self.len.store(0, Ordering::Relaxed);
            if self.spilled.load(Ordering::Relaxed) != 0 {
                self.spill().clear();
                self.spilled.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Appends `lock`. Only the list's own thread calls this.
    #[inline]
    pub(crate) fn push(&self, generation: u32, lock: HeldLock) {
        let seq = self.begin();
        self.renew(generation);
        let n = self.len.load(Ordering::Relaxed) as usize;
        if n < HELD_SLOTS {
            self.slots[n].store(lock);
            self.len.store(n as u32 + 1, Ordering::Relaxed);
        } else {
            self.spill().push(lock);
            self.spilled.fetch_add(1, Ordering::Relaxed);
        }
        self.end(seq);
    }

    /// Removes the most recent entry for the object at `addr`, if listed. Only the list's own
    /// thread calls this.
    #[inline]
    pub(crate) fn remove(&self, generation: u32, addr: usize) {
        if self.generation.load(Ordering::Relaxed) != generation {
            return; // an earlier generation's list: nothing of it counts
        }
        let n = self.len.load(Ordering::Relaxed) as usize;
        if self.spilled.load(Ordering::Relaxed) != 0 {
            let mut spill = self.spill();
            if let Some(i) = spill.iter().rposition(|h| h.object.addr == addr) {
                let seq = self.begin();
                spill.remove(i);
                self.spilled.fetch_sub(1, Ordering::Relaxed);
                self.end(seq);
                return;
            }
        }
        // The most recent first: locks are usually released in the reverse order.
        let Some(i) = (0..n)
            .rev()
            .find(|&i| self.slots[i].addr.load(Ordering::Relaxed) == addr)
        else {
            return;
        };
        let seq = self.begin();
        for j in i..n - 1 {
            // Own thread's slots: consistent.
            if let Some(h) = self.slots[j + 1].load().decode() {
                self.slots[j].store(h);
            }
        }
        let mut len = n - 1;
        if self.spilled.load(Ordering::Relaxed) != 0 {
            // The oldest spilled entry takes the freed slot, so the order stays oldest first.
            let mut spill = self.spill();
            if !spill.is_empty() {
                self.slots[len].store(spill.remove(0));
                self.spilled.fetch_sub(1, Ordering::Relaxed);
                len += 1;
            }
        }
        self.len.store(len as u32, Ordering::Relaxed);
        self.end(seq);
    }

    /// True if the list has no entry of generation `generation`; only the list's own thread
    /// calls this.
    #[inline]
    pub(crate) fn own_is_empty(&self, generation: u32) -> bool {
        self.generation.load(Ordering::Relaxed) != generation
            || (self.len.load(Ordering::Relaxed) == 0 && self.spilled.load(Ordering::Relaxed) == 0)
    }

    /// The address of each entry of generation `generation`, oldest first, to `f`; only the
    /// list's own thread calls this (its own writes need no seqlock). Stops early if `f`
    /// returns false.
    #[inline]
    pub(crate) fn each_own_addr(&self, generation: u32, mut f: impl FnMut(usize) -> bool) {
        if self.generation.load(Ordering::Relaxed) != generation {
            return;
        }
        let n = self.len.load(Ordering::Relaxed) as usize;
        for slot in &self.slots[..n] {
            if !f(slot.addr.load(Ordering::Relaxed)) {
                return;
            }
        }
        if self.spilled.load(Ordering::Relaxed) != 0 {
            for h in self.spill().iter() {
                if !f(h.object.addr) {
                    return;
                }
            }
        }
    }

    /// The entries of generation `generation`, oldest first; only the list's own thread
    /// calls this.
    pub(crate) fn own(&self, generation: u32) -> Vec<HeldLock> {
        if self.generation.load(Ordering::Relaxed) != generation {
            return Vec::new();
        }
        let n = self.len.load(Ordering::Relaxed) as usize;
        let mut v: Vec<HeldLock> = self.slots[..n]
            .iter()
            .filter_map(|s| s.load().decode())
            .collect();
        if self.spilled.load(Ordering::Relaxed) != 0 {
            v.extend(self.spill().iter().copied());
        }
        v
    }

    /// A consistent copy of the entries of generation `generation`, oldest first, from any
    /// thread. Never blocks: `None` if the owner kept changing the list.
    pub(crate) fn read(&self, generation: u32) -> Option<HeldRead> {
        let mut raw = [None::<RawHeld>; HELD_SLOTS];
        for _ in 0..64 {
            let seq = self.seq.load(Ordering::Acquire);
            if seq & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let current = self.generation.load(Ordering::Relaxed) == generation;
            let n = (self.len.load(Ordering::Relaxed) as usize).min(HELD_SLOTS);
            let spilled = self.spilled.load(Ordering::Relaxed) as usize;
            for (r, slot) in raw.iter_mut().zip(&self.slots[..n]) {
                *r = Some(slot.load());
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != seq {
                continue;
            }
            if !current {
                return Some(HeldRead::default());
            }
            let mut out = HeldRead {
                locks: raw[..n]
                    .iter()
                    .filter_map(|r| r.and_then(RawHeld::decode))
                    .collect(),
                unread: 0,
            };
            if spilled != 0 {
                match self.spill.try_lock() {
                    Ok(spill) => out.locks.extend(spill.iter().copied()),
                    Err(std::sync::TryLockError::Poisoned(p)) => {
                        out.locks.extend(p.into_inner().iter().copied());
                    }
                    Err(std::sync::TryLockError::WouldBlock) => out.unread = spilled,
                }
            }
            return Some(out);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_to_their_kind() {
        for (i, &kind) in WAIT_KINDS.iter().enumerate() {
            assert_eq!(usize::from(kind.code()), i + 1, "{kind:?}");
        }
        assert_eq!(
            WAIT_KINDS.len(),
            WaitKind::ExecutorIdle as usize + 1,
            "a wait kind missing"
        );
        for (i, &kind) in OBJECT_KINDS.iter().enumerate() {
            assert_eq!(usize::from(kind.code()), i + 1, "{kind:?}");
            assert_eq!(ObjectKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(
            OBJECT_KINDS.len(),
            ObjectKind::ThreadPoolExecutor as usize + 1,
            "an object kind missing"
        );
        assert_eq!(ObjectKind::from_code(0), None);
    }

    #[test]
    fn ids_compare_by_kind_and_address_and_print_hex() {
        let a = ObjectId::new(ObjectKind::Lock, 0x1000);
        assert_eq!(a, a.with_name("db"));
        assert_ne!(a, ObjectId::new(ObjectKind::RLock, 0x1000));
        assert_eq!(a.to_string(), "Lock at 0x1000");
        assert_eq!(a.with_name("db").to_string(), "Lock \"db\" at 0x1000");
        assert_eq!(format!("{:?}", a.with_name("db")), "Lock \"db\" at 0x1000");
    }

    #[test]
    fn a_cleared_record_reads_as_none_and_a_record_keeps_its_start() {
        let slot = WaitSlot::new();
        let on = Blocked::on(
            WaitKind::Event,
            ObjectId::new(ObjectKind::Event, 0x40),
            Location::caller(),
        );
        slot.set(&on, None, 1);
        let first = slot.read(1).expect("live");
        assert_eq!(first.object, ObjectId::new(ObjectKind::Event, 0x40));
        assert_eq!(first.owner, 0);
        let since = slot.since_raw();
        slot.set(&on.owned_by(Owner::Thread(7)), Some(since), 1);
        let second = slot.read(1).expect("live");
        assert_eq!(second.since, first.since);
        assert_eq!(second.owner, 7);
        slot.clear();
        assert!(slot.read(1).is_none());
    }

    #[test]
    fn a_lock_handed_to_its_waiter_ends_the_wait_but_a_self_deadlock_shows() {
        use crate::primitive::AtomicU64 as Word;
        let held_by = |ident: u64| (ident << WORD_OWNER_SHIFT) | WORD_LOCKED;
        let (me, other) = (5, 9);
        let word = Word::new(held_by(other));
        let on = Blocked::on(
            WaitKind::Lock,
            ObjectId::new(ObjectKind::Lock, 0x80),
            Location::caller(),
        )
        .owned_by(Owner::LockWord(&raw const word));
        let slot = WaitSlot::new();
        slot.set(&on, None, me);
        assert_eq!(slot.read(me).expect("live").owner, other);
        // The holder hands the lock to the parked waiter: the word names it before it wakes.
        word.store(
            held_by(me) | WORD_PARKED,
            crate::primitive::Ordering::Relaxed,
        );
        assert!(slot.read(me).is_none(), "a waiter never owns its lock");
        slot.clear();
        // A thread that blocks on a lock it already holds is shown waiting on itself.
        slot.set(&on, None, me);
        assert_eq!(slot.read(me).expect("live").owner, me);
        slot.clear();
    }
}
