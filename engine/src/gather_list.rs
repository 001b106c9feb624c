//! [`GatherList`]: a gather accumulator that collects one value per edge without a heap
//! allocation for the common single-edge case.

/// The values gathered over a vertex's edges, in no particular order: one value is held
/// inline, several in a vector. `gather` returns [`GatherList::One`] and `combine` is
/// [`GatherList::absorb`]; apply then reads them all (e.g. to deduplicate by neighbour id,
/// take an h-index or count labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatherList<T> {
    /// A single edge's value.
    One(T),
    /// Several edges' values.
    Many(Vec<T>),
}

impl<T> GatherList<T> {
    /// Appends every value of `other` (the longer list is kept and extended).
    pub fn absorb(&mut self, other: GatherList<T>) {
        match self {
            GatherList::Many(list) => match other {
                GatherList::One(x) => list.push(x),
                GatherList::Many(mut more) => {
                    if more.len() > list.len() {
                        std::mem::swap(list, &mut more);
                    }
                    list.extend(more);
                }
            },
            GatherList::One(_) => {
                let mut list = match other {
                    GatherList::One(x) => {
                        let mut list = Vec::with_capacity(4);
                        list.push(x);
                        list
                    }
                    GatherList::Many(list) => list,
                };
                if let GatherList::One(first) =
                    std::mem::replace(self, GatherList::Many(Vec::new()))
                {
                    list.push(first);
                }
                *self = GatherList::Many(list);
            }
        }
    }

    /// All values as a vector.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            GatherList::One(x) => vec![x],
            GatherList::Many(list) => list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorbing_keeps_every_value() {
        let mut a = GatherList::One(1);
        a.absorb(GatherList::One(2));
        a.absorb(GatherList::Many(vec![3, 4, 5]));
        let mut b = GatherList::One(6);
        b.absorb(a);
        let mut all = b.into_vec();
        all.sort_unstable();
        assert_eq!(all, vec![1, 2, 3, 4, 5, 6]);
    }
}
