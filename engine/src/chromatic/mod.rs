//! The chromatic engine's groundwork: distributed graph colouring.

mod colouring;

pub use colouring::{Colouring, Distance, check_colouring, colour_graph};
