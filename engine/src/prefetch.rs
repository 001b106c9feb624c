//! Software prefetch: a hint that a cache line will be read soon, for loops whose loads
//! go through an index array the hardware prefetcher cannot follow. A no-op on targets
//! without a prefetch instruction in `core::arch`.

/// Hints that `*p` will be read soon. `p` need not be valid: a prefetch never faults.
#[inline(always)]
pub fn read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` is a hint; it does not dereference `p` architecturally and
    // never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Bytes per cache line on the targets this is tuned for.
const LINE: usize = 64;

/// Hints that the whole of `*p` will be read soon: every cache line it covers, since a
/// value whose size does not divide the line (a 24-byte edge, say) often straddles two and
/// a prefetch of its first byte would leave the second line to miss.
#[inline(always)]
pub fn read_value<T>(p: *const T) {
    read_range(p, 1);
}

/// Hints that the `len` values from `p` on will be read soon: every cache line they cover.
///
/// Branch-free in the address: the prefetches go to fixed offsets from `p` (one per line's
/// worth of bytes, and the last byte), so their number depends on the size alone. Issuing
/// one per line actually touched would test the alignment of each random address, a
/// branch that mispredicts often and costs more than the duplicate prefetch it saves.
#[inline(always)]
pub fn read_range<T>(p: *const T, len: usize) {
    let first = p.cast::<u8>();
    let size = len * std::mem::size_of::<T>();
    for_each_offset(size, std::mem::align_of::<T>(), |offset| {
        read(first.wrapping_add(offset))
    });
}

/// Calls `f` with the byte offsets to prefetch so that `size` bytes starting at a
/// multiple of `align` (a power of two) are covered: every multiple of the line size below
/// `size`, then the last byte unless `size` fits in `align` (an aligned value no larger
/// than its alignment never straddles a line boundary). A plain loop and a test, so that
/// a constant size unrolls to straight-line prefetches.
#[inline(always)]
fn for_each_offset(size: usize, align: usize, mut f: impl FnMut(usize)) {
    let mut offset = 0;
    while offset < size {
        f(offset);
        offset += LINE;
    }
    if size > align.min(LINE) {
        f(size - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offsets_cover_every_line_a_value_touches_at_any_alignment() {
        for align in [1, 2, 4, 8, 16, 32, 64, 128] {
            for size in (0..300).step_by(align) {
                for into_line in (0..LINE).step_by(align) {
                    let touched: std::collections::BTreeSet<usize> =
                        (into_line..into_line + size).map(|b| b / LINE).collect();
                    let mut prefetched = std::collections::BTreeSet::new();
                    for_each_offset(size, align, |offset| {
                        prefetched.insert((into_line + offset) / LINE);
                    });
                    assert_eq!(
                        touched, prefetched,
                        "{size} bytes aligned to {align} at {into_line}"
                    );
                }
            }
        }
    }

    #[test]
    fn prefetching_any_address_is_harmless() {
        let values = [0u64; 3];
        read_range(values.as_ptr(), 3);
        read_value(std::ptr::null::<[u8; 100]>());
        read_range(std::ptr::without_provenance::<u32>(usize::MAX), 4);
    }
}
