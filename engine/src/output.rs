//! Result files written atomically: to a temporary name next to the target, fsynced, then
//! renamed into place, so a failed or interrupted run never leaves a partial file that
//! looks complete. A target that exists and is not a regular file (`/dev/null`, a named
//! pipe, a terminal) is written directly: renaming over it would replace the device or
//! pipe with a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `path` through `body`, atomically (temporary file, fsync, rename). On failure the
/// temporary file is removed and `path` is untouched.
pub fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace_atomically(path, |target| {
        let file = File::create(target)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        body(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        sync(&file)
    })
}

/// Flushes a written file to the disk (`fsync`); nothing for a device or pipe, which
/// refuse it.
pub fn sync(file: &File) -> std::io::Result<()> {
    if file.metadata()?.is_file() {
        file.sync_all()
    } else {
        Ok(())
    }
}

/// Has `write` create and fill a file at the path it is given, then puts that file at
/// `path`: `write` gets a temporary name next to `path`, renamed to `path` when it succeeds
/// and removed when it fails. A `path` that exists and is not a regular file is given to
/// `write` directly (see the module docs).
pub fn replace_atomically<T>(
    path: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if is_special(path) {
        return write(path);
    }
    let tmp = temporary_name(path);
    let result = write(&tmp).and_then(|value| std::fs::rename(&tmp, path).map(|()| value));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether `path` exists and is not a regular file or a directory (a device, a pipe, a
/// socket), following symbolic links.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

/// Writes `# header` and then `vertex<TAB>value` lines (in the order given) to `path`,
/// atomically.
pub fn write_values<T: std::fmt::Display>(
    path: &Path,
    header: &str,
    values: &[(u64, T)],
) -> std::io::Result<()> {
    write_atomically(path, |w| {
        writeln!(w, "# {header}")?;
        for (v, x) in values {
            writeln!(w, "{v}\t{x}")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("gasket-output-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.tsv");
        let err = write_atomically(&path, |w| {
            writeln!(w, "1\t2")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "no partial file left"
        );
        write_values(&path, "test", &[(1u64, 0.5f64), (2, f64::INFINITY)]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# test\n1\t0.5\n2\tinf\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_is_written_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        write_values(null, "discarded", &[(1u64, 2u64)]).unwrap();
        let kind = std::fs::metadata(null).unwrap().file_type();
        assert!(kind.is_char_device(), "/dev/null is still a device");
    }
}
