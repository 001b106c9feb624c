//! Engine results against the serial verifiers on the real wiki-Vote graph, on 1, 2 and 4
//! thread ranks: PageRank within 1e-9 per vertex, components and SSSP exactly, each of the
//! last two with signals pushed, pulled, and chosen per superstep.

use gasket_apps::components::{self, ComponentsConfig};
use gasket_apps::pagerank::{self, Dangling, PageRankConfig};
use gasket_apps::run::{Collected, DirectionArgs, DirectionChoice, run_on_ranks};
use gasket_apps::sssp::{self, SsspConfig};
use gasket_datasets::Format;
use gasket_datasets::GraphInput;
use gasket_engine::comm::CommExt;
use gasket_engine::{Backend, InMemory, LocalGraph};
use gasket_partitioning::Partitioning;
use gasket_tests::{on_ranks, read_whole, shared_dataset};

fn wiki_vote() -> GraphInput {
    GraphInput::new(Some(shared_dataset("wiki-Vote.txt.gz")), Some(Format::Snap))
}

fn wiki_vote_edges() -> (Vec<(u64, u64)>, Vec<u64>) {
    let e = read_whole(&shared_dataset("wiki-Vote.txt.gz"), Format::Snap);
    (gasket_tests::edge_pairs(&e), e.vertices)
}

#[test]
fn pagerank_matches_the_serial_verifier() {
    let (edges, vertices) = wiki_vote_edges();
    for dangling in [Dangling::Redistribute, Dangling::Ignore] {
        let config = PageRankConfig {
            dangling,
            tol: 1e-12,
            ..PageRankConfig::default()
        };
        let (expect, iterations) = pagerank::verify(&edges, &vertices, &config);
        assert_eq!(expect.len(), 7115);
        on_ranks(|ranks| {
            let out = run_on_ranks(
                Backend::Threads(ranks),
                &wiki_vote(),
                &Partitioning::default(),
                false,
                |c, g| pagerank::run(&config, c, g, false),
            )
            .unwrap()
            .expect("thread ranks return rank 0's results");
            assert_eq!(
                out.summary.iterations, iterations,
                "same number of iterations"
            );
            assert_eq!(out.values.len(), expect.len());
            for ((v, pr), (ev, epr)) in out.values.iter().zip(&expect) {
                assert_eq!(v, ev);
                assert!((pr - epr).abs() <= 1e-9, "vertex {v}: {pr} vs {epr}");
            }
            if dangling == Dangling::Redistribute {
                let total: f64 = out.values.iter().map(|(_, p)| p).sum();
                assert!((total - 1.0).abs() < 1e-9, "ranks sum to 1, got {total}");
            }
        });
    }
}

#[test]
fn components_match_union_find() {
    let (edges, vertices) = wiki_vote_edges();
    let expect = components::verify(&edges, &vertices);
    let mut labels: Vec<u64> = expect.iter().map(|&(_, l)| l).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(
        labels.len(),
        24,
        "wiki-Vote has 24 weakly connected components"
    );
    for direction in DIRECTIONS {
        on_ranks(|ranks| {
            let config = ComponentsConfig {
                direction: DirectionArgs { direction },
                ..ComponentsConfig::default()
            };
            let out = run_on_ranks(
                Backend::Threads(ranks),
                &wiki_vote(),
                &Partitioning::default(),
                false,
                |c, g| components::run(&config, c, g, false),
            )
            .unwrap()
            .expect("thread ranks return rank 0's results");
            assert_eq!(out.values, expect, "{direction:?} on {ranks} ranks");
            assert_directions(&out, direction);
        });
    }
}

const DIRECTIONS: [DirectionChoice; 3] = [
    DirectionChoice::Push,
    DirectionChoice::Pull,
    DirectionChoice::Auto,
];

/// Every rank took the asked direction in every superstep; chosen by size, the first
/// supersteps (most vertices active) pulled and the last ones (few active) pushed.
fn assert_directions<T>(out: &Collected<T>, direction: DirectionChoice) {
    let steps = out.summary.iterations;
    for rank in &out.metrics {
        let taken: Vec<&str> = rank.iter().map(|m| m.direction).collect();
        assert_eq!(taken.len(), steps);
        match direction {
            DirectionChoice::Push => assert!(taken.iter().all(|&d| d == "push"), "{taken:?}"),
            DirectionChoice::Pull => assert!(taken.iter().all(|&d| d == "pull"), "{taken:?}"),
            DirectionChoice::Auto => {
                assert!(taken.contains(&"pull"), "{taken:?}");
                assert_eq!(taken.last(), Some(&"push"), "{taken:?}");
            }
        }
        assert_eq!(
            taken,
            out.metrics[0]
                .iter()
                .map(|m| m.direction)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn sssp_matches_dijkstra() {
    let (edges, vertices) = wiki_vote_edges();
    let weighted: Vec<(u64, u64, f64)> = edges.iter().map(|&(s, d)| (s, d, 1.0)).collect();
    for source in [3u64, 30, 4037] {
        let expect = sssp::verify(&weighted, &vertices, source);
        for direction in DIRECTIONS {
            on_ranks(|ranks| {
                let config = SsspConfig {
                    source: Some(source),
                    direction: DirectionArgs { direction },
                    ..SsspConfig::default()
                };
                // Unit weights stored as `f64` edge data, and hop counts without edge data
                // (the pull's BFS early exit).
                let weighted = run_on_ranks(
                    Backend::Threads(ranks),
                    &wiki_vote(),
                    &Partitioning::default(),
                    false,
                    |c, g: &mut LocalGraph<f64>| sssp::run(&config, source, c, g, false),
                );
                let hops = run_on_ranks(
                    Backend::Threads(ranks),
                    &wiki_vote(),
                    &Partitioning::default(),
                    false,
                    |c, g: &mut LocalGraph<()>| sssp::run(&config, source, c, g, false),
                );
                for out in [weighted, hops] {
                    let out = out.unwrap().expect("thread ranks return rank 0's results");
                    assert_eq!(out.values, expect, "source {source}, {direction:?}");
                    if source == 30 {
                        assert_directions(&out, direction);
                    }
                }
            });
        }
    }
}

/// Components on a graph that lists both directions of every edge: the symmetry check
/// passes on every rank, labels follow out-edges only (a pull reads each edge once, not
/// twice), and the labels equal union-find's. With one reverse edge missing, or two
/// reverse edges rewired so that every degree stays the same, the check fails and both
/// directions are followed.
#[test]
fn components_on_a_symmetric_graph_follow_one_direction() {
    let (edges, vertices) = wiki_vote_edges();
    let both: Vec<(u64, u64)> = edges.iter().flat_map(|&(s, d)| [(s, d), (d, s)]).collect();
    let expect = components::verify(&both, &vertices);
    let mut dropped = both.clone();
    dropped.pop();
    // (b, a) and (d, c) become (b, c) and (d, a): the same degrees, other neighbours.
    let mut rewired = both.clone();
    let i = 1;
    let (b, a) = rewired[i];
    let j = (3..rewired.len())
        .step_by(2)
        .find(|&j| ![a, b].contains(&rewired[j].0) && ![a, b].contains(&rewired[j].1))
        .expect("a reverse edge apart from the first");
    let (d, c) = rewired[j];
    rewired[i] = (b, c);
    rewired[j] = (d, a);
    for (graph, symmetric) in [(&both, true), (&dropped, false), (&rewired, false)] {
        let source = InMemory::new(graph.iter().map(|&(s, d)| (s, d, ())).collect());
        on_ranks(|ranks| {
            let config = ComponentsConfig {
                direction: DirectionArgs {
                    direction: DirectionChoice::Pull,
                },
                ..ComponentsConfig::default()
            };
            let out = run_on_ranks(
                Backend::Threads(ranks),
                &source,
                &Partitioning::default(),
                false,
                |c, g| {
                    let everywhere = !c.any(!g.topology().is_symmetric())?;
                    assert_eq!(everywhere, symmetric, "the check on {ranks} ranks");
                    components::run(&config, c, g, false)
                },
            )
            .unwrap()
            .expect("thread ranks return rank 0's results");
            if symmetric {
                assert_eq!(out.values, expect, "{ranks} ranks");
            }
            let first_pull: u64 = out.metrics.iter().map(|rank| rank[0].edges).sum();
            let directions = if symmetric { 1 } else { 2 };
            assert_eq!(first_pull, directions * graph.len() as u64, "{ranks} ranks");
        });
    }
}
