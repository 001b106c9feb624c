//! Partition files in gpmetis format: one part id per line, line i giving the part of the
//! i-th vertex of the graph's vertex order.
//!
//! The vertex order is ascending vertex id. For METIS and Matrix Market inputs (ids 1..n)
//! that is exactly gpmetis's order (line i = vertex i), so files from `gpmetis` can be
//! used directly; for SNAP edge lists, whose ids need not be contiguous, line i is the
//! i-th smallest id that occurs in the file.

use std::path::Path;

use gasket_engine::VertexId;

use crate::{Assignment, PartitionError};

/// Reads a partition file for a graph whose vertices are `ids` (ascending, distinct),
/// expecting part ids `< parts`.
pub fn read_partition_file(
    path: &Path,
    ids: &[VertexId],
    parts: usize,
) -> Result<Assignment, PartitionError> {
    let file_error = |line: u64, reason: String| PartitionError::File {
        path: path.to_path_buf(),
        line,
        reason,
    };
    crate::check_parts(parts)?;
    if parts > ids.len() {
        return Err(file_error(
            0,
            format!("{parts} parts asked for a graph of {} vertices", ids.len()),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|source| PartitionError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut assigned = Vec::with_capacity(ids.len());
    let lines: Vec<&str> = text.lines().collect();
    let last_nonblank = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    for (i, raw) in lines[..last_nonblank].iter().enumerate() {
        let line = i as u64 + 1;
        let value = raw.trim();
        let part: u32 = value.parse().map_err(|_| {
            file_error(
                line,
                format!("expected a part id, found `{}`", truncate(value)),
            )
        })?;
        if part as usize >= parts {
            return Err(file_error(
                line,
                format!("part id {part} is not below the number of parts, {parts}"),
            ));
        }
        assigned.push(part);
    }
    if assigned.len() != ids.len() {
        return Err(file_error(
            assigned.len() as u64,
            format!(
                "the file has {} lines but the graph has {} vertices (one line per vertex, in \
                 ascending vertex id)",
                assigned.len(),
                ids.len()
            ),
        ));
    }
    Ok(Assignment::new(ids.to_vec(), assigned, parts))
}

/// Writes the part of each vertex of `ids` (ascending), one per line, atomically (a
/// temporary name in the same directory, renamed when complete).
pub fn write_partition_file(
    path: &Path,
    ids: &[VertexId],
    owner: impl Fn(VertexId) -> usize,
) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map_or("partition".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for &v in ids {
            writeln!(w, "{}", owner(v))?;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gasket_engine::Ownership;

    fn file(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.part");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn round_trip() {
        let ids = [3u64, 7, 10, 42];
        let (_dir, path) = file("");
        write_partition_file(&path, &ids, |v| (v % 2) as usize).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1\n1\n0\n0\n");
        let a = read_partition_file(&path, &ids, 2).unwrap();
        assert_eq!(a.owner(3), 1);
        assert_eq!(a.owner(42), 0);
    }

    #[test]
    fn bad_files_name_line_and_reason() {
        let ids = [1u64, 2, 3];
        let cases = [
            ("0\n1\n", "2 lines but the graph has 3 vertices"),
            ("0\n1\n0\n1\n", "4 lines but the graph has 3 vertices"),
            (
                "0\n5\n1\n",
                ":2: part id 5 is not below the number of parts, 2",
            ),
            ("0\nx\n1\n", ":2: expected a part id, found `x`"),
            ("0\n-1\n1\n", ":2: expected a part id, found `-1`"),
        ];
        for (content, needle) in cases {
            let (_dir, path) = file(content);
            let err = read_partition_file(&path, &ids, 2).unwrap_err().to_string();
            assert!(err.contains(needle), "{content:?}: {err}");
        }
        let (_dir, path) = file("0\n0\n0\n");
        assert!(
            read_partition_file(&path, &ids, 0)
                .unwrap_err()
                .to_string()
                .contains("at least 1")
        );
        let err = read_partition_file(&path, &ids, 4).unwrap_err().to_string();
        assert!(
            err.contains("4 parts asked for a graph of 3 vertices"),
            "{err}"
        );
    }
}
