//! The benchmark report generator, `benches/report.py`, on a committed fixture: criterion's
//! `raw.csv` files (the machine-readable output its user guide documents as stable; two
//! rounds, `criterion/rN/<group>/<function>/new/raw.csv`, three samples around each median a
//! real run measured) and CPython `--json` output under `tests/fixtures/bench_report/`. It must write a well-formed `BENCHMARKS.md`: a summary row
//! for every operation, numeric ratios, a floor row per family, and a gap list that agrees
//! with the table. The fixture also holds a queue matrix run (`matrix/matrix.csv`, the
//! `--csv` output of `benches/matrix.rs`, with made-up round numbers whose ratios are worked
//! out in the tests below). No benchmark runs here, and the chart (matplotlib) is skipped.
//!
//! The generator is Python: if `python3` is not installed these tests print why and pass, so
//! that `cargo test` works with only Rust installed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/bench_report")
}

/// Whether `python3` runs; prints the reason for skipping if not.
fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: `python3` is not on PATH (benches/report.py needs Python 3)");
    }
    ok
}

/// Runs `report.py --from <results> --no-chart --output <out>`.
fn render(results: &Path, out: &Path) -> Output {
    Command::new("python3")
        .arg(root().join("benches/report.py"))
        .arg("--from")
        .arg(results)
        .arg("--no-chart")
        .arg("--output")
        .arg(out)
        .output()
        .expect("run python3")
}

/// The lines of `md` between the heading `from` and the next `## ` heading.
fn section<'a>(md: &'a str, from: &str) -> Vec<&'a str> {
    md.lines()
        .skip_while(|l| *l != from)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

/// The cells of the row named `name` (its first cell) in the section under `heading`.
fn row_under(md: &str, heading: &str, name: &str) -> Vec<String> {
    let lines = section(md, heading);
    let row = lines
        .iter()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .unwrap_or_else(|| panic!("no row {name} under {heading}:\n{md}"));
    cells(row).into_iter().map(str::to_owned).collect()
}

/// The cells of a Markdown table row.
fn cells(row: &str) -> Vec<&str> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split(" | ").map(str::trim).collect()
}

fn number(cell: &str, what: &str, row: &str) -> f64 {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => v,
        _ => panic!("{what} `{cell}` is not a positive number in row:\n{row}"),
    }
}

/// The criterion groups in the fixture (directories under criterion/r1/).
fn fixture_groups() -> Vec<String> {
    let mut groups: Vec<String> = fs::read_dir(fixture().join("criterion/r1"))
        .expect("fixture criterion dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8")
        })
        .collect();
    groups.sort();
    groups
}

fn out_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

#[test]
fn fixture_renders_a_row_per_operation_with_numeric_ratios() {
    if !have_python() {
        return;
    }
    let out = out_path("bench_report_fixture.md");
    let _ = fs::remove_file(&out);
    let run = render(&fixture(), &out);
    assert!(
        run.status.success(),
        "report.py failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = fs::read_to_string(&out).expect("BENCHMARKS.md written");

    // The header: machine, mode, command.
    assert!(md.starts_with("# threadkit benchmarks\n"), "{md}");
    for needle in [
        "| CPU |",
        "| OS |",
        "| Rust |",
        "| Python |",
        "| Machine mode |",
    ] {
        assert!(md.contains(needle), "header lacks {needle}:\n{md}");
    }
    assert!(
        md.contains("python3 benches/report.py"),
        "no command in:\n{md}"
    );
    assert!(md.contains("mode**"), "no mode in:\n{md}");

    let summary = section(&md, "## Summary");
    let rows: Vec<&str> = summary
        .iter()
        .copied()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| operation"))
        .collect();
    let (floors, ops): (Vec<&str>, Vec<&str>) =
        rows.into_iter().partition(|l| l.contains("*floor:"));

    let groups = fixture_groups();
    let (limits, operations): (Vec<&String>, Vec<&String>) =
        groups.iter().partition(|g| g.starts_with("limit_"));
    assert!(operations.len() >= 5, "fixture too small: {groups:?}");
    for g in &limits {
        assert!(
            floors.iter().any(|r| r.contains(&format!("(`{g}`)"))),
            "no floor row for {g}"
        );
    }

    let mut behind = 0;
    for g in &operations {
        let mine: Vec<&&str> = ops
            .iter()
            .filter(|r| r.contains(&format!("(`{g}`)")))
            .collect();
        assert!(!mine.is_empty(), "no summary row for operation {g}");
        for row in mine {
            let c = cells(row);
            assert_eq!(c.len(), 10, "row has {} cells, not 10:\n{row}", c.len());
            assert!(c[1].starts_with("`threadkit"), "threadkit column: {row}");
            for t in [c[2], c[4]] {
                assert!(
                    [" ns", " µs", " ms", " M/s)"]
                        .iter()
                        .any(|u| t.ends_with(u)),
                    "time `{t}` has no unit in row:\n{row}"
                );
            }
            number(c[5], "threadkit / best peer", row);
            if c[6] != "—" {
                number(c[7], "CPython / threadkit", row);
            }
            if c[8] != "—" {
                number(c[8], "threadkit / floor", row);
            }
            if c[9].starts_with("**behind**") {
                behind += 1;
            } else {
                assert!(
                    c[9].is_empty()
                        || c[9].starts_with("met (")
                        || c[9].starts_with("within noise ("),
                    "target: {row}"
                );
            }
        }
    }
    // Every CPython entry of the fixture for a measured operation shows up somewhere.
    assert!(
        ops.iter().filter(|r| cells(r)[6] != "—").count() >= 4,
        "few CPython ratios:\n{md}"
    );

    // The gap list agrees with the rows marked behind.
    let gaps = section(&md, "## Gaps");
    let gap_rows = gaps
        .iter()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| operation"))
        .count();
    assert_eq!(gap_rows, behind, "gap list vs rows marked behind:\n{md}");
    if behind == 0 {
        assert!(gaps.iter().any(|l| l.starts_with("None")), "{md}");
    }

    // Every operation also gets its full table.
    for g in &operations {
        assert!(
            md.contains(&format!("(`{g}`)\n\n| implementation |")),
            "no detail table for {g}"
        );
    }
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// A fresh copy of the fixture, under `name` in the test output directory.
fn fixture_copy(name: &str) -> PathBuf {
    let copy = out_path(name);
    let _ = fs::remove_dir_all(&copy);
    copy_tree(&fixture(), &copy);
    copy
}

#[test]
fn a_broken_results_file_is_named_in_the_error() {
    if !have_python() {
        return;
    }
    let copy = fixture_copy("bench_report_broken");
    let group = fixture_groups()
        .into_iter()
        .find(|g| !g.starts_with("limit_"))
        .expect("an operation");
    let func = fs::read_dir(copy.join("criterion/r1").join(&group))
        .expect("group dir")
        .next()
        .expect("a function")
        .expect("entry")
        .path();
    let broken = func.join("new").join("raw.csv");
    fs::write(&broken, "{\"median\": ").expect("write");

    let out = out_path("bench_report_broken.md");
    let _ = fs::remove_file(&out);
    let run = render(&copy, &out);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "a broken file was accepted");
    assert!(
        err.contains("error") && err.contains(&broken.display().to_string()),
        "the error does not name {}:\n{err}",
        broken.display()
    );
    assert!(!out.exists(), "a report was written from broken data");
}

#[test]
fn a_results_file_with_a_wrong_unit_is_refused() {
    if !have_python() {
        return;
    }
    let copy = fixture_copy("bench_report_unit");
    let raw = copy.join("criterion/r2/event_is_set/threadkit/new/raw.csv");
    let text = fs::read_to_string(&raw).expect("the fixture has event_is_set/threadkit");
    // A custom criterion measurement (cycles, say) is not a time: no ratio may mix them.
    fs::write(&raw, text.replace(",ns,", ",cycles,")).expect("write");
    let out = out_path("bench_report_unit.md");
    let _ = fs::remove_file(&out);
    let run = render(&copy, &out);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "a non-time unit was accepted");
    assert!(
        err.contains("cycles") && err.contains(&raw.display().to_string()),
        "{err}"
    );
    assert!(!out.exists());
}

/// The version of `name` that Cargo.toml asks for (`name = "X"` or `name = { version = "X"`).
fn requirement(name: &str) -> String {
    let toml = fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let line = toml
        .lines()
        .find(|l| l.starts_with(&format!("{name} =")))
        .unwrap_or_else(|| panic!("{name} is not a dependency"));
    line.split('"').nth(1).expect("a quoted version").to_owned()
}

#[test]
fn crate_versions_are_the_ones_threadkit_resolves() {
    if !have_python() {
        return;
    }
    let run = Command::new("python3")
        .arg(root().join("benches/report.py"))
        .arg("--versions")
        .output()
        .expect("run python3");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Cargo.lock may hold a crate twice (lock_api 0.4 for a peer, 0.5 for threadkit): the
    // report names the version threadkit's own requirement resolved to.
    for name in ["lock_api", "parking_lot_core", "criterion"] {
        let want = format!("\"{name}\": \"{}.", requirement(name));
        assert!(out.contains(&want), "no {want} in:\n{out}");
    }
}

/// Renders the fixture and returns the Markdown.
fn render_fixture(name: &str) -> String {
    render_ok(&fixture(), name)
}

/// Renders `results` into the output file `name` and returns the Markdown; the run must
/// succeed.
fn render_ok(results: &Path, name: &str) -> String {
    let out = out_path(name);
    let _ = fs::remove_file(&out);
    let run = render(results, &out);
    assert!(
        run.status.success(),
        "report.py failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    fs::read_to_string(&out).expect("BENCHMARKS.md written")
}

/// The table rows (not header or rule) under the heading `from`, up to the next heading.
fn table_under<'a>(md: &'a str, from: &str) -> Vec<&'a str> {
    md.lines()
        .skip_while(|l| *l != from)
        .skip(1)
        .take_while(|l| !l.starts_with('#') && !l.starts_with("<details>"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| P x C") && !l.starts_with("|---"))
        .collect()
}

#[test]
fn the_queue_matrix_shows_the_median_per_round_ratios_and_marks_gaps() {
    if !have_python() {
        return;
    }
    let md = render_fixture("bench_report_matrix.md");
    // FIFO 1x1 capacity 1, from matrix.csv: round 0 threadkit 2.0 M items/s against the best
    // peer's (std_mpsc) 1.6 M = 1.25, CPU 750 ns/item against the least (std_mpsc) 1000 ns =
    // 0.75; round 1: 3.1 M / 2.0 M = 1.55, 550 / 1000 = 0.55. Medians: 1.40 and 0.65.
    // Capacity 16: 0.5 M / 2.0 M = 0.25 and 0.9 M / 2.0 M = 0.45 -> 0.35, below 1: a gap in
    // bold; CPU 4000 / 500 = 8 and 3000 / 500 = 6 -> 7.00. 2x2 unbounded: 4 M / 2 M = 2.00,
    // CPU 400 / 800 = 0.50; threadkit's SimpleQueue (`threadkit_simple`, 8 M, 200 ns) is no
    // peer (as one it would make 0.50 / 2.00). The other cells were not run.
    let fifo = table_under(&md, "### FIFO `Queue`");
    assert_eq!(
        fifo,
        [
            "| 1 x 1 | 1.40 / 0.65 | — | — | **0.35** / 7.00 | — | — | — |",
            "| 2 x 2 | — | — | — | — | — | — | 2.00 / 0.50 |",
            "| 4 x 4 | — | — | — | — | — | — | — |",
            "| 8 x 8 | — | — | — | — | — | — | — |",
        ],
        "{md}"
    );
    // LIFO 2x2 unbounded against parking_lot's Mutex<Vec>: 4/2 = 2.0 and 3/2 = 1.5 -> 1.75;
    // CPU 300/600 = 0.5 and 400/500 = 0.8 -> 0.65. No gap: not bold.
    let lifo = table_under(&md, "### `LifoQueue`");
    assert_eq!(lifo.len(), 4, "{md}");
    assert_eq!(
        lifo[1], "| 2 x 2 | — | — | — | — | — | — | 1.75 / 0.65 |",
        "{md}"
    );
    // No priority cell in the fixture: no table for it.
    assert!(!md.contains("### `PriorityQueue`"), "{md}");
    // Each implementation's medians, under the table.
    assert!(
        md.contains("| 1x1 cap 1 | `std_mpsc` | `threadkit` | 2.55 M | 650 ns |"),
        "{md}"
    );
    assert!(
        md.contains("| 2x2 unbounded | `crossbeam` | `threadkit_simple` | 8.00 M | 200 ns |"),
        "{md}"
    );

    // The oversubscribed rows: the 16-thread mutex against parking_lot's (20 M ops/s in both
    // rounds): 10/20 = 0.5 and 12/20 = 0.6 -> 0.55, a gap; CPU 200/100 and 150/100 -> 1.75.
    let row = |name: &str| row_under(&md, "## Oversubscribed", name);
    let mutex = row("`Mutex<u64>` += 1, 16 threads");
    assert_eq!(mutex[3..], ["`parking_lot`", "**0.55**", "1.75"], "{md}");
    let barrier = row("`Barrier`, 8 parties");
    assert_eq!(barrier[3..], ["`std`", "2.00", "0.50"], "{md}");

    // The large backlogs, in their own section: the priority queue against parking_lot's
    // (10 M items/s in both rounds): 20/10 = 2.0 and 12/10 = 1.2 -> 1.60; CPU 70/140 = 0.5
    // and 84/140 = 0.6 -> 0.55. The FIFO queue at half crossbeam's rate: a gap.
    let row = |name: &str| row_under(&md, "## Large backlogs", name);
    let priority = row("`PriorityQueue` 1x1 unbounded, 2 000 000 items");
    assert_eq!(priority[3..], ["`parking_lot`", "1.60", "0.55"], "{md}");
    let fifo = row("FIFO `Queue` 1x1 unbounded, 2 000 000 items");
    assert_eq!(fifo[3..], ["`crossbeam`", "**0.50**", "2.00"], "{md}");
    assert!(
        !section(&md, "## Oversubscribed")
            .iter()
            .any(|l| l.contains("2 000 000 items")),
        "{md}"
    );

    // The gap list names exactly the cells below 1.
    let gaps = section(&md, "## Gaps").join("\n");
    assert!(
        gaps.contains("below the best peer's (3): fifo 1x1 cap 16 (0.35), oversubscribed: `Mutex<u64>` += 1, 16 threads (0.55), large backlogs: FIFO `Queue` 1x1 unbounded, 2 000 000 items (0.50)."),
        "{gaps}"
    );
}

#[test]
fn matrix_rounds_with_a_slow_cache_line_are_shown_apart() {
    if !have_python() {
        return;
    }
    // The fixture's CSV predates the cache-line column: no paragraph about it.
    let plain = render_fixture("bench_report_matrix_plain.md");
    assert!(!plain.contains("Before each round"), "{plain}");

    // The same runs with the columns: 60 ns before and after every round but two. Round 1 of
    // FIFO 1x1 capacity 1 ran at 400 ns from start to end; round 0 of capacity 16 began at 60
    // and ended at 400. The median is 60, so "far" is above 120 ns: the first of those rounds;
    // the second is neither near nor far. That cell's ratios (see the test above): 1.25 in
    // round 0, 1.55 in round 1.
    let copy = fixture_copy("bench_report_matrix_line");
    let csv = copy.join("matrix/matrix.csv");
    let text = fs::read_to_string(&csv).expect("the fixture has matrix/matrix.csv");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let mut out = vec![format!("{header},line_ns,line_after_ns")];
    for line in lines {
        let round = line.split(',').nth(6);
        let far = line.starts_with("fifo,1,1,1,") && round == Some("1");
        let changed = line.starts_with("fifo,1,1,16,") && round == Some("0");
        let (before, after) = match (far, changed) {
            (true, _) => (400, 400),
            (_, true) => (60, 400),
            _ => (60, 60),
        };
        out.push(format!("{line},{before},{after}"));
    }
    fs::write(&csv, out.join("\n") + "\n").expect("write");
    let md = render_ok(&copy, "bench_report_matrix_line.md");
    assert!(
        md.contains("lowest 60 ns, median 60 ns, highest 400 ns")
            && md.contains(
                "1 of them ran above 2 x the median (120 ns) from start to end (1 more began \
                 on one side of it and ended on the other)"
            ),
        "{md}"
    );
    let rows: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| cell | near rounds"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .collect();
    // Only the cell that ran in both phases is listed.
    assert_eq!(rows, ["| fifo 1x1 cap 1 | 1.25 (1) | 1.55 (1) |"], "{md}");
    // The matrix's own tables are as without the column: medians over all rounds.
    assert_eq!(
        table_under(&md, "### FIFO `Queue`")[0],
        "| 1 x 1 | 1.40 / 0.65 | — | — | **0.35** / 7.00 | — | — | — |",
        "{md}"
    );
}

#[test]
fn a_new_family_gets_its_peers_and_target() {
    if !have_python() {
        return;
    }
    let md = render_fixture("bench_report_rwlock.md");
    let summary = section(&md, "## Summary");
    let row = summary
        .iter()
        .find(|l| l.contains("(`rwlock_uncontended_read_pair`)"))
        .unwrap_or_else(|| panic!("no RwLock row:\n{md}"));
    let c = cells(row);
    // threadkit 10 ns and 11 ns against the faster peer per round (parking_lot 12 ns, then
    // 10 ns; std 20 ns): 0.833 and 1.1 -> 0.97, under the target of 1.
    assert_eq!(c[1], "`threadkit_rwlock`", "{row}");
    assert_eq!(c[3], "`parking_lot_rwlock`", "{row}");
    assert_eq!(c[5], "0.97", "{row}");
    assert!(
        c[9].starts_with("met (0.97; <= faster of std, parking_lot)"),
        "{row}"
    );
    assert!(summary.contains(&"### RwLock"), "{md}");
}

#[test]
fn a_broken_matrix_csv_is_named_with_its_line() {
    if !have_python() {
        return;
    }
    let copy = fixture_copy("bench_report_matrix_broken");
    let csv = copy.join("matrix/matrix.csv");
    let text = fs::read_to_string(&csv).expect("the fixture has matrix/matrix.csv");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[3] = lines[3].replace("flume,", "flume,fast");
    fs::write(&csv, lines.join("\n")).expect("write");
    let out = out_path("bench_report_matrix_broken.md");
    let _ = fs::remove_file(&out);
    let run = render(&copy, &out);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "a broken matrix CSV was accepted");
    assert!(
        err.contains(&csv.display().to_string()) && err.contains("line 4"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_matrix_only_run_renders_without_criterion_results() {
    if !have_python() {
        return;
    }
    let copy = out_path("bench_report_matrix_only");
    let _ = fs::remove_dir_all(&copy);
    fs::create_dir_all(copy.join("matrix")).expect("mkdir");
    fs::copy(fixture().join("meta.json"), copy.join("meta.json")).expect("copy");
    fs::copy(
        fixture().join("matrix/matrix.csv"),
        copy.join("matrix/matrix.csv"),
    )
    .expect("copy");
    let md = render_ok(&copy, "bench_report_matrix_only.md");
    assert!(
        md.contains("| 1 x 1 | 1.40 / 0.65 | — | — | **0.35** / 7.00 |"),
        "{md}"
    );

    // Without the matrix either, there is nothing to report: an error, not an empty report.
    fs::remove_dir_all(copy.join("matrix")).expect("rm");
    let out = out_path("bench_report_matrix_only.md");
    let _ = fs::remove_file(&out);
    let run = render(&copy, &out);
    assert!(!run.status.success(), "an empty results dir was accepted");
    assert!(String::from_utf8_lossy(&run.stderr).contains("no criterion results"));
    assert!(!out.exists());
}

#[test]
fn a_matrix_from_another_machine_gets_its_own_tables() {
    if !have_python() {
        return;
    }
    let out = out_path("bench_report_matrix_also.md");
    let _ = fs::remove_file(&out);
    let run = Command::new("python3")
        .arg(root().join("benches/report.py"))
        .arg("--from")
        .arg(fixture())
        .arg("--no-chart")
        .arg("--output")
        .arg(&out)
        .arg("--matrix-also")
        .arg("16 cores")
        .arg(fixture().join("matrix/matrix.csv"))
        .output()
        .expect("run python3");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let md = fs::read_to_string(&out).expect("written");
    // This run's table and the other machine's, each from its own CSV (here the same one).
    for heading in ["### FIFO `Queue`", "### FIFO `Queue` on 16 cores"] {
        assert_eq!(
            table_under(&md, heading)[0],
            "| 1 x 1 | 1.40 / 0.65 | — | — | **0.35** / 7.00 | — | — | — |",
            "{heading}:\n{md}"
        );
    }
    assert!(md.contains("\n## Oversubscribed on 16 cores\n"), "{md}");
    assert!(md.contains("\n## Large backlogs on 16 cores\n"), "{md}");
    let gaps = section(&md, "## Gaps").join("\n");
    assert!(
        gaps.contains("rows on 16 cores where threadkit's throughput is below the best peer's (3)"),
        "{gaps}"
    );
}

/// `report.py --from <results> --show-confirm`: what a second look would measure again.
fn show_confirm(results: &Path) -> serde_json::Value {
    let run = Command::new("python3")
        .arg(root().join("benches/report.py"))
        .arg("--from")
        .arg(results)
        .arg("--show-confirm")
        .output()
        .expect("run python3");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("JSON")
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_str().expect("a string"))
        .collect()
}

#[test]
fn the_second_look_takes_the_rows_within_15_percent_of_their_targets_on_either_side() {
    if !have_python() {
        return;
    }
    let plan = show_confirm(&fixture());
    // Criterion groups: in are the rows over their target (condition 1.03, Lock 1.01), met
    // within 15% (contended 0.93, RLock 0.90, rwlock read pair 0.98, bounded semaphore 0.49
    // of a 0.5 target); out are the rows met by more (current_thread 3.81 ns of 5, the
    // queue rows 0.73 and 0.61, Event 0.12, the plain semaphore alone 0.42 of 0.5).
    assert_eq!(
        strings(&plan["groups"]),
        [
            "condition_ping_pong_round_trip",
            "contended_2_threads",
            "rlock_uncontended_pair",
            "rwlock_uncontended_read_pair",
            "semaphore_acquire_release",
            "uncontended_pair",
        ]
    );
    // Matrix: the cells and rows below parity (0.35, 0.55, 0.50), not those far above it
    // (1.40, 1.75, 2.00, 1.60).
    assert_eq!(
        strings(&plan["cells"]),
        [
            "fifo 1x1 cap 16",
            "backlog_fifo_1x1",
            "oversubscribed_mutex"
        ]
    );

    // Just above parity is in (1.10: cap 2), further above is out (1.20: cap 10).
    let dir = out_path("bench_report_confirm_band");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("matrix")).expect("mkdir");
    fs::copy(fixture().join("meta.json"), dir.join("meta.json")).expect("copy");
    let mut csv =
        String::from("kind,producers,consumers,cap,imp,items_per_s,round,items,wall_ns,cpu_ns\n");
    for (cap, tk) in [(2, 1_100_000.0), (10, 1_200_000.0)] {
        for round in 0..2 {
            for (imp, rate) in [("threadkit", tk), ("crossbeam", 1_000_000.0)] {
                csv += &format!("fifo,1,1,{cap},{imp},{rate},{round},1000,1000000,1000000\n");
            }
        }
    }
    fs::write(dir.join("matrix/matrix.csv"), csv).expect("write");
    let plan = show_confirm(&dir);
    assert_eq!(strings(&plan["cells"]), ["fifo 1x1 cap 2"]);
    assert!(strings(&plan["groups"]).is_empty());
}

#[test]
fn the_report_says_what_it_measured_again() {
    if !have_python() {
        return;
    }
    let dir = fixture_copy("bench_report_confirmed");
    let meta_path = dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&meta_path).expect("read")).expect("JSON");
    meta["confirm"] = serde_json::json!({
        "rounds": 2,
        "groups": ["uncontended_pair", "contended_2_threads"],
        "cells": ["fifo 1x1 cap 16"],
        "matrix_rounds": 4
    });
    fs::write(&meta_path, meta.to_string()).expect("write");
    let md = render_ok(&dir, "bench_report_confirmed.md");
    let header = md
        .lines()
        .find(|l| l.starts_with("Measured by"))
        .expect("header");
    assert!(
        header.contains(
            "then each operation and matrix row within 15% of its target measured 2 more times"
        ),
        "{header}"
    );
    let gaps = section(&md, "## Gaps");
    assert_eq!(
        gaps[1],
        "Measured again, because after the rounds their ratio lay within 15% of the target on \
         either side: 2 operations (`uncontended_pair`, `contended_2_threads`) in 2 more rounds; \
         1 matrix cell or row (fifo 1x1 cap 16) in 4 more rounds of the matrix. Their figures \
         below and above are medians over all their runs.",
        "{md}"
    );

    // A second look that found nothing near the line says so; a run without one says nothing.
    meta["confirm"] = serde_json::json!({"rounds": 2, "groups": [], "cells": []});
    fs::write(&meta_path, meta.to_string()).expect("write");
    let md = render_ok(&dir, "bench_report_confirmed.md");
    assert!(
        section(&md, "## Gaps")[1].starts_with("Measured again: nothing"),
        "{md}"
    );
    let plain = render_fixture("bench_report_not_confirmed.md");
    assert!(!plain.contains("Measured again"), "{plain}");
    assert!(!plain.contains("more time"), "{plain}");
}
