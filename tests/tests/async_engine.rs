//! The asynchronous engine: results equal the serial verifiers (components and SSSP
//! exactly, delta PageRank within its tolerance) for every scheduler and consistency model
//! on 1, 2 and 4 thread ranks; termination is reached for graphs of many shapes; no signal
//! is lost; and edge consistency keeps a vertex's neighbours still during its run, which a
//! detector that does see interleaving under vertex consistency confirms.

use std::sync::atomic::{AtomicU64, Ordering};

use gasket_apps::components::{self, Components};
use gasket_apps::pagerank::{self, Dangling, PageRankConfig};
use gasket_apps::pagerank_delta;
use gasket_apps::sssp::{self, Sssp};
use gasket_engine::prelude::*;
use gasket_tests::{MemGraph, RANK_COUNTS, read_whole, run_in_memory, shared_dataset};
use proptest::prelude::*;

const SCHEDULERS: [Scheduler; 3] = [Scheduler::Fifo, Scheduler::Priority, Scheduler::Sweep];

/// Consistency models to try with `scheduler` on `ranks` ranks: all on one rank (locks);
/// across ranks edge and full run by the chromatic schedule, where the scheduler plays no
/// part, so they are tried once (full, a distance-2 colouring, only on small graphs).
fn consistencies(ranks: usize, scheduler: Scheduler, small: bool) -> Vec<Consistency> {
    let mut models = vec![Consistency::Vertex];
    if ranks == 1 || scheduler == Scheduler::Fifo {
        models.push(Consistency::Edge);
        if ranks == 1 || small {
            models.push(Consistency::Full);
        }
    }
    models
}

fn config(scheduler: Scheduler, consistency: Consistency) -> AsyncConfig {
    AsyncConfig {
        scheduler,
        consistency,
        workers: 3,
        log_progress: false,
        ..AsyncConfig::default()
    }
}

fn unweighted(edges: &[(u64, u64)], vertices: &[u64]) -> MemGraph<()> {
    MemGraph {
        edges: edges.iter().map(|&(s, d)| (s, d, ())).collect(),
        vertices: vertices.to_vec(),
    }
}

fn check_components(edges: &[(u64, u64)], vertices: &[u64], ranks: usize, cfg: &AsyncConfig) {
    let expect = components::verify(edges, vertices);
    let got = run_in_memory(ranks, &unweighted(edges, vertices), |c, g| {
        Ok(run_program_async(&Components::default(), c, g, cfg.clone(), |v| *v.data())?.values)
    });
    assert_eq!(got, expect, "{ranks} rank(s), {cfg:?}");
}

fn check_delta_pagerank(edges: &[(u64, u64)], vertices: &[u64], ranks: usize, cfg: &AsyncConfig) {
    let reference = PageRankConfig {
        tol: 1e-14,
        max_iterations: 10_000,
        dangling: Dangling::Ignore,
        ..PageRankConfig::default()
    };
    let (expect, _) = pagerank::verify(edges, vertices, &reference);
    let tol = 1e-9;
    let got = run_in_memory(ranks, &unweighted(edges, vertices), |c, g| {
        Ok(pagerank_delta::run_async(reference.damping, tol, c, g, cfg.clone())?.values)
    });
    assert_eq!(got.len(), expect.len());
    for ((v, p), (ev, ep)) in got.iter().zip(&expect) {
        assert_eq!(v, ev);
        assert!(
            (p - ep).abs() <= tol,
            "vertex {v}: {p} vs {ep}, {ranks} rank(s), {cfg:?}"
        );
    }
}

#[test]
fn components_and_pagerank_on_wiki_vote_equal_the_verifiers() {
    let g = read_whole(
        &shared_dataset("wiki-Vote.txt.gz"),
        gasket_datasets::Format::Snap,
    );
    let edges: Vec<(u64, u64)> = g.src.iter().copied().zip(g.dst.iter().copied()).collect();
    for ranks in RANK_COUNTS {
        for scheduler in SCHEDULERS {
            for consistency in consistencies(ranks, scheduler, false) {
                let cfg = config(scheduler, consistency);
                check_components(&edges, &g.vertices, ranks, &cfg);
                check_delta_pagerank(&edges, &g.vertices, ranks, &cfg);
            }
        }
    }
}

#[test]
fn sssp_on_wiki_vote_with_weights_equals_dijkstra() {
    let g = read_whole(
        &shared_dataset("wiki-Vote.txt.gz"),
        gasket_datasets::Format::Snap,
    );
    let weighted: Vec<(u64, u64, f64)> = g
        .src
        .iter()
        .zip(&g.dst)
        .map(|(&s, &d)| (s, d, ((s * 7 + d * 13) % 10) as f64 / 2.0))
        .collect();
    let graph = MemGraph {
        edges: weighted.clone(),
        vertices: Vec::new(),
    };
    let source = 3;
    let expect = sssp::verify(&weighted, &[], source);
    for ranks in RANK_COUNTS {
        for scheduler in SCHEDULERS {
            for consistency in consistencies(ranks, scheduler, false) {
                let cfg = config(scheduler, consistency);
                let got = run_in_memory(ranks, &graph, |c, g| {
                    Ok(
                        run_program_async(&Sssp::<f64>::new(source), c, g, cfg.clone(), |v| {
                            *v.data()
                        })?
                        .values,
                    )
                });
                assert_eq!(got, expect, "{ranks} rank(s), {cfg:?}");
            }
        }
    }
}

/// A `side x side` grid, every edge both ways, with a pseudo-random length of 1..=100.
fn weighted_grid(side: u64) -> Vec<(u64, u64, f64)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut length = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (1 + state % 100) as f64
    };
    let mut edges = Vec::new();
    for r in 0..side {
        for c in 0..side {
            let v = r * side + c;
            for u in [
                (c + 1 < side).then(|| v + 1),
                (r + 1 < side).then(|| v + side),
            ]
            .into_iter()
            .flatten()
            {
                let w = length();
                edges.extend([(v, u, w), (u, v, w)]);
            }
        }
    }
    edges
}

/// Updates of one asynchronous run on one rank with one worker (a deterministic order),
/// after checking its values against `expect`.
fn updates_of<P, E>(
    program: &P,
    graph: &MemGraph<E>,
    scheduler: Scheduler,
    expect: &[(u64, P::Vertex)],
) -> u64
where
    P: VertexProgram<Edge = E>,
    P::Vertex: PartialEq + std::fmt::Debug + Send,
    E: Wire + Clone + Send + Sync,
{
    let cfg = AsyncConfig {
        workers: 1,
        ..config(scheduler, Consistency::Vertex)
    };
    let got = run_in_memory(1, graph, |c, g| {
        let run = run_program_async(program, c, g, cfg.clone(), |v| v.data().clone())?;
        let updates = run.async_metrics.expect("an asynchronous run").updates;
        Ok(run
            .values
            .into_iter()
            .map(|(v, x)| (v, (x, updates)))
            .collect())
    });
    let values: Vec<(u64, P::Vertex)> = got.iter().map(|(v, (x, _))| (*v, x.clone())).collect();
    assert_eq!(values, expect, "{scheduler}");
    got.first().map_or(0, |(_, (_, updates))| *updates)
}

/// Priority made at most `n + extra` updates on `n` vertices, and FIFO at least twice as
/// many.
fn priority_pays(app: &str, n: u64, extra: u64, priority: u64, fifo: u64) {
    assert!(
        priority <= n + extra,
        "{app}: {priority} updates for {n} vertices"
    );
    assert!(
        fifo >= 2 * priority,
        "{app}: fifo {fifo}, priority {priority}"
    );
}

/// The priority scheduler's order is what makes asynchronous runs pay on graphs with long
/// paths (BENCHMARKS: a grid): smallest label first runs each vertex of a components run
/// about once, nearest first runs SSSP near Dijkstra's order; FIFO repeats vertices many
/// times as improving labels and distances arrive in waves.
#[test]
fn priority_runs_components_once_per_vertex_and_sssp_near_dijkstra_order_on_a_grid() {
    let side = 40u64;
    let n = side * side;
    let weighted = weighted_grid(side);
    let pairs: Vec<(u64, u64)> = weighted.iter().map(|&(s, d, _)| (s, d)).collect();

    let unweighted_grid = unweighted(&pairs, &[]);
    let labels = components::verify(&pairs, &[]);
    let program = Components { symmetric: true };
    let priority = updates_of(&program, &unweighted_grid, Scheduler::Priority, &labels);
    let fifo = updates_of(&program, &unweighted_grid, Scheduler::Fifo, &labels);
    priority_pays("components", n, n / 20, priority, fifo);

    let weighted_graph = MemGraph {
        edges: weighted.clone(),
        vertices: Vec::new(),
    };
    let distances = sssp::verify(&weighted, &[], 0);
    let program = Sssp::<f64>::new(0);
    let priority = updates_of(&program, &weighted_graph, Scheduler::Priority, &distances);
    let fifo = updates_of(&program, &weighted_graph, Scheduler::Fifo, &distances);
    priority_pays("sssp", n, n / 2, priority, fifo);
    eprintln!("grid {side}x{side}: sssp fifo {fifo}, priority {priority}");
}

/// A named graph: (name, edges, declared vertices).
type Shape = (&'static str, Vec<(u64, u64)>, Vec<u64>);

/// Graphs of many shapes.
fn shapes() -> Vec<Shape> {
    let chain: Vec<(u64, u64)> = (0..3000).map(|i| (i, i + 1)).collect();
    let star: Vec<(u64, u64)> = (1..500).flat_map(|i| [(0, i), (i, 0)]).collect();
    let mut pieces: Vec<(u64, u64)> = (0..50).map(|i| (i * 10, i * 10 + 1)).collect();
    pieces.extend([(7, 7), (8, 9), (9, 8)]);
    vec![
        ("no edges", Vec::new(), vec![1, 5, 9]),
        ("one vertex", Vec::new(), vec![42]),
        ("a self-loop", vec![(4, 4)], Vec::new()),
        ("disconnected pieces", pieces, vec![1000, 2000]),
        ("a star", star, Vec::new()),
        ("a long chain", chain, Vec::new()),
    ]
}

#[test]
fn termination_is_reached_on_every_rank_for_every_shape_repeatedly() {
    for (name, edges, vertices) in shapes() {
        for ranks in RANK_COUNTS {
            for scheduler in SCHEDULERS {
                for _repeat in 0..3 {
                    let cfg = config(scheduler, Consistency::Vertex);
                    check_components(&edges, &vertices, ranks, &cfg);
                }
            }
            let _ = name;
        }
    }
}

/// Counts messages: in each of its first `waves` runs a vertex sends 1 along every
/// out-edge and signals itself for the next wave; its data sums what it received. The
/// totals are exact (`waves` x in-degree) only if no signal, local or remote, and no
/// message is lost or doubled.
struct Counting {
    waves: u32,
}

/// (messages received, waves sent, sending in this run)
type Count = (u64, u32, bool);

impl VertexProgram for Counting {
    type Vertex = Count;
    type Edge = ();
    type Gather = ();
    type Message = u64;

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u64>) -> Count {
        ctx.signal_with(v.handle(), 0);
        (0, 0, false)
    }
    fn apply(&self, v: &mut VertexMut<'_, Count>, _t: Option<()>, ctx: &mut Context<'_, u64>) {
        let received = ctx.message().copied().unwrap_or(0);
        let handle = v.handle();
        let data = v.data_mut();
        data.0 += received;
        data.2 = data.1 < self.waves;
        if data.2 {
            data.1 += 1;
            ctx.signal_with(handle, 0); // the next wave
        }
    }
    fn scatter_edges(&self, v: &VertexRef<'_, Count>) -> EdgeDir {
        if v.data().2 {
            EdgeDir::Out
        } else {
            EdgeDir::None
        }
    }
    fn scatter(
        &self,
        _v: &VertexRef<'_, Count>,
        _e: &mut (),
        o: &Neighbor<'_, Count>,
        ctx: &mut Context<'_, u64>,
    ) {
        ctx.signal_with(o.handle(), 1);
    }
    fn combine_messages(&self, acc: &mut u64, m: u64) {
        *acc += m;
    }
}

#[test]
fn no_signal_is_lost() {
    let mut edges: Vec<(u64, u64)> = (0..400).map(|i| (i % 97, (i * 31 + 5) % 97)).collect();
    edges.extend((0..96).map(|i| (i, i + 1)));
    edges.extend([(5, 5), (6, 7), (6, 7)]);
    let mut in_degree = std::collections::BTreeMap::<u64, u64>::new();
    for &(s, d) in &edges {
        in_degree.entry(s).or_default();
        *in_degree.entry(d).or_default() += 1;
    }
    let waves = 3;
    for ranks in RANK_COUNTS {
        for scheduler in SCHEDULERS {
            for consistency in consistencies(ranks, scheduler, true) {
                let cfg = config(scheduler, consistency);
                let got = run_in_memory(ranks, &unweighted(&edges, &[]), |c, g| {
                    Ok(
                        run_program_async(&Counting { waves }, c, g, cfg.clone(), |v| *v.data())?
                            .values,
                    )
                });
                for (v, (received, sent, _)) in got {
                    assert_eq!(sent, waves, "vertex {v}");
                    assert_eq!(
                        received,
                        u64::from(waves) * in_degree[&v],
                        "vertex {v}, {ranks} rank(s), {cfg:?}"
                    );
                }
            }
        }
    }
}

/// Every vertex of a star-like graph signals a few hubs, wave after wave, from 4 thread
/// ranks of 4 workers each (16 threads on the machine's cores): the hubs' slots are
/// signalled by many workers at once, often while the hub itself runs, and signals cross
/// ranks in batches. Every message must arrive, combined, exactly once.
#[test]
fn no_update_is_lost_under_contention_on_four_thread_ranks() {
    let hubs = 4u64;
    let leaves = 3_000u64;
    let mut edges: Vec<(u64, u64)> = Vec::new();
    for leaf in hubs..hubs + leaves {
        for hub in 0..hubs {
            edges.push((leaf, hub));
        }
        edges.push((leaf, hubs + (leaf * 7 + 1) % leaves));
    }
    for hub in 0..hubs {
        edges.push((hub, (hub + 1) % hubs));
    }
    let mut in_degree = std::collections::BTreeMap::<u64, u64>::new();
    for &(s, d) in &edges {
        in_degree.entry(s).or_default();
        *in_degree.entry(d).or_default() += 1;
    }
    let waves = 20;
    for scheduler in SCHEDULERS {
        for round in 0..3 {
            let cfg = AsyncConfig {
                workers: 4,
                ..config(scheduler, Consistency::Vertex)
            };
            let got = run_in_memory(4, &unweighted(&edges, &[]), |c, g| {
                Ok(
                    run_program_async(&Counting { waves }, c, g, cfg.clone(), |v| *v.data())?
                        .values,
                )
            });
            assert_eq!(got.len() as u64, hubs + leaves);
            for (v, (received, sent, _)) in got {
                assert_eq!(sent, waves, "vertex {v}, {scheduler}, round {round}");
                assert_eq!(
                    received,
                    u64::from(waves) * in_degree[&v],
                    "vertex {v}, {scheduler}, round {round}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_equal_the_verifiers(
        n in 1u64..40,
        raw in prop::collection::vec((0u64..40, 0u64..40), 0..120),
        ranks in 1usize..=4,
        scheduler in prop::sample::select(SCHEDULERS.to_vec()),
        consistency in prop::sample::select(vec![Consistency::Vertex, Consistency::Edge, Consistency::Full]),
    ) {
        let edges: Vec<(u64, u64)> = raw.into_iter().map(|(s, d)| (s % n, d % n)).collect();
        let vertices = vec![0, n - 1];
        let cfg = config(scheduler, consistency);
        check_components(&edges, &vertices, ranks, &cfg);
        check_delta_pagerank(&edges, &vertices, ranks, &cfg);
    }
}

/// Detects a neighbour changing during a vertex's run: the sum of neighbour versions seen
/// by gather is compared, at the vertex's next run, with the sum its scatter saw. Vertex
/// ids are `0..n`.
struct Interleaving {
    runs: u32,
    scattered: Vec<AtomicU64>,
    checks: AtomicU64,
    violations: AtomicU64,
}

impl VertexProgram for Interleaving {
    type Vertex = (u64, u64, u32); // (version, versions gathered, runs)
    type Edge = ();
    type Gather = u64;
    type Message = ();

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> (u64, u64, u32) {
        ctx.signal(v.handle());
        (0, 0, 0)
    }
    fn gather_edges(&self, _v: &VertexRef<'_, (u64, u64, u32)>) -> EdgeDir {
        EdgeDir::All
    }
    fn gather(&self, _v: &VertexRef<'_, (u64, u64, u32)>, _e: &(), other: &(u64, u64, u32)) -> u64 {
        other.0
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc += x;
    }
    fn apply(
        &self,
        v: &mut VertexMut<'_, (u64, u64, u32)>,
        total: Option<u64>,
        ctx: &mut Context<'_, ()>,
    ) {
        let id = v.id() as usize;
        let handle = v.handle();
        let data = v.data_mut();
        let scattered = self.scattered[id].swap(0, Ordering::SeqCst);
        if data.2 > 0 {
            self.checks.fetch_add(1, Ordering::Relaxed);
            if scattered != data.1 {
                self.violations.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Widen the window between gather and scatter.
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_micros(30) {
            std::hint::spin_loop();
        }
        data.0 += 1;
        data.1 = total.unwrap_or(0);
        data.2 += 1;
        if data.2 < self.runs {
            ctx.signal(handle);
        }
    }
    fn scatter_edges(&self, _v: &VertexRef<'_, (u64, u64, u32)>) -> EdgeDir {
        EdgeDir::All
    }
    fn scatter(
        &self,
        v: &VertexRef<'_, (u64, u64, u32)>,
        _e: &mut (),
        other: &Neighbor<'_, (u64, u64, u32)>,
        _ctx: &mut Context<'_, ()>,
    ) {
        self.scattered[v.id() as usize].fetch_add(other.data().0, Ordering::SeqCst);
    }
}

fn interleavings(consistency: Consistency, ranks: usize) -> (u64, u64) {
    let n = 24u64;
    let edges: Vec<(u64, u64)> = (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .collect();
    let program = Interleaving {
        runs: 30,
        scattered: (0..n).map(|_| AtomicU64::new(0)).collect(),
        checks: AtomicU64::new(0),
        violations: AtomicU64::new(0),
    };
    let cfg = AsyncConfig {
        workers: 4,
        ..config(Scheduler::Fifo, consistency)
    };
    run_in_memory(ranks, &unweighted(&edges, &[]), |c, g| {
        Ok(run_program_async(&program, c, g, cfg.clone(), |v| v.data().2)?.values)
    });
    (program.checks.into_inner(), program.violations.into_inner())
}

#[test]
fn edge_consistency_keeps_neighbours_still_and_the_detector_can_tell() {
    // One rank: locks. Two and four ranks: the chromatic schedule.
    for ranks in RANK_COUNTS {
        for consistency in [Consistency::Edge, Consistency::Full] {
            let (checks, violations) = interleavings(consistency, ranks);
            assert!(checks >= 24 * 29, "every later run is checked: {checks}");
            assert_eq!(
                violations, 0,
                "{consistency} consistency on {ranks} rank(s) let a neighbour change mid-run"
            );
        }
    }
    // Vertex consistency does not hold neighbours: with 4 workers on a clique the detector
    // sees neighbours change mid-run (so it can fail). Interleaving is up to the OS
    // scheduler, hence a few attempts.
    let seen = (0..5).any(|_| interleavings(Consistency::Vertex, 1).1 > 0);
    assert!(
        seen,
        "the detector never saw an interleaving under vertex consistency"
    );
}

/// A program with `Activation::All`: every vertex runs once at the start without a
/// message, then only when signalled. Each vertex takes the largest label among itself and
/// its neighbours and signals them on its first run and whenever its label grew. Vertex
/// data: (label, runs, runs without a message, whether to signal).
struct LargestLabel;

type Labelled = (u64, u32, u32, bool);

impl VertexProgram for LargestLabel {
    type Vertex = Labelled;
    type Edge = ();
    type Gather = u64;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }
    fn init(&self, v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> Labelled {
        (v.id(), 0, 0, false)
    }
    fn gather_edges(&self, _v: &VertexRef<'_, Labelled>) -> EdgeDir {
        EdgeDir::All
    }
    fn gather(&self, _v: &VertexRef<'_, Labelled>, _e: &(), other: &Labelled) -> u64 {
        other.0
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc = (*acc).max(x);
    }
    fn apply(
        &self,
        v: &mut VertexMut<'_, Labelled>,
        total: Option<u64>,
        ctx: &mut Context<'_, ()>,
    ) {
        let bare = ctx.message().is_none();
        let data = v.data_mut();
        let grown = total.is_some_and(|t| t > data.0);
        data.0 = data.0.max(total.unwrap_or(0));
        data.3 = grown || data.1 == 0;
        data.1 += 1;
        data.2 += u32::from(bare);
    }
    fn scatter_edges(&self, v: &VertexRef<'_, Labelled>) -> EdgeDir {
        if v.data().3 {
            EdgeDir::All
        } else {
            EdgeDir::None
        }
    }
    fn scatter(
        &self,
        _v: &VertexRef<'_, Labelled>,
        _e: &mut (),
        other: &Neighbor<'_, Labelled>,
        ctx: &mut Context<'_, ()>,
    ) {
        ctx.signal(other.handle());
    }
}

/// `Activation::All` without signals: every vertex runs exactly once, without a message,
/// and counts its edges. Vertex data: (edges, runs, runs without a message).
struct CountEdgesOnce;

impl VertexProgram for CountEdgesOnce {
    type Vertex = (u64, u32, u32);
    type Edge = ();
    type Gather = u64;
    type Message = ();

    fn activation(&self) -> Activation {
        Activation::All
    }
    fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> (u64, u32, u32) {
        (0, 0, 0)
    }
    fn gather_edges(&self, _v: &VertexRef<'_, (u64, u32, u32)>) -> EdgeDir {
        EdgeDir::All
    }
    fn gather(&self, _v: &VertexRef<'_, (u64, u32, u32)>, _e: &(), _o: &(u64, u32, u32)) -> u64 {
        1
    }
    fn combine(&self, acc: &mut u64, x: u64) {
        *acc += x;
    }
    fn apply(
        &self,
        v: &mut VertexMut<'_, (u64, u32, u32)>,
        total: Option<u64>,
        ctx: &mut Context<'_, ()>,
    ) {
        let bare = ctx.message().is_none();
        let data = v.data_mut();
        *data = (total.unwrap_or(0), data.1 + 1, data.2 + u32::from(bare));
    }
}

#[test]
fn activation_all_runs_every_vertex_once_then_by_signal_on_any_ranks_and_consistency() {
    let mut edges: Vec<(u64, u64)> = (0..300).map(|i| (i % 83, (i * 37 + 11) % 83)).collect();
    edges.extend([(100, 101), (101, 102), (120, 120)]);
    // 90..=99 and 130 have no edges: only the first run reaches them.
    let vertices: Vec<u64> = (90..100).chain([130]).collect();
    let mut largest = std::collections::BTreeMap::<u64, u64>::new();
    for (v, component) in components::verify(&edges, &vertices) {
        let top = largest.entry(component).or_insert(v);
        *top = (*top).max(v);
    }
    let expect: Vec<(u64, u64)> = components::verify(&edges, &vertices)
        .into_iter()
        .map(|(v, component)| (v, largest[&component]))
        .collect();
    let mut degree: std::collections::BTreeMap<u64, u64> =
        vertices.iter().map(|&v| (v, 0)).collect();
    for &(s, d) in &edges {
        *degree.entry(s).or_default() += 1;
        *degree.entry(d).or_default() += 1;
    }
    for ranks in RANK_COUNTS {
        for consistency in [Consistency::Vertex, Consistency::Edge, Consistency::Full] {
            let cfg = config(Scheduler::Fifo, consistency);
            let got = run_in_memory(ranks, &unweighted(&edges, &vertices), |c, g| {
                Ok(run_program_async(&LargestLabel, c, g, cfg.clone(), |v| *v.data())?.values)
            });
            let labels: Vec<(u64, u64)> = got.iter().map(|&(v, (l, ..))| (v, l)).collect();
            assert_eq!(labels, expect, "{ranks} rank(s), {consistency:?}");
            for &(v, (_, runs, bare, _)) in &got {
                assert!(
                    runs >= 1,
                    "vertex {v} never ran ({ranks} rank(s), {consistency:?})"
                );
                assert!(bare <= 1, "vertex {v}: {bare} runs without a message");
                if (90..100).contains(&v) || v == 130 {
                    assert_eq!((runs, bare), (1, 1), "isolated vertex {v}");
                }
            }
            let counted = run_in_memory(ranks, &unweighted(&edges, &vertices), |c, g| {
                Ok(run_program_async(&CountEdgesOnce, c, g, cfg.clone(), |v| *v.data())?.values)
            });
            let expect: Vec<(u64, (u64, u32, u32))> =
                degree.iter().map(|(&v, &d)| (v, (d, 1, 1))).collect();
            assert_eq!(counted, expect, "{ranks} rank(s), {consistency:?}");
        }
    }
}
