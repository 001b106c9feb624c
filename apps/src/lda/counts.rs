//! The data on the document-word graph: topic assignments on edges, topic counts on
//! vertices.
//!
//! An edge (document, word) carries the topics of the word's tokens in that document
//! ([`Tokens`]; most edges hold one or two tokens, kept inline). A document vertex holds
//! its counts sparsely, as (topic, count) pairs, because a document uses few of the
//! topics; a word vertex holds them densely (the samplers look up any topic's count in
//! `O(1)`), plus its total and, for the fast sampler, the alias table of its proposal.
//! Counts are never updated in place across supersteps: every vertex that runs
//! recomputes them from its edges (see the `program` module), so they equal the sum over
//! the assignments by construction.

use gasket_engine::Wire;
use smallvec::SmallVec;

use super::alias::Alias;

/// Topics of a list of tokens; up to four are held without a heap allocation.
pub type TopicList = SmallVec<[u32; INLINE_TOPICS]>;

/// Edge data: the topic of each token of one word in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens(pub TopicList);

impl Wire for Tokens {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).encode(out);
        for t in &self.0 {
            t.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        let n = u32::decode(input) as usize;
        Tokens((0..n).map(|_| u32::decode(input)).collect())
    }
}

/// A word's counts: dense over topics.
#[derive(Debug, Default, PartialEq)]
pub struct WordTopics {
    /// Tokens of the word per topic (length K).
    pub counts: Vec<u32>,
    /// Tokens of the word in all.
    pub total: u32,
    /// The fast sampler's proposal over the topics with a positive count (empty for the
    /// plain sampler).
    pub proposal: Alias,
}

/// Vertex data.
#[derive(Debug, PartialEq)]
pub enum Topics {
    /// A document's counts: (topic, count) ascending by topic, counts positive.
    Doc(Vec<(u32, u32)>),
    /// A word's counts.
    Word(WordTopics),
}

impl Clone for WordTopics {
    fn clone(&self) -> Self {
        WordTopics {
            counts: self.counts.clone(),
            total: self.total,
            proposal: self.proposal.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.counts.clone_from(&source.counts);
        self.total = source.total;
        self.proposal.clone_from(&source.proposal);
    }
}

/// `clone_from` reuses the buffers: the engine copies every active vertex's data before
/// its apply, into the slot that held the same vertex two supersteps ago.
impl Clone for Topics {
    fn clone(&self) -> Self {
        match self {
            Topics::Doc(pairs) => Topics::Doc(pairs.clone()),
            Topics::Word(word) => Topics::Word(word.clone()),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (Topics::Doc(mine), Topics::Doc(theirs)) => mine.clone_from(theirs),
            (Topics::Word(mine), Topics::Word(theirs)) => mine.clone_from(theirs),
            (me, source) => *me = source.clone(),
        }
    }
}

impl Topics {
    /// Tokens per topic as (topic, count) pairs with positive counts, ascending.
    pub fn nonzero(&self) -> Vec<(u32, u32)> {
        match self {
            Topics::Doc(pairs) => pairs.clone(),
            Topics::Word(w) => w
                .counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(k, &c)| (k as u32, c))
                .collect(),
        }
    }

    /// Tokens in all.
    pub fn total(&self) -> u64 {
        match self {
            Topics::Doc(pairs) => pairs.iter().map(|&(_, c)| c as u64).sum(),
            Topics::Word(w) => w.total as u64,
        }
    }

    /// The same counts without the sampler's proposal (what results carry).
    pub fn without_proposal(&self) -> Topics {
        match self {
            Topics::Doc(pairs) => Topics::Doc(pairs.clone()),
            Topics::Word(w) => Topics::Word(WordTopics {
                counts: w.counts.clone(),
                total: w.total,
                proposal: Alias::default(),
            }),
        }
    }
}

impl Wire for Topics {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Topics::Doc(pairs) => {
                out.push(0);
                pairs.encode(out);
            }
            Topics::Word(w) => {
                out.push(1);
                w.counts.encode(out);
                w.total.encode(out);
                w.proposal.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        match u8::decode(input) {
            0 => Topics::Doc(Vec::decode(input)),
            _ => Topics::Word(WordTopics {
                counts: Vec::decode(input),
                total: u32::decode(input),
                proposal: Alias::decode(input),
            }),
        }
    }
}

/// Topics a [`TopicList`] holds inline.
const INLINE_TOPICS: usize = 4;

/// A vertex's gathered topics: a list while it fits inline, per-topic counts (length K)
/// after, so recounting a vertex costs one pass over its tokens and at most one K-sized
/// allocation per accumulator (a growing list would reallocate and copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tally {
    /// The topics, unordered.
    List(TopicList),
    /// Tokens per topic.
    Dense(Vec<u32>),
}

impl Tally {
    /// Folds `other` in; `k` is the number of topics.
    #[inline]
    pub fn absorb(&mut self, other: Tally, k: usize) {
        match other {
            Tally::List(list) => self.add(&list, k),
            Tally::Dense(mut more) => match self {
                Tally::Dense(acc) => {
                    for (a, b) in acc.iter_mut().zip(more) {
                        *a += b;
                    }
                }
                Tally::List(list) => {
                    for &t in list.iter() {
                        more[t as usize] += 1;
                    }
                    *self = Tally::Dense(more);
                }
            },
        }
    }

    /// Adds one token per entry of `topics`; `k` is the number of topics.
    #[inline]
    pub fn add(&mut self, topics: &[u32], k: usize) {
        match self {
            Tally::Dense(acc) => {
                for &t in topics {
                    acc[t as usize] += 1;
                }
            }
            Tally::List(acc) if acc.len() + topics.len() <= INLINE_TOPICS.min(k) => {
                acc.extend_from_slice(topics);
            }
            Tally::List(acc) => {
                let mut dense = vec![0u32; k];
                for &t in acc.iter().chain(topics) {
                    dense[t as usize] += 1;
                }
                *self = Tally::Dense(dense);
            }
        }
    }

    /// Dense counts (length `k`) and the total.
    pub fn into_dense(self, k: usize) -> (Vec<u32>, u32) {
        match self {
            Tally::Dense(counts) => {
                let total = counts.iter().sum();
                (counts, total)
            }
            Tally::List(list) => {
                let mut counts = vec![0u32; k];
                for &t in &list {
                    counts[t as usize] += 1;
                }
                (counts, list.len() as u32)
            }
        }
    }

    /// Sparse (topic, count) pairs, ascending, and the total.
    pub fn into_sparse(self) -> (Vec<(u32, u32)>, u32) {
        match self {
            Tally::Dense(counts) => {
                let pairs: Vec<(u32, u32)> = counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(t, &c)| (t as u32, c))
                    .collect();
                let total = counts.iter().sum();
                (pairs, total)
            }
            Tally::List(mut list) => {
                let total = list.len() as u32;
                (sparse_counts(&mut list), total)
            }
        }
    }
}

/// Sparse counts from a list of topics (sorted in place).
pub fn sparse_counts(topics: &mut [u32]) -> Vec<(u32, u32)> {
    topics.sort_unstable();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for &t in topics.iter() {
        match pairs.last_mut() {
            Some((last, c)) if *last == t => *c += 1,
            _ => pairs.push((t, 1)),
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trips_and_counts() {
        let mut topics = vec![3, 1, 3, 0, 3];
        let pairs = sparse_counts(&mut topics);
        assert_eq!(pairs, vec![(0, 1), (1, 1), (3, 3)]);
        let doc = Topics::Doc(pairs);
        let word = Topics::Word(WordTopics {
            counts: vec![1, 0, 4],
            total: 5,
            proposal: Alias::default(),
        });
        for v in [&doc, &word] {
            let mut buf = Vec::new();
            v.encode(&mut buf);
            assert_eq!(&Topics::decode(&mut &buf[..]), v);
        }
        assert_eq!(word.nonzero(), vec![(0, 1), (2, 4)]);
        assert_eq!(doc.total(), 5);
        let mut tally = Tally::List([2u32, 0].into_iter().collect());
        tally.absorb(Tally::List([2u32].into_iter().collect()), 3);
        assert_eq!(tally, Tally::List([2u32, 0, 2].into_iter().collect()));
        tally.absorb(Tally::List([1u32].into_iter().collect()), 3);
        assert_eq!(tally, Tally::Dense(vec![1, 1, 2]));
        let mut other = Tally::List([0u32].into_iter().collect());
        other.absorb(tally.clone(), 3);
        assert_eq!(other, Tally::Dense(vec![2, 1, 2]));
        assert_eq!(
            other.clone().into_sparse(),
            (vec![(0, 2), (1, 1), (2, 2)], 5)
        );
        assert_eq!(other.into_dense(3), (vec![2, 1, 2], 5));
        let tokens = Tokens([5u32, 6, 7, 8, 9].into_iter().collect());
        let mut buf = Vec::new();
        tokens.encode(&mut buf);
        assert_eq!(Tokens::decode(&mut &buf[..]), tokens);
    }
}
