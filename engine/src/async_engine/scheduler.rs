//! Which owned vertex runs next: FIFO, priority, or sweep order over per-vertex slots.
//!
//! Every owned vertex has a slot (under a mutex) holding its combined pending message and
//! two flags: `scheduled` (signalled and not yet taken) and `running` (a worker is executing
//! it). A vertex is claimed only when scheduled and not running, so one vertex never runs
//! on two workers at once; a signal that arrives while it runs sets `scheduled` again and
//! the finishing worker re-queues it, so no signal is lost. `pending` counts vertices that
//! are scheduled or running: zero means this rank has no work (the termination detector
//! reads it). It is raised under the slot's lock, before any worker can see the flag, so it
//! never underflows.
//!
//! The queues: FIFO is an MPMC channel holding each scheduled vertex once; priority is a
//! relaxed priority queue of ordered buckets (as delta-stepping and Galois's OBIM order
//! work): one MPMC channel per eighth of an octave of the priority (the exponent and the
//! top three mantissa bits of the double), and a bitmask of the buckets that may hold
//! entries, so a push and a pop cost a channel operation and an atomic OR or bit scan,
//! with no lock shared by all workers. Workers take from the highest non-empty bucket,
//! first in first out within it, so a vertex runs before every vertex whose priority is
//! lower by more than a factor 1.125 (a Dijkstra-like order for SSSP, whose priority falls
//! with the distance). A raised priority pushes a new entry only when it moves the
//! vertex to a higher bucket; stale entries are skipped when claimed. Sweep has no queue:
//! workers walk the owned vertices round-robin from a shared cursor and run the scheduled
//! ones.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crossbeam_channel::{Receiver, Sender, unbounded};

use crate::ids::LocalId;
use crate::program::VertexProgram;

/// The order in which signalled vertices run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheduler {
    /// First signalled, first run.
    #[default]
    Fifo,
    /// Largest [`VertexProgram::priority`] of the combined message first (e.g. the largest
    /// PageRank residual).
    Priority,
    /// Round-robin over the owned vertices, skipping those not signalled.
    Sweep,
}

impl std::fmt::Display for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheduler::Fifo => "fifo",
            Scheduler::Priority => "priority",
            Scheduler::Sweep => "sweep",
        })
    }
}

impl std::str::FromStr for Scheduler {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fifo" => Ok(Scheduler::Fifo),
            "priority" => Ok(Scheduler::Priority),
            "sweep" => Ok(Scheduler::Sweep),
            _ => Err(format!(
                "unknown scheduler `{s}`: use fifo, priority or sweep"
            )),
        }
    }
}

struct Slot<M> {
    msg: Option<M>,
    scheduled: bool,
    running: bool,
    /// Priority of the newest heap entry for this vertex (`-inf` when none is live).
    queued: f64,
}

/// Buckets per power of two of the priority (the top mantissa bits that pick one).
const SUB_BITS: u32 = 3;

/// Buckets of [`Buckets`]: `2^SUB_BITS` per power of two of the priority from 2^-63 to
/// 2^63 (smaller priorities, zero and non-numbers share the lowest; larger, the highest).
const BUCKETS: usize = 128 << SUB_BITS;

/// The bucket of a priority: `(floor(log2(priority)) + 64)` octaves of `2^SUB_BITS`
/// buckets, the top mantissa bits picking one within the octave, clamped to the buckets.
/// Monotone: a larger priority never gets a lower bucket.
fn bucket_of(priority: f64) -> usize {
    if priority.is_nan() || priority <= 0.0 {
        return 0;
    }
    // A positive double's bits, read as an integer, grow with its value: the biased
    // exponent (floor(log2) + 1023; subnormals 0) above the mantissa.
    let top = (priority.to_bits() >> (52 - SUB_BITS)) as i64;
    let lowest = (1023 - 64) << SUB_BITS;
    (top - lowest).clamp(0, BUCKETS as i64 - 1) as usize
}

/// Ordered buckets of vertices (see the module docs).
struct Buckets {
    queues: Vec<(Sender<LocalId>, Receiver<LocalId>)>,
    /// Bit `b` set: bucket `b` may hold entries (set after each push; cleared by a pop that
    /// found the bucket empty, which then looks again).
    nonempty: [AtomicU64; BUCKETS / 64],
}

impl Buckets {
    fn new() -> Self {
        Buckets {
            queues: (0..BUCKETS).map(|_| unbounded()).collect(),
            nonempty: Default::default(),
        }
    }

    fn push(&self, priority: f64, v: LocalId) {
        let b = bucket_of(priority);
        // Send, then set the bit: a pop that clears the bit of a bucket it found empty
        // looks again after clearing, so it either sees this entry or leaves the bit set
        // (setting the bit first could lose the entry to a clear between the two steps).
        self.queues[b]
            .0
            .send(v)
            .expect("the queue lives as long as its receiver");
        self.nonempty[b / 64].fetch_or(1 << (b % 64), Ordering::AcqRel);
    }

    /// An entry of the highest non-empty bucket, if any.
    fn pop(&self) -> Option<LocalId> {
        for word in (0..BUCKETS / 64).rev() {
            let mut bits = self.nonempty[word].load(Ordering::Acquire);
            while bits != 0 {
                let high = 63 - bits.leading_zeros() as usize;
                let b = word * 64 + high;
                if let Ok(v) = self.queues[b].1.try_recv() {
                    return Some(v);
                }
                // Found empty: clear its bit, then look again in case a push raced in
                // between (the pusher sets the bit before sending).
                self.nonempty[word].fetch_and(!(1 << high), Ordering::AcqRel);
                if let Ok(v) = self.queues[b].1.try_recv() {
                    self.nonempty[word].fetch_or(1 << high, Ordering::AcqRel);
                    return Some(v);
                }
                bits &= !(1 << high);
            }
        }
        None
    }
}

enum Queue {
    Fifo(Sender<LocalId>, Receiver<LocalId>),
    Priority(Buckets),
    Sweep(AtomicUsize),
}

/// The scheduled set of one rank's owned vertices.
pub(crate) struct Schedule<M> {
    slots: Vec<Mutex<Slot<M>>>,
    queue: Queue,
    pending: AtomicUsize,
}

/// Locks a mutex, ignoring poisoning: a panicking worker ends the run anyway, and the
/// slot's plain data stays meaningful.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<M> Schedule<M> {
    pub(crate) fn new(num_owned: usize, kind: Scheduler) -> Self {
        let queue = match kind {
            Scheduler::Fifo => {
                let (tx, rx) = unbounded();
                Queue::Fifo(tx, rx)
            }
            Scheduler::Priority => Queue::Priority(Buckets::new()),
            Scheduler::Sweep => Queue::Sweep(AtomicUsize::new(0)),
        };
        Schedule {
            slots: (0..num_owned)
                .map(|_| {
                    Mutex::new(Slot {
                        msg: None,
                        scheduled: false,
                        running: false,
                        queued: f64::NEG_INFINITY,
                    })
                })
                .collect(),
            queue,
            pending: AtomicUsize::new(0),
        }
    }

    /// Vertices scheduled or running on this rank.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Signals owned vertex `v`, combining `msg` with a pending one.
    pub(crate) fn signal<P: VertexProgram<Message = M>>(&self, p: &P, v: LocalId, msg: M) {
        self.enqueue(p, v, Some(msg));
    }

    /// Schedules owned vertex `v` without a message (`Activation::All` at start-up).
    pub(crate) fn schedule_bare<P: VertexProgram<Message = M>>(&self, p: &P, v: LocalId) {
        self.enqueue(p, v, None);
    }

    fn enqueue<P: VertexProgram<Message = M>>(&self, p: &P, v: LocalId, msg: Option<M>) {
        let mut slot = lock(&self.slots[v as usize]);
        match (&mut slot.msg, msg) {
            (_, None) => {}
            (Some(acc), Some(msg)) if std::mem::size_of::<M>() != 0 => p.combine_messages(acc, msg),
            (Some(_), Some(_)) => {}
            (none, Some(msg)) => *none = Some(msg),
        }
        let newly = !slot.scheduled;
        slot.scheduled = true;
        if newly {
            self.pending.fetch_add(1, Ordering::AcqRel);
        }
        if slot.running {
            return; // the worker running it re-queues it when done
        }
        match &self.queue {
            Queue::Fifo(tx, _) if newly => {
                tx.send(v).expect("the queue lives as long as its receiver")
            }
            Queue::Priority(buckets) => {
                // A raised priority re-pushes only when it moves to a higher bucket: the
                // buckets hold O(log) stale entries per vertex instead of one per signal.
                let priority = slot.msg.as_ref().map_or(0.0, |m| p.priority(m));
                if newly || bucket_of(priority) > bucket_of(slot.queued) {
                    slot.queued = priority;
                    drop(slot);
                    buckets.push(priority, v);
                }
            }
            _ => {}
        }
    }

    /// Claims the next vertex to run and its message; `None` when nothing is claimable now.
    pub(crate) fn next(&self) -> Option<(LocalId, Option<M>)> {
        match &self.queue {
            Queue::Fifo(_, rx) => loop {
                let v = rx.try_recv().ok()?;
                if let Some(msg) = self.claim(v) {
                    return Some((v, msg));
                }
            },
            Queue::Priority(buckets) => loop {
                let v = buckets.pop()?;
                if let Some(msg) = self.claim(v) {
                    return Some((v, msg));
                }
            },
            Queue::Sweep(cursor) => {
                let n = self.slots.len();
                for _ in 0..n {
                    let v = (cursor.fetch_add(1, Ordering::Relaxed) % n) as LocalId;
                    if let Some(msg) = self.claim(v) {
                        return Some((v, msg));
                    }
                }
                None
            }
        }
    }

    fn claim(&self, v: LocalId) -> Option<Option<M>> {
        let mut slot = lock(&self.slots[v as usize]);
        if !slot.scheduled || slot.running {
            return None;
        }
        slot.scheduled = false;
        slot.running = true;
        slot.queued = f64::NEG_INFINITY;
        Some(slot.msg.take())
    }

    /// Ends the run of `v` (after its outputs were handed on): re-queues it if it was
    /// signalled meanwhile, and releases its pending count.
    pub(crate) fn finish<P: VertexProgram<Message = M>>(&self, p: &P, v: LocalId) {
        let mut slot = lock(&self.slots[v as usize]);
        slot.running = false;
        if slot.scheduled {
            match &self.queue {
                Queue::Fifo(tx, _) => tx.send(v).expect("the queue lives as long as its receiver"),
                Queue::Priority(buckets) => {
                    let priority = slot.msg.as_ref().map_or(0.0, |m| p.priority(m));
                    slot.queued = priority;
                    drop(slot);
                    buckets.push(priority, v);
                }
                Queue::Sweep(_) => {}
            }
        }
        self.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{Context, VertexMut, VertexRef};

    struct Max;
    impl VertexProgram for Max {
        type Vertex = ();
        type Edge = ();
        type Gather = ();
        type Message = f64;
        fn init(&self, _v: &VertexRef<'_, ()>, _c: &mut Context<'_, f64>) {}
        fn apply(&self, _v: &mut VertexMut<'_, ()>, _t: Option<()>, _c: &mut Context<'_, f64>) {}
        fn combine_messages(&self, acc: &mut f64, m: f64) {
            *acc = acc.max(m);
        }
        fn priority(&self, m: &f64) -> f64 {
            *m
        }
    }

    #[test]
    fn each_scheduler_runs_every_signalled_vertex_once_with_combined_messages() {
        for kind in [Scheduler::Fifo, Scheduler::Priority, Scheduler::Sweep] {
            let s = Schedule::new(5, kind);
            s.signal(&Max, 3, 1.0);
            s.signal(&Max, 1, 5.0);
            s.signal(&Max, 3, 7.0);
            assert_eq!(s.pending(), 2);
            let mut got = Vec::new();
            while let Some((v, m)) = s.next() {
                got.push((v, m.unwrap()));
                s.finish(&Max, v);
            }
            got.sort_by_key(|&(v, _)| v);
            assert_eq!(got, vec![(1, 5.0), (3, 7.0)], "{kind}");
            assert_eq!(s.pending(), 0);
        }
    }

    #[test]
    fn buckets_are_eighths_of_octaves() {
        let per_octave = 1 << SUB_BITS;
        assert_eq!(per_octave, 8);
        assert_eq!(bucket_of(1.0), 64 * per_octave);
        assert_eq!(bucket_of(1.124), 64 * per_octave);
        assert_eq!(bucket_of(1.125), 64 * per_octave + 1);
        assert_eq!(bucket_of(1.99), 64 * per_octave + 7);
        assert_eq!(bucket_of(2.0), 65 * per_octave);
        assert_eq!(bucket_of(0.5), 63 * per_octave);
        assert_eq!(bucket_of(1e300), BUCKETS - 1);
        assert_eq!(bucket_of(1e-300), 0);
        for p in [0.0, -1.0, f64::NAN] {
            assert_eq!(bucket_of(p), 0);
        }
        // Monotone over a sweep of magnitudes.
        let mut last = 0;
        for i in -700..700 {
            let b = bucket_of(1.07f64.powi(i));
            assert!(b >= last, "1.07^{i}");
            last = b;
        }
    }

    #[test]
    fn priority_runs_the_largest_first() {
        let s = Schedule::new(4, Scheduler::Priority);
        s.signal(&Max, 0, 1.0);
        s.signal(&Max, 1, 3.0);
        s.signal(&Max, 2, 2.0);
        s.signal(&Max, 0, 9.0); // raised: now first
        let order: Vec<LocalId> = std::iter::from_fn(|| {
            let (v, _) = s.next()?;
            s.finish(&Max, v);
            Some(v)
        })
        .collect();
        assert_eq!(order, vec![0, 1, 2]);
    }

    #[test]
    fn a_signal_during_a_run_is_kept_and_the_vertex_never_runs_twice_at_once() {
        for kind in [Scheduler::Fifo, Scheduler::Priority, Scheduler::Sweep] {
            let s = Schedule::new(2, kind);
            s.signal(&Max, 1, 1.0);
            let (v, _) = s.next().unwrap();
            s.signal(&Max, 1, 2.0); // arrives while 1 runs
            assert!(s.next().is_none(), "{kind}: 1 must not run twice at once");
            s.finish(&Max, v);
            let (v, m) = s.next().expect("the signal is kept");
            assert_eq!((v, m), (1, Some(2.0)));
            s.finish(&Max, v);
            assert_eq!(s.pending(), 0);
        }
    }
}
