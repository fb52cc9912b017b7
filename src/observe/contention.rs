//! The contention profile, switched on and off at run time: for each primitive, how often a
//! thread found it taken (or not ready) and had to take the slow path, how many blocking waits
//! that made, and how long they lasted in total and at most (Go's mutex and block profiles,
//! Abseil's contention profiler).
//!
//! Counted on slow paths only. Every slow path of the crate enters through one hook (before it
//! spins): that is the *contended* count. A wait that goes on to sleep is recorded once per
//! blocking operation (the wait record that thread dumps read); its length, from the record's
//! start to its end, is the *wait*: while the profile is on that costs one clock read when the
//! wait ends. Fast paths read nothing. Sleeps, joins and thread starts are not counted.
//!
//! Each thread adds to its own table (an uncontended lock of its own); [`contention()`](crate::observe::contention())
//! merges them. No global lock is taken on a slow path, except once by each thread that
//! contends for the first time while the profile is on.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::threading::record::{ObjectId, ObjectKind};

/// One primitive's line in a [`ContentionProfile`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadkit::observe::contention;
///
/// contention::reset();
/// let profile = threadkit::observe::contention();
/// assert!(profile.rows().iter().all(|r| r.longest_wait() <= r.total_wait()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentionRow {
    object: ObjectId,
    contended: u64,
    waits: u64,
    total_wait: Duration,
    longest_wait: Duration,
}

impl ContentionRow {
    /// The primitive.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Lock, Thread, observe};
    /// # observe::contention::enable();
    /// # let lock = Arc::new(Lock::new());
    /// # let g = lock.guard();
    /// # let l = lock.clone();
    /// # let t = Thread::new(move || drop(l.guard()));
    /// # t.start()?;
    /// # while t.waiting().is_none() { std::thread::yield_now(); }
    /// # std::thread::sleep(std::time::Duration::from_millis(2));
    /// # drop(g);
    /// # t.join()?;
    /// # observe::contention::disable();
    /// // `lock` was waited for once, by one thread, for at least 2 ms
    /// let row = *observe::contention().get(lock.id()).unwrap();
    /// assert_eq!(row.object(), lock.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// How many times a thread entered its slow path (it was taken, or not ready), whether
    /// or not it then had to sleep.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Lock, Thread, observe};
    /// # observe::contention::enable();
    /// # let lock = Arc::new(Lock::new());
    /// # let g = lock.guard();
    /// # let l = lock.clone();
    /// # let t = Thread::new(move || drop(l.guard()));
    /// # t.start()?;
    /// # while t.waiting().is_none() { std::thread::yield_now(); }
    /// # std::thread::sleep(std::time::Duration::from_millis(2));
    /// # drop(g);
    /// # t.join()?;
    /// # observe::contention::disable();
    /// // `lock` was waited for once, by one thread, for at least 2 ms
    /// let row = *observe::contention().get(lock.id()).unwrap();
    /// assert_eq!(row.contended(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contended(&self) -> u64 {
        self.contended
    }

    /// How many blocking operations slept on it (one per operation, however many times it
    /// was woken and slept again).
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Lock, Thread, observe};
    /// # observe::contention::enable();
    /// # let lock = Arc::new(Lock::new());
    /// # let g = lock.guard();
    /// # let l = lock.clone();
    /// # let t = Thread::new(move || drop(l.guard()));
    /// # t.start()?;
    /// # while t.waiting().is_none() { std::thread::yield_now(); }
    /// # std::thread::sleep(std::time::Duration::from_millis(2));
    /// # drop(g);
    /// # t.join()?;
    /// # observe::contention::disable();
    /// // `lock` was waited for once, by one thread, for at least 2 ms
    /// let row = *observe::contention().get(lock.id()).unwrap();
    /// assert_eq!(row.waits(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn waits(&self) -> u64 {
        self.waits
    }

    /// The time those waits lasted, all together.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Lock, Thread, observe};
    /// # observe::contention::enable();
    /// # let lock = Arc::new(Lock::new());
    /// # let g = lock.guard();
    /// # let l = lock.clone();
    /// # let t = Thread::new(move || drop(l.guard()));
    /// # t.start()?;
    /// # while t.waiting().is_none() { std::thread::yield_now(); }
    /// # std::thread::sleep(std::time::Duration::from_millis(2));
    /// # drop(g);
    /// # t.join()?;
    /// # observe::contention::disable();
    /// // `lock` was waited for once, by one thread, for at least 2 ms
    /// let row = *observe::contention().get(lock.id()).unwrap();
    /// assert!(row.total_wait() >= std::time::Duration::from_millis(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total_wait(&self) -> Duration {
        self.total_wait
    }

    /// The longest of those waits.
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use threadkit::{Lock, Thread, observe};
    /// # observe::contention::enable();
    /// # let lock = Arc::new(Lock::new());
    /// # let g = lock.guard();
    /// # let l = lock.clone();
    /// # let t = Thread::new(move || drop(l.guard()));
    /// # t.start()?;
    /// # while t.waiting().is_none() { std::thread::yield_now(); }
    /// # std::thread::sleep(std::time::Duration::from_millis(2));
    /// # drop(g);
    /// # t.join()?;
    /// # observe::contention::disable();
    /// // `lock` was waited for once, by one thread, for at least 2 ms
    /// let row = *observe::contention().get(lock.id()).unwrap();
    /// assert_eq!(row.longest_wait(), row.total_wait()); // one wait
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn longest_wait(&self) -> Duration {
        self.longest_wait
    }

    fn add(&mut self, other: &ContentionRow) {
        self.contended += other.contended;
        self.waits += other.waits;
        self.total_wait += other.total_wait;
        self.longest_wait = self.longest_wait.max(other.longest_wait);
        if self.object.name().is_none() {
            self.object = other.object;
        }
    }
}

/// What [`contention()`](crate::observe::contention()) returns: one row per primitive that
/// was contended or waited on while the profile was on, the longest total wait first (then the
/// most contended). Prints as a table.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Lock, Thread, observe};
///
/// observe::contention::enable();
/// let lock = Arc::new(Lock::new());
/// let guard = lock.guard();
/// let l = lock.clone();
/// let t = Thread::new(move || drop(l.guard()));
/// t.start()?;
/// while t.waiting().is_none() {
///     std::thread::yield_now();
/// }
/// drop(guard);
/// t.join()?;
/// let profile = observe::contention();
/// observe::contention::disable();
/// let row = profile.get(lock.id()).expect("contended");
/// assert_eq!((row.contended(), row.waits()), (1, 1));
/// assert!(profile.to_string().contains(&lock.id().to_string()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentionProfile {
    rows: Vec<ContentionRow>,
}

impl ContentionProfile {
    /// Every row, the longest total wait first.
    ///
    /// # Examples
    ///
    /// ```
    /// let profile = threadkit::observe::contention();
    /// let waits: Vec<_> = profile.rows().iter().map(|r| r.total_wait()).collect();
    /// assert!(waits.windows(2).all(|w| w[0] >= w[1]));
    /// ```
    pub fn rows(&self) -> &[ContentionRow] {
        &self.rows
    }

    /// The first `n` rows (the `n` primitives waited on longest) as a profile of their own.
    ///
    /// # Examples
    ///
    /// ```
    /// let top = threadkit::observe::contention().top(3);
    /// assert!(top.rows().len() <= 3);
    /// ```
    #[must_use]
    pub fn top(&self, n: usize) -> ContentionProfile {
        ContentionProfile {
            rows: self.rows.iter().take(n).copied().collect(),
        }
    }

    /// The row of `object`, if it was contended or waited on.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadkit::Lock::new();
    /// assert!(threadkit::observe::contention().get(lock.id()).is_none());
    /// ```
    pub fn get(&self, object: ObjectId) -> Option<&ContentionRow> {
        self.rows
            .iter()
            .find(|r| r.object.addr() == object.addr() && r.object.kind() == object.kind())
    }
}

impl fmt::Display for ContentionProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.rows.iter().map(|r| r.object.to_string()).collect();
        let w = names.iter().map(String::len).max().unwrap_or(0).max(6);
        write!(
            f,
            "{:<w$}  {:>9}  {:>7}  {:>12}  {:>12}",
            "object", "contended", "waits", "total wait", "longest"
        )?;
        for (r, name) in self.rows.iter().zip(&names) {
            write!(
                f,
                "\n{:<w$}  {:>9}  {:>7}  {:>12}  {:>12}",
                name,
                r.contended,
                r.waits,
                format!("{:.3?}", r.total_wait),
                format!("{:.3?}", r.longest_wait)
            )?;
        }
        Ok(())
    }
}

static ON: AtomicBool = AtomicBool::new(false);

type Rows = HashMap<(usize, ObjectKind), ContentionRow, BuildHasherDefault<KeyHasher>>;

/// A multiply-fold hasher for the rows' keys (an address and a kind): SipHash would cost more
/// than the rest of a count.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        let m = u128::from(self.0 ^ n) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

/// One thread's rows (locked by that thread on its slow paths, and by readers).
#[derive(Default)]
struct Table {
    rows: Mutex<Rows>,
}

/// Every thread's table, plus the rows of the tables whose threads are gone (merged in by the
/// readers) and of threads past their teardown.
struct Tables {
    live: Vec<Arc<Table>>,
    retired: Rows,
}

static TABLES: Mutex<Tables> = Mutex::new(Tables {
    live: Vec::new(),
    retired: HashMap::with_hasher(BuildHasherDefault::new()),
});

crate::primitive::thread_local! {
    static LOCAL: OnceCell<Arc<Table>> = const { OnceCell::new() };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while a table is borrowed: it is always whole.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts counting, for every thread (what was counted before is kept: see [`reset`]).
///
/// # Examples
///
/// ```
/// use threadkit::observe::contention;
///
/// contention::enable();
/// assert!(contention::is_enabled());
/// contention::disable();
/// assert!(!contention::is_enabled());
/// ```
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Stops counting; what was counted stays readable.
///
/// # Examples
///
/// ```
/// use threadkit::observe::contention;
///
/// contention::enable();
/// contention::disable();
/// assert!(!contention::is_enabled());
/// ```
pub fn disable() {
    ON.store(false, Ordering::Relaxed);
}

/// True while the profile counts.
///
/// # Examples
///
/// ```
/// use threadkit::observe::contention;
///
/// contention::enable();
/// assert!(contention::is_enabled());
/// contention::disable();
/// ```
#[inline]
pub fn is_enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Forgets everything counted so far.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threadkit::{Lock, Thread, observe};
///
/// observe::contention::enable();
/// let lock = Arc::new(Lock::new());
/// let guard = lock.guard();
/// let l = lock.clone();
/// let t = Thread::new(move || drop(l.guard()));
/// t.start()?;
/// while t.waiting().is_none() {
///     std::thread::yield_now();
/// }
/// drop(guard);
/// t.join()?;
/// observe::contention::disable();
/// assert!(observe::contention().get(lock.id()).is_some());
/// observe::contention::reset();
/// assert!(observe::contention().get(lock.id()).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reset() {
    let mut t = lock(&TABLES);
    t.retired.clear();
    t.live.retain(|table| {
        lock(&table.rows).clear();
        Arc::strong_count(table) > 1
    });
}

/// The profile so far: every thread's counts, merged.
///
/// # Examples
///
/// ```
/// use threadkit::observe;
///
/// observe::contention::enable();
/// let lock = threadkit::Lock::new();
/// drop(lock.guard()); // uncontended: not counted
/// observe::contention::disable();
/// assert!(observe::contention().get(lock.id()).is_none());
/// ```
pub fn contention() -> ContentionProfile {
    let mut t = lock(&TABLES);
    let Tables { live, retired } = &mut *t;
    // Tables whose thread is gone are folded into `retired` once, and dropped.
    live.retain(|table| {
        if Arc::strong_count(table) > 1 {
            return true;
        }
        merge(retired, &lock(&table.rows));
        false
    });
    let mut all: Rows = retired.clone();
    for table in live.iter() {
        merge(&mut all, &lock(&table.rows));
    }
    drop(t);
    let mut rows: Vec<ContentionRow> = all.into_values().collect();
    rows.sort_by(|a, b| {
        b.total_wait
            .cmp(&a.total_wait)
            .then(b.contended.cmp(&a.contended))
            .then(a.object.addr().cmp(&b.object.addr()))
    });
    ContentionProfile { rows }
}

fn merge(into: &mut Rows, from: &Rows) {
    for (k, r) in from {
        into.entry(*k).and_modify(|x| x.add(r)).or_insert(*r);
    }
}

/// Adds to the calling thread's row for `object`.
fn with_row(object: ObjectId, f: impl FnOnce(&mut ContentionRow)) {
    let key = (object.addr(), object.kind());
    let new = || ContentionRow {
        object,
        contended: 0,
        waits: 0,
        total_wait: Duration::ZERO,
        longest_wait: Duration::ZERO,
    };
    let mut f = Some(f);
    let done = LOCAL.try_with(|cell| {
        let table = cell.get_or_init(|| {
            let table = Arc::new(Table::default());
            lock(&TABLES).live.push(table.clone());
            table
        });
        let mut rows = lock(&table.rows);
        (f.take().expect("once"))(rows.entry(key).or_insert_with(new));
    });
    if done.is_err() {
        // Past the thread's teardown: straight into the shared rows.
        let mut t = lock(&TABLES);
        (f.take().expect("once"))(t.retired.entry(key).or_insert_with(new));
    }
}

/// A slow path of `object` was entered (see `sync::wait::contended`).
#[cold]
#[inline(never)]
pub(crate) fn count(object: ObjectId) {
    with_row(object, |r| r.contended += 1);
}

/// A recorded wait on `object` lasted `wait` (see `sync::wait::Waiting`).
#[cold]
#[inline(never)]
pub(crate) fn waited(object: ObjectId, wait: Duration) {
    if matches!(object.kind(), ObjectKind::Sleep | ObjectKind::Thread) {
        return;
    }
    with_row(object, |r| {
        r.waits += 1;
        r.total_wait += wait;
        r.longest_wait = r.longest_wait.max(wait);
    });
}
