//! The graph file formats, how they are named on a command line, and how a file's format is
//! guessed from its name.
//!
//! Detection looks only at the file name (never the content), so every rank reaches the same
//! answer without communicating: a trailing `.gz` is ignored, then `.graph` / `.metis` mean
//! METIS, `.mtx` means Matrix Market, `.gsk` gasket's binary graph, and anything else is
//! read as a SNAP edge list, the most common and most forgiving format.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A graph file format. Every format may be gzip-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// SNAP edge list: one directed edge per line, `src dst [weight]`, separated by spaces
    /// or tabs. Lines starting with `#` or `%` are comments, blank lines are skipped, CRLF
    /// is accepted. Ids are any unsigned 64-bit integers; the weight, a finite number, is
    /// on every line or on none.
    Snap,
    /// METIS / gpmetis graph: a header `n m [fmt [ncon]]` (`fmt` 0, 1 = edge weights,
    /// 10 = vertex weights, which are skipped, or 11), then line `i` lists the neighbours
    /// of vertex `i` (1-based), each with its weight when `fmt` asks for it. Every listed
    /// neighbour `j` is the directed edge `i -> j`, so an undirected graph comes out with
    /// both directions; every vertex line declares its vertex. `%` starts a comment.
    Metis,
    /// Matrix Market: banner `%%MatrixMarket matrix coordinate real|integer|pattern
    /// general|symmetric`, `%` comments, the size line `M N NNZ`, then entries
    /// `i j [value]` (1-based). An entry is the edge `i -> j` weighted by its value
    /// (`pattern`: no weights), plus `j -> i` in a symmetric matrix when `i != j`; the
    /// vertices are `1..=max(M, N)`.
    Mtx,
    /// gasket's binary graph (`gasket convert`): the CSR with compact ids, read without
    /// parsing (see `write_gsk`). Never gzipped.
    Gsk,
}

impl Format {
    /// Every format, in the order they are listed in messages.
    pub const ALL: [Format; 4] = [Format::Snap, Format::Metis, Format::Mtx, Format::Gsk];

    /// The command-line name of the format (`snap`, `metis`, `mtx`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Snap => "snap",
            Format::Metis => "metis",
            Format::Mtx => "mtx",
            Format::Gsk => "gsk",
        }
    }

    /// Guesses the format from the file name: after removing a `.gz` suffix, `.graph` and
    /// `.metis` are METIS, `.mtx` is Matrix Market, anything else is SNAP. Case is ignored.
    pub fn detect(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("graph" | "metis") => Format::Metis,
            Some("mtx") => Format::Mtx,
            Some("gsk") => Format::Gsk,
            _ => Format::Snap,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName {
                what: "graph format",
                name: s.to_string(),
                expected: "snap, metis, mtx or gsk",
            })
    }
}

/// A name given on a command line (a format, a generator) that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}` (expected {expected})")]
pub struct UnknownName {
    /// What kind of name it was ("graph format", "generator").
    pub what: &'static str,
    /// The name as given.
    pub name: String,
    /// The accepted names, for the message.
    pub expected: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_extension_ignoring_gz() {
        let cases = [
            ("a/b/web.graph", Format::Metis),
            ("web.metis.gz", Format::Metis),
            ("M.MTX", Format::Mtx),
            ("m.mtx.gz", Format::Mtx),
            ("wiki-Vote.txt.gz", Format::Snap),
            ("edges", Format::Snap),
            ("x.gz", Format::Snap),
            ("kron.GSK", Format::Gsk),
        ];
        for (name, expect) in cases {
            assert_eq!(Format::detect(Path::new(name)), expect, "{name}");
        }
    }

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!("MTX".parse::<Format>(), Ok(Format::Mtx));
        assert_eq!(
            "csv".parse::<Format>().unwrap_err().to_string(),
            "unknown graph format `csv` (expected snap, metis, mtx or gsk)"
        );
    }
}
