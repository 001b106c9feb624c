//! What one rank's parameter tables did: reads served from the cache or a server, the
//! staleness actually served, time spent waiting per clock, and the traffic.

use crate::wire::Wire;

/// One rank's figures for a parameter session (worker and server side together).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct TableMetrics {
    /// Clocks the worker finished in this session (a resumed one counts from its
    /// checkpoint), the session's final flush included.
    pub clocks: u64,
    /// Row reads answered from the cache without waiting.
    pub reads_from_cache: u64,
    /// Row reads that waited for a server's answer or push.
    pub reads_from_server: u64,
    /// `staleness[d]`: reads served with a row whose stamp was `d` clocks behind the
    /// reader's clock (0 = contains every update of every earlier clock).
    pub staleness: Vec<u64>,
    /// Seconds the worker waited for rows, per clock.
    pub wait_seconds_per_clock: Vec<f64>,
    /// Coalesced row updates the worker sent.
    pub rows_sent: u64,
    /// Updates this rank's server applied.
    pub updates_applied: u64,
    /// Reads this rank's server answered.
    pub reads_answered: u64,
    /// Reads that had to wait at the server for slower workers.
    pub reads_queued: u64,
    /// Rows this rank's server pushed eagerly.
    pub rows_pushed: u64,
    /// Exchange rounds.
    pub rounds: u64,
    /// Bytes this rank sent to other ranks.
    pub bytes_sent: u64,
    /// The most own updates the worker held at the end of a clock for reading its own
    /// writes (rows it sent that a cached copy may lack): bounded by the staleness, or,
    /// under async with eager pushes, by how far the last pushed copies lag.
    pub own_updates_kept: u64,
}

impl TableMetrics {
    pub(crate) fn record_staleness(&mut self, clocks_behind: u64) {
        let d = clocks_behind as usize;
        if self.staleness.len() <= d {
            self.staleness.resize(d + 1, 0);
        }
        self.staleness[d] += 1;
    }

    /// The largest staleness served, if any read was served.
    pub fn max_staleness(&self) -> Option<usize> {
        self.staleness.iter().rposition(|&n| n > 0)
    }

    /// Total seconds waited for rows.
    pub fn wait_seconds(&self) -> f64 {
        self.wait_seconds_per_clock.iter().sum()
    }
}

impl Wire for TableMetrics {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.clocks, self.reads_from_cache, self.reads_from_server).encode(out);
        (self.staleness.clone(), self.wait_seconds_per_clock.clone()).encode(out);
        (self.rows_sent, self.updates_applied, self.reads_answered).encode(out);
        (
            self.reads_queued,
            self.rows_pushed,
            self.rounds,
            self.bytes_sent,
        )
            .encode(out);
        self.own_updates_kept.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (clocks, reads_from_cache, reads_from_server) = <(u64, u64, u64)>::decode(input);
        let (staleness, wait_seconds_per_clock) = <(Vec<u64>, Vec<f64>)>::decode(input);
        let (rows_sent, updates_applied, reads_answered) = <(u64, u64, u64)>::decode(input);
        let (reads_queued, rows_pushed, rounds, bytes_sent) = <(u64, u64, u64, u64)>::decode(input);
        let own_updates_kept = u64::decode(input);
        TableMetrics {
            clocks,
            reads_from_cache,
            reads_from_server,
            staleness,
            wait_seconds_per_clock,
            rows_sent,
            updates_applied,
            reads_answered,
            reads_queued,
            rows_pushed,
            rounds,
            bytes_sent,
            own_updates_kept,
        }
    }
}
