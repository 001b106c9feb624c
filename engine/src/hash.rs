//! Deterministic hashing for seeded choices that must not depend on the rank count or the
//! thread schedule: initial values, held-out splits, data orders, straggler clocks.
//!
//! A splitmix64 finalizer over two keys and a seed: cheap, well mixed, and the same on
//! every platform, so every rank computes the same value for the same keys.

/// A 64-bit hash of `(a, b, seed)`.
pub fn mix(a: u64, b: u64, seed: u64) -> u64 {
    let mut h = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
        ^ seed;
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

/// A value uniform in `[0, 1)` from `(a, b, seed)`.
pub fn unit(a: u64, b: u64, seed: u64) -> f64 {
    (mix(a, b, seed) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
