//! The toolkit programs (k-core, label propagation, triangle counting) against their serial
//! verifiers: hand-made graphs and random graphs on 1, 2 and 4 thread ranks, and the real
//! wiki-Vote graph (608,389 triangles). The verifiers themselves are checked first on tiny
//! graphs whose answers are worked out by hand.

use gasket_apps::kcore::{self, CoreVertex, KCoreConfig};
use gasket_apps::labelprop::{self, LabelPropConfig, LabelVertex};
use gasket_apps::triangles::{self, Lists, TriangleVertex, TrianglesConfig, intersection_size};
use gasket_datasets::Format;
use gasket_engine::{Undirected, Wire};
use gasket_tests::{MemGraph, on_ranks, read_whole, run_in_memory, shared_dataset};
use proptest::prelude::*;

/// Triangles of wiki-Vote taken as undirected and simple (SNAP's figure).
const WIKI_VOTE_TRIANGLES: u64 = 608_389;

fn graph(edges: &[(u64, u64)], vertices: &[u64]) -> MemGraph<()> {
    MemGraph {
        edges: edges.iter().map(|&(s, d)| (s, d, ())).collect(),
        vertices: vertices.to_vec(),
    }
}

fn pairs(g: &MemGraph<()>) -> Vec<(u64, u64)> {
    g.edges.iter().map(|&(s, d, _)| (s, d)).collect()
}

fn clique(ids: impl IntoIterator<Item = u64> + Clone) -> Vec<(u64, u64)> {
    let ids: Vec<u64> = ids.into_iter().collect();
    let mut edges = Vec::new();
    for (i, &a) in ids.iter().enumerate() {
        for &b in &ids[i + 1..] {
            edges.push((a, b));
        }
    }
    edges
}

fn as_map<T: Copy>(result: &[(u64, T)]) -> std::collections::BTreeMap<u64, T> {
    result.iter().copied().collect()
}

fn run_kcore(ranks: usize, g: &MemGraph<()>) -> Vec<(u64, u32)> {
    run_in_memory(ranks, g, |c, lg| {
        Ok(kcore::run(&KCoreConfig::default(), c, lg, false)?.values)
    })
}

fn run_labelprop(ranks: usize, g: &MemGraph<()>, config: &LabelPropConfig) -> Vec<(u64, u64)> {
    run_in_memory(ranks, g, |c, lg| {
        Ok(labelprop::run(config, c, lg, false)?.values)
    })
}

/// Per-vertex triangles, each paired with the global total every rank computed.
fn run_triangles(ranks: usize, g: &MemGraph<()>) -> (Vec<(u64, u64)>, u64) {
    run_triangles_with(ranks, g, &TrianglesConfig { per_vertex: true })
}

/// The total of a run that counts each triangle once, at its lowest corner; checks that
/// the values add up to it.
fn run_triangle_total(ranks: usize, g: &MemGraph<()>) -> u64 {
    let config = TrianglesConfig { per_vertex: false };
    let (values, total) = run_triangles_with(ranks, g, &config);
    assert_eq!(triangles::total_of(&values, config.corners()), total);
    total
}

/// Each vertex's value, paired with the global total every rank computed.
fn run_triangles_with(
    ranks: usize,
    g: &MemGraph<()>,
    config: &TrianglesConfig,
) -> (Vec<(u64, u64)>, u64) {
    let got = run_in_memory(ranks, g, |c, lg| {
        let run = triangles::run(config, c, lg, false)?;
        let total = triangles::global_total(c, config, &run)?;
        Ok(run
            .values
            .into_iter()
            .map(|(v, t)| (v, (t, total)))
            .collect())
    });
    let totals: Vec<u64> = got.iter().map(|&(_, (_, total))| total).collect();
    let total = totals.first().copied().unwrap_or(0);
    assert!(
        totals.iter().all(|&t| t == total),
        "every rank has the same total"
    );
    (got.into_iter().map(|(v, (t, _))| (v, t)).collect(), total)
}

/// The hand-made graphs every program is checked on.
fn hand_made() -> Vec<(&'static str, MemGraph<()>)> {
    let chain: Vec<(u64, u64)> = (0..300).map(|i| (i, i + 1)).collect();
    let mut reciprocal = Vec::new();
    for (a, b) in clique(1..=4) {
        reciprocal.extend([(a, b), (b, a), (a, b)]);
    }
    reciprocal.extend([(4, 5), (5, 4), (5, 6), (5, 6), (5, 6)]);
    let mut loops = clique([10, 20, 30]);
    loops.extend([(10, 10), (20, 20), (20, 20), (40, 40), (30, 50)]);
    let mut pieces = clique([1, 2, 3]);
    pieces.extend(clique(100..105));
    pieces.extend([(7, 8), (8, 9)]);
    let mut bowtie = clique([0, 1, 2]);
    bowtie.extend(clique([0, 3, 4]));
    bowtie.push((2, 3));
    let star: Vec<(u64, u64)> = (1..=12)
        .map(|leaf| if leaf % 2 == 0 { (0, leaf) } else { (leaf, 0) })
        .collect();
    let mut two_k4 = clique(1..=4);
    two_k4.extend(clique(11..=14));
    two_k4.push((4, 11));
    let mut oscillating = vec![(3, 9), (9, 3), (3, 1), (2, 3)];
    oscillating.push((5, 5));
    let mut dense = clique(1..=7);
    dense.extend(clique([7, 8, 9, 10]));
    dense.extend(clique([1, 20, 21]));
    vec![
        ("empty with declared vertices", graph(&[], &[1, 5, 9])),
        ("one vertex", graph(&[], &[7])),
        ("one edge", graph(&[(4, 2)], &[])),
        ("disconnected pieces", graph(&pieces, &[50, 2])),
        ("clique K6", graph(&clique(1..=6), &[])),
        ("star", graph(&star, &[])),
        ("long chain", graph(&chain, &[])),
        ("reciprocal and duplicate edges", graph(&reciprocal, &[])),
        ("self-loops", graph(&loops, &[60])),
        ("bowtie", graph(&bowtie, &[])),
        ("two K4 bridged", graph(&two_k4, &[])),
        ("oscillating", graph(&oscillating, &[])),
        (
            "large ids",
            graph(&[(u64::MAX, 0), (0, 1 << 40), (1 << 40, u64::MAX)], &[]),
        ),
        ("symmetric and simple", symmetric(&graph(&dense, &[30]))),
        (
            "symmetric with repeats",
            both_ways(&graph(&reciprocal, &[])),
        ),
    ]
}

/// Every edge of `g` listed both ways, repeats and self-loops kept: a symmetric graph that
/// is not simple.
fn both_ways(g: &MemGraph<()>) -> MemGraph<()> {
    MemGraph {
        edges: g
            .edges
            .iter()
            .flat_map(|&(s, d, ())| [(s, d, ()), (d, s, ())])
            .collect(),
        vertices: g.vertices.clone(),
    }
}

/// The simple undirected graph of `g` with every edge listed both ways once.
fn symmetric(g: &MemGraph<()>) -> MemGraph<()> {
    let mut edges: Vec<(u64, u64, ())> = both_ways(g)
        .edges
        .into_iter()
        .filter(|&(s, d, ())| s != d)
        .collect();
    edges.sort_unstable();
    edges.dedup();
    MemGraph {
        edges,
        vertices: g.vertices.clone(),
    }
}

/// How `g`'s graph reads as undirected on `ranks` thread ranks (every rank agrees).
fn shape(ranks: usize, g: &MemGraph<()>) -> Undirected {
    let shapes = run_in_memory(ranks, g, |c, lg| {
        let shape = Undirected::check(c, lg.topology(), false)?;
        Ok(lg
            .topology()
            .global_ids()
            .iter()
            .take(lg.topology().num_owned())
            .map(|&v| (v, shape))
            .collect())
    });
    let first = shapes.first().map(|&(_, s)| s).unwrap_or_default();
    assert!(shapes.iter().all(|&(_, s)| s == first), "ranks disagree");
    first
}

#[test]
fn the_shapes_of_the_hand_made_graphs() {
    let shapes: std::collections::BTreeMap<&str, MemGraph<()>> = hand_made().into_iter().collect();
    on_ranks(|ranks| {
        let of = |name: &str| shape(ranks, &shapes[name]);
        let simple = Undirected {
            symmetric: true,
            simple: true,
        };
        let repeats = Undirected {
            symmetric: true,
            simple: false,
        };
        assert_eq!(of("symmetric and simple"), simple, "{ranks} rank(s)");
        assert_eq!(of("symmetric with repeats"), repeats);
        assert_eq!(of("clique K6"), Undirected::default());
        assert_eq!(of("reciprocal and duplicate edges"), Undirected::default());
        let one_loop = graph(&[(1, 2), (2, 1), (3, 3)], &[]);
        assert_eq!(
            shape(ranks, &one_loop),
            repeats,
            "a self-loop is not simple"
        );
    });
}

// --- the verifiers on graphs worked out by hand -------------------------------------------

#[test]
fn kcore_verifier_by_hand() {
    assert_eq!(
        kcore::verify(&clique(1..=4), &[]),
        vec![(1, 3), (2, 3), (3, 3), (4, 3)]
    );
    assert_eq!(
        kcore::verify(&[(1, 2), (2, 3)], &[9]),
        vec![(1, 1), (2, 1), (3, 1), (9, 0)]
    );
    assert_eq!(kcore::verify(&[], &[]), vec![]);
    // A triangle with a pendant vertex, and a vertex with only a self-loop.
    let mut edges = clique([1, 2, 3]);
    edges.extend([(3, 4), (5, 5)]);
    assert_eq!(
        kcore::verify(&edges, &[]),
        vec![(1, 2), (2, 2), (3, 2), (4, 1), (5, 0)]
    );
    // A triangle with every edge both ways and doubled: still 2-cores, not 4 or 5.
    let mut doubled = Vec::new();
    for (a, b) in clique([1, 2, 3]) {
        doubled.extend([(a, b), (b, a), (a, b), (a, a)]);
    }
    assert_eq!(kcore::verify(&doubled, &[]), vec![(1, 2), (2, 2), (3, 2)]);
    // K4 with a pendant chain 4-5-6: the clique stays 3, the chain 1.
    let mut edges = clique(1..=4);
    edges.extend([(4, 5), (5, 6)]);
    let got = as_map(&kcore::verify(&edges, &[]));
    assert_eq!(got[&1], 3);
    assert_eq!(got[&4], 3);
    assert_eq!((got[&5], got[&6]), (1, 1));
    // A 5-cycle with one chord: all 2 (the chord makes no 3-core).
    let got = kcore::verify(&[(1, 2), (2, 3), (3, 4), (4, 5), (5, 1), (1, 3)], &[]);
    assert!(got.iter().all(|&(_, k)| k == 2), "{got:?}");
}

#[test]
fn triangle_verifier_by_hand() {
    assert_eq!(
        triangles::verify(&clique(1..=4), &[]),
        vec![(1, 3), (2, 3), (3, 3), (4, 3)]
    );
    assert_eq!(triangles::total(&triangles::verify(&clique(1..=4), &[])), 4);
    assert_eq!(
        triangles::total(&triangles::verify(&clique(1..=5), &[])),
        10
    );
    assert!(
        triangles::verify(&clique(1..=5), &[])
            .iter()
            .all(|&(_, t)| t == 6)
    );
    // Bowtie: two triangles sharing vertex 0.
    let mut bowtie = clique([0, 1, 2]);
    bowtie.extend(clique([0, 3, 4]));
    assert_eq!(
        triangles::verify(&bowtie, &[9]),
        vec![(0, 2), (1, 1), (2, 1), (3, 1), (4, 1), (9, 0)]
    );
    // A square has none; reciprocal, duplicate edges and self-loops change nothing.
    assert!(
        triangles::verify(&[(1, 2), (2, 3), (3, 4), (4, 1)], &[])
            .iter()
            .all(|&(_, t)| t == 0)
    );
    let messy = [(1, 2), (2, 1), (2, 3), (2, 3), (3, 1), (1, 1), (3, 3)];
    assert_eq!(triangles::verify(&messy, &[]), vec![(1, 1), (2, 1), (3, 1)]);
}

#[test]
fn labelprop_verifier_by_hand() {
    let config = LabelPropConfig::default();
    // One edge: the tie goes to the smaller label.
    assert_eq!(
        labelprop::verify(&[(1, 2)], &[], &config),
        vec![(1, 1), (2, 1)]
    );
    // A triangle takes its smallest id; an isolated vertex keeps its own.
    assert_eq!(
        labelprop::verify(&clique([5, 6, 7]), &[3], &config),
        vec![(3, 3), (5, 5), (6, 5), (7, 5)]
    );
    // Star with centre 9: round 1 the centre takes 1 (all tied), leaves 2 and 3 keep
    // theirs (tied with 9); round 2 every leaf takes 1.
    let star = [(9, 1), (9, 2), (3, 9)];
    let one_round = LabelPropConfig { max_iterations: 1 };
    assert_eq!(
        labelprop::verify(&star, &[], &one_round),
        vec![(1, 1), (2, 2), (3, 3), (9, 1)]
    );
    assert_eq!(
        labelprop::verify(&star, &[], &config),
        vec![(1, 1), (2, 1), (3, 1), (9, 1)]
    );
    // A self-loop counts twice for the vertex's own label: 5 keeps 5 against 1 and 2.
    assert_eq!(
        labelprop::verify(&[(5, 5), (5, 1), (5, 2)], &[], &config),
        vec![(1, 1), (2, 2), (5, 5)]
    );
    // A reciprocal pair counts twice: 3 and 9 swap labels every round, forever.
    let swap = [(3, 9), (9, 3), (3, 1), (2, 3)];
    let after = |rounds| {
        labelprop::verify(
            &swap,
            &[],
            &LabelPropConfig {
                max_iterations: rounds,
            },
        )
    };
    assert_eq!(after(0), vec![(1, 1), (2, 2), (3, 3), (9, 9)]);
    assert_eq!(after(1), vec![(1, 1), (2, 2), (3, 9), (9, 3)]);
    assert_eq!(after(2), vec![(1, 1), (2, 2), (3, 3), (9, 9)]);
    assert_eq!(after(21), vec![(1, 1), (2, 2), (3, 9), (9, 3)]);
}

#[test]
fn intersections_merge_and_gallop() {
    let evens: Vec<u64> = (0..1000).map(|x| 2 * x).collect();
    assert_eq!(intersection_size(&[], &evens), 0);
    assert_eq!(intersection_size(&[4], &evens), 1);
    assert_eq!(intersection_size(&[1, 4, 5, 1998, 1999, 5000], &evens), 2);
    assert_eq!(intersection_size(&evens, &[1, 4, 5, 1998, 1999, 5000]), 2);
    let threes: Vec<u64> = (0..700).map(|x| 3 * x).collect();
    assert_eq!(intersection_size(&evens, &threes), 334);
}

#[test]
fn vertex_data_round_trips() {
    fn round_trip<T: Wire + PartialEq + std::fmt::Debug>(x: T) {
        let mut buf = Vec::new();
        x.encode(&mut buf);
        let mut input = buf.as_slice();
        assert_eq!(T::decode(&mut input), x);
        assert!(input.is_empty());
    }
    round_trip(CoreVertex {
        id: u64::MAX,
        core: 7,
        previous: 9,
    });
    round_trip(LabelVertex {
        label: 3,
        changed: false,
    });
    round_trip(TriangleVertex::Start((3, 5)));
    round_trip(TriangleVertex::Listed(Lists {
        key: (3, 5),
        neighbours: vec![1, 2, 9].into(),
        forward: vec![9].into(),
    }));
    round_trip(TriangleVertex::Listed(Lists {
        key: (0, 5),
        neighbours: Vec::new().into(),
        forward: Vec::new().into(),
    }));
    round_trip(TriangleVertex::Counted(12));
}

// --- engine against verifier on hand-made graphs ------------------------------------------

#[test]
fn kcore_matches_bucket_peeling_on_hand_made_graphs() {
    for (name, g) in hand_made() {
        let expect = kcore::verify(&pairs(&g), &g.vertices);
        on_ranks(|ranks| assert_eq!(run_kcore(ranks, &g), expect, "{name}, {ranks} rank(s)"));
    }
}

#[test]
fn triangles_match_the_neighbourhood_count_on_hand_made_graphs() {
    for (name, g) in hand_made() {
        let expect = triangles::verify(&pairs(&g), &g.vertices);
        on_ranks(|ranks| {
            let (got, total) = run_triangles(ranks, &g);
            assert_eq!(got, expect, "{name}, {ranks} rank(s)");
            assert_eq!(total, triangles::total(&expect), "{name}, {ranks} rank(s)");
            assert_eq!(
                run_triangle_total(ranks, &g),
                total,
                "{name}, {ranks} rank(s)"
            );
        });
    }
}

#[test]
fn labelprop_matches_the_serial_rule_on_hand_made_graphs() {
    for (name, g) in hand_made() {
        for max_iterations in [0, 1, 2, 3, 20] {
            let config = LabelPropConfig { max_iterations };
            let expect = labelprop::verify(&pairs(&g), &g.vertices, &config);
            on_ranks(|ranks| {
                assert_eq!(
                    run_labelprop(ranks, &g, &config),
                    expect,
                    "{name}, {max_iterations} iterations, {ranks} rank(s)"
                );
            });
        }
    }
}

#[test]
fn known_answers_on_the_engine() {
    on_ranks(|ranks| {
        let k5 = graph(&clique(1..=5), &[]);
        assert!(run_kcore(ranks, &k5).iter().all(|&(_, k)| k == 4));
        let (per_vertex, total) = run_triangles(ranks, &k5);
        assert!(per_vertex.iter().all(|&(_, t)| t == 6));
        assert_eq!(total, 10);
        let swap = graph(&[(3, 9), (9, 3), (3, 1), (2, 3)], &[]);
        let config = LabelPropConfig { max_iterations: 21 };
        assert_eq!(
            run_labelprop(ranks, &swap, &config),
            vec![(1, 1), (2, 2), (3, 9), (9, 3)]
        );
    });
}

// --- random graphs ------------------------------------------------------------------------

/// Random multigraphs with reciprocal edges, duplicates and self-loops: sparse ones over up
/// to 40 vertices and dense ones over up to 12, plus a few declared vertices.
fn graphs() -> impl Strategy<Value = MemGraph<()>> {
    prop_oneof![(1u64..40, 0usize..150), (1u64..12, 0usize..70)].prop_flat_map(|(n, m)| {
        let edge = (0..n, 0..n).prop_map(|(s, d)| (s * 3 + 1, d * 3 + 1, ()));
        (
            prop::collection::vec(edge, 0..=m),
            prop::collection::vec((0..n).prop_map(|v| v * 3 + 1), 0..4),
        )
            .prop_map(|(edges, vertices)| MemGraph { edges, vertices })
    })
}

fn sorted_set() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::btree_set(0u64..400, 0..120).prop_map(|s| s.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn kcore_equals_bucket_peeling(g in graphs(), ranks in 1usize..=4) {
        let expect = kcore::verify(&pairs(&g), &g.vertices);
        prop_assert_eq!(run_kcore(ranks, &g), expect);
    }

    #[test]
    fn triangles_equal_the_neighbourhood_count(g in graphs(), ranks in 1usize..=4) {
        let expect = triangles::verify(&pairs(&g), &g.vertices);
        let (got, total) = run_triangles(ranks, &g);
        prop_assert_eq!(got, expect.clone());
        prop_assert_eq!(total, triangles::total(&expect));
        prop_assert_eq!(run_triangle_total(ranks, &g), total);
    }

    /// The same on symmetric graphs, simple or not: the paths that read out-edges only,
    /// and on simple graphs sum without deduplicating.
    #[test]
    fn symmetric_graphs_match_too(g in graphs(), ranks in 1usize..=4, simple: bool) {
        let g = if simple { symmetric(&g) } else { both_ways(&g) };
        let expect = triangles::verify(&pairs(&g), &g.vertices);
        prop_assert_eq!(run_triangles(ranks, &g).0, expect.clone());
        prop_assert_eq!(run_triangle_total(ranks, &g), triangles::total(&expect));
        prop_assert_eq!(run_kcore(ranks, &g), kcore::verify(&pairs(&g), &g.vertices));
    }

    #[test]
    fn labelprop_equals_the_serial_rule(g in graphs(), ranks in 1usize..=4, limit in 0usize..8) {
        let config = LabelPropConfig { max_iterations: if limit == 7 { 20 } else { limit } };
        let expect = labelprop::verify(&pairs(&g), &g.vertices, &config);
        prop_assert_eq!(run_labelprop(ranks, &g, &config), expect);
    }

    #[test]
    fn intersection_counts_common_elements(a in sorted_set(), b in sorted_set()) {
        let set: std::collections::HashSet<u64> = a.iter().copied().collect();
        let expect = b.iter().filter(|x| set.contains(x)).count() as u64;
        prop_assert_eq!(intersection_size(&a, &b), expect);
        prop_assert_eq!(intersection_size(&b, &a), expect);
        let short: Vec<u64> = a.iter().copied().step_by(40).collect();
        let expect = short.iter().filter(|x| b.contains(x)).count() as u64;
        prop_assert_eq!(intersection_size(&short, &b), expect);
    }
}

// --- wiki-Vote ------------------------------------------------------------------------------

fn wiki_vote() -> MemGraph<()> {
    let e = read_whole(&shared_dataset("wiki-Vote.txt.gz"), Format::Snap);
    MemGraph {
        edges: e
            .src
            .iter()
            .zip(&e.dst)
            .map(|(&s, &d)| (s, d, ()))
            .collect(),
        vertices: e.vertices,
    }
}

#[test]
fn wiki_vote_triangles() {
    let g = wiki_vote();
    let expect = triangles::verify(&pairs(&g), &g.vertices);
    assert_eq!(expect.len(), 7115);
    assert_eq!(triangles::total(&expect), WIKI_VOTE_TRIANGLES);
    for ranks in [1, 4] {
        let (got, total) = run_triangles(ranks, &g);
        assert_eq!(total, WIKI_VOTE_TRIANGLES, "{ranks} rank(s)");
        assert_eq!(run_triangle_total(ranks, &g), WIKI_VOTE_TRIANGLES);
        assert!(
            got == expect,
            "per-vertex triangles differ on {ranks} rank(s)"
        );
    }
}

#[test]
fn wiki_vote_kcore() {
    let g = wiki_vote();
    let expect = kcore::verify(&pairs(&g), &g.vertices);
    assert_eq!(expect.len(), 7115);
    for ranks in [1, 4] {
        assert!(
            run_kcore(ranks, &g) == expect,
            "coreness differs on {ranks} rank(s)"
        );
    }
}

#[test]
fn wiki_vote_labelprop() {
    let g = wiki_vote();
    let config = LabelPropConfig::default();
    let expect = labelprop::verify(&pairs(&g), &g.vertices, &config);
    for ranks in [1, 4] {
        assert!(
            run_labelprop(ranks, &g, &config) == expect,
            "labels differ on {ranks} rank(s)"
        );
    }
}
