//! `SingleComm`: the one-rank group. Collectives are identities; nothing is copied.

use super::{Comm, CommStats};
use crate::error::Result;
use crate::ids::Rank;

/// A group of exactly one rank.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingleComm;

impl Comm for SingleComm {
    fn rank(&self) -> Rank {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_to_all_v(&self, send: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
        assert_eq!(send.len(), 1, "one buffer per rank");
        Ok(send)
    }
    fn stats(&self) -> CommStats {
        CommStats::default()
    }
    fn barrier(&self) -> Result<()> {
        Ok(())
    }
    fn all_reduce_f64(&self, _values: &mut [f64], _op: super::ReduceOp) -> Result<()> {
        Ok(())
    }
    fn all_reduce_u64(&self, _values: &mut [u64], _op: super::ReduceOp) -> Result<()> {
        Ok(())
    }
}
