//! Labelled dense examples for the MLP, and the train/test split.
//!
//! `--data` is either a directory of IDX files (MNIST and Fashion-MNIST:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`, each plain or `.gz`; pixels scaled to `[0, 1]`), split as the
//! files are, or one file, dense CSV (`.csv`) or libsvm (anything else), split by
//! `--test-fraction` with a seeded hash of the example index. Labels must be class indices
//! `0, 1, ...` (libsvm's binary `-1/+1` becomes `0/1`).

use std::path::{Path, PathBuf};

use gasket_datasets::{DatasetError, read_dense_csv, read_idx, read_libsvm};
use gasket_engine::hash::unit as unit_hash;

use crate::{AppError, Result};

/// Dense labelled examples, row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Examples {
    /// `len() * dim` values.
    pub features: Vec<f32>,
    /// Class index of each example, as `f32`.
    pub labels: Vec<f32>,
    /// Features per example.
    pub dim: usize,
}

impl Examples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there is no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Copies the examples `indices` into `features` and `labels` (cleared first).
    pub fn gather(&self, indices: &[usize], features: &mut Vec<f32>, labels: &mut Vec<f32>) {
        features.clear();
        labels.clear();
        for &i in indices {
            features.extend_from_slice(&self.features[i * self.dim..(i + 1) * self.dim]);
            labels.push(self.labels[i]);
        }
    }

    /// Number of classes: one more than the largest label.
    pub fn classes(&self) -> usize {
        self.labels.iter().fold(0.0f32, |m, &l| m.max(l)) as usize + 1
    }

    fn subset(&self, keep: impl Fn(usize) -> bool) -> Examples {
        let mut out = Examples {
            dim: self.dim,
            ..Examples::default()
        };
        let indices: Vec<usize> = (0..self.len()).filter(|&i| keep(i)).collect();
        self.gather(&indices, &mut out.features, &mut out.labels);
        out
    }
}

/// Training and test examples.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training examples.
    pub train: Examples,
    /// Test examples.
    pub test: Examples,
}

/// The IDX files of a directory: (images, labels) for `train` and `t10k`.
const IDX_PREFIXES: [&str; 2] = ["train", "t10k"];

fn find_idx(dir: &Path, prefix: &str, kind: &str, rank: u8) -> Result<PathBuf> {
    let names = [
        format!("{prefix}-{kind}-idx{rank}-ubyte"),
        format!("{prefix}-{kind}.idx{rank}-ubyte"),
    ];
    for name in &names {
        for candidate in [dir.join(name), dir.join(format!("{name}.gz"))] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(AppError::Config(format!(
        "{}: no {} file (looked for {}[.gz]); a data directory holds the MNIST-style IDX files \
         train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and \
         t10k-labels-idx1-ubyte (Debian: apt-get install dataset-fashion-mnist, then \
         --data /usr/share/datasets/fashion-mnist)",
        dir.display(),
        kind,
        names[0]
    )))
}

fn read_idx_pair(dir: &Path, prefix: &str) -> Result<Examples> {
    let images_path = find_idx(dir, prefix, "images", 3)?;
    let labels_path = find_idx(dir, prefix, "labels", 1)?;
    let images = read_idx(&images_path)?;
    let labels = read_idx(&labels_path)?;
    if images.items() != labels.items() {
        return Err(AppError::Config(format!(
            "{} has {} images but {} has {} labels",
            images_path.display(),
            images.items(),
            labels_path.display(),
            labels.items()
        )));
    }
    if images.item_len() == 0 || labels.item_len() != 1 {
        return Err(AppError::Config(format!(
            "{} / {}: expected images of at least one value and one label per item",
            images_path.display(),
            labels_path.display()
        )));
    }
    let out = Examples {
        dim: images.item_len(),
        features: images.values.iter().map(|&p| p / 255.0).collect(),
        labels: labels.values,
    };
    check_labels(&labels_path, out, &|i| format!("item {i}"))
}

fn check_labels(
    path: &Path,
    mut ex: Examples,
    place: &dyn Fn(usize) -> String,
) -> Result<Examples> {
    let binary_pm = ex.labels.iter().all(|&l| l == -1.0 || l == 1.0) && ex.labels.contains(&-1.0);
    if binary_pm {
        ex.labels.iter_mut().for_each(|l| *l = f32::from(*l > 0.0));
    }
    for (i, &label) in ex.labels.iter().enumerate() {
        if !(label >= 0.0 && label.fract() == 0.0 && label < 65536.0) {
            return Err(AppError::Config(format!(
                "{}: {}: label {label} is not a class index (0, 1, 2, ...)",
                path.display(),
                place(i)
            )));
        }
    }
    Ok(ex)
}

/// Reads one file of examples (CSV by name, else libsvm).
///
/// # Errors
///
/// An unreadable or malformed file (file:line), or labels that are not class indices.
pub fn read_file(path: &Path) -> Result<Examples> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let is_csv = name.ends_with(".csv") || name.ends_with(".csv.gz");
    let (ex, lines) = if is_csv {
        let d = read_dense_csv(path)?;
        let ex = Examples {
            features: d.features,
            labels: d.labels,
            dim: d.dim,
        };
        (ex, d.lines)
    } else {
        let s = read_libsvm(path)?;
        let dim = s.num_features as usize;
        let mut features = vec![0.0; s.labels.len() * dim];
        for (i, row) in s.features.iter().enumerate() {
            for &(f, x) in row {
                features[i * dim + f as usize] = x;
            }
        }
        let ex = Examples {
            features,
            labels: s.labels,
            dim,
        };
        (ex, s.lines)
    };
    check_labels(path, ex, &|i| format!("line {}", lines[i]))
}

/// Loads `--data`: an IDX directory with its own split, or a file split by
/// `test_fraction` (see the module docs).
///
/// # Errors
///
/// Missing or malformed files, or an empty training set.
pub fn load(path: &Path, test_fraction: f64, seed: u64) -> Result<Split> {
    let split = if path.is_dir() {
        Split {
            train: read_idx_pair(path, IDX_PREFIXES[0])?,
            test: read_idx_pair(path, IDX_PREFIXES[1])?,
        }
    } else if path.exists() {
        let all = read_file(path)?;
        let is_test = |i: usize| unit_hash(i as u64, 0x7E57, seed) < test_fraction;
        Split {
            train: all.subset(|i| !is_test(i)),
            test: all.subset(is_test),
        }
    } else {
        return Err(DatasetError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
        }
        .into());
    };
    if split.train.is_empty() {
        return Err(AppError::Config(format!(
            "{}: no training examples (is --test-fraction too large?)",
            path.display()
        )));
    }
    if split.test.dim != split.train.dim && !split.test.is_empty() {
        return Err(AppError::Config(format!(
            "{}: test images have {} values, training images {}",
            path.display(),
            split.test.dim,
            split.train.dim
        )));
    }
    Ok(split)
}

/// Loads the examples `--eval` scores: an IDX directory's test files, or a whole file.
///
/// # Errors
///
/// As [`load`].
pub fn load_eval(path: &Path) -> Result<Examples> {
    if path.is_dir() {
        read_idx_pair(path, IDX_PREFIXES[1])
    } else {
        read_file(path)
    }
}
