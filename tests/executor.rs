//! `ThreadPoolExecutor`: CPython's `test_concurrent_futures` executor cases
//! (test_thread_pool.py, test_shutdown.py, test_init.py, executor.py), one behaviour a test,
//! plus what threadkit adds (errors instead of deadlocks, wait_idle, scope, map look-ahead).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadkit::futures::{
    Executor, FutureError, SubmitErrorKind, TaskException, TaskFuture, as_completed,
};
use threadkit::{Event, ThreadPoolExecutor};

fn named(prefix: &str, n: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(n)
        .thread_name_prefix(prefix)
        .build()
        .unwrap()
}

// ---- construction ----------------------------------------------------------------------------

#[test]
fn max_workers_zero_is_an_error_value() {
    let err = ThreadPoolExecutor::new(0).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("max_workers must be greater than 0"), "{msg}");
    assert!(msg.contains("ThreadPoolExecutor-"), "{msg}"); // names the pool
    let err = ThreadPoolExecutor::builder()
        .thread_name_prefix("zero")
        .max_workers(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("pool zero"), "{err}");
}

#[test]
fn default_max_workers_is_min_32_cpus_plus_4() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = ThreadPoolExecutor::builder().build().unwrap();
    assert_eq!(pool.max_workers(), 32.min(cpus + 4));
}

#[test]
fn thread_names_use_the_prefix_and_an_index() {
    let pool = named("SpecialPool", 3);
    // Three tasks that meet at a barrier run on three different workers.
    let all = Arc::new(threadkit::Barrier::new(3).unwrap());
    let fs: Vec<_> = (0..3)
        .map(|_| {
            let b = all.clone();
            pool.submit(move || {
                b.wait().unwrap();
                threadkit::current_thread().name()
            })
            .unwrap()
        })
        .collect();
    let names: HashSet<String> = fs.into_iter().map(|f| f.into_result().unwrap()).collect();
    let want: HashSet<String> = (0..3).map(|i| format!("SpecialPool_{i}")).collect();
    assert_eq!(names, want);
}

#[test]
fn thread_names_default_to_threadpoolexecutor_n_i() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let name = pool
        .submit(|| threadkit::current_thread().name())
        .unwrap()
        .into_result()
        .unwrap();
    let rest = name.strip_prefix("ThreadPoolExecutor-").unwrap();
    let (n, i) = rest.split_once('_').unwrap();
    assert!(n.parse::<usize>().is_ok(), "{name}");
    assert_eq!(i, "0");
    assert_eq!(pool.name(), format!("ThreadPoolExecutor-{n}"));
}

#[test]
fn workers_are_threadkit_threads_in_enumerate() {
    let pool = named("visible", 1);
    pool.submit(|| ()).unwrap().result().unwrap();
    let names: Vec<String> = threadkit::enumerate().iter().map(|t| t.name()).collect();
    assert!(names.iter().any(|n| n == "visible_0"), "{names:?}");
    assert!(!pool.threads()[0].is_daemon());
}

// ---- lazy start, reuse, saturation ---------------------------------------------------------------

#[test]
fn no_worker_starts_before_the_first_submit() {
    let pool = named("lazy", 4);
    assert!(pool.threads().is_empty());
    pool.submit(|| ()).unwrap().result().unwrap();
    assert_eq!(pool.threads().len(), 1);
}

#[test]
fn an_idle_worker_is_reused_before_a_new_one_starts() {
    let pool = named("reuse", 4);
    for _ in 0..5 {
        pool.submit(|| ()).unwrap().result().unwrap();
        pool.wait_idle();
    }
    assert_eq!(pool.threads().len(), 1);
}

#[test]
fn a_worker_whose_result_was_read_is_reused_by_the_next_submit() {
    // No `wait_idle` between the tasks: a worker is counted idle before its result can be
    // seen, so a submit right after `result()` never starts a second worker (Python's
    // `test_idle_thread_reuse`).
    let pool = named("reread", 4);
    for i in 0..20_000 {
        assert_eq!(pool.submit(move || i).unwrap().into_result().unwrap(), i);
    }
    assert_eq!(pool.threads().len(), 1);
}

#[test]
fn a_worker_running_done_callbacks_is_not_counted_idle() {
    // As Python's worker, which releases its idle token only after the future's callbacks:
    // a submit made while a callback still runs starts a second worker instead of queueing
    // behind the busy one.
    let pool = named("callbacks", 2);
    let (gate, in_callback, release) = (
        Arc::new(Event::new()),
        Arc::new(Event::new()),
        Arc::new(Event::new()),
    );
    let g = gate.clone();
    let first = pool.submit(move || g.wait()).unwrap();
    let (inside, rel) = (in_callback.clone(), release.clone());
    first.add_done_callback(move |_| {
        inside.set();
        rel.wait();
    });
    gate.set();
    in_callback.wait();
    let second = pool.submit(|| 5).unwrap();
    let got = second.result_timeout(Duration::from_secs(30)).copied();
    release.set();
    assert_eq!(got.ok(), Some(5), "the second task waited for the callback");
    assert_eq!(pool.threads().len(), 2);
}

#[test]
fn a_one_worker_pool_runs_tasks_in_submission_order() {
    // Tasks handed straight to a searching worker never overtake tasks still queued: some
    // submits here find the worker searching, others find it busy.
    let pool = named("order", 1);
    let seen = Arc::new(Mutex::new(Vec::new()));
    for round in 0..200 {
        let fs: Vec<_> = (0..50)
            .map(|i| {
                let seen = seen.clone();
                pool.submit(move || seen.lock().unwrap().push(round * 50 + i))
                    .unwrap()
            })
            .collect();
        if round % 2 == 0 {
            for f in &fs {
                f.result().unwrap();
            }
        }
    }
    pool.wait_idle();
    let seen = seen.lock().unwrap();
    assert_eq!(*seen, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn saturation_starts_at_most_max_workers() {
    let pool = named("sat", 4);
    let gate = Arc::new(Event::new());
    let fs: Vec<_> = (0..16)
        .map(|_| {
            let g = gate.clone();
            pool.submit(move || g.wait()).unwrap()
        })
        .collect();
    assert_eq!(pool.threads().len(), 4);
    gate.set();
    for f in &fs {
        f.result().unwrap();
    }
    assert_eq!(pool.threads().len(), 4);
}

#[test]
fn an_idle_pool_sleeps_in_the_queue() {
    let pool = named("sleepy", 2);
    pool.submit(|| ()).unwrap().result().unwrap();
    let worker = pool.threads()[0].clone();
    let info = loop {
        if let Some(info) = worker.waiting() {
            break info;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.kind(), threadkit::WaitKind::QueueGet);
}

// ---- submit, results -----------------------------------------------------------------------------

#[test]
fn submit_returns_the_value() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let f = pool.submit(|| 2u64.pow(8)).unwrap();
    assert_eq!(*f.result().unwrap(), 256);
}

#[test]
fn submit_after_shutdown_hands_the_closure_back() {
    let pool = named("closed", 1);
    pool.shutdown(true, false).unwrap();
    let err = pool.submit(|| String::from("kept")).unwrap_err();
    assert_eq!(err.kind(), &SubmitErrorKind::Shutdown);
    let msg = err.to_string();
    assert!(
        msg.contains("cannot schedule new futures after shutdown"),
        "{msg}"
    );
    assert!(msg.contains("pool closed"), "{msg}");
    assert!(msg.contains(&threadkit::current_thread().name()), "{msg}");
    assert_eq!(err.into_inner()(), "kept");
}

#[test]
fn futures_name_their_pool_in_errors() {
    let pool = named("origin", 1);
    let f = pool.submit(|| 1).unwrap();
    f.result().unwrap();
    let err = f.set_result(2).unwrap_err();
    assert!(err.to_string().contains("pool origin"), "{err}");
}

// ---- shutdown ------------------------------------------------------------------------------------

#[test]
fn shutdown_wait_finishes_queued_tasks() {
    let pool = named("drain", 1);
    let count = Arc::new(AtomicUsize::new(0));
    let fs: Vec<_> = (0..20)
        .map(|_| {
            let c = count.clone();
            pool.submit(move || {
                threadkit::sleep(Duration::from_millis(1));
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    pool.shutdown(true, false).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 20);
    assert!(fs.iter().all(|f| f.done() && !f.cancelled()));
    assert!(pool.threads().iter().all(|t| !t.is_alive()));
}

#[test]
fn shutdown_no_wait_returns_and_the_tasks_still_finish() {
    let pool = named("nowait", 1);
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let f = pool.submit(move || g.wait()).unwrap();
    pool.shutdown(false, false).unwrap(); // returns while the task blocks
    assert!(!f.done());
    gate.set();
    f.result().unwrap();
    pool.shutdown(true, false).unwrap();
}

#[test]
fn shutdown_cancel_futures_cancels_the_queued_ones() {
    let pool = named("cancelq", 1);
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    let (s, g) = (started.clone(), gate.clone());
    let running = pool
        .submit(move || {
            s.set();
            g.wait();
        })
        .unwrap();
    started.wait();
    let queued: Vec<_> = (0..10).map(|_| pool.submit(|| ()).unwrap()).collect();
    let p = Arc::new(pool);
    let p2 = p.clone();
    let t = threadkit::Thread::new(move || p2.shutdown(true, true).unwrap());
    t.start().unwrap();
    // Every queued future is cancelled even while the running task blocks.
    for f in &queued {
        assert!(matches!(f.result(), Err(FutureError::Cancelled { .. })));
    }
    gate.set();
    t.join().unwrap();
    running.result().unwrap();
    assert!(!running.cancelled());
}

#[test]
fn shutdown_is_idempotent() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    pool.submit(|| ()).unwrap();
    pool.shutdown(true, false).unwrap();
    pool.shutdown(true, false).unwrap();
    pool.shutdown(false, true).unwrap();
    pool.shutdown(true, true).unwrap();
}

#[test]
fn drop_shuts_down_and_waits_like_with() {
    let count = Arc::new(AtomicUsize::new(0));
    let workers;
    {
        let pool = named("with", 2);
        for _ in 0..10 {
            let c = count.clone();
            // The future is not needed: the pool's drop waits for the task.
            drop(
                pool.submit(move || {
                    threadkit::sleep(Duration::from_millis(2));
                    c.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap(),
            );
        }
        workers = pool.threads();
    }
    assert_eq!(count.load(Ordering::SeqCst), 10);
    assert!(workers.iter().all(|t| !t.is_alive()));
}

#[test]
fn shutdown_wait_from_an_own_worker_is_an_error_not_a_deadlock() {
    let pool = Arc::new(named("selfwait", 1));
    let p = pool.clone();
    let f = pool
        .submit(move || p.shutdown(true, false).map_err(|e| e.to_string()))
        .unwrap();
    let msg = f.into_result().unwrap().unwrap_err();
    assert!(msg.contains("selfwait_0"), "{msg}");
    assert!(msg.contains("pool selfwait"), "{msg}");
    // The pool still works: the refused call did nothing.
    assert_eq!(*pool.submit(|| 1).unwrap().result().unwrap(), 1);
}

#[test]
fn dropping_the_last_handle_in_a_worker_does_not_deadlock() {
    let pool = Arc::new(named("lastdrop", 1));
    let p = pool.clone();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let f = pool
        .submit(move || {
            g.wait();
            drop(p); // the last handle: shuts down without waiting for itself
        })
        .unwrap();
    let worker = pool.threads()[0].clone();
    drop(pool);
    gate.set();
    // The future is done once the worker is gone; join it through the registry handle.
    worker.join().unwrap();
    assert!(f.done());
}

// ---- initializer -----------------------------------------------------------------------------------

#[test]
fn initializer_runs_in_each_worker_before_tasks() {
    let inits = Arc::new(Mutex::new(Vec::new()));
    let i = inits.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("init")
        .initializer(move || {
            i.lock().unwrap().push(threadkit::current_thread().name());
            Ok::<(), std::convert::Infallible>(())
        })
        .build()
        .unwrap();
    let f = pool.submit(|| ()).unwrap();
    f.result().unwrap();
    assert_eq!(*inits.lock().unwrap(), ["init_0"]);
}

#[test]
fn an_initializer_error_breaks_the_pool_saying_why() {
    let pool = ThreadPoolExecutor::builder()
        .thread_name_prefix("broken")
        .initializer(|| Err("no config file"))
        .build()
        .unwrap();
    let fs: Vec<_> = (0..5)
        .map(|_| pool.submit(|| 1).unwrap_or_else(|_| TaskFuture::new()))
        .collect();
    // Queued ones fail with the reason (those refused after it broke got a stand-in above).
    let first = fs[0].result().unwrap_err();
    match first {
        FutureError::Failed(TaskException::BrokenPool { pool, reason }) => {
            assert_eq!(pool, "broken");
            assert!(reason.contains("no config file"), "{reason}");
            assert!(reason.contains("in thread broken_"), "{reason}"); // the worker
            // The same reason for every queued task: the first failure's.
            for f in &fs[1..] {
                if let Err(FutureError::Failed(TaskException::BrokenPool { reason: r, .. })) =
                    f.result_timeout(Duration::ZERO)
                {
                    assert_eq!(r, reason);
                }
            }
        }
        other => panic!("expected a broken pool, got {other:?}"),
    }
    // Later submissions are refused with the reason, and the closure comes back.
    let err = pool.submit(|| 2).unwrap_err();
    match err.kind() {
        SubmitErrorKind::Broken(reason) => assert!(reason.contains("no config file")),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.into_inner()(), 2);
}

#[test]
fn an_initializer_panic_breaks_the_pool_saying_why() {
    let pool = ThreadPoolExecutor::builder()
        .initializer(|| -> Result<(), String> { panic!("init exploded") })
        .build()
        .unwrap();
    let f = pool.submit(|| 1).unwrap();
    match f.result() {
        Err(FutureError::Failed(TaskException::BrokenPool { reason, .. })) => {
            assert!(reason.contains("initializer panicked"), "{reason}");
            assert!(reason.contains("init exploded"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- wait_idle ------------------------------------------------------------------------------------

#[test]
fn wait_idle_waits_for_everything_submitted() {
    let pool = ThreadPoolExecutor::new(3).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    for i in 0..50 {
        let c = count.clone();
        drop(
            pool.submit(move || {
                if i % 10 == 0 {
                    threadkit::sleep(Duration::from_millis(5));
                }
                c.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap(),
        );
    }
    pool.wait_idle();
    assert_eq!(count.load(Ordering::SeqCst), 50);
    // Still open.
    assert_eq!(*pool.submit(|| 1).unwrap().result().unwrap(), 1);
}

#[test]
fn wait_idle_counts_cancelled_tasks_as_done() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let _blocker = pool.submit(move || g.wait()).unwrap();
    let queued = pool.submit(|| ()).unwrap();
    assert!(queued.cancel());
    gate.set();
    pool.wait_idle();
    assert!(queued.cancelled());
}

#[test]
fn wait_idle_timeout_never_returns_early() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let _f = pool.submit(move || g.wait()).unwrap();
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    assert!(!pool.wait_idle_timeout(d));
    assert!(t0.elapsed() >= d);
    gate.set();
    assert!(pool.wait_idle_timeout(Duration::from_secs(60)));
}

// ---- map --------------------------------------------------------------------------------------------

#[test]
fn map_yields_in_input_order() {
    let pool = ThreadPoolExecutor::new(4).unwrap();
    let out: Vec<u64> = pool
        .map(
            |i: u64| {
                threadkit::sleep(Duration::from_millis(10 - i));
                i * i
            },
            0..10,
        )
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(out, (0..10).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn map_yields_a_panic_at_its_position() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let out: Vec<_> = pool
        .map(|i: i32| if i == 2 { panic!("bad {i}") } else { i }, 0..4)
        .collect();
    assert_eq!(out.len(), 4);
    assert_eq!(out[1].as_ref().ok(), Some(&1));
    match &out[2] {
        Err(FutureError::Failed(e)) => assert_eq!(e.panic().unwrap().message(), "bad 2"),
        other => panic!("{other:?}"),
    }
    assert_eq!(out[3].as_ref().ok(), Some(&3));
}

#[test]
fn map_timeout_counts_from_the_call_and_cancels_the_rest() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let d = Duration::from_millis(50);
    let t0 = Instant::now();
    let mut it = pool
        .map(
            move |i: u32| {
                r.fetch_add(1, Ordering::SeqCst);
                if i == 0 {
                    g.wait();
                }
                i
            },
            0..5,
        )
        .timeout(d);
    assert!(matches!(it.next(), Some(Err(FutureError::Timeout { .. }))));
    assert!(t0.elapsed() >= d);
    assert!(it.next().is_none());
    gate.set();
    pool.wait_idle();
    assert_eq!(ran.load(Ordering::SeqCst), 1); // the queued ones were cancelled
}

#[test]
fn map_buffered_reads_an_endless_input_lazily() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let p = pulled.clone();
    let input = (0u64..).inspect(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
    });
    let first: Vec<u64> = pool
        .map_buffered(|x| x * 3, input, 4)
        .take(10)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(first, (0..10).map(|x| x * 3).collect::<Vec<_>>());
    let n = pulled.load(Ordering::SeqCst);
    assert!((10..=14).contains(&n), "pulled {n} items for 10 results");
}

#[test]
fn map_buffered_keeps_memory_flat_over_a_million_items() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, pk) = (in_flight.clone(), peak.clone());
    let input = (0u32..1_000_000).inspect(move |_| {
        let n = f.fetch_add(1, Ordering::SeqCst) + 1;
        pk.fetch_max(n, Ordering::SeqCst);
    });
    let mut count = 0u64;
    for r in pool.map_buffered(|x| x, input, 64) {
        r.unwrap();
        in_flight.fetch_sub(1, Ordering::SeqCst);
        count += 1;
    }
    assert_eq!(count, 1_000_000);
    let peak = peak.load(Ordering::SeqCst);
    println!("map_buffered(64) over 1e6 items: peak items in flight {peak}");
    assert!(peak <= 65, "peak {peak}");
}

#[test]
fn dropping_the_map_iterator_cancels_what_has_not_started() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    let ran = Arc::new(AtomicUsize::new(0));
    let (s, g, r) = (started.clone(), gate.clone(), ran.clone());
    let it = pool.map(
        move |i: u32| {
            r.fetch_add(1, Ordering::SeqCst);
            if i == 0 {
                s.set();
                g.wait();
            }
        },
        0..100,
    );
    started.wait();
    drop(it);
    gate.set();
    pool.wait_idle();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn map_after_shutdown_yields_the_refusal_once() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    pool.shutdown(true, false).unwrap();
    let out: Vec<_> = pool.map(|x: u8| x, [1, 2]).collect();
    assert_eq!(out.len(), 1);
    let msg = out[0].as_ref().unwrap_err().to_string();
    assert!(msg.contains("after shutdown"), "{msg}");
}

// ---- Executor trait, scope ----------------------------------------------------------------------------

fn run_generic(e: &impl Executor) -> Vec<i32> {
    let f = e.submit(|| 10).unwrap();
    let mut v: Vec<i32> = e.map(|x: i32| x + 1, [1, 2]).map(Result::unwrap).collect();
    v.push(f.into_result().unwrap());
    e.shutdown(true, false).unwrap();
    v
}

#[test]
fn the_executor_trait_submits_maps_and_shuts_down() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    assert_eq!(run_generic(&pool), [2, 3, 10]);
    assert!(pool.submit(|| ()).is_err());
}

#[test]
fn scope_tasks_borrow_from_the_stack() {
    let pool = ThreadPoolExecutor::new(3).unwrap();
    let data: Vec<u64> = (1..=100).collect();
    let total = AtomicUsize::new(0);
    pool.scope(|s| {
        for chunk in data.chunks(10) {
            let total = &total;
            s.submit(move || {
                total.fetch_add(chunk.iter().sum::<u64>() as usize, Ordering::SeqCst);
            })
            .unwrap();
        }
    })
    .unwrap();
    assert_eq!(total.load(Ordering::SeqCst), 5050);
}

#[test]
fn scope_returns_only_after_every_task() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let mut done = [false; 4];
    pool.scope(|s| {
        for d in done.iter_mut() {
            s.submit(move || {
                threadkit::sleep(Duration::from_millis(5));
                *d = true;
            })
            .unwrap();
        }
    })
    .unwrap();
    assert_eq!(done, [true; 4]);
}

#[test]
fn a_panic_in_a_scoped_task_is_reported_not_lost() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let err = pool
        .scope(|s| {
            s.submit(|| panic!("scoped boom")).unwrap();
            s.submit(|| 1).unwrap();
            "body value"
        })
        .unwrap_err();
    assert_eq!(err.panics().len(), 1);
    assert_eq!(err.panics()[0].message(), "scoped boom");
    assert!(err.to_string().contains("scoped boom"));
    assert_eq!(err.into_inner(), "body value");
}

#[test]
fn scope_on_a_shut_down_pool_hands_the_closure_back() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    pool.shutdown(true, false).unwrap();
    let local = 5;
    let got = pool
        .scope(|s| s.submit(|| local * 2).map_err(|e| e.into_inner()()))
        .unwrap();
    assert_eq!(got.unwrap_err(), 10);
}

#[test]
fn scope_waits_for_tasks_cancelled_by_shutdown() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    let cancelled = AtomicUsize::new(0);
    pool.scope(|s| {
        let (st, g) = (started.clone(), gate.clone());
        s.submit(move || {
            st.set();
            g.wait();
        })
        .unwrap();
        started.wait();
        let fs: Vec<_> = (0..5).map(|_| s.submit(|| ()).unwrap()).collect();
        let shut = std::thread::scope(|t| {
            let h = t.spawn(|| pool.shutdown(false, true));
            h.join().unwrap()
        });
        shut.unwrap();
        gate.set();
        for f in &fs {
            if f.cancelled() {
                cancelled.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
    .unwrap();
    assert_eq!(cancelled.load(Ordering::SeqCst), 5);
}

#[test]
fn as_completed_over_a_pool_sees_every_task_once() {
    let pool = ThreadPoolExecutor::new(3).unwrap();
    let fs: Vec<_> = (0..30)
        .map(|i| {
            pool.submit(move || {
                threadkit::sleep(Duration::from_millis(i % 3));
                i
            })
            .unwrap()
        })
        .collect();
    let mut seen: Vec<u64> = as_completed(&fs)
        .map(|f| *f.unwrap().result().unwrap())
        .collect();
    seen.sort();
    assert_eq!(seen, (0..30).collect::<Vec<_>>());
}

// ---- closures kept in the future vs boxed ------------------------------------------------------

#[test]
fn large_closures_run_and_cancel_like_small_ones() {
    // 64 bytes of captures: too large for the future's inline cell, so the task is boxed.
    let big = [7u64; 8];
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let f = pool.submit(move || big.iter().sum::<u64>()).unwrap();
    assert_eq!(*f.result().unwrap(), 56);
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    let (s, g) = (started.clone(), gate.clone());
    let _blocker = pool
        .submit(move || {
            s.set();
            g.wait();
        })
        .unwrap();
    started.wait();
    let queued: Vec<_> = (0..3)
        .map(|_| pool.submit(move || big.len()).unwrap())
        .collect();
    let total = AtomicUsize::new(0);
    pool.scope(|s| {
        // A large scoped closure borrowing from the stack, submitted behind the blocker.
        let total = &total;
        s.submit(move || total.fetch_add(big.len(), Ordering::SeqCst))
            .unwrap();
        gate.set();
    })
    .unwrap();
    assert_eq!(total.load(Ordering::SeqCst), 8);
    for f in &queued {
        assert_eq!(*f.result().unwrap(), 8);
    }
    let gate2 = Arc::new(Event::new());
    let g2 = gate2.clone();
    let _blocker = pool.submit(move || g2.wait()).unwrap();
    let cancelled: Vec<_> = (0..3)
        .map(|_| pool.submit(move || big.len()).unwrap())
        .collect();
    let p = Arc::new(pool);
    let p2 = p.clone();
    let t = threadkit::Thread::new(move || p2.shutdown(true, true).unwrap());
    t.start().unwrap();
    for f in &cancelled {
        assert!(matches!(f.result(), Err(FutureError::Cancelled { .. })));
    }
    gate2.set();
    t.join().unwrap();
}

#[test]
fn over_aligned_closures_are_boxed_and_run() {
    #[derive(Clone, Copy)]
    #[repr(align(64))]
    struct Wide(u8);
    let w = Wide(9);
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let f = pool.submit(move || w.0).unwrap();
    assert_eq!(*f.result().unwrap(), 9);
}

#[test]
fn scope_spawn_runs_without_futures_and_reports_panics() {
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let mut slots = [0u32; 8];
    pool.scope(|s| {
        for (i, slot) in slots.iter_mut().enumerate() {
            s.spawn(move || *slot = i as u32 * 2).unwrap();
        }
    })
    .unwrap();
    assert_eq!(slots, [0, 2, 4, 6, 8, 10, 12, 14]);
    let err = pool
        .scope(|s| {
            s.spawn(|| panic!("spawned boom")).unwrap();
        })
        .unwrap_err();
    assert_eq!(err.panics()[0].message(), "spawned boom");
}

#[test]
fn scope_spawn_refused_or_cancelled_does_not_run() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let ran = AtomicUsize::new(0);
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    pool.scope(|s| {
        let (st, g) = (started.clone(), gate.clone());
        s.spawn(move || {
            st.set();
            g.wait();
        })
        .unwrap();
        started.wait();
        let ran = &ran;
        for _ in 0..5 {
            s.spawn(move || {
                ran.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        }
        std::thread::scope(|t| t.spawn(|| pool.shutdown(false, true)).join().unwrap()).unwrap();
        gate.set();
        let refused = s.spawn(move || {
            ran.fetch_add(100, Ordering::SeqCst);
        });
        assert!(refused.is_err());
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// Counts drops of the closures that capture it.
struct DropCount<'a>(&'a AtomicUsize);

impl Drop for DropCount<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn scope_spawn_drops_each_closure_once_small_or_large_run_or_cancelled() {
    let pool = ThreadPoolExecutor::new(1).unwrap();
    let (ran, dropped) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let started = Arc::new(Event::new());
    let gate = Arc::new(Event::new());
    let big = [1u64; 16]; // too large to travel unboxed
    pool.scope(|s| {
        let (ran, dropped) = (&ran, &dropped);
        for _ in 0..10 {
            let d = DropCount(dropped);
            s.spawn(move || {
                let _d = d;
                ran.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
            let d = DropCount(dropped);
            s.spawn(move || {
                let _d = d;
                ran.fetch_add(big.iter().sum::<u64>() as usize, Ordering::SeqCst);
            })
            .unwrap();
        }
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 10 + 10 * 16);
    assert_eq!(dropped.load(Ordering::SeqCst), 20);

    // Queued behind a blocked task, then cancelled by shutdown: dropped, never run.
    ran.store(0, Ordering::SeqCst);
    dropped.store(0, Ordering::SeqCst);
    pool.scope(|s| {
        let (ran, dropped) = (&ran, &dropped);
        let (st, g) = (started.clone(), gate.clone());
        s.spawn(move || {
            st.set();
            g.wait();
        })
        .unwrap();
        started.wait();
        for _ in 0..10 {
            let d = DropCount(dropped);
            s.spawn(move || {
                let _d = d;
                ran.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
            let d = DropCount(dropped);
            s.spawn(move || {
                let _d = d;
                ran.fetch_add(big[0] as usize, Ordering::SeqCst);
            })
            .unwrap();
        }
        std::thread::scope(|t| t.spawn(|| pool.shutdown(false, true)).join().unwrap()).unwrap();
        gate.set();
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(dropped.load(Ordering::SeqCst), 20);
}
