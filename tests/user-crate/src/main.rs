//! A user's program, built outside gasket's workspace against the published API only:
//! every vertex learns the largest id that can reach it (max-label propagation along edge
//! directions, with messages). Usage: `my-gasket-program GRAPH OUTPUT`; ranks come from
//! `mpirun` or `GASKET_RANKS`.

use std::path::PathBuf;

use gasket_datasets::GraphInput;
use gasket_engine::prelude::*;
use gasket_partitioning::Method;

struct MaxReaching;

impl VertexProgram for MaxReaching {
    type Vertex = u64;
    type Edge = ();
    type Gather = ();
    type Message = u64;

    fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u64>) -> u64 {
        ctx.signal_with(v.handle(), v.id());
        v.id()
    }

    fn apply(&self, v: &mut VertexMut<'_, u64>, _total: Option<()>, ctx: &mut Context<'_, u64>) {
        if let Some(&label) = ctx.message() {
            let data = v.data_mut();
            *data = (*data).max(label);
        }
    }

    fn scatter_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir {
        EdgeDir::Out
    }

    fn scatter(&self, v: &VertexRef<'_, u64>, _e: &mut (), other: &Neighbor<'_, u64>, ctx: &mut Context<'_, u64>) {
        if *other.data() < *v.data() {
            ctx.signal_with(other.handle(), *v.data());
        }
    }

    fn combine_messages(&self, acc: &mut u64, msg: u64) {
        *acc = (*acc).max(msg);
    }
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [graph, output] = args.as_slice() else {
        eprintln!("usage: my-gasket-program GRAPH OUTPUT");
        std::process::exit(2);
    };
    let outcome = Launcher::from_env().and_then(|launcher| {
        launcher
            .placement(Method::Ldg)
            .progress(false)
            .run(&GraphInput::file(graph), &MaxReaching, |v| *v.data())
    });
    match outcome {
        Ok(Some(outcome)) => {
            if let Err(e) = outcome.save(output, "largest id reaching each vertex") {
                fail(&e);
            }
            println!("{} vertices on {} ranks", outcome.values.len(), outcome.graph.ranks);
        }
        Ok(None) => {} // another process of an MPI job holds rank 0
        Err(e) => fail(&e),
    }
}
