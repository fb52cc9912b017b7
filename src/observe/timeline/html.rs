//! The timeline as one self-contained HTML page: inline CSS, an SVG drawn here, and a few
//! lines of script (hover highlight, a tooltip, and a count of the lanes it found, which the
//! headless-browser test reads back). Nothing comes from the network.

use std::fmt::Write;

use super::{Lane, Timeline};

/// Left column (thread names), plot width, lane height, top margin (axis), in pixels.
const LABEL_W: f64 = 230.0;
const PLOT_W: f64 = 940.0;
const LANE_H: f64 = 30.0;
const TOP: f64 = 34.0;

/// The colour of each primitive kind the crate records; other kinds get a colour from a
/// hash of their name.
const PALETTE: [(&str, &str); 14] = [
    ("lock", "#d62728"),
    ("rlock", "#ff7f0e"),
    ("condition", "#1f77b4"),
    ("semaphore", "#9467bd"),
    ("event", "#2ca02c"),
    ("barrier", "#8c564b"),
    ("join", "#e377c2"),
    ("start", "#7f7f7f"),
    ("sleep", "#bcbd22"),
    ("queue get", "#17becf"),
    ("queue put", "#0b6e78"),
    ("queue join", "#6a994e"),
    ("future", "#f4a261"),
    ("mutex", "#a4161a"),
];

fn colour(kind: &str) -> String {
    if let Some((_, c)) = PALETTE.iter().find(|(k, _)| *k == kind) {
        return (*c).to_owned();
    }
    let h = kind.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!("hsl({}, 55%, 45%)", h % 360)
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A duration for people: ns, µs, ms or s, three significant digits or so.
pub(super) fn human(ns: u64) -> String {
    let f = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", f / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", f / 1e6)
    } else {
        format!("{:.3} s", f / 1e9)
    }
}

/// A tick step from the 1-2-5 series giving at most about eight ticks over `end` ns.
fn tick_step(end: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if end / s <= 8 {
                return s;
            }
        }
        step = step.saturating_mul(10);
    }
}

fn lane_label(lane: &Lane) -> String {
    match &lane.name {
        Some(n) => format!("{n} ({})", lane.thread),
        None => format!("thread {}", lane.thread),
    }
}

pub(super) fn render(t: &Timeline) -> String {
    let lanes = t.lanes();
    let end = t.end_ns().max(1);
    let x = |ns: u64| LABEL_W + PLOT_W * (ns.min(end) as f64) / (end as f64);
    let height = TOP + LANE_H * lanes.len() as f64 + 10.0;
    let width = LABEL_W + PLOT_W + 20.0;
    let waits: usize = lanes.iter().map(|l| l.spans.len()).sum();

    let mut kinds: Vec<&str> = lanes
        .iter()
        .flat_map(|l| l.spans.iter().map(|s| s.kind))
        .collect();
    kinds.sort_by_key(|k| {
        (
            PALETTE
                .iter()
                .position(|(p, _)| p == k)
                .unwrap_or(usize::MAX),
            *k,
        )
    });
    kinds.dedup();

    let mut h = String::new();
    h.push_str(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<title>threadkit timeline</title>\n<style>\n",
        "body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fff}\n",
        "h1{font-size:18px;margin:0 0 6px}\n",
        "#summary{margin:0 0 8px;color:#555}\n",
        "#legend{list-style:none;padding:0;margin:0 0 10px;display:flex;flex-wrap:wrap;gap:14px}\n",
        "#legend li{display:flex;align-items:center;gap:5px}\n",
        ".swatch{display:inline-block;width:14px;height:14px;border-radius:2px}\n",
        "svg text{font:12px system-ui,sans-serif;fill:#222}\n",
        ".axis line{stroke:#ddd}.axis text{fill:#777;font-size:11px}\n",
        ".alive{fill:#e8e8e8}.lane:hover .alive{fill:#d6e4f5}\n",
        ".wait{stroke:#0004;stroke-width:.5}.wait.unfinished{stroke:#000;stroke-dasharray:3 2}\n",
        ".wait:hover{stroke:#000;stroke-width:1.5}\n",
        ".mark{stroke:#000;stroke-width:1.5}\n",
        "#tip{position:fixed;display:none;pointer-events:none;background:#222;color:#fff;",
        "padding:4px 7px;border-radius:3px;font-size:12px;white-space:pre}\n",
        "</style>\n</head>\n",
    ));
    let _ = write!(
        h,
        "<body data-threads=\"{}\">\n<h1>threadkit timeline</h1>\n<p id=\"summary\">{} threads, {} waits, over {}</p>\n<ul id=\"legend\">\n",
        lanes.len(),
        lanes.len(),
        waits,
        esc(&human(t.end_ns()))
    );
    for k in &kinds {
        let _ = writeln!(
            h,
            "<li data-kind=\"{k}\"><span class=\"swatch\" style=\"background:{c}\"></span>{k}</li>",
            k = esc(k),
            c = colour(k)
        );
    }
    if kinds.is_empty() {
        h.push_str("<li>no waits recorded</li>\n");
    }
    h.push_str("</ul>\n");
    let _ = writeln!(
        h,
        "<svg id=\"timeline\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );

    h.push_str("<g class=\"axis\">\n");
    let step = tick_step(end);
    let mut tick = 0;
    while tick <= end {
        let tx = x(tick);
        let _ = writeln!(
            h,
            "<line x1=\"{tx:.1}\" y1=\"{y1}\" x2=\"{tx:.1}\" y2=\"{y2:.1}\"/><text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
            y1 = TOP - 6.0,
            y2 = height - 8.0,
            ty = TOP - 12.0,
            label = esc(&human(tick))
        );
        tick = match tick.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    h.push_str("</g>\n");

    for (i, lane) in lanes.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        let label = esc(&lane_label(lane));
        let _ = writeln!(
            h,
            "<g class=\"lane\" id=\"lane-{id}\" data-thread=\"{id}\">\n<text class=\"lane-name\" x=\"6\" y=\"{ty:.1}\">{label}</text>",
            id = lane.thread,
            ty = y + LANE_H / 2.0 + 4.0
        );
        let (from, to) = (lane.start_ns.unwrap_or(0), lane.end_ns.unwrap_or(end));
        let _ = writeln!(
            h,
            "<rect class=\"alive\" x=\"{ax:.1}\" y=\"{ay:.1}\" width=\"{aw:.1}\" height=\"{ah:.1}\"><title>{label}: {life}</title></rect>",
            ax = x(from),
            ay = y + 4.0,
            aw = (x(to) - x(from)).max(1.0),
            ah = LANE_H - 8.0,
            life = esc(&format!(
                "{} to {}",
                lane.start_ns
                    .map_or("before the recording".to_owned(), |s| format!(
                        "started at {}",
                        human(s)
                    )),
                lane.end_ns.map_or("still running".to_owned(), |e| format!(
                    "ended at {}",
                    human(e)
                ))
            )),
        );
        for s in &lane.spans {
            let what = match &s.name {
                Some(n) => format!("{} \"{}\" (id {})", s.kind, n, s.object),
                None => format!("{} id {}", s.kind, s.object),
            };
            let title = format!(
                "{}\nblocked on {}\nat {}:{}\nfrom {} for {}{}",
                lane_label(lane),
                what,
                s.location.file(),
                s.location.line(),
                human(s.start_ns),
                human(s.end_ns - s.start_ns),
                if s.finished { "" } else { " (still waiting)" }
            );
            let _ = writeln!(
                h,
                "<rect class=\"wait{unf}\" data-kind=\"{k}\" fill=\"{c}\" x=\"{sx:.1}\" y=\"{sy:.1}\" width=\"{sw:.1}\" height=\"{sh:.1}\"><title>{title}</title></rect>",
                unf = if s.finished { "" } else { " unfinished" },
                k = esc(s.kind),
                c = colour(s.kind),
                sx = x(s.start_ns),
                sy = y + 7.0,
                sw = (x(s.end_ns) - x(s.start_ns)).max(1.0),
                sh = LANE_H - 14.0,
                title = esc(&title),
            );
        }
        for (at, name) in &lane.marks {
            let _ = writeln!(
                h,
                "<line class=\"mark\" x1=\"{mx:.1}\" y1=\"{my1:.1}\" x2=\"{mx:.1}\" y2=\"{my2:.1}\"><title>{title}</title></line>",
                mx = x(*at),
                my1 = y + 2.0,
                my2 = y + LANE_H - 2.0,
                title = esc(&format!("{}\n{} at {}", lane_label(lane), name, human(*at))),
            );
        }
        h.push_str("</g>\n");
    }
    h.push_str("</svg>\n<div id=\"tip\"></div>\n");
    h.push_str(concat!(
        "<script>\n",
        "(function () {\n",
        "  var lanes = document.querySelectorAll('#timeline g.lane');\n",
        "  document.body.setAttribute('data-lanes', String(lanes.length));\n",
        "  var tip = document.getElementById('tip');\n",
        "  document.querySelectorAll('#timeline rect.wait, #timeline line.mark').forEach(function (el) {\n",
        "    var title = el.querySelector('title');\n",
        "    var text = title ? title.textContent : '';\n",
        "    el.addEventListener('mousemove', function (ev) {\n",
        "      tip.textContent = text;\n",
        "      tip.style.display = 'block';\n",
        "      tip.style.left = (ev.clientX + 12) + 'px';\n",
        "      tip.style.top = (ev.clientY + 12) + 'px';\n",
        "    });\n",
        "    el.addEventListener('mouseleave', function () { tip.style.display = 'none'; });\n",
        "  });\n",
        "})();\n",
        "</script>\n</body>\n</html>\n",
    ));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_few_and_round() {
        assert_eq!(tick_step(1), 1);
        assert_eq!(tick_step(80), 10);
        assert_eq!(tick_step(10_000_000), 2_000_000);
        assert!(tick_step(u64::MAX) > 0);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(999), "999 ns");
        assert_eq!(human(1_500), "1.5 µs");
        assert_eq!(human(2_500_000), "2.50 ms");
        assert_eq!(human(3_000_000_000), "3.000 s");
    }

    #[test]
    fn every_known_kind_has_its_own_colour_and_others_get_one() {
        let mut seen: Vec<String> = PALETTE.iter().map(|(k, _)| colour(k)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), PALETTE.len());
        assert_eq!(colour("custom"), colour("custom"));
        assert!(colour("custom").starts_with("hsl("));
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
