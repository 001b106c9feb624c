//! SNAP edge lists: one directed edge per line, `src dst [weight]`.
//!
//! Columns are separated by spaces or tabs; lines whose first non-blank character is `#` or
//! `%` are comments; blank lines are skipped; CRLF line endings are accepted. Vertex ids are
//! unsigned 64-bit integers and need not be contiguous. A third column is a finite
//! floating-point weight: either every data line of the file has one or none has.
//!
//! Design: each data line is tokenized and converted in place (no allocation). Whether the
//! file is weighted cannot be decided by one rank, which sees only part of it, so every rank
//! records the offsets of its first weighted and first unweighted line and one collective
//! finds the file's first line of each kind. If both exist, the later one is the first line
//! that disagrees with the start of the file: its owner reports it, and every rank returns
//! that same error. The same collective sums the edge counts for the empty-file check.
//! Inside a rank, a plain file's byte range is cut again into one part per thread, parsed
//! at once and concatenated in file order (a gzip stream is one pass).

use gasket_engine::comm::Comm;
use rayon::prelude::*;

use crate::EdgeList;
use crate::error::DatasetError;
use crate::source::{Origin, Share, Source, column_min, column_sum, gather_u64, share_parse_error};
use crate::text::{Tokens, first_non_space, is_space, parse_uint, parse_weight, show_line};

/// SNAP data lines: anything that is not blank and not a `#` / `%` comment.
pub(crate) fn is_data(line: &[u8]) -> bool {
    !matches!(first_non_space(line), None | Some(b'#' | b'%'))
}

/// One parsed SNAP line.
#[derive(Debug, PartialEq)]
pub(crate) struct Record {
    pub(crate) src: u64,
    pub(crate) dst: u64,
    pub(crate) weight: Option<f64>,
}

/// Parses one data line.
///
/// The common line, two ids of at most 19 digits (which cannot overflow), is parsed in a
/// single pass over its bytes; anything else (a weight, an error) goes through the general
/// tokenizer, which produces the error messages.
#[inline]
pub(crate) fn parse_line(line: &[u8]) -> Result<Record, String> {
    let mut at = 0;
    if let Some(src) = quick_id(line, &mut at)
        && let Some(dst) = quick_id(line, &mut at)
    {
        let rest = &line[at..];
        if rest.iter().all(|&b| is_space(b)) {
            return Ok(Record {
                src,
                dst,
                weight: None,
            });
        }
        let mut tokens = Tokens::new(rest);
        let weight = tokens.next().map(parse_weight).transpose()?;
        return finish(src, dst, weight, tokens);
    }
    let mut tokens = Tokens::new(line);
    let src = parse_uint(tokens.next().unwrap_or_default(), "vertex id")?;
    let Some(dst) = tokens.next() else {
        return Err("expected two vertex ids (`src dst [weight]`)".to_string());
    };
    let dst = parse_uint(dst, "vertex id")?;
    let weight = tokens.next().map(parse_weight).transpose()?;
    finish(src, dst, weight, tokens)
}

fn finish(src: u64, dst: u64, weight: Option<f64>, extra: Tokens<'_>) -> Result<Record, String> {
    let extra = extra.count();
    if extra > 0 {
        return Err(format!(
            "expected `src dst [weight]`, found {} columns",
            3 + extra
        ));
    }
    Ok(Record { src, dst, weight })
}

/// Skips separators, then reads an id of 1 to 19 digits ending at a separator or the end of
/// the line; `None` (with `at` unspecified) for anything else.
#[inline]
fn quick_id(line: &[u8], at: &mut usize) -> Option<u64> {
    let mut i = *at;
    while i < line.len() && is_space(line[i]) {
        i += 1;
    }
    let start = i;
    let mut value = 0u64;
    while i < line.len() {
        let digit = line[i].wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        if i - start == 19 {
            return None;
        }
        value = value * 10 + u64::from(digit);
        i += 1;
    }
    if i == start || (i < line.len() && !is_space(line[i])) {
        return None;
    }
    *at = i;
    Some(value)
}

/// The first line of one kind (weighted or not) that a part of a rank's share has seen.
struct FirstSeen {
    at: u64,
    /// Its number among the lines read from `origin`.
    count: u64,
    origin: Origin,
    text: String,
}

impl FirstSeen {
    /// The earlier of two (by offset).
    fn earliest(a: Option<FirstSeen>, b: Option<FirstSeen>) -> Option<FirstSeen> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// What one part of a rank's share parsed.
#[derive(Default)]
struct Part {
    edges: EdgeList,
    /// Weights when any line had one (`NaN` for lines without; such a file is an error).
    weights: Option<Vec<f64>>,
    first_weighted: Option<FirstSeen>,
    first_plain: Option<FirstSeen>,
}

impl Part {
    /// Appends `later`, the part after this one.
    fn append(&mut self, later: Part) {
        let (before, after) = (self.edges.len(), later.edges.len());
        match (&mut self.weights, later.weights) {
            (Some(ws), Some(more)) => ws.extend(more),
            (Some(ws), None) => ws.resize(before + after, f64::NAN),
            (None, Some(more)) => {
                let mut ws = vec![f64::NAN; before];
                ws.extend(more);
                self.weights = Some(ws);
            }
            (None, None) => {}
        }
        self.edges.src.extend(later.edges.src);
        self.edges.dst.extend(later.edges.dst);
        self.first_weighted = FirstSeen::earliest(self.first_weighted.take(), later.first_weighted);
        self.first_plain = FirstSeen::earliest(self.first_plain.take(), later.first_plain);
    }
}

/// Parses the data lines of one share (or part of one) that this rank owns.
fn parse(source: &Source<'_>, mut share: Share<'_>) -> Result<Part, DatasetError> {
    let origin = share.origin();
    let mut out = Part::default();
    while let Some(line) = share.next_data().map_err(|e| source.read_error(e))? {
        if !line.mine {
            continue;
        }
        let record = parse_line(line.text)
            .map_err(|reason| origin.error(source, line.count, line.text, reason))?;
        let first = if record.weight.is_some() {
            &mut out.first_weighted
        } else {
            &mut out.first_plain
        };
        if first.is_none() {
            *first = Some(FirstSeen {
                at: line.at,
                count: line.count,
                origin,
                text: show_line(line.text),
            });
        }
        match (record.weight, &mut out.weights) {
            (Some(w), Some(ws)) => ws.push(w),
            (Some(w), None) => {
                // Lines before this one had no weight: the file is inconsistent and the
                // global check below reports it; the placeholders are never returned.
                let mut ws = vec![f64::NAN; out.edges.src.len()];
                ws.push(w);
                out.weights = Some(ws);
            }
            (None, Some(ws)) => ws.push(f64::NAN),
            (None, None) => {}
        }
        out.edges.src.push(record.src);
        out.edges.dst.push(record.dst);
    }
    Ok(out)
}

/// Parses this rank's share: a plain input in one part per thread (consecutive byte
/// ranges parsed at once, concatenated in file order; the first error in file order wins,
/// as in a serial pass), a gzip stream in one pass.
fn parse_rank(source: &Source<'_>, comm: &dyn Comm) -> Result<Part, DatasetError> {
    let lines = source.lines_from_start()?;
    let parts = rayon::current_num_threads() as u64;
    if source.is_gzip() || parts == 1 {
        return parse(source, Share::new(source, lines, is_data, comm)?);
    }
    let header = (lines.offset(), lines.count());
    drop(lines);
    let results: Vec<Result<Part, DatasetError>> = (0..parts)
        .into_par_iter()
        .map(|p| {
            parse(
                source,
                Share::part(source, header, is_data, comm, (p, parts))?,
            )
        })
        .collect();
    let parts: Vec<Part> = results.into_iter().collect::<Result<_, _>>()?;
    let total: usize = parts.iter().map(|p| p.edges.len()).sum();
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    let more = total - all.edges.len();
    all.edges.src.reserve_exact(more);
    all.edges.dst.reserve_exact(more);
    for part in parts {
        all.append(part);
    }
    Ok(all)
}

/// Reads this rank's share of a SNAP edge list. Returns the edges and the global edge count.
pub(crate) fn read(source: &Source<'_>, comm: &dyn Comm) -> Result<(EdgeList, u64), DatasetError> {
    let Part {
        edges: mut out,
        weights,
        first_weighted,
        first_plain,
    } = parse_rank(source, comm)?;

    let at = |f: &Option<FirstSeen>| f.as_ref().map_or(u64::MAX, |f| f.at);
    let all = gather_u64(
        comm,
        &[out.len() as u64, at(&first_weighted), at(&first_plain)],
    )?;
    let total = column_sum(&all, 0);
    let (weighted_at, plain_at) = (column_min(&all, 1), column_min(&all, 2));
    if weighted_at != u64::MAX && plain_at != u64::MAX {
        let culprit = weighted_at.max(plain_at);
        let (first, reason) = if culprit == weighted_at {
            (
                &first_weighted,
                "this line has a weight but the lines before it have none \
                 (every edge must have a weight, or none)",
            )
        } else {
            (
                &first_plain,
                "this line has no weight but the lines before it have one \
                 (every edge must have a weight, or none)",
            )
        };
        let mine = match first {
            Some(f) if f.at == culprit => Some((
                f.origin.line_number(source, f.count)?,
                f.text.clone(),
                reason.to_string(),
            )),
            _ => None,
        };
        return Err(share_parse_error(comm, source.name(), mine));
    }
    if total == 0 {
        return Err(DatasetError::Empty {
            path: source.name().to_path_buf(),
        });
    }
    if weighted_at != u64::MAX {
        out.weight = Some(weights.unwrap_or_default());
    }
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{edges_of, read_text, read_text_err};
    use crate::{Format, read_graph_bytes};
    use gasket_engine::comm::SingleComm;

    #[test]
    fn classifies_lines() {
        assert!(is_data(b"1 2"));
        assert!(is_data(b"  1\t2"));
        assert!(!is_data(b""));
        assert!(!is_data(b" \t\r"));
        assert!(!is_data(b"# comment"));
        assert!(!is_data(b"  % comment"));
    }

    #[test]
    fn parses_lines() {
        assert_eq!(
            parse_line(b"3\t4"),
            Ok(Record {
                src: 3,
                dst: 4,
                weight: None
            })
        );
        assert_eq!(
            parse_line(b" 3  4 -0.5 "),
            Ok(Record {
                src: 3,
                dst: 4,
                weight: Some(-0.5)
            })
        );
        assert_eq!(
            parse_line(b"3").unwrap_err(),
            "expected two vertex ids (`src dst [weight]`)"
        );
        assert_eq!(
            parse_line(b"1 2 3 4").unwrap_err(),
            "expected `src dst [weight]`, found 4 columns"
        );
        assert_eq!(
            parse_line(b"1 x 3").unwrap_err(),
            "expected a vertex id, found `x`"
        );
        assert_eq!(
            parse_line(b"1234567890123456789 9876543210987654321\t").map(|r| (r.src, r.dst)),
            Ok((1_234_567_890_123_456_789, 9_876_543_210_987_654_321))
        );
        assert_eq!(
            parse_line(b"18446744073709551615 1").map(|r| r.src),
            Ok(u64::MAX)
        );
        assert_eq!(
            parse_line(b"1 18446744073709551616").unwrap_err(),
            "vertex id `18446744073709551616` does not fit in 64 bits"
        );
    }

    #[test]
    fn reads_an_unweighted_list_with_comments_blank_lines_and_crlf() {
        let text = "# header\r\n% other comment\r\n1\t2\r\n\r\n  2 3\r\n   \r\n10 1\r\n0 0";
        let g = read_text(text, Format::Snap, 1).remove(0);
        assert_eq!(edges_of(&g), vec![(0, 0), (1, 2), (2, 3), (10, 1)]);
        assert_eq!(g.src, vec![1, 2, 10, 0]);
        assert_eq!(g.weight, None);
        assert!(g.vertices.is_empty());
    }

    #[test]
    fn reads_weights() {
        let text = "1 2 0.5\n2 3 1e2\n3 1 -4\n";
        let g = read_text(text, Format::Snap, 1).remove(0);
        assert_eq!(
            (g.src.clone(), g.dst.clone()),
            (vec![1, 2, 3], vec![2, 3, 1])
        );
        assert_eq!(g.weight, Some(vec![0.5, 100.0, -4.0]));
    }

    #[test]
    fn large_ids_are_kept() {
        let text = "18446744073709551615 0\n";
        let g = read_text(text, Format::Snap, 1).remove(0);
        assert_eq!(edges_of(&g), vec![(u64::MAX, 0)]);
    }

    /// Reads `text` as a plain file on `ranks` thread ranks inside a pool of `threads`
    /// threads.
    fn read_in_pool(text: &str, ranks: usize, threads: usize) -> Result<Vec<EdgeList>, String> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("g.txt");
        std::fs::write(&path, text).expect("write");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| {
            gasket_engine::ThreadComm::run(ranks, |comm| {
                crate::read_graph(&path, Format::Snap, &comm)
            })
            .map_err(|e| e.to_string())
        })
    }

    #[test]
    fn parts_parsed_on_several_threads_concatenate_in_file_order() {
        let mut text = String::from("# header\n% note\n");
        for i in 0..300u64 {
            text.push_str(&format!("{} {}\t{}\n", i * 7 % 101, i, i as f64 * 0.5));
            if i % 37 == 0 {
                text.push_str("# comment\r\n\n");
            }
        }
        let serial = read_in_pool(&text, 1, 1).unwrap();
        assert_eq!(serial[0].len(), 300);
        for ranks in 1..=3 {
            let one_thread = read_in_pool(&text, ranks, 1).unwrap();
            for threads in [2, 3, 5, 16] {
                // Same shares, same order, same weights as one thread per rank.
                assert_eq!(read_in_pool(&text, ranks, threads).unwrap(), one_thread);
            }
        }
        // An error deep in the file, and a weight missing after weighted lines, name the
        // file's line whatever part read it.
        let bad = text.replacen("250\t125\n", "250\tx\n", 1);
        let lines_to =
            |t: &str, needle: &str| t[..t.find(needle).unwrap()].matches('\n').count() + 1;
        let bad_line = lines_to(&bad, "250\tx");
        let unweighted = text.replacen("\t125\n", "\n", 1);
        let plain_line = lines_to(&text, "\t125\n");
        for ranks in 1..=3 {
            for threads in [1, 2, 5] {
                let err = read_in_pool(&bad, ranks, threads).unwrap_err();
                assert!(err.contains(&format!(":{bad_line}:")), "{err}");
                let err = read_in_pool(&unweighted, ranks, threads).unwrap_err();
                assert!(err.contains(&format!(":{plain_line}:")), "{err}");
                assert!(err.contains("has no weight"), "{err}");
            }
        }
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            (
                "1 2\n# c\n99999999999999999999999 1\n",
                3,
                "vertex id `99999999999999999999999` does not fit in 64 bits",
            ),
            ("1 2\nabc 3\n", 2, "expected a vertex id, found `abc`"),
            ("1 2\n1 -3\n", 2, "expected a vertex id, found `-3`"),
            ("\n\n7\n", 3, "expected two vertex ids (`src dst [weight]`)"),
            ("1 2 x\n", 1, "weight `x` is not a finite number"),
            ("1 2 nan\n", 1, "weight `nan` is not a finite number"),
            ("1 2 inf\n", 1, "weight `inf` is not a finite number"),
            (
                "1 2 3 4\n",
                1,
                "expected `src dst [weight]`, found 4 columns",
            ),
        ];
        for (text, line, reason) in cases {
            for ranks in 1..=3 {
                let err = read_text_err(text, Format::Snap, ranks);
                match &err {
                    DatasetError::Parse {
                        line: l, reason: r, ..
                    } => {
                        assert_eq!((*l, r.as_str()), (line, reason), "{text:?} on {ranks}");
                    }
                    other => panic!("{text:?}: unexpected {other}"),
                }
            }
        }
    }

    #[test]
    fn mixed_weights_name_the_first_disagreeing_line_on_every_rank_count() {
        let text = "1 2\n2 3\n# c\n3 4 1.5\n4 5\n5 6 2\n";
        for ranks in 1..=4 {
            let err = read_text_err(text, Format::Snap, ranks);
            let msg = err.to_string();
            assert!(
                msg.contains(":4: this line has a weight but the lines before it have none"),
                "{ranks}: {msg}"
            );
            assert!(msg.contains("(line: `3 4 1.5`)"), "{msg}");
        }
        let text = "1 2 1\n2 3\n";
        for ranks in 1..=2 {
            let msg = read_text_err(text, Format::Snap, ranks).to_string();
            assert!(
                msg.contains(":2: this line has no weight but the lines before it have one"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_file_without_edges_is_empty_on_every_rank() {
        for ranks in 1..=3 {
            let err = read_text_err("# only comments\n\n", Format::Snap, ranks);
            assert!(matches!(err, DatasetError::Empty { .. }), "{err}");
            assert!(err.to_string().ends_with("contains no edges"));
        }
        let err = read_graph_bytes("nothing", b"", Format::Snap, &SingleComm).unwrap_err();
        assert_eq!(err.to_string(), "nothing contains no edges");
    }

    #[test]
    fn a_weighted_rank_without_lines_still_reports_weights() {
        // Two ranks, the second owns no line: both agree the file is weighted.
        let out = read_text("1 2 3.0\n", Format::Snap, 2);
        assert_eq!(out[0].weight, Some(vec![3.0]));
        assert_eq!(out[1].weight, Some(vec![]));
    }
}
