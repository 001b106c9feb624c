//! Shared pieces of gasket's benchmarks: a generated Kronecker graph loaded as one rank's
//! `LocalGraph`, the engine's PageRank set up to run superstep by superstep, and the
//! baseline every engine figure is compared with: a hand-written pull loop over the very
//! same in-CSR (serial, and the same loop split over rayon threads).
#![warn(missing_docs)]

use gasket_apps::pagerank::{DAMPING, Dangling, PageRank, PageRankConfig};
use gasket_datasets::generate::{Generator, GeneratorConfig, edges_for_rank};
use gasket_engine::prelude::*;
use rayon::prelude::*;

/// A Graph500 Kronecker graph (edge factor 16, default seed) as a single rank's graph.
pub fn kron_local_graph(scale: u32) -> LocalGraph<()> {
    let cfg = GeneratorConfig::new(Generator::Kronecker, scale);
    let edges = edges_for_rank(&cfg, 0, 1);
    let input = EdgeInput {
        data: vec![(); edges.src.len()],
        src: edges.src,
        dst: edges.dst,
        vertices: edges.vertices,
        ..EdgeInput::default()
    };
    build_local_graph(&SingleComm, &HashOwnership::new(1), input).expect("building the graph")
}

/// PageRank that never converges (tolerance 0), so each `step` is one full iteration.
pub fn endless_pagerank() -> PageRank {
    PageRank::new(PageRankConfig {
        tol: 0.0,
        max_iterations: usize::MAX,
        ..PageRankConfig::default()
    })
}

/// The engine running `program` on `graph` as one rank, ready for `step()`.
pub fn pagerank_engine<'a>(
    graph: &'a mut LocalGraph<()>,
    program: &'a PageRank,
) -> SyncEngine<'a, PageRank> {
    let config = SyncConfig {
        max_iterations: usize::MAX,
        log_progress: false,
        ..SyncConfig::default()
    };
    SyncEngine::new(program, graph, &SingleComm, config).expect("engine start")
}

/// The hand-written baseline: the pull loop a user would write over the same CSR, with the
/// same definition (dangling mass redistributed, L1 change computed).
pub struct PullBaseline {
    offsets: Vec<usize>,
    neighbors: Vec<LocalId>,
    out_degree: Vec<u32>,
    scores: Vec<f64>,
    contrib: Vec<f64>,
    dangling: f64,
}

impl PullBaseline {
    /// Copies the in-CSR and out-degrees of `graph`.
    pub fn new(graph: &LocalGraph<()>) -> Self {
        let n = graph.num_owned();
        let out_degree: Vec<u32> = (0..n as LocalId)
            .map(|v| graph.out_csr().degree(v) as u32)
            .collect();
        let init = 1.0 / n as f64;
        let contrib = out_degree
            .iter()
            .map(|&d| if d == 0 { init } else { init / f64::from(d) })
            .collect();
        let dangling = out_degree.iter().filter(|&&d| d == 0).count() as f64 * init;
        PullBaseline {
            offsets: graph.in_csr().offsets.clone(),
            neighbors: graph.in_csr().neighbors.clone(),
            out_degree,
            scores: vec![init; n],
            contrib,
            dangling,
        }
    }

    /// One iteration on the calling thread. Returns the L1 change.
    pub fn iterate_serial(&mut self) -> f64 {
        let n = self.scores.len();
        let base = (1.0 - DAMPING) / n as f64 + DAMPING * self.dangling / n as f64;
        let mut l1 = 0.0;
        for v in 0..n {
            let mut sum = 0.0;
            for &u in &self.neighbors[self.offsets[v]..self.offsets[v + 1]] {
                sum += self.contrib[u as usize];
            }
            let pr = base + DAMPING * sum;
            l1 += (pr - self.scores[v]).abs();
            self.scores[v] = pr;
        }
        let mut dangling = 0.0;
        for v in 0..n {
            let d = self.out_degree[v];
            if d == 0 {
                dangling += self.scores[v];
                self.contrib[v] = self.scores[v];
            } else {
                self.contrib[v] = self.scores[v] / f64::from(d);
            }
        }
        self.dangling = dangling;
        l1
    }

    /// One iteration split over the current rayon pool. Returns the L1 change.
    pub fn iterate_parallel(&mut self) -> f64 {
        const CHUNK: usize = 1024;
        let n = self.scores.len();
        let base = (1.0 - DAMPING) / n as f64 + DAMPING * self.dangling / n as f64;
        let (offsets, neighbors, contrib) = (&self.offsets, &self.neighbors, &self.contrib);
        let l1: f64 = self
            .scores
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, scores)| {
                let mut l1 = 0.0;
                for (i, score) in scores.iter_mut().enumerate() {
                    let v = c * CHUNK + i;
                    let mut sum = 0.0;
                    for &u in &neighbors[offsets[v]..offsets[v + 1]] {
                        sum += contrib[u as usize];
                    }
                    let pr = base + DAMPING * sum;
                    l1 += (pr - *score).abs();
                    *score = pr;
                }
                l1
            })
            .sum();
        let (scores, degrees) = (&self.scores, &self.out_degree);
        self.dangling = self
            .contrib
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, contrib)| {
                let mut dangling = 0.0;
                for (i, x) in contrib.iter_mut().enumerate() {
                    let v = c * CHUNK + i;
                    let d = degrees[v];
                    if d == 0 {
                        dangling += scores[v];
                        *x = scores[v];
                    } else {
                        *x = scores[v] / f64::from(d);
                    }
                }
                dangling
            })
            .sum();
        l1
    }

    /// Current ranks, by local id.
    pub fn scores(&self) -> &[f64] {
        &self.scores
    }
}

/// The dangling treatment both sides use.
pub const DANGLING: Dangling = Dangling::Redistribute;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_and_engine_compute_the_same_ranks() {
        let mut graph = kron_local_graph(10);
        let mut baseline = PullBaseline::new(&graph);
        let mut parallel = PullBaseline::new(&graph);
        let program = endless_pagerank();
        let mut engine = pagerank_engine(&mut graph, &program);
        for _ in 0..5 {
            baseline.iterate_serial();
            parallel.iterate_parallel();
            engine.step().unwrap();
        }
        let topo = engine.topology();
        for v in 0..topo.num_owned() {
            let pr = PageRank::rank_of(engine.owned_data()[v], topo.out_csr().degree(v as LocalId));
            assert!((pr - baseline.scores()[v]).abs() < 1e-12);
            assert!((parallel.scores()[v] - baseline.scores()[v]).abs() < 1e-12);
        }
    }
}
