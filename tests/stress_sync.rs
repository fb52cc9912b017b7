//! Stress: 64 threads (on a 2-core machine) per primitive, hammering one `RLock`, one
//! `Condition`, one `Semaphore`, one `BoundedSemaphore`, one `Event` and one `Barrier` with
//! every form of their blocking calls, for hundreds of thousands of operations across the file.
//!
//! Invariants checked at the end of each test: exact totals (non-atomic counters touched only
//! under the primitive, so a lost update or a missing happens-before shows), every item
//! consumed exactly once (count, sum, xor and a seen-flag per item), never more holders than
//! permits, every waiter released in every round, every barrier cycle's indices a
//! permutation and its action run exactly once, and no thread left blocked: every thread
//! joined, none of them waiting on anything or listed by `enumerate()`. A watchdog fails the
//! run instead of hanging if a thread never wakes.

mod support;

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::watchdog;
use threadkit::{
    Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, RLock, Semaphore, Thread,
    WaitKind,
};

/// Threads per test: far more than the machine's cores. Never fewer.
const THREADS: usize = 64;
/// A healthy run takes seconds; a stuck one is failed after this.
const LIMIT: Duration = Duration::from_secs(240);
/// Small stacks: the tests start many threads.
const STACK: usize = 64 * 1024;
/// Long enough never to expire here: exercises the timed slow paths, succeeding.
const HOUR: Duration = Duration::from_secs(3600);

/// Starts `n` small-stack threads running `body(i)`, lets them all go at once (so they
/// contend), and joins them all. Then checks that none of them is left blocked or listed.
fn run_threads(name: &str, n: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let go = Arc::new(std::sync::Barrier::new(n + 1));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (body, go) = (body.clone(), go.clone());
            let t = Thread::builder()
                .name(format!("{name}-{i}"))
                .stack_size(STACK)
                .target(move || {
                    go.wait();
                    body(i)
                });
            t.start().expect("the thread starts");
            t
        })
        .collect();
    go.wait();
    all_joined(&threads);
}

/// Joins every thread; checks none is alive, waiting or listed afterwards.
fn all_joined(threads: &[Thread]) {
    for t in threads {
        t.join().expect("a stress thread failed");
    }
    let listed = threadkit::enumerate();
    for t in threads {
        assert!(!t.is_alive());
        assert!(t.waiting().is_none(), "{} is left blocked", t.name());
        assert!(!listed.contains(t), "{} is still listed", t.name());
    }
}

/// Yields until `t` is parked on a wait of `kind`.
fn wait_until_parked(t: &Thread, kind: WaitKind) {
    while !t.waiting().is_some_and(|w| w.kind() == kind) {
        std::thread::yield_now();
    }
}

// ---------------------------------------------------------------------------------------
// RLock

/// A counter only the holder of `lock` touches, and a flag that catches two holders at once.
struct RShared {
    lock: RLock,
    inside: AtomicBool,
    count: UnsafeCell<u64>,
}

// SAFETY: `count` is only accessed by the holder of `lock`; `inside` checks it.
unsafe impl Sync for RShared {}

impl RShared {
    /// Acquires `depth` levels with the form picked by `how`, checks the recursion count,
    /// bumps the counter, and releases every level. The outermost level may fail (a timed
    /// acquire that gave up); returns whether the counter was bumped.
    fn round(&self, depth: usize, how: usize) -> bool {
        let short = Duration::from_micros(200);
        let start = Instant::now();
        let got = match how % 4 {
            0 => {
                self.lock.acquire();
                true
            }
            1 => {
                while !self.lock.try_acquire() {
                    std::thread::yield_now();
                }
                true
            }
            2 => self.lock.acquire_timeout(HOUR),
            _ => self.lock.acquire_timeout(short),
        };
        if !got {
            assert!(how % 4 == 3, "a long timed acquire gave up");
            assert!(start.elapsed() >= short, "gave up early");
            assert!(!self.lock.is_owned());
            return false;
        }
        assert!(
            !self.inside.swap(true, Ordering::Relaxed),
            "two threads hold the RLock at once"
        );
        // The inner levels, with guards and the other forms: never block (we hold it).
        let mut guards = Vec::new();
        for level in 1..depth {
            match (how + level) % 3 {
                0 => guards.push(self.lock.guard()),
                1 => guards.push(self.lock.try_guard().expect("reentrant")),
                _ => guards.push(self.lock.guard_timeout(Duration::ZERO).expect("reentrant")),
            }
        }
        assert_eq!(self.lock.recursion_count(), depth);
        assert!(self.lock.is_owned());
        // SAFETY: we hold the lock, so no other thread touches `count`.
        let n = unsafe {
            *self.count.get() += 1;
            *self.count.get()
        };
        if n % 64 == 0 {
            // Hold it across a reschedule now and then, so that the others park.
            std::thread::yield_now();
        }
        drop(guards);
        assert_eq!(self.lock.recursion_count(), 1);
        self.inside.store(false, Ordering::Relaxed);
        self.lock.release().expect("held");
        true
    }
}

#[test]
fn sixty_four_threads_on_one_rlock_count_exactly() {
    const ROUNDS: usize = 2_000;
    let _dog = watchdog("sixty_four_threads_on_one_rlock_count_exactly", LIMIT);
    let shared = Arc::new(RShared {
        lock: RLock::new(),
        inside: AtomicBool::new(false),
        count: UnsafeCell::new(0),
    });
    let total = Arc::new(AtomicUsize::new(0));
    let (s, tot) = (shared.clone(), total.clone());
    run_threads("stress-rlock", THREADS, move |i| {
        let mut mine = 0;
        for round in 0..ROUNDS {
            let depth = (i + round) % 3 + 1;
            if s.round(depth, i * 7 + round) {
                mine += 1;
            }
            // A release by a thread that does not hold it is refused and changes nothing.
            if round % 97 == 0 {
                assert!(s.lock.release().is_err(), "released a lock it did not hold");
            }
            if round % 16 == 0 {
                std::thread::yield_now();
            }
        }
        tot.fetch_add(mine, Ordering::Relaxed);
    });
    let total = total.load(Ordering::Relaxed);
    assert!(total >= THREADS * ROUNDS * 3 / 4, "only {total} rounds");
    assert!(!shared.lock.locked());
    assert_eq!(shared.lock.holder(), None);
    assert_eq!(shared.lock.recursion_count(), 0);
    let _g = shared.lock.guard();
    // SAFETY: we hold the lock and every other thread has ended.
    assert_eq!(unsafe { *shared.count.get() }, total as u64);
}

// ---------------------------------------------------------------------------------------
// Condition

/// A queue guarded by the condition's lock, and the producers' progress.
struct CShared {
    cond: Condition,
    items: UnsafeCell<VecDeque<u64>>,
    /// Items taken out, by all consumers (under the lock).
    taken: UnsafeCell<usize>,
}

// SAFETY: `items` and `taken` are only accessed with the condition's lock held.
unsafe impl Sync for CShared {}

impl CShared {
    /// # Safety
    /// The caller holds the condition's lock.
    #[allow(clippy::mut_from_ref)]
    unsafe fn items(&self) -> &mut VecDeque<u64> {
        // SAFETY: the caller holds the lock, so nobody else touches the queue.
        unsafe { &mut *self.items.get() }
    }

    /// # Safety
    /// The caller holds the condition's lock.
    #[allow(clippy::mut_from_ref)]
    unsafe fn taken(&self) -> &mut usize {
        // SAFETY: as above.
        unsafe { &mut *self.taken.get() }
    }
}

/// The item number `seq` of producer `p`: unique, and its low bits index the seen-flags.
fn item(p: usize, seq: usize, per: usize) -> u64 {
    (p * per + seq) as u64
}

/// Count, wrapping sum and xor of some items: together they catch a lost or duplicated one.
#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Tally {
    count: u64,
    sum: u64,
    xor: u64,
}

impl Tally {
    fn add(&mut self, item: u64) {
        self.count += 1;
        self.sum = self
            .sum
            .wrapping_add(item.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        self.xor ^= item.rotate_left((item % 61) as u32);
    }

    fn merge(&mut self, o: Tally) {
        self.count += o.count;
        self.sum = self.sum.wrapping_add(o.sum);
        self.xor ^= o.xor;
    }
}

#[test]
fn sixty_four_threads_pass_every_item_exactly_once_through_a_condition() {
    const PRODUCERS: usize = 32;
    const PER: usize = 2_000;
    const TOTAL: usize = PRODUCERS * PER;
    let _dog = watchdog(
        "sixty_four_threads_pass_every_item_exactly_once_through_a_condition",
        LIMIT,
    );
    let shared = Arc::new(CShared {
        cond: Condition::new(),
        items: UnsafeCell::new(VecDeque::new()),
        taken: UnsafeCell::new(0),
    });
    let seen: Arc<Vec<AtomicBool>> = Arc::new((0..TOTAL).map(|_| AtomicBool::new(false)).collect());
    let tallies = Arc::new(std::sync::Mutex::new(Tally::default()));
    let (s, seen2, tallies2) = (shared.clone(), seen.clone(), tallies.clone());
    run_threads("stress-cond", THREADS, move |i| {
        let s = &*s;
        if i < PRODUCERS {
            for seq in 0..PER {
                let _g = s.cond.guard();
                // SAFETY: we hold the lock.
                unsafe { s.items() }.push_back(item(i, seq, PER));
                // Mostly one wake-up per item; now and then all of them, or a recursive
                // hold (the condition's lock is an RLock) around the notify.
                match seq % 50 {
                    0 => {
                        s.cond.notify_all().unwrap();
                    }
                    1 => {
                        let _again = s.cond.guard();
                        s.cond.notify(1).unwrap();
                    }
                    _ => {
                        s.cond.notify_one().unwrap();
                    }
                }
            }
            return;
        }
        let mut mine = Tally::default();
        let mut round = 0usize;
        loop {
            round += 1;
            let g = s.cond.guard();
            let ready = || {
                // SAFETY: the predicate runs with the lock held (the waits take it back
                // before they return, and `wait_for` calls it holding the lock).
                unsafe { !s.items().is_empty() || *s.taken() == TOTAL }
            };
            match (i + round) % 4 {
                0 => {
                    while !ready() {
                        s.cond.wait().unwrap();
                    }
                }
                1 => {
                    while !ready() {
                        let start = Instant::now();
                        let short = Duration::from_millis(1);
                        if s.cond.wait_timeout(short).unwrap().timed_out() {
                            assert!(start.elapsed() >= short, "timed out early");
                        }
                    }
                }
                2 => {
                    assert!(s.cond.wait_for(ready).unwrap());
                }
                _ => {
                    // Held twice: the wait releases both levels and restores them.
                    let _again = s.cond.guard();
                    assert!(s.cond.wait_for_timeout(ready, HOUR).unwrap());
                    assert_eq!(s.cond.lock().recursion_count(), 2);
                }
            }
            assert!(s.cond.lock().is_owned());
            assert_eq!(s.cond.lock().recursion_count(), 1);
            // SAFETY: we hold the lock.
            let Some(item) = unsafe { s.items() }.pop_front() else {
                // Everything was taken: wake the other consumers so they see it too.
                s.cond.notify_all().unwrap();
                break;
            };
            // SAFETY: we hold the lock.
            unsafe {
                *s.taken() += 1;
                if *s.taken() == TOTAL {
                    s.cond.notify_all().unwrap();
                }
            }
            drop(g);
            assert!(
                !seen2[item as usize].swap(true, Ordering::Relaxed),
                "item {item} consumed twice"
            );
            mine.add(item);
        }
        tallies2.lock().unwrap().merge(mine);
    });
    let mut expected = Tally::default();
    for p in 0..PRODUCERS {
        for seq in 0..PER {
            expected.add(item(p, seq, PER));
        }
    }
    assert_eq!(*tallies.lock().unwrap(), expected);
    assert!(seen.iter().all(|f| f.load(Ordering::Relaxed)));
    let _g = shared.cond.guard();
    // SAFETY: we hold the lock and every other thread has ended.
    unsafe {
        assert!(shared.items().is_empty());
        assert_eq!(*shared.taken(), TOTAL);
    }
    assert_eq!(shared.cond.notify_all().unwrap(), 0, "nobody left waiting");
}

// ---------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore

/// The operations both semaphores share.
trait Sem: Send + Sync + 'static {
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, d: Duration) -> bool;
    fn release(&self, n: usize) -> Result<(), threadkit::ReleaseError>;
    fn value(&self) -> usize;
    /// Runs `f` holding a permit taken through the type's guard.
    fn with_guard(&self, f: &dyn Fn());
}

macro_rules! sem {
    ($S:ty) => {
        impl Sem for $S {
            fn acquire(&self) {
                <$S>::acquire(self)
            }
            fn try_acquire(&self) -> bool {
                <$S>::try_acquire(self)
            }
            fn acquire_timeout(&self, d: Duration) -> bool {
                <$S>::acquire_timeout(self, d)
            }
            fn release(&self, n: usize) -> Result<(), threadkit::ReleaseError> {
                <$S>::release(self, n)
            }
            fn value(&self) -> usize {
                <$S>::value(self)
            }
            fn with_guard(&self, f: &dyn Fn()) {
                let _g = self.guard();
                f()
            }
        }
    };
}
sem!(Semaphore);
sem!(BoundedSemaphore);

/// 64 threads take and give back permits of a semaphore of `PERMITS`, every form mixed; never
/// more than `PERMITS` inside at once; the value is whole again at the end.
fn hammer_semaphore<S: Sem>(name: &'static str, sem: S) {
    const PERMITS: usize = 4;
    const ROUNDS: usize = 2_000;
    let _dog = watchdog(name, LIMIT);
    assert_eq!(sem.value(), PERMITS);
    let sem = Arc::new(sem);
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let entries = Arc::new(AtomicUsize::new(0));
    let (s, ins, mo, ent) = (sem.clone(), inside.clone(), most.clone(), entries.clone());
    run_threads(name, THREADS, move |i| {
        let section = || {
            let n = ins.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(n <= PERMITS, "{n} holders of {PERMITS} permits");
            mo.fetch_max(n, Ordering::Relaxed);
            ent.fetch_add(1, Ordering::Relaxed);
            if n == PERMITS {
                std::thread::yield_now(); // let the others pile up and park
            }
            ins.fetch_sub(1, Ordering::SeqCst);
        };
        for round in 0..ROUNDS {
            match (i + round) % 5 {
                0 => {
                    s.acquire();
                    section();
                    s.release(1).expect("within the bound");
                }
                1 => s.with_guard(&section),
                2 => {
                    while !s.try_acquire() {
                        std::thread::yield_now();
                    }
                    section();
                    s.release(1).expect("within the bound");
                }
                3 => {
                    assert!(s.acquire_timeout(HOUR));
                    section();
                    s.release(1).expect("within the bound");
                }
                _ => {
                    let short = Duration::from_micros(200);
                    let start = Instant::now();
                    if s.acquire_timeout(short) {
                        section();
                        s.release(1).expect("within the bound");
                    } else {
                        assert!(start.elapsed() >= short, "gave up early");
                    }
                }
            }
            if round % 16 == 0 {
                std::thread::yield_now();
            }
        }
    });
    assert_eq!(inside.load(Ordering::SeqCst), 0);
    let most = most.load(Ordering::Relaxed);
    assert!((1..=PERMITS).contains(&most), "at most {most} at once");
    assert!(entries.load(Ordering::Relaxed) >= THREADS * ROUNDS * 4 / 5);
    assert_eq!(sem.value(), PERMITS, "every permit came back");
    // And all of them can be taken again, no more.
    for _ in 0..PERMITS {
        assert!(sem.try_acquire());
    }
    assert!(!sem.try_acquire());
    sem.release(PERMITS).unwrap();
    assert_eq!(sem.value(), PERMITS);
}

#[test]
fn sixty_four_threads_on_a_semaphore_of_four_never_exceed_four() {
    hammer_semaphore(
        "sixty_four_threads_on_a_semaphore_of_four_never_exceed_four",
        Semaphore::new(4),
    );
}

#[test]
fn sixty_four_threads_on_a_bounded_semaphore_of_four_never_exceed_four() {
    let name = "sixty_four_threads_on_a_bounded_semaphore_of_four_never_exceed_four";
    hammer_semaphore(name, BoundedSemaphore::new(4));
    let b = BoundedSemaphore::new(4);
    assert!(b.release(1).is_err(), "over-release refused");
    assert_eq!(b.value(), 4);
}

// ---------------------------------------------------------------------------------------
// Event

#[test]
fn sixty_four_event_waiters_are_all_released_in_every_round() {
    const ROUNDS: usize = 150;
    let _dog = watchdog(
        "sixty_four_event_waiters_are_all_released_in_every_round",
        LIMIT,
    );
    let event = Arc::new(Event::new());
    // Every waiter and the main thread meet here before and after each round.
    let meet = Arc::new(Barrier::new(THREADS + 1).unwrap());
    let released = Arc::new(AtomicUsize::new(0));
    // Written before `set`, read after `wait`: `set` -> `wait` orders it.
    let payload = Arc::new(AtomicUsize::new(usize::MAX));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let (e, m, r, p) = (
                event.clone(),
                meet.clone(),
                released.clone(),
                payload.clone(),
            );
            let t = Thread::builder()
                .name(format!("stress-event-{i}"))
                .stack_size(STACK)
                .target(move || {
                    for round in 0..ROUNDS {
                        m.wait().expect("not broken");
                        // In the set-then-clear rounds, a waiter must be inside one wait
                        // when the flag is raised: a loop of short waits could miss it.
                        let set_and_clear = round % 3 == 1;
                        match (i + round) % 3 {
                            0 => e.wait(),
                            1 => assert!(e.wait_timeout(HOUR)),
                            _ if set_and_clear => assert!(e.wait_timeout(Duration::MAX)),
                            _ => {
                                let short = Duration::from_millis(1);
                                loop {
                                    let start = Instant::now();
                                    if e.wait_timeout(short) {
                                        break;
                                    }
                                    assert!(start.elapsed() >= short, "timed out early");
                                }
                            }
                        }
                        assert_eq!(p.load(Ordering::Relaxed), round, "set -> wait ordering");
                        r.fetch_add(1, Ordering::Relaxed);
                        m.wait().expect("not broken");
                    }
                });
            t.start().expect("the thread starts");
            t
        })
        .collect();
    for round in 0..ROUNDS {
        assert!(!event.is_set());
        meet.wait().expect("not broken");
        payload.store(round, Ordering::Relaxed);
        if round % 3 != 2 {
            // Everyone parked first: `set` must wake all of them at once.
            for t in &threads {
                wait_until_parked(t, WaitKind::Event);
            }
        }
        event.set();
        if round % 3 == 1 {
            // Cleared at once: every thread that was waiting still returns.
            event.clear();
        }
        meet.wait().expect("not broken");
        assert_eq!(
            released.load(Ordering::Relaxed),
            THREADS * (round + 1),
            "a waiter was not released in round {round}"
        );
        event.clear();
    }
    all_joined(&threads);
    assert!(!event.is_set());
    assert!(!event.wait_timeout(Duration::ZERO));
}

// ---------------------------------------------------------------------------------------
// Barrier

#[test]
fn a_barrier_of_sixty_four_hands_out_a_permutation_and_runs_its_action_once_per_cycle() {
    const CYCLES: usize = 400;
    let _dog = watchdog(
        "a_barrier_of_sixty_four_hands_out_a_permutation_and_runs_its_action_once_per_cycle",
        LIMIT,
    );
    let arrivals = Arc::new(AtomicUsize::new(0));
    let actions = Arc::new(AtomicUsize::new(0));
    let (arr, act) = (arrivals.clone(), actions.clone());
    let barrier = Arc::new(Barrier::new(THREADS).unwrap().with_action(move || {
        let k = act.load(Ordering::Relaxed);
        // Everything each party did before its wait happens-before the action.
        assert_eq!(arr.load(Ordering::Relaxed), THREADS * (k + 1), "cycle {k}");
        act.store(k + 1, Ordering::Relaxed);
    }));
    let indices = Arc::new(std::sync::Mutex::new(vec![Vec::new(); THREADS]));
    let (b, arr, act, idx) = (
        barrier.clone(),
        arrivals.clone(),
        actions.clone(),
        indices.clone(),
    );
    run_threads("stress-barrier", THREADS, move |i| {
        let mut mine = Vec::with_capacity(CYCLES);
        for cycle in 0..CYCLES {
            arr.fetch_add(1, Ordering::Relaxed);
            let r: Result<usize, BrokenBarrierError> = if (i + cycle) % 2 == 0 {
                b.wait()
            } else {
                b.wait_timeout(HOUR)
            };
            let index = r.expect("never broken");
            // The action (run before anyone is released) happens-before every return.
            assert_eq!(act.load(Ordering::Relaxed), cycle + 1);
            assert!(arr.load(Ordering::Relaxed) >= THREADS * (cycle + 1));
            mine.push(index);
        }
        idx.lock().unwrap()[i] = mine;
    });
    assert_eq!(actions.load(Ordering::Relaxed), CYCLES);
    assert_eq!(arrivals.load(Ordering::Relaxed), THREADS * CYCLES);
    let indices = indices.lock().unwrap();
    for cycle in 0..CYCLES {
        let mut got: Vec<usize> = indices.iter().map(|v| v[cycle]).collect();
        got.sort_unstable();
        assert!(
            got.iter().copied().eq(0..THREADS),
            "cycle {cycle}: indices {got:?} are not a permutation"
        );
    }
    assert!(!barrier.broken());
    assert_eq!(barrier.n_waiting(), 0);
}
