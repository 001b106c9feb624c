//! The on-disk layout of one checkpoint and its integrity checks.
//!
//! A checkpoint of superstep `N` is the folder `step-NNNNNNNNNN/` under the checkpoint
//! directory, holding `global.bin`, one `part-RRRRR.bin` per rank that wrote it, and
//! `MANIFEST`. Every data file is framed: an 8-byte magic, the body, and the CRC-32 of
//! magic and body. `MANIFEST` is a short text file naming each data file with its length
//! and CRC-32 and ending with the CRC-32 of its own lines. It is written last, so a
//! folder without a valid manifest, or with a file whose length or checksum disagrees
//! with it, is an incomplete checkpoint. Every file goes to a temporary name, is fsynced
//! and renamed; the folder is fsynced after the manifest lands.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::output::write_atomically;

/// Magic bytes opening every framed data file (format version 1).
const MAGIC: &[u8; 8] = b"GSKCKPT1";
/// The manifest's file name; present and valid only in a complete checkpoint.
pub(crate) const MANIFEST: &str = "MANIFEST";
/// The file of the facts every rank shares (iteration, aggregates, program state).
pub(crate) const GLOBAL: &str = "global.bin";
/// First line of a manifest.
const MANIFEST_HEADER: &str = "gasket checkpoint 1";
/// Prefix of checkpoint folder names.
const STEP_PREFIX: &str = "step-";

/// The folder of the checkpoint taken after `iteration` supersteps.
pub(crate) fn step_dir(root: &Path, iteration: u64) -> PathBuf {
    root.join(format!("{STEP_PREFIX}{iteration:010}"))
}

/// The iteration a checkpoint folder name stands for, if it is one.
pub(crate) fn step_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(STEP_PREFIX)?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The file name of rank `rank`'s part.
pub(crate) fn part_name(rank: usize) -> String {
    format!("part-{rank:05}.bin")
}

/// One data file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub name: String,
    pub len: u64,
    pub crc: u32,
}

/// What a complete checkpoint holds, as its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// The vertex program that wrote it (its Rust type name).
    pub program: String,
    /// Supersteps completed when it was taken.
    pub iteration: u64,
    /// Ranks that wrote it.
    pub ranks: usize,
    /// Vertices and edges of the graph it belongs to.
    pub vertices: u64,
    pub edges: u64,
    /// `global.bin` first, then the parts in rank order.
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// The manifest's text, its checksum line last.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "{MANIFEST_HEADER}");
        let _ = writeln!(text, "program {}", self.program);
        let _ = writeln!(text, "iteration {}", self.iteration);
        let _ = writeln!(text, "ranks {}", self.ranks);
        let _ = writeln!(text, "vertices {}", self.vertices);
        let _ = writeln!(text, "edges {}", self.edges);
        for f in &self.files {
            let _ = writeln!(text, "file {} {} {:08x}", f.name, f.len, f.crc);
        }
        let crc = crc32fast::hash(text.as_bytes());
        let _ = writeln!(text, "checksum {crc:08x}");
        text
    }

    /// Parses and checks a manifest's text.
    pub(crate) fn parse(text: &str) -> Result<Manifest, String> {
        let body_end = text
            .trim_end_matches('\n')
            .rfind('\n')
            .map(|i| i + 1)
            .ok_or("the manifest is truncated")?;
        let (body, last) = text.split_at(body_end);
        let stated = last
            .trim_end()
            .strip_prefix("checksum ")
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or("the manifest has no checksum line (it was cut short)")?;
        if crc32fast::hash(body.as_bytes()) != stated {
            return Err("the manifest's checksum does not match its contents".into());
        }
        let mut lines = body.lines();
        if lines.next() != Some(MANIFEST_HEADER) {
            return Err(format!(
                "the manifest does not start with `{MANIFEST_HEADER}`"
            ));
        }
        let mut field = |key: &str| -> Result<String, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(key))
                .and_then(|rest| rest.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| format!("the manifest lacks its `{key}` line"))
        };
        let number = |key: &str, text: String| -> Result<u64, String> {
            text.parse()
                .map_err(|_| format!("the manifest's `{key}` is not a number: `{text}`"))
        };
        let program = field("program")?;
        let iteration = number("iteration", field("iteration")?)?;
        let ranks = number("ranks", field("ranks")?)? as usize;
        let vertices = number("vertices", field("vertices")?)?;
        let edges = number("edges", field("edges")?)?;
        let mut files = Vec::new();
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["file", name, len, crc] => files.push(FileEntry {
                    name: name.to_string(),
                    len: len
                        .parse()
                        .map_err(|_| format!("bad file length in the manifest: `{line}`"))?,
                    crc: u32::from_str_radix(crc, 16)
                        .map_err(|_| format!("bad file checksum in the manifest: `{line}`"))?,
                }),
                _ => return Err(format!("unexpected manifest line `{line}`")),
            }
        }
        let expected = 1 + ranks;
        if files.len() != expected
            || files[0].name != GLOBAL
            || files[1..]
                .iter()
                .enumerate()
                .any(|(r, f)| f.name != part_name(r))
        {
            return Err(format!(
                "the manifest should list {GLOBAL} and {ranks} part file(s)"
            ));
        }
        Ok(Manifest {
            program,
            iteration,
            ranks,
            vertices,
            edges,
            files,
        })
    }
}

/// Writes `body` framed (magic, body, CRC-32) to `dir/name` atomically; returns its entry.
pub(crate) fn write_framed(dir: &Path, name: &str, body: &[u8]) -> std::io::Result<FileEntry> {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(MAGIC);
    hasher.update(body);
    let crc = hasher.finalize();
    write_atomically(&dir.join(name), |w| {
        w.write_all(MAGIC)?;
        w.write_all(body)?;
        w.write_all(&crc.to_le_bytes())
    })?;
    Ok(FileEntry {
        name: name.to_string(),
        len: (MAGIC.len() + body.len() + 4) as u64,
        crc,
    })
}

/// Reads `dir/entry.name` and returns its body after checking length, magic and checksum
/// against the file's frame and the manifest's entry.
pub(crate) fn read_framed(dir: &Path, entry: &FileEntry) -> Result<Vec<u8>, String> {
    let path = dir.join(&entry.name);
    let mut bytes =
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 != entry.len {
        return Err(format!(
            "{} has {} bytes, the manifest says {} (truncated or overwritten)",
            path.display(),
            bytes.len(),
            entry.len
        ));
    }
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(format!(
            "{} is not a gasket checkpoint file",
            path.display()
        ));
    }
    let split = bytes.len() - 4;
    let stored = u32::from_le_bytes(bytes[split..].try_into().expect("4 bytes"));
    let actual = crc32fast::hash(&bytes[..split]);
    if stored != actual || actual != entry.crc {
        return Err(format!(
            "{} fails its checksum (the file is corrupt)",
            path.display()
        ));
    }
    bytes.truncate(split);
    bytes.drain(..MAGIC.len());
    Ok(bytes)
}

/// Writes the manifest atomically, then fsyncs the folder so the rename is durable.
pub(crate) fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let text = manifest.render();
    write_atomically(&dir.join(MANIFEST), |w| w.write_all(text.as_bytes()))?;
    sync_dir(dir)
}

/// Reads and checks `dir/MANIFEST`.
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "it has no MANIFEST (it was not finished)".to_string(),
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    Manifest::parse(&text)
}

/// Makes a folder's entries durable (a no-op where folders cannot be opened).
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(f) => f.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            program: "demo::Program".into(),
            iteration: 12,
            ranks: 2,
            vertices: 100,
            edges: 400,
            files: vec![
                FileEntry {
                    name: GLOBAL.into(),
                    len: 30,
                    crc: 0xdead_beef,
                },
                FileEntry {
                    name: part_name(0),
                    len: 900,
                    crc: 1,
                },
                FileEntry {
                    name: part_name(1),
                    len: 800,
                    crc: 2,
                },
            ],
        }
    }

    #[test]
    fn manifest_round_trips_and_detects_damage() {
        let m = manifest();
        let text = m.render();
        assert_eq!(Manifest::parse(&text), Ok(m));
        let flipped = text.replacen("iteration 12", "iteration 13", 1);
        assert!(Manifest::parse(&flipped).unwrap_err().contains("checksum"));
        let cut = &text[..text.len() / 2];
        assert!(Manifest::parse(cut).is_err());
    }

    #[test]
    fn step_names_round_trip() {
        let dir = step_dir(Path::new("ck"), 42);
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert_eq!(step_of(name), Some(42));
        assert_eq!(step_of("step-12"), None);
        assert_eq!(step_of("part-00000.bin"), None);
    }

    #[test]
    fn framed_files_detect_truncation_and_flipped_bytes() {
        let dir = std::env::temp_dir().join(format!("gasket-frame-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = write_framed(&dir, "x.bin", b"hello checkpoint").unwrap();
        assert_eq!(read_framed(&dir, &entry).unwrap(), b"hello checkpoint");
        let path = dir.join("x.bin");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(read_framed(&dir, &entry).unwrap_err().contains("checksum"));
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read_framed(&dir, &entry).unwrap_err().contains("truncated"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
