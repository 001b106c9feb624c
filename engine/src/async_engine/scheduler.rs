//! Which owned vertex runs next: FIFO, priority, or sweep order over per-vertex slots.
//!
//! Every owned vertex has a slot (under its own mutex: no lock is shared by all signals)
//! holding its combined pending message and two flags: `scheduled` (signalled and not yet
//! taken) and `running` (a worker is executing it). A vertex is claimed only when scheduled
//! and not running, so one vertex never runs on two workers at once; a signal that arrives
//! while it runs sets `scheduled` again and the finishing worker re-queues it, so no signal
//! is lost.
//!
//! `pending` bounds from above the vertices that are scheduled or running: zero means this
//! rank has no work (the termination detector reads it). It is kept with two atomic
//! operations per vertex run rather than one per signal: a run's signals are *reserved*
//! (added) before any of them can be seen by another worker, and the run's own count and
//! the signals that found their vertex already scheduled are released in one subtraction
//! after the last of them is queued, so the count never falls below the true one.
//!
//! The queues: FIFO is one work-stealing deque per worker (crossbeam-deque, as Cilk and
//! rayon schedule): a worker queues the vertices it signals on its own deque and runs from
//! it in arrival order, and only a worker whose deque is empty touches shared state, taking
//! from the injector (the signals of the exchange thread and of `init`) or stealing half of
//! another worker's deque. Priority is a relaxed priority queue of ordered buckets (as
//! delta-stepping and Galois's OBIM order work): one MPMC channel per eighth of an octave
//! of the priority (the exponent and the top three mantissa bits of the double), and a
//! bitmask of the buckets that may hold entries, so a push and a pop cost a channel
//! operation and an atomic OR or bit scan, with no lock shared by all workers. Workers take
//! from the highest non-empty bucket, first in first out within it, so a vertex runs before
//! every vertex whose priority is lower by more than a factor 1.125 (a Dijkstra-like order
//! for SSSP, whose priority falls with the distance). A raised priority pushes a new entry
//! only when it moves the vertex to a higher bucket; stale entries are skipped when
//! claimed. Sweep has no queue: workers walk the owned vertices round-robin from a shared
//! cursor and run the scheduled ones.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::buckets::{Buckets, bucket_of};
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

/// FIFO's queues: one deque per worker, and an injector for everyone else.
struct Deques {
    injector: Injector<LocalId>,
    stealers: Vec<Stealer<LocalId>>,
}

impl Deques {
    /// The next vertex for the worker owning `local`: its own oldest entry, else a batch
    /// from the injector, else half of another worker's deque (the next one round from
    /// `local.index` first, so thieves spread over victims).
    fn pop(&self, local: &Local) -> Option<LocalId> {
        let deque = local.deque.as_ref()?;
        // Now and then the injector first, so signals from other ranks do not wait for
        // this worker's own work to run out (Go's scheduler looks at its global queue
        // every 61st time for the same reason).
        let pops = local.pops.get().wrapping_add(1);
        local.pops.set(pops);
        if pops % INJECTOR_EVERY == 0
            && let Steal::Success(v) = self.injector.steal_batch_and_pop(deque)
        {
            return Some(v);
        }
        if let Some(v) = deque.pop() {
            return Some(v);
        }
        let n = self.stealers.len();
        loop {
            let mut retry = false;
            match self.injector.steal_batch_and_pop(deque) {
                Steal::Success(v) => return Some(v),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for i in 1..n {
                match self.stealers[(local.index + i) % n].steal_batch_and_pop(deque) {
                    Steal::Success(v) => return Some(v),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }
}

/// A worker takes from the injector before its own deque once in this many pops.
const INJECTOR_EVERY: u32 = 61;

enum Queue {
    /// Boxed: the injector's padding makes it several times the others' size.
    Fifo(Box<Deques>),
    Priority(Buckets),
    Sweep(AtomicUsize),
}

/// A worker's handle on the schedule: its own deque under FIFO (nothing under the other
/// orders, whose queues are shared).
pub(crate) struct Local {
    deque: Option<Worker<LocalId>>,
    index: usize,
    /// Pops so far (for [`INJECTOR_EVERY`]).
    pops: std::cell::Cell<u32>,
}

impl Local {
    /// The handle of a thread that is not a worker (start-up, the exchange thread): what
    /// it schedules goes to the shared injector.
    pub(crate) fn outside() -> Self {
        Local {
            deque: None,
            index: 0,
            pops: Default::default(),
        }
    }
}

/// The scheduled set of one rank's owned vertices.
pub(crate) struct Schedule<M> {
    slots: Vec<Mutex<Slot<M>>>,
    queue: Queue,
    pending: AtomicUsize,
    /// Out-degree of every owned vertex, for [`VertexProgram::priority`] (priority only).
    out_degrees: Vec<u32>,
}

/// Locks a mutex, ignoring poisoning: a panicking worker ends the run anyway, and the
/// slot's plain data stays meaningful.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<M> Schedule<M> {
    /// The schedule of `num_owned` vertices; `out_degree` gives theirs.
    pub(crate) fn new(
        num_owned: usize,
        kind: Scheduler,
        out_degree: impl Fn(LocalId) -> usize,
    ) -> Self {
        let out_degrees = match kind {
            Scheduler::Priority => (0..num_owned)
                .map(|v| u32::try_from(out_degree(v as LocalId)).unwrap_or(u32::MAX))
                .collect(),
            _ => Vec::new(),
        };
        let queue = match kind {
            Scheduler::Fifo => Queue::Fifo(Box::new(Deques {
                injector: Injector::new(),
                stealers: Vec::new(),
            })),
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
            out_degrees,
        }
    }

    /// The priority of `v`'s pending message (0 without one).
    fn priority_of<P: VertexProgram<Message = M>>(
        &self,
        p: &P,
        v: LocalId,
        msg: Option<&M>,
    ) -> f64 {
        msg.map_or(0.0, |m| {
            p.priority(m, self.out_degrees[v as usize] as usize)
        })
    }

    /// The handles of `workers` worker threads, one each (a new set replaces the last).
    /// Under FIFO the vertices queued so far (at start-up: every vertex, or those `init`
    /// signalled) are dealt out to the workers' deques in turn, in order, so the workers
    /// run them in the order one shared FIFO would, before what they signal (left in the
    /// injector, they would wait behind each worker's newer work; dealt in contiguous
    /// blocks, delta PageRank on a Kronecker graph needed 1.5x the updates).
    pub(crate) fn workers(&mut self, workers: usize) -> Vec<Local> {
        let workers = workers.max(1);
        let deques: Vec<Option<Worker<LocalId>>> = match &mut self.queue {
            Queue::Fifo(fifo) => {
                let deques: Vec<_> = (0..workers).map(|_| Worker::new_fifo()).collect();
                fifo.stealers = deques.iter().map(Worker::stealer).collect();
                let mut dealt = 0;
                loop {
                    match fifo.injector.steal() {
                        Steal::Success(v) => {
                            deques[dealt % workers].push(v);
                            dealt += 1;
                        }
                        Steal::Empty => break,
                        Steal::Retry => {}
                    }
                }
                deques.into_iter().map(Some).collect()
            }
            _ => (0..workers).map(|_| None).collect(),
        };
        deques
            .into_iter()
            .enumerate()
            .map(|(index, deque)| Local {
                deque,
                index,
                pops: Default::default(),
            })
            .collect()
    }

    /// Vertices scheduled or running on this rank (an upper bound while signals are being
    /// handed on; see the module docs).
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Asks the CPU to start loading the slot of `v` (ignored when `v` is not owned).
    #[inline(always)]
    pub(crate) fn prefetch(&self, v: LocalId) {
        if let Some(slot) = self.slots.get(v as usize) {
            crate::prefetch::read_value(slot);
        }
    }

    /// Counts `n` signals as pending before they are queued (see the module docs).
    pub(crate) fn reserve(&self, n: usize) {
        self.pending.fetch_add(n, Ordering::AcqRel);
    }

    /// Releases `n` reserved or running counts.
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.pending.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Signals owned vertex `v`, combining `msg` with a pending one, from a thread that
    /// reserved one count for it. Returns whether the count was used (the vertex was not
    /// already scheduled); the caller releases the unused ones.
    pub(crate) fn signal<P: VertexProgram<Message = M>>(
        &self,
        p: &P,
        local: &Local,
        v: LocalId,
        msg: M,
    ) -> bool {
        self.enqueue(p, local, v, Some(msg))
    }

    /// Signals every `(vertex, message)` pair from a thread that is not a worker, keeping
    /// the pending count exact.
    pub(crate) fn signal_all<P: VertexProgram<Message = M>>(
        &self,
        p: &P,
        signals: impl ExactSizeIterator<Item = (LocalId, M)>,
    ) {
        self.enqueue_all(p, signals.map(|(v, msg)| (v, Some(msg))));
    }

    /// Schedules owned vertices `0..n` without a message (`Activation::All` at start-up:
    /// `apply` sees `ctx.message() == None`), as [`Self::signal_all`] does.
    pub(crate) fn schedule_all_bare<P: VertexProgram<Message = M>>(&self, p: &P, n: usize) {
        self.enqueue_all(p, (0..n).map(|v| (v as LocalId, None)));
    }

    fn enqueue_all<P: VertexProgram<Message = M>>(
        &self,
        p: &P,
        entries: impl ExactSizeIterator<Item = (LocalId, Option<M>)>,
    ) {
        self.reserve(entries.len());
        let outside = Local::outside();
        let unused = entries
            .map(|(v, msg)| self.enqueue(p, &outside, v, msg))
            .filter(|&used| !used)
            .count();
        self.release(unused);
    }

    fn enqueue<P: VertexProgram<Message = M>>(
        &self,
        p: &P,
        local: &Local,
        v: LocalId,
        msg: Option<M>,
    ) -> bool {
        let mut slot = lock(&self.slots[v as usize]);
        match (&mut slot.msg, msg) {
            (_, None) => {}
            (Some(acc), Some(msg)) if std::mem::size_of::<M>() != 0 => p.combine_messages(acc, msg),
            (Some(_), Some(_)) => {}
            (none, Some(msg)) => *none = Some(msg),
        }
        let newly = !slot.scheduled;
        slot.scheduled = true;
        if slot.running {
            return newly; // the worker running it re-queues it when done
        }
        match &self.queue {
            Queue::Fifo(fifo) if newly => {
                drop(slot);
                push_fifo(fifo, local, v);
            }
            Queue::Priority(buckets) => {
                // A raised priority re-pushes only when it moves to a higher bucket: the
                // buckets hold O(log) stale entries per vertex instead of one per signal.
                let priority = self.priority_of(p, v, slot.msg.as_ref());
                if newly || bucket_of(priority) > bucket_of(slot.queued) {
                    slot.queued = priority;
                    drop(slot);
                    buckets.push(priority, v);
                }
            }
            _ => {}
        }
        newly
    }

    /// Claims the next vertex to run and its message; `None` when nothing is claimable now.
    pub(crate) fn next(&self, local: &Local) -> Option<(LocalId, Option<M>)> {
        match &self.queue {
            Queue::Fifo(fifo) => loop {
                let v = fifo.pop(local)?;
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
    /// signalled meanwhile. Its pending count stays taken: the caller releases it with the
    /// unused reservations of the run's signals.
    pub(crate) fn finish<P: VertexProgram<Message = M>>(&self, p: &P, local: &Local, v: LocalId) {
        let mut slot = lock(&self.slots[v as usize]);
        slot.running = false;
        if slot.scheduled {
            match &self.queue {
                Queue::Fifo(fifo) => {
                    drop(slot);
                    push_fifo(fifo, local, v);
                }
                Queue::Priority(buckets) => {
                    let priority = self.priority_of(p, v, slot.msg.as_ref());
                    slot.queued = priority;
                    drop(slot);
                    buckets.push(priority, v);
                }
                Queue::Sweep(_) => {}
            }
        }
    }
}

/// Queues `v` on the worker's own deque, or on the injector from outside the workers.
fn push_fifo(fifo: &Deques, local: &Local, v: LocalId) {
    match &local.deque {
        Some(deque) => deque.push(v),
        None => fifo.injector.push(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{Context, VertexMut, VertexRef};

    /// Combines by maximum; ranks by the message, or by the message per out-edge (as delta
    /// PageRank does).
    struct Max {
        per_edge: bool,
    }
    const MAX: Max = Max { per_edge: false };

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
        fn priority(&self, m: &f64, out_degree: usize) -> f64 {
            if self.per_edge {
                m / out_degree as f64
            } else {
                *m
            }
        }
    }

    /// Runs every scheduled vertex in the scheduler's order; returns the order.
    fn run_order(s: &Schedule<f64>, local: &Local, p: &Max) -> Vec<LocalId> {
        std::iter::from_fn(|| {
            let (v, _) = s.next(local)?;
            s.finish(p, local, v);
            s.release(1);
            Some(v)
        })
        .collect()
    }

    #[test]
    fn each_scheduler_runs_every_signalled_vertex_once_with_combined_messages() {
        for kind in [Scheduler::Fifo, Scheduler::Priority, Scheduler::Sweep] {
            let mut s = Schedule::new(5, kind, |_| 1);
            let local = s.workers(1).pop().unwrap();
            s.signal_all(&MAX, [(3, 1.0), (1, 5.0), (3, 7.0)].into_iter());
            assert_eq!(s.pending(), 2);
            let mut got = Vec::new();
            while let Some((v, m)) = s.next(&local) {
                got.push((v, m.unwrap()));
                s.finish(&MAX, &local, v);
                s.release(1);
            }
            got.sort_by_key(|&(v, _)| v);
            assert_eq!(got, vec![(1, 5.0), (3, 7.0)], "{kind}");
            assert_eq!(s.pending(), 0);
        }
    }

    #[test]
    fn priority_runs_the_largest_first() {
        let mut s = Schedule::new(4, Scheduler::Priority, |_| 1);
        let local = s.workers(1).pop().unwrap();
        // 0 is raised last: now first.
        s.signal_all(&MAX, [(0, 1.0), (1, 3.0), (2, 2.0), (0, 9.0)].into_iter());
        assert_eq!(run_order(&s, &local, &MAX), vec![0, 1, 2]);
    }

    #[test]
    fn priority_sees_each_vertex_out_degree() {
        let degrees = [100, 1, 10];
        let mut s = Schedule::new(3, Scheduler::Priority, |v| degrees[v as usize]);
        let local = s.workers(1).pop().unwrap();
        let per_edge = Max { per_edge: true };
        s.signal_all(&per_edge, [(0, 10.0), (1, 10.0), (2, 10.0)].into_iter());
        assert_eq!(run_order(&s, &local, &per_edge), vec![1, 2, 0]);
    }

    #[test]
    fn a_signal_during_a_run_is_kept_and_the_vertex_never_runs_twice_at_once() {
        for kind in [Scheduler::Fifo, Scheduler::Priority, Scheduler::Sweep] {
            let mut s = Schedule::new(2, kind, |_| 1);
            let local = s.workers(1).pop().unwrap();
            s.signal_all(&MAX, [(1, 1.0)].into_iter());
            let (v, _) = s.next(&local).unwrap();
            s.signal_all(&MAX, [(1, 2.0)].into_iter()); // arrives while 1 runs
            assert!(
                s.next(&local).is_none(),
                "{kind}: 1 must not run twice at once"
            );
            s.finish(&MAX, &local, v);
            s.release(1);
            let (v, m) = s.next(&local).expect("the signal is kept");
            assert_eq!((v, m), (1, Some(2.0)));
            s.finish(&MAX, &local, v);
            s.release(1);
            assert_eq!(s.pending(), 0);
        }
    }
}
