//! The timeline as Chrome trace-event JSON (the "JSON Object Format" that Perfetto and
//! `chrome://tracing` open): thread names as `M` metadata events, waits as `X` complete
//! events, thread starts, ends and marks as thread-scoped `i` instant events. Times are in
//! microseconds since the recording started.

use serde::Serialize;
use serde_json::{Value, json};

use super::Timeline;

/// Every event is in this one process.
const PID: u32 = 1;

#[derive(Serialize)]
struct Trace {
    #[serde(rename = "traceEvents")]
    trace_events: Vec<TraceEvent>,
    #[serde(rename = "displayTimeUnit")]
    display_time_unit: &'static str,
}

#[derive(Serialize)]
struct TraceEvent {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'static str>,
    ph: &'static str,
    pid: u32,
    tid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    /// The scope of an instant event: "t", the thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Value::is_null")]
    args: Value,
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

fn meta(name: &str, tid: u64, args: Value) -> TraceEvent {
    TraceEvent {
        name: name.to_owned(),
        cat: None,
        ph: "M",
        pid: PID,
        tid,
        ts: None,
        dur: None,
        s: None,
        args,
    }
}

fn instant(name: String, tid: u64, at_ns: u64) -> TraceEvent {
    let ts = Some(micros(at_ns));
    TraceEvent {
        name,
        cat: None,
        ph: "i",
        pid: PID,
        tid,
        ts,
        dur: None,
        s: Some("t"),
        args: Value::Null,
    }
}

pub(super) fn render(t: &Timeline) -> String {
    let lanes = t.lanes();
    let mut events = vec![meta("process_name", 0, json!({ "name": "threadkit" }))];
    for (i, lane) in lanes.iter().enumerate() {
        let name = lane
            .name
            .clone()
            .unwrap_or_else(|| format!("thread {}", lane.thread));
        events.push(meta("thread_name", lane.thread, json!({ "name": name })));
        events.push(meta(
            "thread_sort_index",
            lane.thread,
            json!({ "sort_index": i }),
        ));
    }
    for lane in &lanes {
        let tid = lane.thread;
        // (time, order among equal times, event): starts first and ends last at a tie.
        let mut own: Vec<(u64, u8, TraceEvent)> = Vec::new();
        if let Some(at) = lane.start_ns {
            own.push((at, 0, instant("thread start".to_owned(), tid, at)));
        }
        for s in &lane.spans {
            let name = match &s.name {
                Some(n) => format!("{} {}", s.kind, n),
                None => format!("{} #{}", s.kind, s.object),
            };
            let mut args = json!({
                "object": s.object,
                "location": format!("{}:{}", s.location.file(), s.location.line()),
                "finished": s.finished,
            });
            if let Some(n) = &s.name {
                args["name"] = json!(n);
            }
            let event = TraceEvent {
                name,
                cat: Some(s.kind),
                ph: "X",
                pid: PID,
                tid,
                ts: Some(micros(s.start_ns)),
                dur: Some(micros(s.end_ns - s.start_ns)),
                s: None,
                args,
            };
            own.push((s.start_ns, 1, event));
        }
        for (at, name) in &lane.marks {
            own.push((*at, 1, instant(name.clone(), tid, *at)));
        }
        if let Some(at) = lane.end_ns {
            own.push((at, 2, instant("thread end".to_owned(), tid, at)));
        }
        own.sort_by_key(|&(at, order, _)| (at, order));
        events.extend(own.into_iter().map(|(_, _, e)| e));
    }
    let trace = Trace {
        trace_events: events,
        display_time_unit: "ms",
    };
    serde_json::to_string(&trace).expect("a trace of strings and numbers always serialises")
}
