//! The small real graph shipped with the crate, so that examples and tests run without
//! downloading anything.
//!
//! `wiki-Vote` (SNAP): who voted for whom in Wikipedia administrator elections up to
//! January 2008 — 7,115 vertices, 103,689 directed edges, ids up to 8,297 (not contiguous).
//! The file is embedded gzip-compressed, exactly as SNAP distributes it; pass it to
//! [`read_graph_bytes`](crate::read_graph_bytes) with [`WIKI_VOTE_NAME`] and
//! [`Format::Snap`](crate::Format::Snap).

/// The name under which the bundled wiki-Vote graph appears in errors and logs.
pub const WIKI_VOTE_NAME: &str = "wiki-Vote.txt.gz (bundled)";

/// Vertices of wiki-Vote (ids that appear in at least one edge).
pub const WIKI_VOTE_VERTICES: u64 = 7_115;

/// Directed edges of wiki-Vote.
pub const WIKI_VOTE_EDGES: u64 = 103_689;

static WIKI_VOTE: &[u8] = include_bytes!("../data/wiki-Vote.txt.gz");

/// The gzip-compressed SNAP edge list of wiki-Vote.
pub fn wiki_vote() -> &'static [u8] {
    WIKI_VOTE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_gzip() {
        assert_eq!(&wiki_vote()[..2], &[0x1f, 0x8b]);
    }
}
