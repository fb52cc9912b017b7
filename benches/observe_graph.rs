//! The observability layer's graph algorithms (`threadkit::observe::graph`).
//!
//! - A deadlock search over a 1 000-thread wait-for snapshot: 500 threads holding a lock
//!   each, 496 waiting on those locks or on owner-less objects (conditions, events), and one
//!   four-thread cycle; built from the edges and searched, as a report would. Beside it the
//!   worst ordinary case, all 1 000 threads in one ring. Issue 15 asks for low milliseconds.
//! - Lock-order checking: inserting an edge the graph already knows, in a graph of 1 000
//!   locks and 3 000 edges, beside a bare lookup in std's `HashSet` (the floor: "one hash
//!   lookup, no traversal").
//!
//! Short run: `cargo bench --bench observe_graph -- --warm-up-time 1 --measurement-time 2`.

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use threadkit::observe::graph::{LockOrderGraph, NodeId, WaitForGraph};

/// splitmix64, so every run builds the same graphs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// A list of edges: (thread, object) waits or (object, thread) holds.
type Edges = Vec<(u64, u64)>;

/// The edges of the 1 000-thread snapshot: the waits and the holds.
fn snapshot_edges() -> (Edges, Edges) {
    let mut rng = Rng(7);
    let holds: Vec<(u64, u64)> = (0..500).map(|t| (10_000 + t, t)).collect();
    let mut waits = vec![(0, 10_001), (1, 10_002), (2, 10_003), (3, 10_000)];
    for t in 504..1_000 {
        let object = if t % 3 == 0 {
            20_000 + t % 7
        } else {
            10_000 + 4 + rng.below(496)
        };
        waits.push((t, object));
    }
    (waits, holds)
}

fn build(waits: &[(u64, u64)], holds: &[(u64, u64)]) -> WaitForGraph {
    let mut g = WaitForGraph::new();
    for &(t, o) in waits {
        g.waits_on(t, o);
    }
    for &(o, t) in holds {
        g.held_by(o, t);
    }
    g
}

fn wait_for(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe_graph/wait_for_1000_threads");
    let (waits, holds) = snapshot_edges();
    let g = build(&waits, &holds);
    assert_eq!(g.cycles().len(), 1);
    group.bench_function("build_and_search", |b| {
        b.iter(|| black_box(build(black_box(&waits), black_box(&holds))).cycles())
    });
    group.bench_function("search", |b| b.iter(|| black_box(&g).cycles()));
    let mut ring = WaitForGraph::new();
    for t in 0..1_000 {
        ring.waits_on(t, t);
        ring.held_by(t, (t + 1) % 1_000);
    }
    assert_eq!(ring.cycles()[0].len(), 2_000);
    group.bench_function("search_one_ring", |b| b.iter(|| black_box(&ring).cycles()));
    group.finish();
}

fn lock_order(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe_graph/lock_order_known_edge");
    let mut rng = Rng(11);
    let mut g = LockOrderGraph::new();
    let ids: Vec<NodeId> = (0..1_000).map(|_| g.add_node()).collect();
    let mut known = Vec::new();
    while known.len() < 3_000 {
        let (a, b) = (rng.below(1_000) as usize, rng.below(1_000) as usize);
        if g.insert_edge(ids[a], ids[b]).is_ok() && !known.contains(&(a, b)) {
            known.push((a, b));
        }
    }
    g.check_invariants().unwrap();
    let set: HashSet<(u64, u64)> = known.iter().map(|&(a, b)| (a as u64, b as u64)).collect();
    let mut i = 0;
    group.bench_function("LockOrderGraph::insert_edge", |b| {
        b.iter(|| {
            i = (i + 1) % known.len();
            let (x, y) = known[i];
            black_box(g.insert_edge(ids[x], ids[y])).unwrap()
        })
    });
    let mut i = 0;
    group.bench_function("std HashSet::contains", |b| {
        b.iter(|| {
            i = (i + 1) % known.len();
            let (x, y) = known[i];
            assert!(black_box(&set).contains(&(x as u64, y as u64)))
        })
    });
    group.finish();
}

criterion_group!(benches, wait_for, lock_order);
criterion_main!(benches);
