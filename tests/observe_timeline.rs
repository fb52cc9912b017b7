//! The timeline's exports from hand-made event lists: how waits pair into spans, the exact
//! Chrome trace JSON (with the `serde` feature), and the HTML page as a real browser renders
//! it (headless Chromium: skipped with a message when it is missing, except under `CI`,
//! where that fails).

use std::panic::Location;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use threadkit::observe::timeline::{Event, EventKind, Timeline};

fn ev(thread: u64, at_ns: u64, kind: EventKind) -> Event {
    Event {
        thread,
        at_ns,
        kind,
    }
}

fn start(name: &str) -> EventKind {
    EventKind::ThreadStart { name: name.into() }
}

fn block(
    kind: &'static str,
    object: u64,
    name: Option<&str>,
    location: &'static Location<'static>,
) -> EventKind {
    EventKind::Blocked {
        kind,
        object,
        name: name.map(Into::into),
        location,
    }
}

/// Three threads: main waits on a lock held by a worker, the worker waits on a condition and
/// ends, a third starts late, waits on a queue and is still waiting at the end.
fn sample(here: &'static Location<'static>) -> Timeline {
    Timeline::from_events(
        vec![
            ev(1, 0, start("MainThread")),
            ev(2, 500, start("worker <1>")),
            ev(1, 1_000, block("lock", 7, Some("db"), here)),
            ev(2, 1_500, block("condition", 8, None, here)),
            ev(2, 2_500, EventKind::Unblocked),
            ev(
                2,
                3_000,
                EventKind::Mark {
                    name: "batch done".into(),
                },
            ),
            ev(1, 3_500, EventKind::Unblocked),
            ev(2, 4_000, EventKind::ThreadEnd),
            ev(3, 4_200, start("late")),
            ev(3, 4_500, block("queue get", 9, Some("jobs"), here)),
        ],
        6_000,
    )
}

#[test]
fn waits_pair_into_spans_per_thread() {
    let here = Location::caller();
    let lanes = sample(here).lanes();
    type Summary<'a> = (u64, Option<&'a str>, Option<u64>, Option<u64>);
    let summary: Vec<Summary> = lanes
        .iter()
        .map(|l| (l.thread, l.name.as_deref(), l.start_ns, l.end_ns))
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some("MainThread"), Some(0), None),
            (2, Some("worker <1>"), Some(500), Some(4_000)),
            (3, Some("late"), Some(4_200), None),
        ]
    );
    let spans = |i: usize| -> Vec<(&str, u64, u64, u64, bool)> {
        lanes[i]
            .spans
            .iter()
            .map(|s| (s.kind, s.object, s.start_ns, s.end_ns, s.finished))
            .collect()
    };
    assert_eq!(spans(0), [("lock", 7, 1_000, 3_500, true)]);
    assert_eq!(spans(1), [("condition", 8, 1_500, 2_500, true)]);
    assert_eq!(spans(2), [("queue get", 9, 4_500, 6_000, false)]);
    assert_eq!(lanes[1].marks, [(3_000, "batch done".to_owned())]);
    assert_eq!(lanes[0].spans[0].name.as_deref(), Some("db"));
    assert_eq!(lanes[0].spans[0].location, here);
}

#[test]
fn odd_sequences_lose_no_known_wait() {
    let here = Location::caller();
    let t = Timeline::from_events(
        vec![
            // A wake-up from a wait that began before the recording: nothing known, left out.
            ev(5, 10, EventKind::Unblocked),
            // Blocking again without a recorded wake-up closes the first wait there.
            ev(5, 20, block("event", 1, None, here)),
            ev(5, 30, block("event", 2, None, here)),
            // The thread ends while waiting: the wait ends with it, unfinished.
            ev(5, 40, EventKind::ThreadEnd),
        ],
        100,
    );
    let lane = &t.lanes()[0];
    let spans: Vec<(u64, u64, u64, bool)> = lane
        .spans
        .iter()
        .map(|s| (s.object, s.start_ns, s.end_ns, s.finished))
        .collect();
    assert_eq!(spans, [(1, 20, 30, false), (2, 30, 40, false)]);
    assert_eq!(
        (lane.name.as_deref(), lane.start_ns, lane.end_ns),
        (None, None, Some(40))
    );
}

#[cfg(feature = "serde")]
#[test]
fn chrome_trace_json_is_exactly_the_expected_events() {
    use serde_json::json;

    let here = Location::caller();
    let at = format!("{}:{}", here.file(), here.line());
    let got: serde_json::Value = serde_json::from_str(&sample(here).to_chrome_json()).unwrap();
    let want = json!({
        "traceEvents": [
            {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "threadkit"}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "MainThread"}},
            {"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": 1, "args": {"sort_index": 0}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 2, "args": {"name": "worker <1>"}},
            {"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": 2, "args": {"sort_index": 1}},
            {"name": "thread_name", "ph": "M", "pid": 1, "tid": 3, "args": {"name": "late"}},
            {"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": 3, "args": {"sort_index": 2}},
            {"name": "thread start", "ph": "i", "pid": 1, "tid": 1, "ts": 0.0, "s": "t"},
            {"name": "lock db", "cat": "lock", "ph": "X", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.5,
             "args": {"object": 7, "name": "db", "location": at, "finished": true}},
            {"name": "thread start", "ph": "i", "pid": 1, "tid": 2, "ts": 0.5, "s": "t"},
            {"name": "condition #8", "cat": "condition", "ph": "X", "pid": 1, "tid": 2, "ts": 1.5,
             "dur": 1.0, "args": {"object": 8, "location": at, "finished": true}},
            {"name": "batch done", "ph": "i", "pid": 1, "tid": 2, "ts": 3.0, "s": "t"},
            {"name": "thread end", "ph": "i", "pid": 1, "tid": 2, "ts": 4.0, "s": "t"},
            {"name": "thread start", "ph": "i", "pid": 1, "tid": 3, "ts": 4.2, "s": "t"},
            {"name": "queue get jobs", "cat": "queue get", "ph": "X", "pid": 1, "tid": 3, "ts": 4.5,
             "dur": 1.5, "args": {"object": 9, "name": "jobs", "location": at, "finished": false}},
        ],
        "displayTimeUnit": "ms",
    });
    assert_eq!(got, want);
}

/// The browser to render with: `$THREADKIT_CHROMIUM`, or the first of the usual names on
/// `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("THREADKIT_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `extra` arguments; returns its stdout. Gives up
/// (failing the test) after two minutes.
fn run_chromium(browser: &Path, page: &Path, extra: &[&str], profile: &Path) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed: {status}");
    reader.join().unwrap().expect("chromium's output is text")
}

#[test]
fn html_page_has_a_lane_per_thread_in_a_real_browser() {
    let here = Location::caller();
    let timeline = sample(here);
    let html = timeline.to_html();
    // Self-contained: nothing fetched from anywhere.
    for needle in ["http://", "https://", "src=", "href=", "@import"] {
        assert!(!html.contains(needle), "the page refers to {needle}");
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("observe_timeline");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("timeline.html");
    std::fs::write(&page, &html).unwrap();

    let Some(browser) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but no chromium is installed: .ci/run installs Debian's `chromium`");
        }
        eprintln!(
            "SKIPPED html_page_has_a_lane_per_thread_in_a_real_browser: no chromium on PATH \
             (apt-get install chromium, or set THREADKIT_CHROMIUM)"
        );
        return;
    };
    let profile = dir.join("profile");
    let dom = run_chromium(&browser, &page, &["--dump-dom"], &profile);
    // The script ran and found one lane per thread.
    assert!(
        dom.contains("data-lanes=\"3\""),
        "the page's script did not count 3 lanes:\n{dom}"
    );
    for lane in timeline.lanes() {
        let opening = format!(
            "<g class=\"lane\" id=\"lane-{0}\" data-thread=\"{0}\">",
            lane.thread
        );
        assert!(
            dom.contains(&opening),
            "no lane for thread {}:\n{dom}",
            lane.thread
        );
    }
    for label in ["MainThread (1)", "worker &lt;1&gt; (2)", "late (3)"] {
        assert!(dom.contains(label), "no label {label}:\n{dom}");
    }
    for kind in ["lock", "condition", "queue get"] {
        assert!(
            dom.contains(&format!("<li data-kind=\"{kind}\">")),
            "no legend entry {kind}"
        );
    }
    assert_eq!(dom.matches("<rect class=\"wait").count(), 3);
    assert_eq!(dom.matches("class=\"wait unfinished\"").count(), 1);

    // A screenshot, kept beside the page for a person to look at.
    let shot = dir.join("timeline.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1240,320",
            "--hide-scrollbars",
        ],
        &profile,
    );
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
