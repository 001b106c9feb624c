//! Consistency models: which locks a vertex's run holds, acquired so that no run can
//! deadlock.
//!
//! Vertex data lives in one `RwLock` per local vertex (owned and ghosts); edge data in one
//! `Mutex` per edge (none for zero-sized edge data). Three models, as in GraphLab:
//!
//! - **vertex**: only one run per vertex at a time (the scheduler guarantees it); its data
//!   is written under its write lock during apply; every read of a neighbour takes that
//!   neighbour's read lock for the one read, so no read is torn, but neighbours may change
//!   between two reads of the same run;
//! - **edge**: the run holds its vertex's write lock and a read lock on every neighbour
//!   from the first gather to the last scatter, so neighbours cannot change during the run
//!   and no adjacent vertex runs at the same time; edges adjacent to the vertex are written
//!   by it alone;
//! - **full**: write locks on the vertex and all its neighbours.
//!
//! Deadlock freedom: a scope's locks (edge, full) are acquired in ascending local-id order,
//! all at once, before the run starts; every other acquisition (vertex-model reads, the
//! ghost writes of the exchange thread, edge mutexes) holds at most the run's own vertex
//! lock plus one more, and a writer never waits while holding another lock. With a total
//! order on multi-lock acquisitions and no waits-while-holding otherwise, no cycle of waits
//! can form.

use std::ops::Deref;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::ids::LocalId;

/// How much of a vertex's neighbourhood its run holds exclusively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// The running vertex's data is exclusive; neighbour reads are atomic one by one.
    Vertex,
    /// The vertex exclusive, its neighbours read-locked and its edges exclusive for the
    /// whole run.
    #[default]
    Edge,
    /// The vertex and all its neighbours exclusive for the whole run.
    Full,
}

impl std::fmt::Display for Consistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Consistency::Vertex => "vertex",
            Consistency::Edge => "edge",
            Consistency::Full => "full",
        })
    }
}

impl std::str::FromStr for Consistency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vertex" => Ok(Consistency::Vertex),
            "edge" => Ok(Consistency::Edge),
            "full" => Ok(Consistency::Full),
            _ => Err(format!(
                "unknown consistency `{s}`: use vertex, edge or full"
            )),
        }
    }
}

/// Reads a lock, ignoring poisoning (a panicking worker ends the run anyway).
pub(crate) fn read<V>(l: &RwLock<V>) -> RwLockReadGuard<'_, V> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

/// Writes a lock, ignoring poisoning.
pub(crate) fn write<V>(l: &RwLock<V>) -> RwLockWriteGuard<'_, V> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

enum Guard<'a, V> {
    Read(RwLockReadGuard<'a, V>),
    Write(RwLockWriteGuard<'a, V>),
}

impl<V> Deref for Guard<'_, V> {
    type Target = V;
    fn deref(&self) -> &V {
        match self {
            Guard::Read(g) => g,
            Guard::Write(g) => g,
        }
    }
}

/// The locks an edge- or full-consistent run holds: its vertex and every neighbour, in
/// ascending local-id order.
pub(crate) struct Scope<'a, V> {
    ids: Vec<LocalId>,
    guards: Vec<Guard<'a, V>>,
}

impl<'a, V> Scope<'a, V> {
    /// Locks `v` for writing and each of `neighbours` (any order, repeats allowed) for
    /// reading (`Edge`) or writing (`Full`).
    pub(crate) fn lock(
        data: &'a [RwLock<V>],
        v: LocalId,
        neighbours: impl Iterator<Item = LocalId>,
        consistency: Consistency,
    ) -> Self {
        let mut ids: Vec<LocalId> = neighbours.chain([v]).collect();
        ids.sort_unstable();
        ids.dedup();
        let guards = ids
            .iter()
            .map(|&u| {
                let lock = &data[u as usize];
                if u == v || consistency == Consistency::Full {
                    Guard::Write(write(lock))
                } else {
                    Guard::Read(read(lock))
                }
            })
            .collect();
        Scope { ids, guards }
    }

    /// The data of `u`, which must be in the scope.
    pub(crate) fn get(&self, u: LocalId) -> &V {
        let i = self
            .ids
            .binary_search(&u)
            .expect("a neighbour is in the scope");
        &self.guards[i]
    }

    /// The data of the scope's own vertex `v`, for writing.
    pub(crate) fn get_mut(&mut self, v: LocalId) -> &mut V {
        let i = self
            .ids
            .binary_search(&v)
            .expect("the vertex is in its scope");
        match &mut self.guards[i] {
            Guard::Write(g) => g,
            Guard::Read(_) => unreachable!("a run holds its own vertex for writing"),
        }
    }
}
