//! A network on a device: one buffer per vertex for its outputs and for the gradient of
//! the loss with respect to them, one per parameter block and per gradient block.
//!
//! **Forward** walks the vertices in topological order. A dense vertex *gathers* over its
//! in-edges, `z = sum_e a_src W_e` (one GEMM per edge, accumulated in place), and
//! *applies* `a = act(z + b)`; the loss vertex gathers its one input's logits and applies
//! softmax cross-entropy, leaving the gradient on that input. **Backward** walks the
//! order in reverse: a dense vertex gathers `d = sum_e d_dst W_e^T` over its out-edges
//! (the loss already left its gradient), applies `d *= act'(a)`, and scatters the
//! parameter gradients of its in-edges, `dW_e = a_src^T d`, and of its bias.
//!
//! The network graph is tiny (layers, not neurons), so it is walked in order on the
//! calling thread; the work, and the parallelism, is inside each vertex's kernels.

use super::kernels::Kernels;
use super::net::{Net, VertexKind};
use crate::Result;

/// A network's buffers on the device of `K` (see the module docs).
pub struct Model<K: Kernels> {
    net: Net,
    /// Parameter blocks, as [`Net::blocks`].
    pub params: Vec<K::Buf>,
    /// Gradient blocks of the last [`train_step`](Model::train_step).
    pub grads: Vec<K::Buf>,
    outputs: Vec<K::Buf>,
    deltas: Vec<K::Buf>,
    labels: K::Buf,
    capacity: usize,
}

impl<K: Kernels> std::fmt::Debug for Model<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("net", &self.net.to_string())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// `(&v[i], &mut v[j])` for `i != j`.
fn pair<T>(v: &mut [T], i: usize, j: usize) -> (&T, &mut T) {
    assert_ne!(i, j);
    if i < j {
        let (lo, hi) = v.split_at_mut(j);
        (&lo[i], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(i);
        (&hi[0], &mut lo[j])
    }
}

impl<K: Kernels> Model<K> {
    /// Zeroed buffers for batches of up to `capacity` rows.
    ///
    /// # Errors
    ///
    /// A failed device allocation.
    pub fn new(kernels: &K, net: Net, capacity: usize) -> Result<Self> {
        let capacity = capacity.max(1);
        let mut params = Vec::new();
        let mut grads = Vec::new();
        for block in &net.blocks {
            params.push(kernels.zeros(block.len())?);
            grads.push(kernels.zeros(block.len())?);
        }
        let mut outputs = Vec::new();
        let mut deltas = Vec::new();
        for v in &net.vertices {
            let len = if v.kind == VertexKind::Loss {
                0
            } else {
                capacity * v.width
            };
            outputs.push(kernels.zeros(len)?);
            deltas.push(kernels.zeros(len)?);
        }
        Ok(Model {
            labels: kernels.zeros(capacity)?,
            net,
            params,
            grads,
            outputs,
            deltas,
            capacity,
        })
    }

    /// The network.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// Largest batch a step takes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Copies host blocks (as [`Net::blocks`]) to the device.
    ///
    /// # Errors
    ///
    /// A failed copy.
    pub fn set_params(&mut self, kernels: &K, blocks: &[Vec<f32>]) -> Result<()> {
        for (buf, host) in self.params.iter_mut().zip(blocks) {
            kernels.upload(host, buf)?;
        }
        Ok(())
    }

    /// The parameters (`grads = false`) or the last gradients, copied to the host.
    ///
    /// # Errors
    ///
    /// A failed copy.
    pub fn to_host(&self, kernels: &K, grads: bool) -> Result<Vec<Vec<f32>>> {
        let bufs = if grads { &self.grads } else { &self.params };
        self.net
            .blocks
            .iter()
            .zip(bufs)
            .map(|(block, buf)| {
                let mut host = vec![0.0; block.len()];
                kernels.download(buf, &mut host)?;
                Ok(host)
            })
            .collect()
    }

    /// Forward only: summed loss and correct predictions of `rows` examples.
    ///
    /// # Errors
    ///
    /// A failed kernel.
    pub fn evaluate(
        &mut self,
        kernels: &K,
        features: &[f32],
        labels: &[f32],
    ) -> Result<(f64, usize)> {
        self.forward(kernels, features, labels, 1.0)
    }

    /// Forward and backward on `rows` examples; the parameter gradients of
    /// `scale * summed loss` are left in [`grads`](Self::grads). Returns the summed loss
    /// and the correct predictions.
    ///
    /// # Errors
    ///
    /// A failed kernel.
    pub fn train_step(
        &mut self,
        kernels: &K,
        features: &[f32],
        labels: &[f32],
        scale: f32,
    ) -> Result<(f64, usize)> {
        let result = self.forward(kernels, features, labels, scale)?;
        self.backward(kernels, labels.len())?;
        Ok(result)
    }

    fn forward(
        &mut self,
        kernels: &K,
        features: &[f32],
        labels: &[f32],
        scale: f32,
    ) -> Result<(f64, usize)> {
        let rows = labels.len();
        assert!(
            rows <= self.capacity,
            "a batch larger than the model's capacity"
        );
        assert_eq!(features.len(), rows * self.net.input_width());
        kernels.upload(features, &mut self.outputs[0])?;
        kernels.upload(labels, &mut self.labels)?;
        let mut result = (0.0, 0);
        for v in 1..self.net.vertices.len() {
            let vertex = &self.net.vertices[v];
            match vertex.kind {
                VertexKind::Input => unreachable!("the input comes first"),
                VertexKind::Dense(act) => {
                    for (i, &e) in vertex.in_edges.iter().enumerate() {
                        let edge = self.net.edges[e];
                        let src_width = self.net.vertices[edge.src].width;
                        let w = &self.params[edge.weights.expect("dense in-edges carry weights")];
                        let (a, z) = pair(&mut self.outputs, edge.src, v);
                        let beta = if i == 0 { 0.0 } else { 1.0 };
                        kernels.gemm(
                            (rows, vertex.width, src_width),
                            a,
                            false,
                            w,
                            false,
                            beta,
                            z,
                        )?;
                    }
                    let bias = &self.params[vertex.bias.expect("dense layers have a bias")];
                    kernels.bias_activation(act, rows, vertex.width, bias, &mut self.outputs[v])?;
                }
                VertexKind::Loss => {
                    let src = self.net.edges[vertex.in_edges[0]].src;
                    result = kernels.softmax_cross_entropy(
                        rows,
                        vertex.width,
                        &self.outputs[src],
                        &self.labels,
                        scale,
                        &mut self.deltas[src],
                    )?;
                }
            }
        }
        Ok(result)
    }

    fn backward(&mut self, kernels: &K, rows: usize) -> Result<()> {
        for v in (1..self.net.vertices.len()).rev() {
            let vertex = &self.net.vertices[v];
            let VertexKind::Dense(act) = vertex.kind else {
                continue;
            };
            let mut gathered = 0;
            for &e in &vertex.out_edges {
                let edge = self.net.edges[e];
                let Some(block) = edge.weights else {
                    gathered += 1; // the loss left its gradient in place
                    continue;
                };
                let dst_width = self.net.vertices[edge.dst].width;
                let beta = if gathered == 0 { 0.0 } else { 1.0 };
                let (d_dst, d) = pair(&mut self.deltas, edge.dst, v);
                kernels.gemm(
                    (rows, vertex.width, dst_width),
                    d_dst,
                    false,
                    &self.params[block],
                    true,
                    beta,
                    d,
                )?;
                gathered += 1;
            }
            kernels.activation_backward(
                act,
                rows * vertex.width,
                &self.outputs[v],
                &mut self.deltas[v],
            )?;
            for &e in &vertex.in_edges {
                let edge = self.net.edges[e];
                let block = edge.weights.expect("dense in-edges carry weights");
                let src_width = self.net.vertices[edge.src].width;
                kernels.gemm(
                    (src_width, vertex.width, rows),
                    &self.outputs[edge.src],
                    true,
                    &self.deltas[v],
                    false,
                    0.0,
                    &mut self.grads[block],
                )?;
            }
            let bias = vertex.bias.expect("dense layers have a bias");
            kernels.column_sums(rows, vertex.width, &self.deltas[v], &mut self.grads[bias])?;
        }
        Ok(())
    }
}
