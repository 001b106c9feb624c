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
