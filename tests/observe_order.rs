//! Lock-order checking (`observe::lock_order`): the reports' exact contents, each hook, no
//! report for a consistent order, and no confusion between a dropped lock and a new one at the
//! same address. The switch is global: the tests take turns.

use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::{Arc, Mutex as StdMutex, MutexGuard as StdGuard};

use threadkit::observe::lock_order::{self, LockOrderViolation, OnCycle};
use threadkit::{Lock, Mutex, RLock, Thread};

static SERIAL: StdMutex<()> = StdMutex::new(());

fn serial() -> StdGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Turns checking on with a callback that keeps every violation; off again when dropped.
struct Collect {
    seen: Arc<StdMutex<Vec<LockOrderViolation>>>,
}

impl Collect {
    fn new() -> Self {
        let seen = Arc::new(StdMutex::new(Vec::new()));
        let s = seen.clone();
        lock_order::enable(OnCycle::callback(move |v| {
            s.lock().unwrap().push(v.clone())
        }));
        Collect { seen }
    }

    fn take(&self) -> Vec<LockOrderViolation> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Collect {
    fn drop(&mut self) {
        lock_order::disable();
    }
}

/// Runs `f` on a new thread named `name`, to its end.
fn on_thread(name: &str, f: impl FnOnce() + Send + 'static) {
    let t = Thread::builder().name(name).target(f);
    t.start().unwrap();
    t.join().unwrap();
}

type Here = &'static Location<'static>;

#[test]
fn opposite_orders_on_two_threads_that_never_deadlock_are_reported_with_all_four_lines() {
    let _s = serial();
    let c = Collect::new();
    let (a, b) = (Arc::new(Lock::new()), Arc::new(Lock::new()));
    let lines = Arc::new(StdMutex::new(Vec::<Here>::new()));

    let (a1, b1, l1) = (a.clone(), b.clone(), lines.clone());
    on_thread("first", move || {
        let _ga = a1.guard();
        let at_a = Location::caller();
        let _gb = b1.guard();
        let at_b = Location::caller();
        l1.lock().unwrap().extend([at_a, at_b]);
    });
    assert!(c.take().is_empty(), "one order alone is fine");

    let (a2, b2, l2) = (a.clone(), b.clone(), lines.clone());
    on_thread("second", move || {
        let _gb = b2.guard();
        let at_b = Location::caller();
        let _ga = a2.guard();
        let at_a = Location::caller();
        l2.lock().unwrap().extend([at_b, at_a]);
    });
    let seen = c.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let v = &seen[0];
    let lines = lines.lock().unwrap().clone();
    // `Location::caller()` in a closure names the closure's line: the guards are one line up.
    let up = |l: Here| l.line() - 1;

    let now = v.now();
    assert_eq!(now.thread(), "second");
    assert_eq!((now.held(), now.taken()), (b.id(), a.id()));
    assert_eq!(now.held_at().line(), up(lines[2]));
    assert_eq!(now.taken_at().line(), up(lines[3]));
    assert_eq!(now.held_at().file(), file!());

    assert_eq!(v.earlier().len(), 1);
    let before = &v.earlier()[0];
    assert_eq!(before.thread(), "first");
    assert_eq!((before.held(), before.taken()), (a.id(), b.id()));
    assert_eq!(before.held_at().line(), up(lines[0]));
    assert_eq!(before.taken_at().line(), up(lines[1]));

    let text = v.to_string();
    assert_eq!(
        text,
        format!(
            "lock-order violation: thread \"second\" took {} at {} while holding {} (taken at {})\n  \
             but earlier: thread \"first\" took {} at {} while holding {} (taken at {})",
            a.id(),
            now.taken_at(),
            b.id(),
            now.held_at(),
            b.id(),
            before.taken_at(),
            a.id(),
            before.held_at()
        )
    );

    // Reported once per pair of locks, not at every acquisition.
    on_thread("third", move || {
        let _gb = b.guard();
        let _ga = a.guard();
    });
    assert!(c.take().is_empty());
}

#[test]
fn a_cycle_through_three_locks_lists_the_whole_earlier_path() {
    let _s = serial();
    let c = Collect::new();
    let (a, b, m) = (Lock::new(), RLock::new(), Mutex::new(0u32));
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    {
        let _b = b.guard();
        let _b2 = b.guard(); // a second level: no edge, no report
        *m.lock() += 1;
    }
    assert!(c.take().is_empty());
    let _m = m.lock();
    let _a = a.guard(); // m before a, but a -> b -> m was seen
    drop(_a);
    drop(_m);
    let seen = c.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let v = &seen[0];
    assert_eq!(v.now().taken(), a.id());
    let path: Vec<_> = v.earlier().iter().map(|e| (e.held(), e.taken())).collect();
    assert_eq!(path.len(), 2);
    assert_eq!(path[0], (a.id(), b.id()));
    assert_eq!(path[1].0, b.id());
    assert_eq!(path[1].1, v.now().held(), "ends at the mutex held now");
}

#[test]
fn the_panic_hook_panics_in_the_acquirer_before_it_takes_the_lock() {
    let _s = serial();
    lock_order::enable(OnCycle::Panic);
    let (a, b) = (Lock::new(), Lock::new());
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _b = b.guard();
        let _a = a.guard();
    }));
    lock_order::disable();
    let msg = r.expect_err("b then a panics");
    let msg = msg
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone();
    assert!(
        msg.starts_with(&format!(
            "lock-order violation: thread {:?} took {} at ",
            threadkit::current_thread().name(),
            a.id()
        )),
        "{msg}"
    );
    assert!(!a.locked(), "a was never taken");
    assert!(!b.locked(), "b was released while unwinding");
    // Both stay usable, in either order, now that checking is off.
    let _b = b.guard();
    let _a = a.guard();
}

#[test]
fn a_consistent_order_is_never_reported() {
    let _s = serial();
    let c = Collect::new();
    let locks: Arc<Vec<Lock>> = Arc::new((0..4).map(|_| Lock::new()).collect());
    let mut threads = Vec::new();
    for i in 0..3 {
        let locks = locks.clone();
        let t = Thread::builder().name(format!("w{i}")).target(move || {
            for round in 0..200 {
                // Any subset, always in index order.
                let guards: Vec<_> = locks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| (round + i + j) % 3 != 0)
                    .map(|(_, l)| l.guard())
                    .collect();
                drop(guards);
            }
        });
        t.start().unwrap();
        threads.push(t);
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(c.take().is_empty());
}

#[test]
fn a_new_lock_at_a_dropped_locks_address_starts_with_no_order() {
    let _s = serial();
    let c = Collect::new();
    let mut first = Lock::new();
    let mut second = Lock::new();
    {
        let _a = first.guard();
        let _b = second.guard();
    }
    // New locks in the same places: the old ones are dropped there.
    first = Lock::new();
    second = Lock::new();
    {
        let _b = second.guard();
        let _a = first.guard();
    }
    assert!(c.take().is_empty(), "not the same locks");
    // And the new order counts from now on.
    {
        let _a = first.guard();
        let _b = second.guard();
    }
    assert_eq!(c.take().len(), 1);
}

#[test]
fn the_report_hook_goes_on_and_off_costs_nothing_to_correctness() {
    let _s = serial();
    lock_order::enable(OnCycle::Report);
    assert!(lock_order::is_enabled());
    let (a, b) = (Lock::new(), Lock::new());
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    {
        // Reported on stderr; the program goes on and takes both.
        let _b = b.guard();
        let _a = a.guard();
        assert!(a.locked() && b.locked());
    }
    lock_order::disable();
    assert!(!lock_order::is_enabled());
    // Off: nothing is checked (a callback set now would see nothing).
    let c = Collect::new();
    lock_order::disable();
    {
        let _a = a.guard();
        let _b = b.guard();
    }
    {
        let _b = b.guard();
        let _a = a.guard();
    }
    assert!(c.take().is_empty());
}

#[test]
fn replacing_a_hook_that_owns_a_lock_does_not_deadlock() {
    let _s = serial();
    let owned = Arc::new(Lock::new());
    let o = owned.clone();
    lock_order::enable(OnCycle::callback(move |_| drop(o.guard())));
    {
        let _g = owned.guard(); // listed, so the lock has a node
    }
    drop(owned); // the callback holds the last reference
    lock_order::enable(OnCycle::Report); // drops the callback, and its Lock, while on
    assert!(lock_order::is_enabled());
    lock_order::disable();
}

#[test]
fn an_rwlock_takes_part_in_the_order_for_reading_and_for_writing() {
    let _s = serial();
    let c = Collect::new();
    let rw = Arc::new(threadkit::RwLock::new(0u32));
    let lock = Arc::new(Lock::named("plain"));
    // SAFETY: only the raw lock's id is read; nothing is locked or unlocked through it.
    let rw_id = unsafe { rw.raw() }.id();
    let lines = Arc::new(StdMutex::new(Vec::<u32>::new()));

    // Read RwLock, then Lock.
    let (r1, l1, ln1) = (rw.clone(), lock.clone(), lines.clone());
    on_thread("reader", move || {
        let line = line!() + 1;
        let g = r1.read();
        let _gl = l1.guard();
        ln1.lock().unwrap().extend([line, line + 1]);
        drop(g);
    });
    assert!(c.take().is_empty(), "one order alone is fine");

    // Lock, then write RwLock: the other order.
    let (r2, l2, ln2) = (rw.clone(), lock.clone(), lines.clone());
    on_thread("writer", move || {
        let line = line!() + 1;
        let _gl = l2.guard();
        let mut g = r2.write();
        *g += 1;
        ln2.lock().unwrap().extend([line, line + 1]);
    });
    let seen = c.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let v = &seen[0];
    let lines = lines.lock().unwrap().clone();
    assert_eq!(v.now().thread(), "writer");
    assert_eq!((v.now().held(), v.now().taken()), (lock.id(), rw_id));
    assert_eq!(v.now().held_at().line(), lines[2]);
    assert_eq!(v.now().taken_at().line(), lines[3]);
    assert_eq!(v.earlier().len(), 1);
    let before = &v.earlier()[0];
    assert_eq!(before.thread(), "reader");
    assert_eq!((before.held(), before.taken()), (rw_id, lock.id()));
    assert_eq!(before.held_at().line(), lines[0]);
    assert_eq!(before.taken_at().line(), lines[1]);
    assert!(v.to_string().contains("RwLock"), "{v}");

    // An upgradable read counts as holding it too; its upgrade adds nothing.
    let other = Lock::new();
    {
        let g = rw.upgradable_read();
        let _go = other.guard();
        // While checking is on, a dump lists both, oldest first.
        let dump = threadkit::observe::dump();
        let me = dump.thread(threadkit::get_ident()).unwrap();
        let holds: Vec<_> = me.holds().iter().map(|h| h.object()).collect();
        assert_eq!(holds, [rw_id, other.id()]);
        drop(_go);
        let _w = threadkit::RwLockUpgradableReadGuard::upgrade(g);
    }
    {
        let _go = other.guard();
        let _g = rw.read();
    }
    let seen = c.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].now().held(), seen[0].now().taken()),
        (other.id(), rw_id)
    );
}
