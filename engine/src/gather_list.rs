//! [`GatherList`]: a gather accumulator that collects one value per edge without a heap
//! allocation per vertex.
//!
//! Design: a single edge's value is held inline; from the second value on, the values go
//! into a vector taken from a small per-thread pool, and the vector goes back to the pool
//! (emptied, its capacity kept) when the list is dropped or absorbed into another. After
//! the first few vertices of a superstep every list reuses a vector that is already large
//! enough, so gathering a hub's thousands of values costs pushes, not `malloc`s and
//! regrowth copies. The pool is keyed by the element type and holds at most
//! [`POOLED_PER_TYPE`] vectors per type and thread (a vertex's gather needs two: the
//! engine folds even and odd edges into separate lists).

use std::any::Any;
use std::cell::RefCell;

/// Most vectors of one element type a thread keeps for reuse.
pub const POOLED_PER_TYPE: usize = 4;

thread_local! {
    /// One `Vec<Vec<T>>` of spare vectors per element type `T` used on this thread.
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// An empty vector from this thread's pool, or a new one.
fn take_vec<T: 'static>() -> Vec<T> {
    POOL.with(|pool| {
        pool.borrow_mut()
            .iter_mut()
            .find_map(|spares| spares.downcast_mut::<Vec<Vec<T>>>())
            .and_then(Vec::pop)
    })
    .unwrap_or_default()
}

/// Empties `list` and keeps it in this thread's pool, unless the pool is full.
fn give_vec<T: 'static>(mut list: Vec<T>) {
    list.clear();
    if list.capacity() == 0 {
        return;
    }
    // `try_with`: a list dropped while the thread's locals are torn down is simply freed.
    let _ = POOL.try_with(|pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return;
        };
        let spares = match pool.iter().position(|spares| spares.is::<Vec<Vec<T>>>()) {
            Some(i) => &mut pool[i],
            None => {
                pool.push(Box::new(Vec::<Vec<T>>::new()));
                pool.last_mut().expect("just pushed")
            }
        };
        let spares = spares
            .downcast_mut::<Vec<Vec<T>>>()
            .expect("found or created with this type");
        if spares.len() < POOLED_PER_TYPE {
            spares.push(list);
        }
    });
}

/// The values gathered over a vertex's edges, in no particular order. `gather` returns
/// [`GatherList::one`] and `combine` is [`GatherList::absorb`]; apply then reads them all
/// (e.g. to deduplicate by neighbour id, take an h-index or count labels), sorting or
/// filtering them in place. Dropping the list returns its vector to the thread's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherList<T: 'static> {
    repr: Repr<T>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr<T: 'static> {
    One(T),
    Many(Pooled<T>),
}

/// A vector that goes back to the thread's pool when dropped. The list itself has no
/// `Drop`, so absorbing a one-value list moves its value out: a push, as cheap as
/// [`GatherList::push`], which is why a program's default `gather_into` (gather, then
/// combine by `absorb`) needs no override.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pooled<T: 'static>(Vec<T>);

impl<T: 'static> Pooled<T> {
    /// A vector from the pool.
    fn take() -> Self {
        Pooled(take_vec())
    }
    /// No vector yet (allocates nothing).
    fn empty() -> Self {
        Pooled(Vec::new())
    }
}

impl<T: 'static> Drop for Pooled<T> {
    fn drop(&mut self) {
        give_vec(std::mem::take(&mut self.0));
    }
}

impl<T: 'static> GatherList<T> {
    /// A single edge's value.
    pub fn one(x: T) -> Self {
        GatherList { repr: Repr::One(x) }
    }

    /// Appends every value of `other` (the longer list is kept and extended; the other's
    /// vector goes back to the pool). Absorbing one value into a list of several, a
    /// gather's common case, is a push and small enough to inline into the caller.
    #[inline]
    pub fn absorb(&mut self, other: GatherList<T>) {
        match (&mut self.repr, other.repr) {
            (Repr::Many(list), Repr::One(x)) => list.0.push(x),
            (_, other) => self.absorb_rest(other),
        }
    }

    /// `absorb` of a list of several, or into a list of one (which becomes a pooled
    /// vector).
    #[cold]
    #[inline(never)]
    fn absorb_rest(&mut self, other: Repr<T>) {
        if let Repr::Many(list) = &mut self.repr {
            match other {
                Repr::One(x) => list.0.push(x),
                Repr::Many(mut more) => {
                    if more.0.len() > list.0.len() {
                        std::mem::swap(&mut list.0, &mut more.0);
                    }
                    list.0.append(&mut more.0);
                }
            }
            return;
        }
        let mut list = match other {
            Repr::One(x) => {
                let mut list = Pooled::take();
                list.0.push(x);
                list
            }
            Repr::Many(list) => list,
        };
        if let Repr::One(first) = std::mem::replace(&mut self.repr, Repr::Many(Pooled::empty())) {
            list.0.push(first);
        }
        self.repr = Repr::Many(list);
    }

    /// Appends one value: what a program's `gather_into` does with an edge's value, so
    /// that gathering a vertex makes no list per edge.
    #[inline]
    pub fn push(&mut self, x: T) {
        match &mut self.repr {
            Repr::Many(list) => list.0.push(x),
            Repr::One(_) => self.absorb_rest(Repr::One(x)),
        }
    }

    /// The values.
    pub fn as_slice(&self) -> &[T] {
        match &self.repr {
            Repr::One(x) => std::slice::from_ref(x),
            Repr::Many(list) => &list.0,
        }
    }

    /// The values, to sort or change in place.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.repr {
            Repr::One(x) => std::slice::from_mut(x),
            Repr::Many(list) => &mut list.0,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are none (only after [`GatherList::retain`] dropped them all).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Removes consecutive values with equal keys, keeping the first ([`Vec::dedup_by_key`]):
    /// after a sort by the key, one value per key remains.
    pub fn dedup_by_key<K: PartialEq>(&mut self, key: impl FnMut(&mut T) -> K) {
        if let Repr::Many(list) = &mut self.repr {
            list.0.dedup_by_key(key);
        }
    }

    /// Keeps only the values for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match &mut self.repr {
            Repr::Many(list) => list.0.retain(keep),
            Repr::One(x) => {
                if !keep(x) {
                    self.repr = Repr::Many(Pooled::empty());
                }
            }
        }
    }

    /// All values as a vector (taken out of the pool: prefer reading the list in place).
    pub fn into_vec(self) -> Vec<T> {
        match self.repr {
            Repr::One(x) => vec![x],
            Repr::Many(mut list) => std::mem::take(&mut list.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorbing_keeps_every_value() {
        let mut a = GatherList::one(1);
        a.absorb(GatherList::one(2));
        let mut more = GatherList::one(3);
        more.absorb(GatherList::one(4));
        more.absorb(GatherList::one(5));
        a.absorb(more);
        let mut b = GatherList::one(6);
        b.absorb(a);
        let mut all = b.into_vec();
        all.sort_unstable();
        assert_eq!(all, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn sort_dedup_and_retain_in_place() {
        let mut list = GatherList::one((3, 'c'));
        for x in [(1, 'a'), (3, 'c'), (2, 'b'), (1, 'a')] {
            list.absorb(GatherList::one(x));
        }
        list.as_mut_slice().sort_unstable();
        list.dedup_by_key(|p| p.0);
        assert_eq!(list.as_slice(), &[(1, 'a'), (2, 'b'), (3, 'c')]);
        list.retain(|p| p.0 != 2);
        assert_eq!(list.as_slice(), &[(1, 'a'), (3, 'c')]);
        let mut single = GatherList::one(7);
        single.retain(|&x| x != 7);
        assert!(single.is_empty());
        assert_eq!(single.len(), 0);
    }

    /// The point of the pool: a dropped list's vector, capacity and all, serves the next
    /// list of the same type on this thread, so a superstep's lists stop allocating.
    #[test]
    fn a_dropped_list_lends_its_vector_to_the_next() {
        let filled = |n: u32| {
            let mut list = GatherList::one(0u32);
            for x in 1..n {
                list.absorb(GatherList::one(x));
            }
            list
        };
        // Empty this thread's pool of u32 vectors first (other tests may have filled it).
        for _ in 0..POOLED_PER_TYPE {
            drop(take_vec::<u32>());
        }
        let big = filled(10_000);
        let capacity = big.as_slice().len();
        let address = big.as_slice().as_ptr();
        drop(big);
        let next = filled(3);
        assert_eq!(
            next.as_slice(),
            &[1, 0, 2],
            "the values of the new list only"
        );
        assert_eq!(
            next.as_slice().as_ptr(),
            address,
            "the new list reuses the dropped list's vector"
        );
        drop(next);
        assert!(take_vec::<u32>().capacity() >= capacity);
        // A different element type has a pool of its own.
        assert_eq!(take_vec::<(u64, u8)>().capacity(), 0);
    }
}
