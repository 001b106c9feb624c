//! Partitioners on small graphs over 1, 2 and 4 thread ranks: valid and identical maps on
//! every rank, all parts used, balance within tolerance, determinism, and cut quality on
//! a 2D grid.

use gasket_engine::{Comm, ThreadComm, VertexId};
use gasket_partitioning::{
    DEFAULT_IMBALANCE, Fennel, Ldg, Method, PartitionError, PartitionRequest, Partitioner, Range,
    partitioner,
};

/// A directed edge list plus declared vertices.
struct Graph {
    name: &'static str,
    src: Vec<VertexId>,
    dst: Vec<VertexId>,
    vertices: Vec<VertexId>,
}

impl Graph {
    fn ids(&self) -> Vec<VertexId> {
        let mut ids: Vec<VertexId> = self
            .src
            .iter()
            .chain(&self.dst)
            .chain(&self.vertices)
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// Small deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn random_graph(name: &'static str, seed: u64, n: u64, m: usize) -> Graph {
    let mut rng = Rng(seed);
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for _ in 0..m {
        // Sparse, non-contiguous ids.
        src.push((rng.next() % n) * 3 + 7);
        dst.push((rng.next() % n) * 3 + 7);
    }
    Graph {
        name,
        src,
        dst,
        vertices: Vec::new(),
    }
}

/// `w x h` grid, row-major ids, every edge in both directions.
fn grid(w: u64, h: u64) -> Graph {
    let (mut src, mut dst) = (Vec::new(), Vec::new());
    for y in 0..h {
        for x in 0..w {
            let v = y * w + x;
            if x + 1 < w {
                src.extend([v, v + 1]);
                dst.extend([v + 1, v]);
            }
            if y + 1 < h {
                src.extend([v, v + w]);
                dst.extend([v + w, v]);
            }
        }
    }
    Graph {
        name: "grid",
        src,
        dst,
        vertices: Vec::new(),
    }
}

fn star(leaves: u64) -> Graph {
    Graph {
        name: "star",
        src: vec![0; leaves as usize],
        dst: (1..=leaves).collect(),
        vertices: Vec::new(),
    }
}

fn with_isolated() -> Graph {
    let mut g = random_graph("isolated", 42, 20, 40);
    g.vertices = (1000..1015).chain([7, 1003]).collect();
    g
}

fn graphs() -> Vec<Graph> {
    vec![
        random_graph("random-a", 1, 40, 80),
        random_graph("random-b", 2, 100, 150),
        grid(12, 9),
        star(30),
        with_isolated(),
    ]
}

/// Runs `p` on `ranks` thread ranks, each holding every `ranks`-th edge and vertex, and
/// returns every rank's part of every vertex of `ids`.
fn run(p: &dyn Partitioner, g: &Graph, ranks: usize, parts: usize) -> Vec<Vec<usize>> {
    let ids = g.ids();
    ThreadComm::run(ranks, |comm| -> Result<Vec<usize>, PartitionError> {
        let r = comm.rank();
        let pick = |xs: &[VertexId]| -> Vec<VertexId> {
            xs.iter()
                .enumerate()
                .filter(|(i, _)| i % ranks == r)
                .map(|(_, &v)| v)
                .collect()
        };
        let (src, dst, vertices) = (pick(&g.src), pick(&g.dst), pick(&g.vertices));
        let request = PartitionRequest {
            src: &src,
            dst: &dst,
            vertices: &vertices,
            parts,
            imbalance: DEFAULT_IMBALANCE,
        };
        let own = p.partition(&comm as &dyn Comm, &request)?;
        assert_eq!(own.num_ranks(), parts);
        Ok(ids.iter().map(|&v| own.owner(v)).collect())
    })
    .unwrap_or_else(|e| panic!("{} on {} ranks: {e}", p.name(), ranks))
}

/// Checks the common properties and returns the agreed map.
fn valid_map(p: &dyn Partitioner, g: &Graph, ranks: usize, k: usize) -> Vec<usize> {
    let maps = run(p, g, ranks, k);
    let what = format!("{} on {} with {ranks} ranks, K = {k}", p.name(), g.name);
    for m in &maps[1..] {
        assert_eq!(m, &maps[0], "{what}: ranks disagree");
    }
    let map = maps.into_iter().next().unwrap();
    assert!(map.iter().all(|&q| q < k), "{what}: part out of range");
    if k <= map.len() {
        let mut used = vec![false; k];
        map.iter().for_each(|&q| used[q] = true);
        assert!(used.iter().all(|&u| u), "{what}: unused part in {map:?}");
    }
    map
}

fn sizes(map: &[usize], k: usize) -> Vec<usize> {
    let mut s = vec![0; k];
    map.iter().for_each(|&q| s[q] += 1);
    s
}

/// Streaming cap: `max(floor(imbalance * n / K), ceil(n / K))` vertices.
fn vertex_cap(n: usize, k: usize) -> usize {
    ((DEFAULT_IMBALANCE * n as f64 / k as f64).floor() as usize).max(n.div_ceil(k))
}

const RANKS: [usize; 3] = [1, 2, 4];
const PARTS: [usize; 5] = [1, 2, 3, 4, 7];

#[test]
fn range_is_contiguous_and_balanced_by_load() {
    for g in graphs() {
        let ids = g.ids();
        let mut load = vec![1u64; ids.len()];
        for &v in g.src.iter().chain(&g.dst) {
            load[ids.binary_search(&v).unwrap()] += 1;
        }
        let total: u64 = load.iter().sum();
        for ranks in RANKS {
            for k in PARTS {
                let map = valid_map(&Range, &g, ranks, k);
                assert!(
                    map.windows(2).all(|w| w[0] <= w[1]),
                    "{}: range parts not contiguous",
                    g.name
                );
                let bound = (DEFAULT_IMBALANCE * total as f64 / k as f64).floor() as u64;
                // Where no contiguous split into K parts within the bound exists, the bound
                // is raised to the best achievable, which never exceeds bound + max load.
                let bound = if parts_needed(&load, bound) <= k {
                    bound
                } else {
                    bound + load.iter().max().unwrap()
                };
                for q in 0..k {
                    let members: Vec<usize> = (0..ids.len()).filter(|&i| map[i] == q).collect();
                    let l: u64 = members.iter().map(|&i| load[i]).sum();
                    assert!(
                        l <= bound || members.len() == 1,
                        "{} K = {k}: part {q} load {l} over {bound}",
                        g.name
                    );
                }
            }
        }
    }
}

/// Fewest contiguous parts, each within `bound` or a single vertex (greedy fill).
fn parts_needed(load: &[u64], bound: u64) -> usize {
    let mut count = 0;
    let mut current: Option<u64> = None;
    for &w in load {
        current = match current {
            Some(c) if c + w <= bound => Some(c + w),
            _ => {
                count += 1;
                Some(w)
            }
        };
    }
    count
}

fn check_streaming(p: &dyn Partitioner) {
    for g in graphs() {
        let n = g.ids().len();
        for ranks in RANKS {
            for k in PARTS {
                let map = valid_map(p, &g, ranks, k);
                let s = sizes(&map, k);
                assert!(
                    s.iter().all(|&c| c <= vertex_cap(n, k)),
                    "{} on {} with {ranks} ranks, K = {k}: sizes {s:?}",
                    p.name(),
                    g.name
                );
            }
        }
    }
}

#[test]
fn ldg_is_valid_and_balanced() {
    check_streaming(&Ldg::default());
    // Tiny chunks: many exchange rounds.
    check_streaming(&Ldg { chunk: 3 });
}

#[test]
fn fennel_is_valid_and_balanced() {
    check_streaming(&Fennel::default());
    check_streaming(&Fennel { chunk: 3 });
}

#[cfg(feature = "metis")]
#[test]
fn metis_is_valid_and_balanced() {
    let metis = partitioner(Method::Metis);
    for g in graphs() {
        let n = g.ids().len();
        for ranks in RANKS {
            for k in PARTS {
                let map = valid_map(metis.as_ref(), &g, ranks, k);
                // METIS treats the tolerance as a target: allow it one vertex more per part
                // plus 3% (it often misses by a vertex on graphs of tens of vertices).
                let slack = (vertex_cap(n, k) as f64 * 1.03).ceil() as usize + 1;
                let s = sizes(&map, k);
                assert!(
                    s.iter().all(|&c| c <= slack),
                    "metis on {} K = {k}: sizes {s:?}",
                    g.name
                );
            }
        }
    }
}

#[cfg(not(feature = "metis"))]
#[test]
fn metis_without_feature_says_how_to_rebuild() {
    let request = PartitionRequest {
        src: &[0],
        dst: &[1],
        vertices: &[],
        parts: 2,
        imbalance: DEFAULT_IMBALANCE,
    };
    let err = partitioner(Method::Metis)
        .partition(&gasket_engine::SingleComm, &request)
        .err()
        .expect("METIS is not built in")
        .to_string();
    assert!(err.contains("--features metis"), "{err}");
}

fn cut_fraction(g: &Graph, map: &[usize]) -> f64 {
    let ids = g.ids();
    let part = |v: VertexId| map[ids.binary_search(&v).unwrap()];
    let cut = g
        .src
        .iter()
        .zip(&g.dst)
        .filter(|&(&u, &v)| part(u) != part(v))
        .count();
    cut as f64 / g.src.len() as f64
}

#[test]
fn grid_cuts_beat_hash() {
    let g = grid(100, 100);
    let hash = cut_fraction(&g, &valid_map(partitioner(Method::Hash).as_ref(), &g, 1, 4));
    let mut report = vec![format!("hash {hash:.4}")];
    let mut methods = vec![Method::Range, Method::Ldg, Method::Fennel];
    if cfg!(feature = "metis") {
        methods.push(Method::Metis);
    }
    for method in methods {
        for ranks in RANKS {
            let p = partitioner(method);
            let f = cut_fraction(&g, &valid_map(p.as_ref(), &g, ranks, 4));
            report.push(format!("{method}@{ranks} {f:.4}"));
            let limit = match method {
                Method::Metis => 0.1 * hash,
                Method::Range => 0.05,
                _ => 0.5 * hash,
            };
            assert!(
                f <= limit,
                "{method} on {ranks} ranks cuts {f} (hash {hash})"
            );
        }
    }
    println!(
        "cut fractions on the 100x100 grid, K = 4: {}",
        report.join(", ")
    );
}

#[test]
fn same_input_same_assignment() {
    let g = random_graph("random-c", 9, 500, 2000);
    for method in Method::ALL {
        if method == Method::Metis && !cfg!(feature = "metis") {
            continue;
        }
        let p = partitioner(method);
        for ranks in RANKS {
            let a = valid_map(p.as_ref(), &g, ranks, 5);
            let b = valid_map(p.as_ref(), &g, ranks, 5);
            assert_eq!(a, b, "{method} on {ranks} ranks is not deterministic");
        }
    }
}

#[test]
fn method_names_round_trip() {
    for method in Method::ALL {
        let name = method.to_string();
        assert_eq!(name.parse::<Method>().unwrap(), method);
        assert_eq!(partitioner(method).name(), name);
    }
    assert_eq!("LDG".parse::<Method>().unwrap(), Method::Ldg);
    let err = "kway".parse::<Method>().unwrap_err().to_string();
    for method in Method::ALL {
        assert!(err.contains(method.as_str()), "{err}");
    }
}
