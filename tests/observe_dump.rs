//! `observe::dump()`: exact contents for blocked threads (object, owner, line, held locks),
//! a dump taken by a thread in the middle of a panic, JSON, and a stress test in which dumps
//! taken in a loop while 8 threads block and wake never show a torn record nor a wait that
//! was over before the dump started.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use threadkit::observe::{self, Dump};
use threadkit::{Event, Lock, Thread, WaitKind};

mod common;
use common::dump_until;

/// The JSON of thread `ident` in `dump`.
#[cfg(feature = "serde")]
fn json_thread(dump: &Dump, ident: u64) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&dump.to_json()).unwrap();
    v["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ident"] == ident)
        .unwrap()
        .clone()
}

#[test]
fn a_blocked_thread_shows_its_object_owner_line_and_the_owner_shows_what_it_holds() {
    observe::set_held_tracking(true);
    static DB: Lock = Lock::named("dump-db");
    let took = line!() + 1;
    let g = DB.guard();
    let at = Arc::new(AtomicU32::new(0));
    let a = at.clone();
    let t = Thread::builder()
        .name("client")
        .daemon(false)
        .spawn(move || {
            a.store(line!() + 1, Ordering::Relaxed);
            drop(DB.guard());
        })
        .unwrap();
    let ident = t.thread().ident().unwrap();
    let me = threadkit::get_ident();
    let d = dump_until("client blocked", |d| {
        d.thread(ident).is_some_and(|t| t.wait().is_some())
    });
    let client = d.thread(ident).unwrap();
    assert_eq!(client.name(), "client");
    assert!(!client.is_daemon() && !client.is_main());
    assert_eq!(client.native_id(), t.thread().native_id().unwrap());
    let w = client.wait().unwrap();
    assert_eq!(w.kind(), WaitKind::Lock);
    assert_eq!(w.object(), DB.id());
    assert_eq!(w.object().name(), Some("dump-db"));
    assert_eq!(w.owner_ident(), Some(me));
    assert_eq!(
        w.owner_name(),
        Some(threadkit::current_thread().name().as_str())
    );
    assert_eq!(
        (w.location().file(), w.location().line()),
        (file!(), at.load(Ordering::Relaxed))
    );
    assert!(!w.timed());
    let mine = d.thread(me).unwrap();
    assert!(mine.wait().is_none());
    let held = mine
        .holds()
        .iter()
        .find(|h| h.object() == DB.id())
        .expect("listed");
    assert_eq!(held.location().line(), took);

    let text = d.to_string();
    let block = format!(
        "\"client\" ident={ident} native_id={}\n    blocked on {} (lock) for ",
        client.native_id(),
        DB.id()
    );
    assert!(text.contains(&block), "{text}");
    let tail = format!("s\n        at {}:{}:", file!(), at.load(Ordering::Relaxed));
    assert!(text.contains(&tail), "{text}");
    assert!(
        text.contains(&format!(
            "\n        held by {:?} ident={me}",
            threadkit::current_thread().name()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "    holds {}, taken at {}:{took}:",
            DB.id(),
            file!()
        )),
        "{text}"
    );
    drop(g);
    t.join().unwrap();
}

#[test]
fn a_thread_blocked_on_an_rlock_shows_the_owner_and_its_recursion_depth() {
    static LOG: threadkit::RLock = threadkit::RLock::named("dump-log");
    let outer = LOG.guard();
    let inner = LOG.guard();
    let third = LOG.guard(); // depth 3
    let t = Thread::builder()
        .name("rlock-waiter")
        .spawn(|| drop(LOG.guard()))
        .unwrap();
    let ident = t.thread().ident().unwrap();
    let me = threadkit::get_ident();
    let blocked = |d: &Dump| d.thread(ident).is_some_and(|t| t.wait().is_some());
    let d = dump_until("rlock-waiter blocked", blocked);
    let w = d.thread(ident).unwrap().wait().unwrap();
    assert_eq!(w.kind(), WaitKind::RLock);
    assert_eq!(w.object(), LOG.id());
    assert_eq!(w.owner_ident(), Some(me));
    assert_eq!(w.owner_depth(), Some(3));
    let text = d.to_string();
    let line = format!(
        "\n        held by {:?} ident={me}, recursion depth 3",
        threadkit::current_thread().name()
    );
    assert!(text.contains(&line), "{text}");
    #[cfg(feature = "serde")]
    {
        let th = json_thread(&d, ident);
        assert_eq!(th["wait"]["owner"], me);
        assert_eq!(th["wait"]["owner_depth"], 3);
    }
    // One level less: the next dump says so.
    drop(third);
    let d = dump_until("depth 2", |d| {
        d.thread(ident)
            .and_then(|t| t.wait())
            .is_some_and(|w| w.owner_depth() == Some(2))
    });
    assert_eq!(
        d.thread(ident).unwrap().wait().unwrap().owner_ident(),
        Some(me)
    );
    // A lock without a recursion count shows none.
    static PLAIN: Lock = Lock::named("dump-plain");
    let g = PLAIN.guard();
    let p = Thread::builder()
        .name("plain-waiter")
        .spawn(|| drop(PLAIN.guard()))
        .unwrap();
    let pid = p.thread().ident().unwrap();
    let d = dump_until("plain-waiter blocked", |d| {
        d.thread(pid).is_some_and(|t| t.wait().is_some())
    });
    let w = d.thread(pid).unwrap().wait().unwrap();
    assert_eq!((w.owner_ident(), w.owner_depth()), (Some(me), None));
    assert!(!w.to_string().contains("recursion depth"));
    drop(g);
    p.join().unwrap();
    drop((inner, outer));
    t.join().unwrap();
}

#[cfg(feature = "serde")]
#[test]
fn the_json_has_every_field() {
    static GATE: Event = Event::named("json-gate");
    let t = Thread::builder()
        .name("json-waiter")
        .spawn(|| GATE.wait())
        .unwrap();
    let ident = t.thread().ident().unwrap();
    let d = dump_until("json-waiter blocked", |d| {
        d.thread(ident).is_some_and(|t| t.wait().is_some())
    });
    let th = json_thread(&d, ident);
    assert_eq!(th["name"], "json-waiter");
    assert_eq!(th["state"], "blocked");
    assert_eq!(th["wait"]["kind"], "event");
    assert_eq!(th["wait"]["object"]["kind"], "Event");
    assert_eq!(th["wait"]["object"]["name"], "json-gate");
    assert_eq!(th["wait"]["object"]["addr"], GATE.id().addr());
    assert_eq!(th["wait"]["owner"], serde_json::Value::Null);
    assert_eq!(th["wait"]["file"], file!());
    assert_eq!(th["wait"]["timed"], false);
    assert_eq!(serde_json::to_string(&d).unwrap(), d.to_json()); // Serialize and to_json agree
    GATE.set();
    t.join().unwrap();
}

#[test]
fn a_thread_in_the_middle_of_a_panic_can_take_a_dump() {
    observe::set_held_tracking(true);
    static HELD: Lock = Lock::named("held-while-panicking");
    struct DumpOnUnwind(mpsc::Sender<(bool, Dump)>);
    impl Drop for DumpOnUnwind {
        fn drop(&mut self) {
            let _ = self.0.send((std::thread::panicking(), observe::dump()));
        }
    }
    let (tx, rx) = mpsc::channel();
    let holding = Arc::new(Event::new());
    let h = holding.clone();
    let took = Arc::new(AtomicU32::new(0));
    let tk = took.clone();
    let panicker = Thread::builder()
        .name("panicker")
        .spawn(move || {
            tk.store(line!() + 1, Ordering::Relaxed);
            let _g = HELD.guard();
            let _d = DumpOnUnwind(tx); // dropped first: the lock is still held
            h.set();
            let gate = Event::new();
            // Wait (timed) until a waiter blocks on the lock, then panic.
            while !gate.wait_timeout(Duration::from_millis(1)) {
                if observe::dump()
                    .threads()
                    .iter()
                    .any(|t| t.wait().is_some_and(|w| w.object() == HELD.id()))
                {
                    break;
                }
            }
            panic!("on purpose");
        })
        .unwrap();
    holding.wait();
    let waiter = Thread::builder()
        .name("waiter")
        .spawn(|| drop(HELD.guard()))
        .unwrap();
    let (panicking, d) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a dump from the unwinding thread");
    assert!(panicking, "the dump was taken during unwinding");
    assert!(!d.is_partial());
    let p = d.thread(panicker.thread().ident().unwrap()).unwrap();
    assert_eq!(p.name(), "panicker");
    assert!(p.wait().is_none());
    assert_eq!(p.holds().len(), 1);
    assert_eq!(p.holds()[0].object(), HELD.id());
    assert_eq!(p.holds()[0].location().line(), took.load(Ordering::Relaxed));
    let w = d
        .thread(waiter.thread().ident().unwrap())
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(w.object(), HELD.id());
    assert_eq!(w.owner_name(), Some("panicker"));
    assert!(panicker.join().is_err());
    waiter.join().unwrap();
}

/// 8 threads in 4 pairs pass a lock back and forth and wait on events; dumps in a loop must
/// show, for each of them, only a wait it can make (its pair's lock, held by its partner or
/// nobody, at the lock line; or its own event at the event line), never one that ended
/// before the dump began.
///
/// A wait is recorded once it is about to park, after its spins and yields. On a machine
/// whose cores other programs keep busy, each yield can last a time slice, and the pairs'
/// waits then all end before they park: none is recorded. So a ninth thread waits on an
/// event nobody sets, 20 ms at a time: its waits always park, and the dumps must show them
/// too (kind, object, line, and never one that ended before the dump began).
#[test]
fn dumps_never_tear_a_record_nor_show_a_wait_over_before_they_began() {
    const PAIRS: usize = 4;
    let base = Instant::now();
    let locks: Arc<Vec<Lock>> = Arc::new((0..PAIRS).map(|_| Lock::named("pair")).collect());
    let events: Arc<Vec<Event>> = Arc::new((0..2 * PAIRS).map(|_| Event::named("ping")).collect());
    // Nanoseconds since `base` at which each worker's last wait ended.
    let ended: Arc<Vec<AtomicU64>> = Arc::new((0..2 * PAIRS).map(|_| AtomicU64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let lock_line = Arc::new(AtomicU32::new(0));
    let event_line = Arc::new(AtomicU32::new(0));
    let mut workers = Vec::new();
    for i in 0..2 * PAIRS {
        let (locks, events, ended, stop) =
            (locks.clone(), events.clone(), ended.clone(), stop.clone());
        let (ll, el) = (lock_line.clone(), event_line.clone());
        workers.push(
            // Daemons: a failed assert below must not leave the process waiting for them.
            Thread::builder()
                .name(format!("w{i}"))
                .daemon(true)
                .spawn(move || {
                    let mark =
                        || ended[i].store(base.elapsed().as_nanos() as u64, Ordering::SeqCst);
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        ll.store(line!() + 1, Ordering::Relaxed);
                        let g = locks[i / 2].guard();
                        mark();
                        for _ in 0..(n % 200) {
                            std::hint::spin_loop();
                        }
                        drop(g);
                        events[i ^ 1].set();
                        el.store(line!() + 1, Ordering::Relaxed);
                        let _ = events[i].wait_timeout(Duration::from_millis(2));
                        mark();
                        events[i].clear();
                        n += 1;
                    }
                    events[i ^ 1].set();
                })
                .unwrap(),
        );
    }
    let quiet = Arc::new(Event::named("never set"));
    let quiet_ended = Arc::new(AtomicU64::new(0));
    let quiet_line = Arc::new(AtomicU32::new(0));
    let sleeper = {
        let (quiet, quiet_ended, quiet_line, stop) = (
            quiet.clone(),
            quiet_ended.clone(),
            quiet_line.clone(),
            stop.clone(),
        );
        Thread::builder()
            .name("sleeper")
            .daemon(true)
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    quiet_line.store(line!() + 1, Ordering::Relaxed);
                    let _ = quiet.wait_timeout(Duration::from_millis(20));
                    quiet_ended.store(base.elapsed().as_nanos() as u64, Ordering::SeqCst);
                }
            })
            .unwrap()
    };
    let sleeper_ident = sleeper.thread().ident().unwrap();
    let idents: Vec<u64> = workers
        .iter()
        .map(|w| w.thread().ident().unwrap())
        .collect();
    // 1.5 s of dumps, and on until the sleeper's wait was seen a few times (at most a
    // minute: a loaded machine may leave the observer few time slices).
    let start = Instant::now();
    let (mut dumps, mut seen_waits, mut sleeper_waits) = (0, 0, 0);
    while start.elapsed() < Duration::from_millis(1500)
        || (sleeper_waits < 5 && start.elapsed() < Duration::from_secs(60))
    {
        let before: Vec<u64> = ended.iter().map(|e| e.load(Ordering::SeqCst)).collect();
        let quiet_before = quiet_ended.load(Ordering::SeqCst);
        let d = observe::dump();
        dumps += 1;
        if let Some(w) = d.thread(sleeper_ident).and_then(|t| t.wait()) {
            sleeper_waits += 1;
            let since = w.since().saturating_duration_since(base).as_nanos() as u64;
            assert!(
                since >= quiet_before,
                "sleeper: a wait that ended before the dump began: {w:?}"
            );
            assert_eq!(w.kind(), WaitKind::Event, "sleeper: {w:?}");
            assert_eq!(w.object(), quiet.id(), "sleeper: {w:?}");
            assert_eq!(w.location().line(), quiet_line.load(Ordering::Relaxed));
            assert!(w.timed(), "sleeper: {w:?}");
        }
        for (i, &ident) in idents.iter().enumerate() {
            let Some(t) = d.thread(ident) else { continue };
            let Some(w) = t.wait() else { continue };
            seen_waits += 1;
            let since = w.since().saturating_duration_since(base).as_nanos() as u64;
            assert!(
                since >= before[i],
                "w{i}: a wait that ended before the dump began: {w:?}"
            );
            match w.kind() {
                WaitKind::Lock => {
                    assert_eq!(w.object(), locks[i / 2].id(), "w{i}");
                    assert_eq!(w.location().line(), lock_line.load(Ordering::Relaxed));
                    let partner = idents[i ^ 1];
                    assert!(w.owner_ident().is_none_or(|o| o == partner), "w{i}: {w:?}");
                }
                WaitKind::Event => {
                    assert_eq!(w.object(), events[i].id(), "w{i}");
                    assert_eq!(w.location().line(), event_line.load(Ordering::Relaxed));
                    assert_eq!(w.owner_ident(), None);
                    assert!(w.timed(), "w{i}: an event wait with a timeout");
                }
                other => panic!("w{i}: a wait it never makes: {other:?} {w:?}"),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for e in events.iter() {
        e.set();
    }
    for w in workers {
        w.join().unwrap();
    }
    sleeper.join().unwrap();
    assert!(dumps > 10, "{dumps} dumps");
    assert!(
        sleeper_waits >= 5,
        "the sleeper's wait seen in {sleeper_waits} of {dumps} dumps"
    );
    // The pairs' waits: checked above whenever seen (most runs see thousands); on a machine
    // whose cores are all busy they may end before they park and never be seen.
    eprintln!("{seen_waits} waits of the pairs seen in {dumps} dumps");
}

/// Replaces what changes from run to run (addresses, kernel ids, durations) by placeholders.
fn normalise(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("0x") {
            let n = r.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(r.len());
            out.push_str("0xADDR");
            rest = &r[n..];
        } else if let Some(r) = rest.strip_prefix("native_id=") {
            let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            out.push_str("native_id=N");
            rest = &r[n..];
        } else if let Some(r) = rest.strip_prefix(") for ") {
            let n = r.find('s').expect("seconds");
            assert!(r[..n].parse::<f64>().is_ok(), "{r}");
            out.push_str(") for Ts");
            rest = &r[n + 1..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[test]
fn the_dump_example_shows_the_pool_the_queue_the_condition_and_the_held_lock() {
    let exe = common::example_path("dump");
    let out = std::process::Command::new(exe).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let src = include_str!("../examples/dump.rs");
    let at = |marker: &str| {
        let (i, l) = src
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(marker))
            .unwrap();
        (i + 1, l)
    };
    let col = |line: &str, call: &str| line.find(call).unwrap() + 1;
    let (held, held_src) = at("main holds config");
    let (get, get_src) = at("while let Ok(Some(n)) = jobs.get()");
    let (wait, wait_src) = at("the waiter waits to be told");
    let f = "examples/dump.rs";
    let expected = format!(
        r#"threadkit thread dump: 4 threads

"MainThread" ident=1 native_id=N main
    running
    holds Lock "config" at 0xADDR, taken at {f}:{held}:{}

"crunch_0" ident=2 native_id=N
    blocked on Queue "jobs" at 0xADDR (queue get) for Ts
        at {f}:{get}:{}

"crunch_1" ident=3 native_id=N
    blocked on Queue "jobs" at 0xADDR (queue get) for Ts
        at {f}:{get}:{}

"waiter" ident=4 native_id=N
    blocked on Condition "ready" at 0xADDR (condition) for Ts
        at {f}:{wait}:{}

total: 55
"#,
        col(held_src, "guard()"),
        col(get_src, "get()"),
        col(get_src, "get()"),
        col(wait_src, "wait_for("),
    );
    assert_eq!(normalise(&text), expected, "{text}");
    // Both workers wait on one queue, and it is the same address in both lines.
    let addrs: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Queue \"jobs\""))
        .map(|l| l.split(' ').nth(7).unwrap())
        .collect();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0], addrs[1]);
}
