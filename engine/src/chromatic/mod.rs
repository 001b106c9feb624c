//! The chromatic engine: edge and full consistency across ranks by running one colour
//! class of a distributed graph colouring per superstep.

mod colouring;
mod schedule;

pub use colouring::{Colouring, Distance, check_colouring, colour_graph};
pub use schedule::{COLOURING_SEED, run_chromatic};
