//! Thread benchmarks: threadkit's `Thread` start + join beside `std::thread::spawn` + join, and
//! `current_thread()` / `get_ident()` beside `std::thread::current()`.
//!
//! Run with `cargo bench --bench thread -- --warm-up-time 1 --measurement-time 2`. Only ratios
//! between entries of one group in one run mean anything.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// Creating, starting and joining a thread with an empty body.
fn start_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("start_join");

    // threadkit: `Thread::new(|| {})`, `start()` (returns once the child is registered with its
    // native id), `join()` (waits for the entry to be marked finished).
    g.bench_function("threadkit_Thread_start_join", |b| {
        b.iter(|| {
            let t = threadkit::Thread::new(|| {});
            t.start().expect("start");
            t.join().expect("join");
        });
    });

    // std: `std::thread::spawn(|| {})` then `join()` on the handle (unnamed thread).
    g.bench_function("std_spawn_join", |b| {
        b.iter(|| std::thread::spawn(|| {}).join().expect("join"));
    });

    // std with a name, as threadkit gives every thread one: `Builder::name("Thread-1")`.
    g.bench_function("std_named_spawn_join", |b| {
        b.iter(|| {
            std::thread::Builder::new()
                .name("Thread-1".to_string())
                .spawn(|| {})
                .expect("spawn")
                .join()
                .expect("join")
        });
    });

    // threadkit: `thread::start_new_thread(|| {})` alone (no join exists in `_thread`), then
    // waiting for the thread's entry to leave via a threadkit `Lock` the body releases.
    g.bench_function("threadkit_start_new_thread_handshake", |b| {
        let lock = std::sync::Arc::new(threadkit::Lock::new());
        b.iter(|| {
            lock.acquire();
            let l = lock.clone();
            threadkit::thread::start_new_thread(move || l.release().expect("held")).expect("start");
            lock.acquire();
            lock.release().expect("held");
        });
    });
    g.finish();
}

/// The part of start that is not the OS thread: building the `Thread` (default name, entry).
fn create(c: &mut Criterion) {
    let mut g = c.benchmark_group("thread_create");

    // threadkit: `Thread::new(|| {})` and drop, never started (name `Thread-N`, an `Arc` entry).
    g.bench_function("threadkit_Thread_new", |b| {
        b.iter(|| black_box(threadkit::Thread::new(|| {})));
    });
    g.finish();
}

/// Asking for the calling thread: a handle, or just its ident.
fn current(c: &mut Criterion) {
    // Bind the bench thread first, so the one-off registration is not measured.
    let _ = threadkit::current_thread();
    let mut g = c.benchmark_group("current_thread");

    // threadkit: `current_thread()` (a thread-local read and an `Arc` clone, dropped).
    g.bench_function("threadkit_current_thread", |b| {
        b.iter(|| black_box(threadkit::current_thread()));
    });

    // std: `std::thread::current()` (a thread-local read and an `Arc` clone, dropped).
    g.bench_function("std_thread_current", |b| {
        b.iter(|| black_box(std::thread::current()));
    });

    // threadkit: `get_ident()` (a thread-local read and one load from the entry).
    g.bench_function("threadkit_get_ident", |b| {
        b.iter(|| black_box(threadkit::get_ident()));
    });

    // std: `std::thread::current().id()`, the nearest std has to an ident.
    g.bench_function("std_thread_current_id", |b| {
        b.iter(|| black_box(std::thread::current().id()));
    });
    g.finish();
}

criterion_group!(benches, start_join, create, current);
criterion_main!(benches);
