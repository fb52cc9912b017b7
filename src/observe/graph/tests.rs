//! The graph algorithms against brute-force models on random graphs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use super::*;

/// splitmix64: a small deterministic generator, so every failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Every elementary cycle by trying every simple path from each start through larger
/// nodes only: exponential, obviously right.
fn brute_cycles(adj: &[Vec<usize>]) -> BTreeSet<Vec<usize>> {
    fn extend(adj: &[Vec<usize>], path: &mut Vec<usize>, out: &mut BTreeSet<Vec<usize>>) {
        let (s, v) = (path[0], *path.last().unwrap());
        for &w in &adj[v] {
            if w == s {
                out.insert(path.clone());
            } else if w > s && !path.contains(&w) {
                path.push(w);
                extend(adj, path, out);
                path.pop();
            }
        }
    }
    let mut out = BTreeSet::new();
    for s in 0..adj.len() {
        extend(adj, &mut vec![s], &mut out);
    }
    out
}

fn random_digraph(rng: &mut Rng, n: usize, percent: u64) -> Vec<Vec<usize>> {
    (0..n)
        .map(|_| (0..n).filter(|_| rng.chance(percent)).collect())
        .collect()
}

#[test]
fn simple_cycles_match_the_brute_force_model() {
    let mut rng = Rng(1);
    for round in 0..3000 {
        let n = 1 + rng.below(8) as usize;
        let percent = [10, 25, 40, 70][round % 4];
        let adj = random_digraph(&mut rng, n, percent);
        let want = brute_cycles(&adj);
        let got = simple_cycles(&adj, usize::MAX);
        let got_set: BTreeSet<Vec<usize>> = got.iter().cloned().collect();
        assert_eq!(
            got.len(),
            got_set.len(),
            "a cycle reported twice in {adj:?}"
        );
        assert_eq!(got_set, want, "graph {adj:?}");
        // A limit returns that many of the same cycles.
        let limit = rng.below(want.len() as u64 + 2) as usize;
        let some = simple_cycles(&adj, limit);
        assert_eq!(
            some.len(),
            limit.min(want.len()),
            "limit {limit} in {adj:?}"
        );
        assert!(
            some.iter().all(|c| want.contains(c)),
            "limit {limit} in {adj:?}"
        );
    }
}

#[test]
fn components_group_exactly_the_mutually_reachable_nodes() {
    let mut rng = Rng(2);
    for _ in 0..500 {
        let n = 1 + rng.below(10) as usize;
        let adj = random_digraph(&mut rng, n, 20);
        let reach: Vec<HashSet<usize>> = (0..n)
            .map(|s| {
                let mut seen = HashSet::from([s]);
                let mut queue = VecDeque::from([s]);
                while let Some(v) = queue.pop_front() {
                    for &w in &adj[v] {
                        if seen.insert(w) {
                            queue.push_back(w);
                        }
                    }
                }
                seen
            })
            .collect();
        let all: Vec<usize> = (0..n).collect();
        // Nodes in no listed component are alone in theirs (and have no self-loop).
        let mut comp: Vec<usize> = (n..2 * n).collect();
        let mut tarjan = Tarjan::new(n);
        let found = tarjan.run(&adj, &all, |_| true);
        for (c, members) in found.iter().enumerate() {
            assert!(members.len() > 1 || adj[members[0]].contains(&members[0]));
            assert!(members.is_sorted());
            for &v in members {
                assert!(comp[v] >= n, "{v} in two components");
                comp[v] = c;
            }
        }
        // The scratch space is reset: a second run gives the same answer.
        assert_eq!(tarjan.run(&adj, &all, |_| true), found);
        for a in 0..n {
            assert!(
                comp[a] < n || !adj[a].contains(&a),
                "{a}'s self-loop is a cycle"
            );
            for b in 0..n {
                let same = reach[a].contains(&b) && reach[b].contains(&a);
                assert_eq!(comp[a] == comp[b], same, "{a} and {b} in {adj:?}");
            }
        }
    }
}

/// A random snapshot: threads wait on at most one object, objects have up to two holders
/// (three when `many_holders`), and some ids repeat.
fn random_snapshot(rng: &mut Rng, many_holders: bool) -> (WaitForGraph, Vec<(WaitNode, WaitNode)>) {
    let threads = 1 + rng.below(5);
    let objects = 1 + rng.below(4);
    let mut g = WaitForGraph::new();
    let mut edges = Vec::new();
    for t in 0..threads {
        if rng.chance(70) {
            let o = 100 + rng.below(objects);
            g.waits_on(t, o);
            edges.push((WaitNode::Thread(t), WaitNode::Object(o)));
        } else {
            g.add_thread(t);
        }
    }
    for o in 0..objects {
        let holders = rng.below(if many_holders { 4 } else { 2 });
        for _ in 0..holders {
            let t = rng.below(threads);
            g.held_by(100 + o, t);
            edges.push((WaitNode::Object(100 + o), WaitNode::Thread(t)));
        }
    }
    (g, edges)
}

#[test]
fn wait_for_cycles_match_the_brute_force_model() {
    let mut rng = Rng(3);
    for round in 0..3000 {
        let (g, edges) = random_snapshot(&mut rng, round % 2 == 0);
        // The model: brute force over the nodes renumbered in their canonical order.
        let mut nodes: Vec<WaitNode> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
        nodes.sort_unstable();
        nodes.dedup();
        let at: HashMap<WaitNode, usize> = nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let mut adj = vec![Vec::new(); nodes.len()];
        for &(a, b) in &edges {
            if !adj[at[&a]].contains(&at[&b]) {
                adj[at[&a]].push(at[&b]);
            }
        }
        let want: Vec<Vec<WaitNode>> = brute_cycles(&adj)
            .into_iter()
            .map(|c| c.into_iter().map(|i| nodes[i]).collect())
            .collect();
        let got = g.cycles();
        assert_eq!(got, want, "edges {edges:?}");
        for cycle in &got {
            assert!(
                matches!(cycle[0], WaitNode::Thread(_)),
                "starts at a thread: {cycle:?}"
            );
            assert_eq!(cycle[0], *cycle.iter().min().unwrap());
            for (i, &a) in cycle.iter().enumerate() {
                let b = cycle[(i + 1) % cycle.len()];
                assert!(
                    edges.contains(&(a, b)),
                    "{a} -> {b} is no edge, in {cycle:?}"
                );
            }
        }
    }
}

#[test]
fn a_ring_of_a_hundred_thousand_threads_is_one_cycle_without_recursion() {
    let n = 100_000;
    let mut g = WaitForGraph::new();
    for t in 0..n {
        g.waits_on(t, t);
        g.held_by(t, (t + 1) % n);
    }
    let cycles = g.cycles();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].len(), 2 * n as usize);
    assert_eq!(
        cycles[0][..3],
        [
            WaitNode::Thread(0),
            WaitNode::Object(0),
            WaitNode::Thread(1)
        ]
    );
    assert_eq!(cycles[0].last(), Some(&WaitNode::Object(n - 1)));
}

#[test]
fn a_long_chain_with_many_cycles_goes_through_johnson_without_recursion() {
    // One node with two edges inside the component, so Johnson's search runs; removing node
    // 0 must split the rest so that the search stays linear.
    let n = 20_000;
    let mut adj = vec![Vec::new(); n];
    for (v, out) in adj.iter_mut().enumerate() {
        out.push((v + 1) % n);
    }
    adj[n - 1].push(n / 2); // a second, shorter cycle sharing the tail
    let mut cycles = simple_cycles(&adj, usize::MAX);
    cycles.sort_by_key(Vec::len);
    assert_eq!(cycles.len(), 2);
    assert_eq!(cycles[0], (n / 2..n).collect::<Vec<_>>());
    assert_eq!(cycles[1], (0..n).collect::<Vec<_>>());
}

/// The lock-order model: live nodes and edges as plain sets.
#[derive(Default)]
struct Model {
    live: Vec<NodeId>,
    edges: HashSet<(NodeId, NodeId)>,
}

impl Model {
    fn shortest_path(&self, from: NodeId, to: NodeId) -> Option<usize> {
        let mut dist = HashMap::from([(from, 1)]);
        let mut queue = VecDeque::from([from]);
        while let Some(v) = queue.pop_front() {
            if v == to {
                return Some(dist[&v]);
            }
            for &(a, b) in &self.edges {
                if a == v && !dist.contains_key(&b) {
                    dist.insert(b, dist[&v] + 1);
                    queue.push_back(b);
                }
            }
        }
        None
    }
}

#[test]
fn lock_order_graph_matches_the_model_under_random_operations() {
    let mut rng = Rng(4);
    for round in 0..150 {
        let mut g = LockOrderGraph::new();
        let mut m = Model::default();
        let mut dead: Vec<NodeId> = Vec::new();
        let max_nodes = 2 + round % 12;
        for _ in 0..300 {
            match rng.below(10) {
                0 | 1 if m.live.len() < max_nodes => {
                    let id = g.add_node();
                    assert!(!m.live.contains(&id) && !dead.contains(&id), "{id} reused");
                    m.live.push(id);
                }
                2 if !m.live.is_empty() => {
                    let id = m.live.swap_remove(rng.below(m.live.len() as u64) as usize);
                    assert!(g.remove_node(id));
                    assert!(!g.remove_node(id));
                    m.edges.retain(|&(a, b)| a != id && b != id);
                    dead.push(id);
                }
                3 if !dead.is_empty() && !m.live.is_empty() => {
                    // A stale id never reaches the node that took its slot.
                    let stale = dead[rng.below(dead.len() as u64) as usize];
                    let other = m.live[rng.below(m.live.len() as u64) as usize];
                    assert_eq!(g.insert_edge(stale, other), Err(EdgeError::Removed(stale)));
                    assert_eq!(g.insert_edge(other, stale), Err(EdgeError::Removed(stale)));
                    assert!(!g.has_edge(stale, other) && !g.contains(stale));
                }
                _ if !m.live.is_empty() => {
                    let a = m.live[rng.below(m.live.len() as u64) as usize];
                    let b = m.live[rng.below(m.live.len() as u64) as usize];
                    match (g.insert_edge(a, b), m.shortest_path(b, a)) {
                        (Ok(()), None) => {
                            m.edges.insert((a, b));
                        }
                        (Err(EdgeError::Cycle(c)), Some(len)) => {
                            assert_eq!(c.new_edge(), (a, b));
                            let path = c.existing_path();
                            assert_eq!(path.len(), len, "a shortest path");
                            assert_eq!((path[0], path[path.len() - 1]), (b, a));
                            for w in path.windows(2) {
                                assert!(m.edges.contains(&(w[0], w[1])), "{c}");
                            }
                            assert_eq!(c.nodes().len(), len);
                            assert_eq!(c.nodes()[..2.min(len)], [a, b][..2.min(len)]);
                        }
                        (got, want) => panic!("insert {a} -> {b}: got {got:?}, model {want:?}"),
                    }
                }
                _ => {}
            }
            g.check_invariants().unwrap();
            assert_eq!(g.len(), m.live.len());
            for &a in &m.live {
                for &b in &m.live {
                    assert_eq!(g.has_edge(a, b), m.edges.contains(&(a, b)));
                }
            }
        }
    }
}

#[test]
fn a_chain_inserted_against_the_order_is_reordered_and_then_refuses_closing() {
    let n = 2_000;
    let mut g = LockOrderGraph::new();
    let ids: Vec<NodeId> = (0..n).map(|_| g.add_node()).collect();
    // ids[i+1] -> ids[i]: every insertion goes against the creation order.
    for i in (0..n - 1).rev() {
        g.insert_edge(ids[i + 1], ids[i]).unwrap();
    }
    g.check_invariants().unwrap();
    let err = g
        .insert_edge(ids[0], ids[n - 1])
        .unwrap_err()
        .into_cycle()
        .unwrap();
    assert_eq!(err.existing_path().len(), n);
    assert_eq!(err.existing_path()[0], ids[n - 1]);
    g.check_invariants().unwrap();
}

#[test]
fn a_slot_whose_generation_would_wrap_is_retired() {
    let mut g = LockOrderGraph::new();
    let a = g.add_node();
    assert!(g.remove_node(a));
    g.slots[0].generation = u32::MAX - 1;
    g.free.clear();
    g.free.push(0);
    let b = g.add_node();
    assert_eq!(b.generation(), u32::MAX - 1);
    assert!(g.remove_node(b));
    let c = g.add_node();
    assert_eq!(c.generation(), u32::MAX);
    assert!(g.remove_node(c));
    // The slot is not reused: a new node gets a new slot, and no id is ever repeated.
    let d = g.add_node();
    assert_eq!(
        d,
        NodeId {
            index: 1,
            generation: 0
        }
    );
    assert!(!g.contains(c));
    g.check_invariants().unwrap();
}

#[test]
fn check_invariants_catches_a_broken_order() {
    let mut g = LockOrderGraph::new();
    let (a, b) = (g.add_node(), g.add_node());
    g.insert_edge(a, b).unwrap();
    g.slots[a.index() as usize].rank = 1;
    g.slots[b.index() as usize].rank = 0;
    assert!(
        g.check_invariants()
            .unwrap_err()
            .contains("against the order")
    );
}

/// `stuck` by its definition: the union of every subset whose members need only members
/// (every such subset is inside the largest one, and their union is one too).
fn brute_stuck(needs: &HashMap<u64, Vec<u64>>) -> HashSet<u64> {
    let keys: Vec<u64> = needs.keys().copied().collect();
    let mut all = HashSet::new();
    for mask in 0u32..(1 << keys.len()) {
        let sub: HashSet<u64> = (0..keys.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| keys[i])
            .collect();
        if sub
            .iter()
            .all(|t| !needs[t].is_empty() && needs[t].iter().all(|o| sub.contains(o)))
        {
            all.extend(sub);
        }
    }
    all
}

#[test]
fn stuck_keeps_cycles_and_full_pools_and_drops_what_leads_to_a_running_thread() {
    let needs = |v: &[(u64, &[u64])]| -> HashMap<u64, Vec<u64>> {
        v.iter().map(|&(t, n)| (t, n.to_vec())).collect()
    };
    let set = |v: &[u64]| v.iter().copied().collect::<HashSet<u64>>();
    // A one-worker pool: its worker (1) waits for a task queued behind it.
    assert_eq!(stuck(&needs(&[(1, &[1])])), set(&[1]));
    // Main (9) waits for the worker's own task: stuck behind it, though not in a cycle.
    assert_eq!(stuck(&needs(&[(1, &[1]), (9, &[1])])), set(&[1, 9]));
    // Two workers, one waits for a queued task, the other for a lock held by thread 5,
    // which runs: 5 may release it, the second worker then frees up and runs the task.
    assert!(stuck(&needs(&[(1, &[1, 2]), (2, &[5])])).is_empty());
    // ... unless 5 is itself stuck behind the pool.
    assert_eq!(
        stuck(&needs(&[(1, &[1, 2]), (2, &[5]), (5, &[1, 2])])),
        set(&[1, 2, 5])
    );
    // A thread needing nobody (no owner) is never stuck, nor are those needing it.
    assert!(stuck(&needs(&[(1, &[]), (2, &[1])])).is_empty());
    // A two-thread cycle, and a third thread waiting on it.
    assert_eq!(
        stuck(&needs(&[(1, &[2]), (2, &[1]), (3, &[2]), (4, &[7])])),
        set(&[1, 2, 3])
    );
}

#[test]
fn stuck_matches_its_definition_on_random_needs() {
    let mut rng = Rng(0x5eed_57c4);
    for _ in 0..2000 {
        let n = 1 + rng.below(9);
        let mut needs = HashMap::new();
        for t in 0..n {
            if rng.chance(20) {
                continue; // running
            }
            let k = rng.below(4);
            // Threads up to n + 1: some needs point at threads that are not keys.
            let list: Vec<u64> = (0..k).map(|_| rng.below(n + 2)).collect();
            needs.insert(t, list);
        }
        assert_eq!(stuck(&needs), brute_stuck(&needs), "{needs:?}");
    }
}
