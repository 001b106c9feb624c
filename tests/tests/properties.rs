//! Property tests: on random small graphs and 1..5 thread ranks, every app equals its
//! serial verifier.

use gasket_apps::components::{self, ComponentsConfig};
use gasket_apps::pagerank::{self, Dangling, PageRankConfig};
use gasket_apps::sssp::{self, SsspConfig};
use gasket_tests::{MemGraph, run_in_memory};
use proptest::prelude::*;

fn graphs() -> impl Strategy<Value = MemGraph<f64>> {
    (1u64..40).prop_flat_map(|n| {
        let edge = (0..n, 0..n, 0u32..8, any::<bool>()).prop_map(|(s, d, w, frac)| {
            (
                s * 3 + 1,
                d * 3 + 1,
                if frac {
                    f64::from(w) / 4.0
                } else {
                    f64::from(w)
                },
            )
        });
        (
            prop::collection::vec(edge, 0..120),
            prop::collection::vec((0..n).prop_map(|v| v * 3 + 1), 1..4),
        )
            .prop_map(|(edges, vertices)| MemGraph { edges, vertices })
    })
}

fn unweighted(g: &MemGraph<f64>) -> MemGraph<()> {
    MemGraph {
        edges: g.edges.iter().map(|&(s, d, _)| (s, d, ())).collect(),
        vertices: g.vertices.clone(),
    }
}

fn pairs(g: &MemGraph<f64>) -> Vec<(u64, u64)> {
    g.edges.iter().map(|&(s, d, _)| (s, d)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn pagerank_equals_verifier(g in graphs(), ranks in 1usize..=5, ignore in any::<bool>()) {
        let config = PageRankConfig {
            tol: 1e-13,
            dangling: if ignore { Dangling::Ignore } else { Dangling::Redistribute },
            ..PageRankConfig::default()
        };
        let (expect, _) = pagerank::verify(&pairs(&g), &g.vertices, &config);
        let got = run_in_memory(ranks, &unweighted(&g), |c, lg| {
            Ok(pagerank::run(&config, c, lg, false)?.values)
        });
        prop_assert_eq!(got.len(), expect.len());
        for ((v, p), (ev, ep)) in got.iter().zip(&expect) {
            prop_assert_eq!(v, ev);
            prop_assert!((p - ep).abs() <= 1e-9, "vertex {}: {} vs {}", v, p, ep);
        }
    }

    #[test]
    fn components_equal_union_find(g in graphs(), ranks in 1usize..=5) {
        let expect = components::verify(&pairs(&g), &g.vertices);
        let got = run_in_memory(ranks, &unweighted(&g), |c, lg| {
            Ok(components::run(&ComponentsConfig::default(), c, lg, false)?.values)
        });
        prop_assert_eq!(got, expect);
    }

    #[test]
    fn sssp_equals_dijkstra(g in graphs(), ranks in 1usize..=5, pick in any::<prop::sample::Index>()) {
        let source = g.vertices[pick.index(g.vertices.len())];
        let expect = sssp::verify(&g.edges, &g.vertices, source);
        let got = run_in_memory(ranks, &g, |c, lg| {
            Ok(sssp::run(&SsspConfig::default(), source, c, lg, false)?.values)
        });
        prop_assert_eq!(got, expect);
    }
}
