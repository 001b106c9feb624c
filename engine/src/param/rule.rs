//! The optimizer steps a server applies to a row ([`UpdateRule`]) and the per-row state
//! they keep (Adagrad's squares, momentum's velocity, Adam's moments).
//!
//! The math is public ([`UpdateRule::step_dense`]) so a worker that keeps its parameters
//! on its own device (one rank, no table) takes exactly the step a server would: a model
//! trained on one rank and one trained through BSP tables then differ only by the order
//! of floating-point sums.
//!
//! **One step per clock.** Momentum and Adam are stateful and non-linear in the gradient,
//! so a clock's gradients must be summed before the step: their servers hold a clock's
//! updates until every worker finished it (under BSP and SSP alike) and apply the sum as
//! one step ([`UpdateRule::steps_per_clock`]). Async tables apply each update as it
//! arrives, one step each.

use super::row::Row;
use super::spec::UpdateRule;
use crate::wire::{Wire, decode_f32s, encode_f32s};

/// What a stateful rule remembers about one row between steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleState {
    /// Adagrad: accumulated squares; momentum: velocity; Adam: first moment.
    first: Vec<f32>,
    /// Adam: second moment.
    second: Vec<f32>,
    /// Steps taken (Adam's bias correction).
    steps: u32,
}

impl Wire for RuleState {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_f32s(&self.first, out);
        encode_f32s(&self.second, out);
        self.steps.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        RuleState {
            first: decode_f32s(input),
            second: decode_f32s(input),
            steps: u32::decode(input),
        }
    }
}

/// Adam's bias corrections `(1 - beta1^t, 1 - beta2^t)` at step `t` (1-based).
pub fn adam_bias_corrections(beta1: f32, beta2: f32, t: u32) -> (f32, f32) {
    let t = t.min(i32::MAX as u32) as i32;
    (1.0 - beta1.powi(t), 1.0 - beta2.powi(t))
}

/// One Adam step's constants. Its loop is bound by `sqrt` and `div` throughput, so it
/// runs on 256-bit vectors where the CPU has AVX2 (checked at run time; the portable
/// build targets SSE2). The results are the same bit for bit: every operation is IEEE
/// single precision, correctly rounded, in the same order, and no multiply-add is fused.
#[derive(Debug, Clone, Copy)]
struct AdamStep {
    step: f32,
    correct2: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
}

impl AdamStep {
    fn apply(self, values: &mut [f32], delta: &[f32], (m, v): (&mut [f32], &mut [f32])) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            unsafe { self.apply_avx2(values, delta, (m, v)) };
            return;
        }
        self.apply_portable(values, delta, (m, v));
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_avx2(self, values: &mut [f32], delta: &[f32], (m, v): (&mut [f32], &mut [f32])) {
        self.apply_portable(values, delta, (m, v));
    }

    #[inline(always)]
    fn apply_portable(self, values: &mut [f32], delta: &[f32], (m, v): (&mut [f32], &mut [f32])) {
        let AdamStep {
            step,
            correct2,
            beta1,
            beta2,
            eps,
        } = self;
        for ((w, &g), (m, v)) in values.iter_mut().zip(delta).zip(m.iter_mut().zip(v)) {
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            *w -= step * *m / ((*v / correct2).sqrt() + eps);
        }
    }
}

impl UpdateRule {
    /// Whether the server sums a clock's updates of a row and takes one step with the sum
    /// (momentum and Adam) instead of one step per update.
    pub fn steps_per_clock(self) -> bool {
        matches!(self, UpdateRule::Momentum { .. } | UpdateRule::Adam { .. })
    }

    /// The rule with its learning rate multiplied by `factor` (`Add` has none).
    pub fn with_lr_factor(self, factor: f32) -> UpdateRule {
        if factor == 1.0 {
            return self;
        }
        match self {
            UpdateRule::Add => UpdateRule::Add,
            UpdateRule::Sgd { lr } => UpdateRule::Sgd { lr: lr * factor },
            UpdateRule::Adagrad { lr, eps } => UpdateRule::Adagrad {
                lr: lr * factor,
                eps,
            },
            UpdateRule::Momentum { lr, momentum } => UpdateRule::Momentum {
                lr: lr * factor,
                momentum,
            },
            UpdateRule::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => UpdateRule::Adam {
                lr: lr * factor,
                beta1,
                beta2,
                eps,
            },
        }
    }

    /// Whether the rule keeps state per row.
    pub fn is_stateful(self) -> bool {
        !matches!(self, UpdateRule::Add | UpdateRule::Sgd { .. })
    }

    /// One step on dense values: `delta` is an increment for [`Add`](UpdateRule::Add), a
    /// gradient otherwise.
    ///
    /// - `Sgd`: `w -= lr g`
    /// - `Adagrad`: `h += g²; w -= lr g / (sqrt(h) + eps)`
    /// - `Momentum`: `v = μ v + g; w -= lr v` (the heavy-ball form PyTorch uses)
    /// - `Adam`: `m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
    ///   w -= lr m̂ / (sqrt(v̂) + eps)` with bias-corrected `m̂`, `v̂`
    ///
    /// # Panics
    ///
    /// If `values` and `delta` differ in length.
    pub fn step_dense(self, values: &mut [f32], delta: &[f32], state: &mut RuleState) {
        assert_eq!(
            values.len(),
            delta.len(),
            "a step needs one gradient per value"
        );
        let grow = |v: &mut Vec<f32>| {
            if v.len() != delta.len() {
                v.resize(delta.len(), 0.0);
            }
        };
        match self {
            UpdateRule::Add => values.iter_mut().zip(delta).for_each(|(w, d)| *w += d),
            UpdateRule::Sgd { lr } => values.iter_mut().zip(delta).for_each(|(w, g)| *w -= lr * g),
            UpdateRule::Adagrad { lr, eps } => {
                grow(&mut state.first);
                for ((w, &g), h) in values.iter_mut().zip(delta).zip(&mut state.first) {
                    *h += g * g;
                    if g != 0.0 {
                        *w -= lr * (g / (h.sqrt() + eps));
                    }
                }
            }
            UpdateRule::Momentum { lr, momentum } => {
                grow(&mut state.first);
                for ((w, &g), v) in values.iter_mut().zip(delta).zip(&mut state.first) {
                    *v = momentum * *v + g;
                    *w -= lr * *v;
                }
            }
            UpdateRule::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => {
                grow(&mut state.first);
                grow(&mut state.second);
                state.steps += 1;
                let (correct1, correct2) = adam_bias_corrections(beta1, beta2, state.steps);
                let adam = AdamStep {
                    step: lr / correct1,
                    correct2,
                    beta1,
                    beta2,
                    eps,
                };
                adam.apply(values, delta, (&mut state.first, &mut state.second));
            }
        }
    }

    /// One step on a row (dense rows through [`step_dense`](Self::step_dense); sparse
    /// rows support the stateless rules and Adagrad, column by column).
    pub(crate) fn step_row(self, values: &mut Row, delta: &Row, state: &mut Option<Row>) {
        match self {
            UpdateRule::Add => values.add_scaled(delta, 1.0),
            UpdateRule::Sgd { lr } => values.add_scaled(delta, -lr),
            UpdateRule::Adagrad { lr, eps } => {
                let squares = state.get_or_insert_with(|| Row::zeros(delta.shape()));
                squares.zip_with(delta, |h, g| h + g * g);
                let mut step = delta.clone();
                step.zip_with(
                    squares,
                    |g, h| if g == 0.0 { 0.0 } else { g / (h.sqrt() + eps) },
                );
                values.add_scaled(&step, -lr);
            }
            UpdateRule::Momentum { .. } | UpdateRule::Adam { .. } => {
                unreachable!("momentum and Adam rows go through step_dense (validated dense)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dispatched_adam_step_equals_the_portable_loop_bit_for_bit() {
        let n = 1003;
        let noise = |i: usize, salt: u64| crate::hash::unit(i as u64, salt, 3) as f32 - 0.5;
        let delta: Vec<f32> = (0..n).map(|i| noise(i, 1) * 1e-2).collect();
        let start = |salt| (0..n).map(|i| noise(i, salt)).collect::<Vec<f32>>();
        let adam = AdamStep {
            step: 1e-3 / 0.1,
            correct2: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let (mut w1, mut m1, mut v1) =
            (start(2), start(3), start(4).iter().map(|x| x * x).collect());
        let (mut w2, mut m2, mut v2) = (w1.clone(), m1.clone(), Vec::clone(&v1));
        for _ in 0..3 {
            adam.apply(&mut w1, &delta, (&mut m1, &mut v1));
            adam.apply_portable(&mut w2, &delta, (&mut m2, &mut v2));
        }
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&w1), bits(&w2));
        assert_eq!(bits(&m1), bits(&m2));
        assert_eq!(bits(&v1), bits(&v2));
        assert_ne!(bits(&w1), bits(&start(2)), "the steps moved the values");
    }

    #[test]
    fn adam_first_step_moves_each_value_by_the_learning_rate() {
        let rule = UpdateRule::Adam {
            lr: 0.1,
            beta1: 0.9,
            beta2: 0.999,
            eps: 0.0,
        };
        let mut w = vec![1.0f32, 1.0, 1.0];
        let mut state = RuleState::default();
        rule.step_dense(&mut w, &[2.0, -0.5, 1e-3], &mut state);
        for (w, want) in w.iter().zip([0.9, 1.1, 0.9]) {
            assert!((w - want).abs() < 1e-5, "{w} vs {want}");
        }
    }

    #[test]
    fn the_cosine_schedule_anneals_the_learning_rate_to_zero() {
        use super::super::spec::LrSchedule;
        let cosine = LrSchedule::Cosine { clocks: 10 };
        assert_eq!(cosine.factor(0), 1.0);
        assert!((cosine.factor(5) - 0.5).abs() < 1e-6);
        assert!(cosine.factor(10).abs() < 1e-6 && cosine.factor(99).abs() < 1e-6);
        assert_eq!(LrSchedule::Constant.factor(7), 1.0);
        let rule = UpdateRule::Adam {
            lr: 0.5,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
        };
        assert!(matches!(rule.with_lr_factor(0.5), UpdateRule::Adam { lr, .. } if lr == 0.25));
    }

    #[test]
    fn momentum_accumulates_velocity() {
        let rule = UpdateRule::Momentum {
            lr: 0.5,
            momentum: 0.5,
        };
        let mut w = vec![0.0];
        let mut state = RuleState::default();
        rule.step_dense(&mut w, &[1.0], &mut state); // v = 1, w = -0.5
        rule.step_dense(&mut w, &[1.0], &mut state); // v = 1.5, w = -1.25
        assert_eq!(w, vec![-1.25]);
        assert!(rule.steps_per_clock() && rule.is_stateful());
        assert!(!UpdateRule::Sgd { lr: 1.0 }.is_stateful());
    }
}
