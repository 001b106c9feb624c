//! `Wire`: how values cross rank boundaries as bytes.
//!
//! Ghost updates, shuffled edges, remote signals and gathered results all travel as plain
//! byte buffers (the unit `Comm::all_to_all_v` moves). `Wire` is a small, explicit codec:
//! fixed-size little-endian for scalars, length-prefixed for vectors. It is deliberately not
//! serde: the hot path (a ghost update of an `f64`) must be a single 8-byte copy with no
//! framing, and every payload must have a size that both sides agree on without ids.

use crate::ids::VertexId;

/// A value that can be written to and read from a byte buffer.
///
/// `decode` reads exactly the bytes `encode` wrote, advancing `input`. Buffers come only
/// from peers running the same program, so a short buffer is a broken invariant (panic),
/// not an input error.
pub trait Wire: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one value from the front of `input` and advances it.
    fn decode(input: &mut &[u8]) -> Self;
}

/// Runs `decode`, which reads stored bytes with [`Wire::decode`] (a checkpoint whose
/// checksums passed), and returns `None` if it panics: bytes of another layout (a file
/// written by another program or version) make `decode` overrun or misread, which for
/// stored bytes is an input error for the caller to report, not a broken invariant. The
/// panic's message is not printed (only on this thread, while `decode` runs).
pub fn decode_stored<T>(decode: impl FnOnce() -> T) -> Option<T> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    QUIET.with(|q| q.set(was));
    outcome.ok()
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> &'a [u8] {
    assert!(
        input.len() >= n,
        "wire buffer truncated: need {n} bytes, have {}",
        input.len()
    );
    let (head, tail) = input.split_at(n);
    *input = tail;
    head
}

macro_rules! wire_scalar {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn decode(input: &mut &[u8]) -> Self {
                let bytes = take(input, std::mem::size_of::<$t>());
                <$t>::from_le_bytes(bytes.try_into().expect("exact length"))
            }
        }
    )*};
}
wire_scalar!(u8, u16, u32, u64, i32, i64, f32, f64);

impl Wire for () {
    #[inline]
    fn encode(&self, _out: &mut Vec<u8>) {}
    #[inline]
    fn decode(_input: &mut &[u8]) -> Self {}
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(input: &mut &[u8]) -> Self {
        take(input, 1)[0] != 0
    }
}

impl Wire for usize {
    fn encode(&self, out: &mut Vec<u8>) {
        (*self as u64).encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        usize::try_from(u64::decode(input)).expect("usize fits on the receiving rank")
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        match take(input, 1)[0] {
            0 => None,
            _ => Some(T::decode(input)),
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        let len = u64::decode(input) as usize;
        // A length prefix is not trusted for the allocation: every element takes at least
        // one byte of what is left (for the types sent here), so that bounds it.
        let mut out = Vec::with_capacity(len.min(input.len()));
        for _ in 0..len {
            out.push(T::decode(input));
        }
        out
    }
}

/// Encodes `values` exactly as `Vec<f32>::encode` does (length, then little-endian
/// values), in one bulk pass: dense parameter rows are the bulk of parameter-table
/// traffic. On a little-endian machine the values' bytes are the wire's, so this is one
/// copy.
pub fn encode_f32s(values: &[f32], out: &mut Vec<u8>) {
    encode_f32s_padded(values, values.len(), out);
}

/// Encodes `values` followed by zeros up to `len` values (at least `values.len()`) as
/// [`encode_f32s`] encodes the padded vector, without building it.
pub fn encode_f32s_padded(values: &[f32], len: usize, out: &mut Vec<u8>) {
    assert!(
        len >= values.len(),
        "padding cannot shorten {} values to {len}",
        values.len()
    );
    (len as u64).encode(out);
    out.reserve(4 * len);
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(values));
    } else {
        for x in values {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out.resize(out.len() + 4 * (len - values.len()), 0);
}

/// Decodes what [`encode_f32s`] (or `Vec<f32>::encode`) wrote, in one bulk pass.
pub fn decode_f32s(input: &mut &[u8]) -> Vec<f32> {
    let mut out = Vec::new();
    decode_f32s_into(input, &mut out);
    out
}

/// Decodes what [`encode_f32s`] wrote into `out`, replacing its contents and keeping
/// its allocation when it is large enough.
pub fn decode_f32s_into(input: &mut &[u8], out: &mut Vec<f32>) {
    let len = u64::decode(input) as usize;
    let bytes = len
        .checked_mul(4)
        .expect("wire buffer: f32 row length overflows");
    let bytes = take(input, bytes);
    out.clear();
    out.reserve(len);
    if cfg!(target_endian = "little") {
        assert!(out.capacity() >= len && bytes.len() == 4 * len);
        // SAFETY: the assertion above: `out` has room for `len` values and `bytes` holds
        // exactly `4 * len` bytes, which are copied over the values' bytes before the
        // length is set (the input has no f32 alignment, so it is copied as bytes);
        // every bit pattern is a valid `f32`, and a little-endian machine's `f32` bytes
        // are the wire's.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), 4 * len);
            out.set_len(len);
        }
    } else {
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
}

impl<T: Wire, const N: usize> Wire for [T; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        std::array::from_fn(|_| T::decode(input))
    }
}

macro_rules! wire_tuple {
    ($($name:ident),+) => {
        impl<$($name: Wire),+> Wire for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, out: &mut Vec<u8>) {
                let ($($name,)+) = self;
                $($name.encode(out);)+
            }
            fn decode(input: &mut &[u8]) -> Self {
                ($($name::decode(input),)+)
            }
        }
    };
}
wire_tuple!(A);
wire_tuple!(A, B);
wire_tuple!(A, B, C);
wire_tuple!(A, B, C, D);

/// Encodes a slice of values back to back (no length prefix).
pub fn encode_all<T: Wire>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(items));
    for item in items {
        item.encode(&mut out);
    }
    out
}

/// Decodes values back to back until the buffer is exhausted.
pub fn decode_all<T: Wire>(mut input: &[u8]) -> Vec<T> {
    let mut out = Vec::new();
    if std::mem::size_of::<T>() > 0 {
        out.reserve(input.len() / std::mem::size_of::<T>());
    }
    while !input.is_empty() {
        out.push(T::decode(&mut input));
    }
    out
}

/// A vertex id paired with a value: the unit of gathered results.
pub type Keyed<T> = (VertexId, T);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let v: (u64, f64, Vec<u32>, Option<bool>) = (7, 0.25, vec![1, 2, 3], Some(true));
        let mut buf = Vec::new();
        v.encode(&mut buf);
        let mut input = buf.as_slice();
        assert_eq!(<(u64, f64, Vec<u32>, Option<bool>)>::decode(&mut input), v);
        assert!(input.is_empty());
    }

    #[test]
    fn bulk_f32s_match_the_element_codec() {
        let v = vec![1.5f32, -0.0, f32::MAX, 3e-40];
        let (mut bulk, mut each) = (Vec::new(), Vec::new());
        encode_f32s(&v, &mut bulk);
        v.encode(&mut each);
        assert_eq!(bulk, each);
        let mut input = each.as_slice();
        assert_eq!(decode_f32s(&mut input), v);
        assert!(input.is_empty());
        let mut padded = Vec::new();
        encode_f32s_padded(&v[..2], 4, &mut padded);
        assert_eq!(decode_f32s(&mut padded.as_slice()), [1.5, -0.0, 0.0, 0.0]);
        // Into a vector that held other values, from an address with no f32 alignment.
        let mut odd = vec![9u8];
        odd.extend_from_slice(&each);
        let mut input = &odd[1..];
        let mut into = vec![7.0f32; 10];
        decode_f32s_into(&mut input, &mut into);
        assert_eq!(into, v);
        assert!(input.is_empty());
    }

    #[test]
    fn all_helpers_round_trip() {
        let xs = vec![(1u64, 2.5f64), (3, -1.0)];
        assert_eq!(decode_all::<(u64, f64)>(&encode_all(&xs)), xs);
    }

    #[test]
    fn stored_bytes_of_another_layout_decode_to_none() {
        let mut bytes = Vec::new();
        7u32.encode(&mut bytes);
        assert_eq!(
            decode_stored(|| u32::decode(&mut bytes.as_slice())),
            Some(7)
        );
        assert_eq!(decode_stored(|| u64::decode(&mut bytes.as_slice())), None);
        // A panic of another kind on the same thread afterwards still propagates.
        assert!(std::panic::catch_unwind(|| u64::decode(&mut bytes.as_slice())).is_err());
    }

    #[test]
    fn a_huge_length_prefix_is_a_truncation_not_an_allocation() {
        let mut bytes = Vec::new();
        u64::MAX.encode(&mut bytes);
        7u64.encode(&mut bytes);
        let vec = std::panic::catch_unwind(|| Vec::<u64>::decode(&mut bytes.as_slice()));
        assert!(vec.is_err(), "decoding must stop at the end of the buffer");
        let row = std::panic::catch_unwind(|| decode_f32s(&mut bytes.as_slice()));
        assert!(row.is_err());
    }
}
