//! The crate-level `threadkit::Error`: every error type converts with `?`, keeps the
//! original (message, accessors, panic payload, refused item), and chains its source.

use std::error::Error as _;
use std::sync::Mutex;
use std::time::Duration;

use threadkit::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
use threadkit::{Barrier, Condition, Error, JoinError, Lock, Thread};

static HOOK_TEST: Mutex<()> = Mutex::new(());

/// Runs `f` (which must fail) and returns its error converted by `?`.
fn via_question_mark<T, E>(f: impl FnOnce() -> Result<T, E>) -> Error
where
    Error: From<E>,
{
    let run = || -> Result<T, Error> { Ok(f()?) };
    match run() {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn error_is_send_sync_static() {
    fn assert_bounds<T: Send + Sync + 'static + std::error::Error>() {}
    assert_bounds::<Error>();
    assert_bounds::<threadkit::RefusedItem>();
    // So it fits the usual boxes.
    let boxed: Box<dyn std::error::Error + Send + Sync> =
        Box::new(Error::from(Lock::new().release().unwrap_err()));
    assert!(boxed.to_string().contains("Lock"));
}

#[test]
fn thread_errors_convert_and_keep_their_message() {
    let t = Thread::builder().name("err-start").target(|| {});
    t.start().unwrap();
    let original = t.start().unwrap_err().to_string();
    let e = via_question_mark(|| t.start());
    assert!(matches!(
        e,
        Error::Start(threadkit::StartError::AlreadyStarted { .. })
    ));
    assert_eq!(e.to_string(), original);
    t.join().unwrap();

    let never = Thread::builder().name("err-never").target(|| {});
    let e = via_question_mark(|| never.join());
    assert!(
        matches!(e, Error::Join(ref j) if matches!(**j, JoinError::NotStarted { ref thread } if thread == "err-never"))
    );

    let e = via_question_mark(|| threadkit::main_thread().set_daemon(true));
    assert!(matches!(e, Error::SetDaemon(ref s) if s.thread() == "MainThread"));

    let e = via_question_mark(|| threadkit::thread::stack_size(Some(4096)));
    assert!(matches!(e, Error::StackSize(ref s) if s.size() == 4096));
}

#[test]
fn a_panicked_join_converts_with_its_payload_and_chains_the_report() {
    let _serial = HOOK_TEST.lock().unwrap_or_else(|e| e.into_inner());
    threadkit::set_excepthook(|_, _| {});
    let h = Thread::builder()
        .name("err-panic")
        .spawn(|| -> u8 { std::panic::panic_any(12i32) })
        .unwrap();
    let e = via_question_mark(|| h.join());
    threadkit::reset_excepthook();
    let source = e.source().expect("the panic report is the source");
    let report = source
        .downcast_ref::<threadkit::ThreadPanic>()
        .expect("a ThreadPanic");
    assert_eq!(report.thread(), "err-panic");
    assert!(e.to_string().starts_with("thread err-panic panicked"));
    let Error::Join(join) = e else {
        panic!("a join error")
    };
    let payload = (*join).into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<i32>(), Some(&12));
}

#[test]
fn sync_errors_convert() {
    let e = via_question_mark(|| Lock::new().release());
    assert!(matches!(e, Error::Release(ref r) if r.primitive() == "Lock"));

    let cond = Condition::new();
    let e = via_question_mark(|| cond.wait());
    assert!(matches!(e, Error::Condition(ref c) if c.operation() == "wait"));

    let e = via_question_mark(|| Barrier::new(0));
    assert!(matches!(e, Error::BarrierParties(_)));

    let b = Barrier::new(2).unwrap();
    b.abort();
    let e = via_question_mark(|| b.wait());
    assert!(matches!(e, Error::BrokenBarrier(_)));
    assert!(e.source().is_none());
}

#[test]
fn get_errors_convert() {
    let q: Queue<u8> = Queue::new(0);
    let e = via_question_mark(|| q.try_get());
    assert!(matches!(e, Error::TryGet(ref t) if t.is_empty()));
    let e = via_question_mark(|| q.get_timeout(Duration::ZERO));
    assert!(e.is_timeout());
    assert!(matches!(e, Error::GetTimeout(_)));
    let e = via_question_mark(|| q.task_done());
    assert!(matches!(e, Error::TaskDone(ref t) if t.queue() == q.id()));
    q.shutdown();
    let e = via_question_mark(|| q.get());
    assert!(matches!(e, Error::Get(ref g) if g.queue() == q.id()));
    assert!(!e.is_timeout());
}

#[test]
fn put_errors_convert_and_the_refused_item_comes_back() {
    let q = Queue::new(1);
    q.put(vec![1u8]).unwrap();
    let original = q.try_put(vec![0]).unwrap_err().to_string();
    let e = via_question_mark(|| q.try_put(vec![2u8, 2]));
    assert_eq!(e.to_string(), original);
    let Error::Put(refused) = e else {
        panic!("a put error")
    };
    assert!(refused.is_full() && !refused.is_shut_down() && !refused.is_timeout());
    assert_eq!(refused.queue(), q.id());
    let refused = refused.into_item::<String>().unwrap_err(); // wrong type: kept
    assert_eq!(refused.into_item::<Vec<u8>>().unwrap(), [2, 2]);

    let e = via_question_mark(|| q.put_timeout(vec![3u8], Duration::from_millis(1)));
    assert!(e.is_timeout());
    let Error::Put(refused) = e else {
        panic!("a put error")
    };
    assert_eq!(refused.into_item::<Vec<u8>>().unwrap(), [3]);

    q.shutdown();
    for e in [
        via_question_mark(|| q.put(vec![4u8])),
        via_question_mark(|| q.try_put(vec![4u8])),
        via_question_mark(|| q.put_timeout(vec![4u8], Duration::ZERO)),
    ] {
        let Error::Put(refused) = e else {
            panic!("a put error")
        };
        assert!(refused.is_shut_down());
        assert!(format!("{refused:?}").contains("shut-down"));
        assert_eq!(refused.into_item::<Vec<u8>>().unwrap(), [4]);
    }
}

#[test]
fn every_queue_kind_converts() {
    fn refused<T: Send + 'static>(e: Error) -> T {
        match e {
            Error::Put(r) => r.into_item::<T>().expect("the item"),
            other => panic!("a put error, got {other:?}"),
        }
    }
    let lifo = LifoQueue::new(0);
    lifo.shutdown();
    assert_eq!(refused::<char>(via_question_mark(|| lifo.put('l'))), 'l');
    let prio = PriorityQueue::new(0);
    prio.shutdown();
    assert_eq!(refused::<u16>(via_question_mark(|| prio.put(5u16))), 5);
    let simple = SimpleQueue::new();
    simple.shutdown();
    assert_eq!(refused::<&str>(via_question_mark(|| simple.put("s"))), "s");
}

#[test]
fn error_stays_small_enough_for_results() {
    // Clippy's `result_large_err` fires at 128 bytes: a `Result<T, Error>` must stay cheap.
    assert!(
        std::mem::size_of::<Error>() < 128,
        "{}",
        std::mem::size_of::<Error>()
    );
}
