//! A table row, dense (`f32` per column) or sparse (sorted `(column, value)` pairs), and
//! the arithmetic the server and the worker cache apply to it.
//!
//! Sparse rows keep their pairs sorted by column with no stored zeros, so merging a delta
//! is one linear pass and an integer-valued count that returns to zero disappears (LDA's
//! word-topic rows stay as short as the topics actually in use).

use crate::wire::Wire;

/// Whether a table's rows are dense vectors of a fixed width or sparse maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowShape {
    /// `width` values per row, all stored.
    Dense(usize),
    /// Any `u32` column; only non-zero values are stored.
    Sparse,
}

/// The values of one row (or of one update to a row).
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// Every column's value.
    Dense(Vec<f32>),
    /// Non-zero `(column, value)` pairs, sorted by column.
    Sparse(Vec<(u32, f32)>),
}

impl Row {
    /// The all-zero row of `shape`.
    pub fn zeros(shape: RowShape) -> Row {
        match shape {
            RowShape::Dense(width) => Row::Dense(vec![0.0; width]),
            RowShape::Sparse => Row::Sparse(Vec::new()),
        }
    }

    /// A sparse row from pairs in any order; repeated columns are summed, zeros dropped.
    pub fn sparse(mut pairs: Vec<(u32, f32)>) -> Row {
        pairs.sort_by_key(|&(c, _)| c);
        let mut out: Vec<(u32, f32)> = Vec::with_capacity(pairs.len());
        for (c, x) in pairs {
            match out.last_mut() {
                Some(last) if last.0 == c => last.1 += x,
                _ => out.push((c, x)),
            }
        }
        out.retain(|&(_, x)| x != 0.0);
        Row::Sparse(out)
    }

    /// The shape this row has (a dense row's width is its length).
    pub fn shape(&self) -> RowShape {
        match self {
            Row::Dense(v) => RowShape::Dense(v.len()),
            Row::Sparse(_) => RowShape::Sparse,
        }
    }

    /// The dense values, or `None` for a sparse row.
    pub fn as_dense(&self) -> Option<&[f32]> {
        match self {
            Row::Dense(v) => Some(v),
            Row::Sparse(_) => None,
        }
    }

    /// The sparse pairs, or `None` for a dense row.
    pub fn as_sparse(&self) -> Option<&[(u32, f32)]> {
        match self {
            Row::Sparse(v) => Some(v),
            Row::Dense(_) => None,
        }
    }

    /// The value in `column` (zero where a sparse row stores nothing or past a dense end).
    pub fn value(&self, column: u32) -> f32 {
        match self {
            Row::Dense(v) => v.get(column as usize).copied().unwrap_or(0.0),
            Row::Sparse(v) => v
                .binary_search_by_key(&column, |&(c, _)| c)
                .map_or(0.0, |i| v[i].1),
        }
    }

    /// The dense values, consuming the row; `None` for a sparse row.
    pub fn into_dense(self) -> Option<Vec<f32>> {
        match self {
            Row::Dense(v) => Some(v),
            Row::Sparse(_) => None,
        }
    }

    /// `self += scale * delta`, column by column. Shapes must match (checked by callers).
    pub(crate) fn add_scaled(&mut self, delta: &Row, scale: f32) {
        self.zip_with(delta, |x, d| x + scale * d);
    }

    /// `self = f(self, delta)` on every column `delta` stores (all columns when dense).
    pub(crate) fn zip_with(&mut self, delta: &Row, mut f: impl FnMut(f32, f32) -> f32) {
        match (self, delta) {
            (Row::Dense(x), Row::Dense(d)) => {
                for (x, &d) in x.iter_mut().zip(d) {
                    *x = f(*x, d);
                }
            }
            (Row::Sparse(x), Row::Sparse(d)) => {
                let mut merged = Vec::with_capacity(x.len() + d.len());
                let (mut i, mut j) = (0, 0);
                while i < x.len() || j < d.len() {
                    if j == d.len() || (i < x.len() && x[i].0 < d[j].0) {
                        merged.push(x[i]);
                        i += 1;
                    } else if i == x.len() || d[j].0 < x[i].0 {
                        merged.push((d[j].0, f(0.0, d[j].1)));
                        j += 1;
                    } else {
                        merged.push((x[i].0, f(x[i].1, d[j].1)));
                        i += 1;
                        j += 1;
                    }
                }
                merged.retain(|&(_, v)| v != 0.0);
                *x = merged;
            }
            (x, d) => panic!(
                "row shape mismatch: {:?} updated by {:?}",
                x.shape(),
                d.shape()
            ),
        }
    }
}

/// The dense row of `width` values that starts with `values` (zeros after them).
pub(crate) fn dense_padded(values: &[f32], width: usize) -> Row {
    let mut row = Vec::with_capacity(width);
    row.extend_from_slice(values);
    row.resize(width, 0.0);
    Row::Dense(row)
}

/// Encodes the dense row of `width` values that starts with `values` (zeros after them)
/// as [`Row::Dense`] of it encodes, without building it.
pub(crate) fn encode_dense(values: &[f32], width: usize, out: &mut Vec<u8>) {
    out.push(0);
    crate::wire::encode_f32s_padded(values, width, out);
}

impl Wire for Row {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Row::Dense(v) => encode_dense(v, v.len(), out),
            Row::Sparse(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }

    fn decode(input: &mut &[u8]) -> Self {
        if u8::decode(input) == 0 {
            Row::Dense(crate::wire::decode_f32s(input))
        } else {
            Row::Sparse(Vec::decode(input))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_rows_merge_sorted_and_drop_zeros() {
        let mut row = Row::sparse(vec![(5, 1.0), (1, 2.0), (5, 1.0)]);
        assert_eq!(row, Row::Sparse(vec![(1, 2.0), (5, 2.0)]));
        row.add_scaled(&Row::sparse(vec![(1, -2.0), (3, 4.0)]), 1.0);
        assert_eq!(row, Row::Sparse(vec![(3, 4.0), (5, 2.0)]));
        assert_eq!(row.value(5), 2.0);
        assert_eq!(row.value(4), 0.0);
    }

    #[test]
    fn rows_round_trip_on_the_wire() {
        for row in [Row::Dense(vec![1.0, -2.5]), Row::sparse(vec![(7, 3.0)])] {
            let mut bytes = Vec::new();
            row.encode(&mut bytes);
            assert_eq!(Row::decode(&mut bytes.as_slice()), row);
        }
    }
}
