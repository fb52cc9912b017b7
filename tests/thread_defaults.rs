//! A thread's defaults as Python 3.10+ gives them: the `Thread-N (target)` name, an empty name
//! counting as none, and a stack size of 0 meaning "the default".

use threadkit::Thread;

/// The N of a default name `Thread-N` or `Thread-N (target)`, and the target.
fn parse(name: &str) -> (u64, Option<String>) {
    let rest = name.strip_prefix("Thread-").expect("a default name");
    match rest.split_once(' ') {
        Some((n, target)) => {
            let target = target.strip_prefix('(').and_then(|t| t.strip_suffix(')'));
            (
                n.parse().unwrap(),
                Some(target.expect("`(target)`").to_string()),
            )
        }
        None => (rest.parse().unwrap(), None),
    }
}

fn process_data() {}

mod jobs {
    pub fn generic_job<T>() {}
}

#[test]
fn a_named_function_names_the_thread_and_a_closure_does_not() {
    let f = Thread::new(process_data);
    let (n, target) = parse(&f.name());
    assert_eq!(target.as_deref(), Some("process_data"));

    let g = Thread::builder().target(jobs::generic_job::<String>);
    assert_eq!(parse(&g.name()).1, Some("generic_job".into()));

    let c = Thread::new(|| {});
    let (m, target) = parse(&c.name());
    assert_eq!(target, None);
    assert!(m > n, "one counter for both forms");

    // The name is given once, at creation, and the thread keeps it while it runs.
    f.start().unwrap();
    f.join().unwrap();
    assert_eq!(parse(&f.name()).1, Some("process_data".into()));
}

#[test]
fn an_empty_name_counts_as_no_name() {
    let t = Thread::builder().name("").target(process_data);
    assert_eq!(parse(&t.name()).1.as_deref(), Some("process_data"));
    let t = Thread::builder().name("").target(|| {});
    assert_eq!(parse(&t.name()).1, None);
    // Renaming to "" afterwards is taken as asked.
    t.set_name("");
    assert_eq!(t.name(), "");
    // Also by a running thread, for itself (the OS name follows).
    let (tx, rx) = std::sync::mpsc::channel();
    let r = Thread::new(move || {
        threadkit::current_thread().set_name("");
        tx.send(threadkit::current_thread().name()).unwrap();
    });
    r.start().unwrap();
    assert_eq!(rx.recv().unwrap(), "");
    r.join().unwrap();
}

#[test]
fn a_stack_size_of_zero_means_the_default_as_for_thread_stack_size() {
    // Refused before: a size below 32 KiB fails `start`; 0 is not such a size.
    let t = Thread::builder().stack_size(0).target(|| {});
    t.start().expect("0 asks for the default stack");
    t.join().unwrap();
    assert!(threadkit::thread::stack_size(Some(0)).is_ok());
    let small = Thread::builder().stack_size(1).target(|| {});
    assert!(
        small.start().is_err(),
        "other sizes below 32 KiB still fail"
    );
}

fn answer() -> u32 {
    42
}

#[test]
fn spawn_and_scoped_spawn_name_a_named_function_like_thread_new() {
    let h = threadkit::spawn(answer);
    let name = h.thread().name();
    assert!(
        name.starts_with("Thread-") && name.ends_with(" (answer)"),
        "{name}"
    );
    assert_eq!(h.join().unwrap(), 42);
    threadkit::scope(|s| {
        let h = s.spawn(answer);
        let name = h.thread().name();
        assert!(name.ends_with(" (answer)"), "{name}");
        let c = s.spawn(|| 1);
        assert!(!c.thread().name().contains('('), "{}", c.thread().name());
    });
}
