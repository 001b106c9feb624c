//! Community detection by label propagation (Raghavan, Albert and Kumara 2007), in its
//! synchronous, deterministic form: every vertex ends with a label, and vertices sharing a
//! label form a community.
//!
//! Algorithm: every vertex starts with its own id as label. In each superstep a running
//! vertex counts its neighbours' labels over both edge directions (each edge counts once for
//! each endpoint, so a pair linked both ways counts twice and a self-loop counts twice for
//! the vertex's own label), plus its own label once, and takes the most frequent label, ties
//! going to the smallest. All vertices update at once from the previous superstep's labels;
//! that rule may oscillate (two-colourable patterns swap forever), so the run also stops at
//! an iteration limit.
//!
//! Design: the engine's gather reads the previous superstep's data, which is exactly the
//! synchronous rule, so results do not depend on ranks or threads. A vertex that changes
//! signals itself and all its neighbours (a `changed` flag in its data tells scatter); a
//! vertex whose closed neighbourhood did not change would compute the same label again, so
//! it stays idle. Gather hands one label per edge in a [`GatherList`] (its vector comes from
//! a per-thread pool, so no vertex allocates); apply sorts the labels in place and counts
//! runs.

use gasket_engine::prelude::*;

/// Default iteration limit: synchronous label propagation may oscillate, and communities
/// settle within a few supersteps on real graphs.
pub const MAX_ITERATIONS: usize = 20;

/// Label-propagation settings.
#[derive(Debug, Clone, clap::Args)]
pub struct LabelPropConfig {
    /// Stop after this many supersteps (synchronous label propagation may oscillate).
    #[arg(long = "iterations", default_value_t = MAX_ITERATIONS)]
    pub max_iterations: usize,
}

impl Default for LabelPropConfig {
    fn default() -> Self {
        LabelPropConfig {
            max_iterations: MAX_ITERATIONS,
        }
    }
}

/// Vertex data of [`LabelProp`]: the current label and whether the last run changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelVertex {
    /// The community label (a vertex id).
    pub label: VertexId,
    /// The label changed when the vertex last ran (it then signals itself and its
    /// neighbours).
    pub changed: bool,
}

impl Wire for LabelVertex {
    fn encode(&self, out: &mut Vec<u8>) {
        self.label.encode(out);
        self.changed.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        LabelVertex {
            label: VertexId::decode(input),
            changed: bool::decode(input),
        }
    }
}

/// The gather accumulator of [`LabelProp`]: the neighbours' labels, one per edge.
pub type Labels = GatherList<VertexId>;

/// The most frequent label among `labels` and `own` (counted once more), ties to the
/// smallest.
fn most_frequent_with(mut labels: Labels, own: VertexId) -> VertexId {
    let list = labels.as_mut_slice();
    list.sort_unstable();
    let (mut best, mut best_count) = (own, 1usize);
    let mut rest = &*list;
    while let Some(&label) = rest.first() {
        let run = rest.partition_point(|&x| x == label);
        let count = run + usize::from(label == own);
        if count > best_count || (count == best_count && label < best) {
            best = label;
            best_count = count;
        }
        rest = &rest[run..];
    }
    best
}

/// The label-propagation program (vertex data: [`LabelVertex`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelProp;

impl VertexProgram for LabelProp {
    type Vertex = LabelVertex;
    type Edge = ();
    type Gather = Labels;
    type Message = ();

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, ()>) -> LabelVertex {
        ctx.signal(v.handle());
        LabelVertex {
            label: v.id(),
            changed: false,
        }
    }

    fn gather_edges(&self, _v: &VertexRef<'_, LabelVertex>) -> EdgeDir {
        EdgeDir::All
    }

    fn gather(&self, _v: &VertexRef<'_, LabelVertex>, _edge: &(), other: &LabelVertex) -> Labels {
        GatherList::one(other.label)
    }

    fn combine(&self, acc: &mut Labels, x: Labels) {
        acc.absorb(x);
    }

    fn apply(
        &self,
        v: &mut VertexMut<'_, LabelVertex>,
        total: Option<Labels>,
        ctx: &mut Context<'_, ()>,
    ) {
        let own = v.data().label;
        let label = total.map_or(own, |t| most_frequent_with(t, own));
        let changed = label != own;
        *v.data_mut() = LabelVertex { label, changed };
        if changed {
            ctx.signal(v.handle());
        }
    }

    fn scatter_edges(&self, v: &VertexRef<'_, LabelVertex>) -> EdgeDir {
        if v.data().changed {
            EdgeDir::All
        } else {
            EdgeDir::None
        }
    }

    fn scatter(
        &self,
        _v: &VertexRef<'_, LabelVertex>,
        _edge: &mut (),
        other: &Neighbor<'_, LabelVertex>,
        ctx: &mut Context<'_, ()>,
    ) {
        ctx.signal(other.handle());
    }
}

/// Runs label propagation on this rank's graph (collective); returns the owned vertices'
/// labels.
pub fn run(
    config: &LabelPropConfig,
    comm: &dyn Comm,
    graph: &mut LocalGraph<()>,
    progress: bool,
) -> Result<RankRun<VertexId>, EngineError> {
    gasket_engine::run_program(
        &LabelProp,
        comm,
        graph,
        SyncConfig {
            max_iterations: config.max_iterations,
            log_progress: progress,
            ..SyncConfig::default()
        },
        |v| v.data().label,
    )
}

/// Serial reference: the same synchronous rule over every vertex in each round, with a hash
/// map of label counts, until no label changes or after `config.max_iterations` rounds.
/// Returns `(vertex, label)` sorted by vertex id, for every declared vertex and edge
/// endpoint.
pub fn verify(
    edges: &[(VertexId, VertexId)],
    vertices: &[VertexId],
    config: &LabelPropConfig,
) -> Vec<(VertexId, VertexId)> {
    use std::collections::HashMap;
    let ids = gasket_engine::sorted_vertex_ids(vertices, edges.iter().flat_map(|&(s, d)| [s, d]));
    let index = |v: VertexId| ids.binary_search(&v).expect("every endpoint is listed");
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    for &(s, d) in edges {
        let (s, d) = (index(s), index(d));
        neighbours[s].push(d);
        neighbours[d].push(s);
    }
    let mut labels = ids.clone();
    let mut counts: HashMap<VertexId, usize> = HashMap::new();
    for _ in 0..config.max_iterations {
        let next: Vec<VertexId> = (0..ids.len())
            .map(|v| {
                counts.clear();
                *counts.entry(labels[v]).or_default() += 1;
                for &u in &neighbours[v] {
                    *counts.entry(labels[u]).or_default() += 1;
                }
                let (&label, _) = counts
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .expect("the vertex's own label is counted");
                label
            })
            .collect();
        if next == labels {
            break;
        }
        labels = next;
    }
    ids.into_iter().zip(labels).collect()
}
