//! Owned permits and guards: `OwnedSemaphorePermit`, `OwnedBoundedSemaphorePermit` (tokio's
//! shape), lock_api's `arc_lock` guards (`ArcMutexGuard`, `ArcReentrantMutexGuard`), and
//! lock_api's serde impls behind the `serde` feature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::{
    ArcMutexGuard, ArcReentrantMutexGuard, BoundedSemaphore, Event, Mutex,
    OwnedBoundedSemaphorePermit, OwnedSemaphorePermit, ReentrantMutex, Semaphore, Thread, WaitKind,
};

fn wait_for_kind(t: &Thread, kind: WaitKind) -> threadkit::WaitInfo {
    loop {
        match t.waiting() {
            Some(info) if info.kind() == kind => return info,
            _ => std::thread::yield_now(),
        }
    }
}

#[test]
fn owned_permits_are_send_and_static() {
    fn assert_send_static<T: Send + 'static>() {}
    assert_send_static::<OwnedSemaphorePermit>();
    assert_send_static::<OwnedBoundedSemaphorePermit>();
    assert_send_static::<ArcMutexGuard<Vec<u8>>>();
}

#[test]
fn an_owned_permit_moves_into_a_thread_and_holds_others_off_until_it_ends() {
    let sem = Arc::new(Semaphore::new(1));
    let permit = sem.clone().acquire_owned();
    let go = Arc::new(Event::new());
    let g = go.clone();
    let holder = threadkit::spawn(move || {
        let _p = permit;
        g.wait();
    });
    let s = sem.clone();
    let waiter = Thread::builder()
        .name("owned-waiter")
        .spawn(move || {
            let p = s.acquire_owned();
            p.semaphore().value()
        })
        .unwrap();
    // The second acquirer is blocked, and its wait is recorded like any acquire.
    let info = wait_for_kind(waiter.thread(), WaitKind::Semaphore);
    assert!(info.location().file().ends_with("owned.rs"));
    assert!(!waiter.is_finished());
    go.set();
    holder.join().unwrap();
    assert_eq!(waiter.join().unwrap(), 0);
    assert_eq!(sem.value(), 1, "both permits given back");
    assert_eq!(Arc::strong_count(&sem), 1, "no permit keeps the Arc");
}

#[test]
fn try_and_timed_owned_acquires_refuse_without_losing_permits() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.clone().try_acquire_owned().expect("free");
    assert!(sem.clone().try_acquire_owned().is_none());
    let timeout = Duration::from_millis(30);
    let began = Instant::now();
    assert!(sem.clone().acquire_owned_timeout(timeout).is_none());
    assert!(began.elapsed() >= timeout, "gave up early");
    assert_eq!(Arc::strong_count(&sem), 2, "refusals drop their Arc");
    drop(held);
    let p = sem
        .clone()
        .acquire_owned_timeout(Duration::ZERO)
        .expect("free again");
    assert_eq!(sem.value(), 0);
    drop(p);
    assert_eq!(sem.value(), 1);
}

#[test]
fn a_forgotten_owned_permit_stays_taken_and_leaks_nothing() {
    let sem = Arc::new(Semaphore::new(2));
    let back = sem.clone().acquire_owned().forget();
    assert!(Arc::ptr_eq(&back, &sem));
    drop(back);
    assert_eq!(sem.value(), 1);
    assert_eq!(Arc::strong_count(&sem), 1);
}

#[test]
fn an_owned_bounded_permit_never_pushes_the_count_past_the_bound() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    let p = sem.clone().acquire_owned();
    assert!(sem.clone().try_acquire_owned().is_none());
    // Someone else gives the permit back meanwhile (a misuse Python would allow).
    sem.release(1).unwrap();
    drop(p); // would exceed the bound: gives nothing back, no panic
    assert_eq!(sem.value(), 1);
    let timeout = Duration::from_millis(20);
    let q = sem.clone().acquire_owned_timeout(timeout).expect("free");
    let began = Instant::now();
    assert!(sem.clone().acquire_owned_timeout(timeout).is_none());
    assert!(began.elapsed() >= timeout);
    let back = q.forget();
    assert_eq!(back.value(), 0);
    back.release(1).unwrap();
    assert!(back.release(1).is_err(), "the bound still holds");
}

#[test]
fn an_arc_mutex_guard_is_released_by_the_thread_it_was_sent_to() {
    let m = Arc::new(Mutex::new(Vec::new()));
    let mut g = m.lock_arc();
    g.push(1);
    assert!(m.try_lock_arc().is_none());
    let h = threadkit::spawn(move || {
        g.push(2);
        ArcMutexGuard::mutex(&g).clone()
    });
    let same = h.join().unwrap();
    assert!(Arc::ptr_eq(&same, &m));
    assert_eq!(*m.lock(), [1, 2]);
}

#[test]
fn a_blocked_lock_arc_is_a_recorded_lock_wait_and_the_timed_form_gives_up_late() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock_arc();
    let m2 = m.clone();
    let waiter = Thread::builder()
        .name("arc-waiter")
        .spawn(move || *m2.lock_arc() + 1)
        .unwrap();
    let info = wait_for_kind(waiter.thread(), WaitKind::Lock);
    assert_eq!(info.owner(), Some(threadkit::current_thread()));
    let timeout = Duration::from_millis(30);
    let began = Instant::now();
    assert!(m.try_lock_arc_for(timeout).is_none());
    assert!(began.elapsed() >= timeout);
    drop(g);
    assert_eq!(waiter.join().unwrap(), 1);
}

#[test]
fn an_arc_reentrant_guard_nests_on_its_thread() {
    let m = Arc::new(ReentrantMutex::new(5));
    let a: ArcReentrantMutexGuard<i32> = m.lock_arc();
    let b = m.lock_arc();
    assert_eq!(*a + *b, 10);
    let m2 = m.clone();
    let other = threadkit::spawn(move || m2.try_lock_arc().is_some());
    assert!(!other.join().unwrap(), "held by this thread");
    drop((a, b));
    let m3 = m.clone();
    assert!(
        threadkit::spawn(move || m3.try_lock_arc().is_some())
            .join()
            .unwrap()
    );
}

#[cfg(feature = "serde")]
#[test]
fn mutexes_serialize_as_their_value() {
    let m = Mutex::new(vec![1, 2, 3]);
    assert_eq!(serde_json::to_string(&m).unwrap(), "[1,2,3]");
    let back: Mutex<Vec<i32>> = serde_json::from_str("[4,5]").unwrap();
    assert_eq!(*back.lock(), [4, 5]);
    let r = ReentrantMutex::new(String::from("x"));
    assert_eq!(serde_json::to_string(&r).unwrap(), "\"x\"");
    let back: ReentrantMutex<String> = serde_json::from_str("\"y\"").unwrap();
    assert_eq!(*back.lock(), "y");
}
