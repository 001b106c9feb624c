//! The network as a graph: an input vertex, dense layers (weights on their in-edges, a
//! bias and an activation on the vertex), and a softmax cross-entropy loss vertex fed by
//! the one layer nothing else reads.
//!
//! Networks come from `--layers 784,256,128,10` (a chain) or from a file with one layer a
//! line, `NAME WIDTH ACTIVATION INPUTS`, where INPUTS is a comma-separated list of layers
//! (or `-` for the input line). Any directed acyclic graph works: lines may come in any
//! order, a layer with several inputs sums their contributions (a dense layer on their
//! concatenation), and the vertices are kept in a topological order (Kahn's algorithm),
//! which is the order of the forward pass; backward walks it in reverse.
//!
//! ```text
//! # name  width  activation  inputs
//! input   784    -           -
//! h1      256    relu        input
//! skip    64     tanh        input
//! out     10     linear      h1,skip
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::{AppError, Result};

/// A layer's nonlinearity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// The identity (the layer feeding the loss).
    Linear,
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "sigmoid" => Ok(Activation::Sigmoid),
            "linear" | "identity" | "none" => Ok(Activation::Linear),
            _ => Err(format!(
                "unknown activation `{s}` (expected relu, tanh, sigmoid or linear)"
            )),
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Linear => "linear",
        })
    }
}

/// A layer as the user describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerSpec {
    /// Unique name.
    pub name: String,
    /// Output width.
    pub width: usize,
    /// Nonlinearity (ignored for the input).
    pub activation: Activation,
    /// Names of the layers it reads; empty for the input.
    pub inputs: Vec<String>,
}

/// What a vertex of the network graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VertexKind {
    /// The data.
    Input,
    /// A dense layer.
    Dense(Activation),
    /// Softmax cross-entropy over its one in-neighbour's outputs.
    Loss,
}

/// A vertex of the network graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    /// Layer name (`loss` for the loss vertex).
    pub name: String,
    /// Output width (the loss has its input's width).
    pub width: usize,
    /// Input, dense or loss.
    pub kind: VertexKind,
    /// Edges into this vertex (indices into [`Net::edges`]).
    pub in_edges: Vec<usize>,
    /// Edges out of this vertex.
    pub out_edges: Vec<usize>,
    /// The bias block of a dense layer (index into [`Net::blocks`]).
    pub bias: Option<usize>,
}

/// An edge `src -> dst`; a dense layer's in-edge carries a `src.width x dst.width`
/// weight matrix, the edge into the loss carries none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// Source vertex.
    pub src: usize,
    /// Destination vertex.
    pub dst: usize,
    /// The weight block (index into [`Net::blocks`]).
    pub weights: Option<usize>,
}

/// A parameter tensor: a weight matrix (row-major `rows x cols`) or a bias (`1 x cols`).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// `W:src->dst` or `b:layer`.
    pub name: String,
    /// Rows (the source width for weights, 1 for biases).
    pub rows: usize,
    /// Columns (the destination width).
    pub cols: usize,
    /// Half-width of the uniform initialisation (Glorot), 0 for biases.
    pub init_scale: f32,
}

impl Block {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// True for an empty block (never built).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The network graph, vertices in topological order (vertex 0 is the input, the last is
/// the loss).
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// The layers as the user gave them (saved with a model).
    pub layers: Vec<LayerSpec>,
    /// Vertices in forward order.
    pub vertices: Vec<Vertex>,
    /// All edges.
    pub edges: Vec<Edge>,
    /// Parameter tensors.
    pub blocks: Vec<Block>,
}

/// Largest width of a layer: keeps a typo from allocating terabytes.
pub const MAX_WIDTH: usize = 1 << 20;

impl Net {
    /// A chain from `--layers`: the first width is the input, hidden layers use
    /// `activation`, the last is linear and feeds the loss.
    ///
    /// # Errors
    ///
    /// Fewer than two widths, or a width of 0.
    pub fn chain(widths: &[usize], activation: Activation) -> Result<Net> {
        if widths.len() < 2 {
            return Err(AppError::Config(format!(
                "--layers needs at least an input and an output width (e.g. 784,256,10), got {widths:?}"
            )));
        }
        let name = |i: usize| match i {
            0 => "input".to_string(),
            i if i + 1 == widths.len() => "output".to_string(),
            i => format!("hidden{i}"),
        };
        let layers = widths
            .iter()
            .enumerate()
            .map(|(i, &width)| LayerSpec {
                name: name(i),
                width,
                activation: if i + 1 == widths.len() {
                    Activation::Linear
                } else {
                    activation
                },
                inputs: if i == 0 { vec![] } else { vec![name(i - 1)] },
            })
            .collect();
        Net::from_layers(layers, "--layers")
    }

    /// Reads a network file (see the module docs).
    ///
    /// # Errors
    ///
    /// An unreadable file, or a line or graph that is not a valid network (file:line).
    pub fn read(path: &Path) -> Result<Net> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::Config(format!("cannot read network file {}: {e}", path.display()))
        })?;
        Net::parse(&path.display().to_string(), &text)
    }

    /// Parses network text; `name` stands for the file in errors.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn parse(name: &str, text: &str) -> Result<Net> {
        let mut layers = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fail = |why: String| AppError::Config(format!("{name}:{}: {why}", number + 1));
            let fields: Vec<&str> = content.split_whitespace().collect();
            let [layer, width, activation, inputs] = fields[..] else {
                return Err(fail(format!(
                    "expected `NAME WIDTH ACTIVATION INPUTS`, found {} fields",
                    fields.len()
                )));
            };
            let width: usize = width
                .parse()
                .map_err(|_| fail(format!("width `{width}` is not a whole number")))?;
            let inputs: Vec<String> = if inputs == "-" {
                Vec::new()
            } else {
                inputs.split(',').map(str::to_string).collect()
            };
            let activation = if inputs.is_empty() && activation == "-" {
                Activation::Linear
            } else {
                activation.parse().map_err(fail)?
            };
            layers.push(LayerSpec {
                name: layer.to_string(),
                width,
                activation,
                inputs,
            });
        }
        Net::from_layers(layers, name)
    }

    /// Builds and checks the graph of `layers`; `origin` names where they came from.
    ///
    /// # Errors
    ///
    /// No input or several, an unknown or repeated name, a width out of range, a cycle,
    /// a layer that feeds nothing, or no layer to feed the loss.
    pub fn from_layers(layers: Vec<LayerSpec>, origin: &str) -> Result<Net> {
        let fail = |why: String| Err(AppError::Config(format!("{origin}: {why}")));
        let mut index = HashMap::new();
        for (i, layer) in layers.iter().enumerate() {
            if layer.name == "loss" {
                return fail("`loss` is reserved for the loss vertex".into());
            }
            if index.insert(layer.name.as_str(), i).is_some() {
                return fail(format!("layer `{}` is defined twice", layer.name));
            }
            if layer.width == 0 || layer.width > MAX_WIDTH {
                return fail(format!(
                    "layer `{}` has width {}; widths must be between 1 and {MAX_WIDTH}",
                    layer.name, layer.width
                ));
            }
        }
        let inputs: Vec<&LayerSpec> = layers.iter().filter(|l| l.inputs.is_empty()).collect();
        if inputs.len() != 1 {
            return fail(format!(
                "a network has exactly one input layer (inputs `-`), found {}",
                inputs.len()
            ));
        }
        let mut readers = vec![0usize; layers.len()];
        let mut preds: Vec<Vec<usize>> = Vec::with_capacity(layers.len());
        for layer in &layers {
            let mut mine = Vec::new();
            for input in &layer.inputs {
                let Some(&src) = index.get(input.as_str()) else {
                    return fail(format!(
                        "layer `{}` reads `{input}`, which is not defined",
                        layer.name
                    ));
                };
                if mine.contains(&src) {
                    return fail(format!("layer `{}` reads `{input}` twice", layer.name));
                }
                readers[src] += 1;
                mine.push(src);
            }
            preds.push(mine);
        }
        let outputs: Vec<usize> = (0..layers.len()).filter(|&i| readers[i] == 0).collect();
        let output = match outputs[..] {
            [o] if !layers[o].inputs.is_empty() => o,
            [_] => return fail("the network has no layer after the input".into()),
            _ => {
                let names: Vec<&str> = outputs.iter().map(|&i| layers[i].name.as_str()).collect();
                return fail(format!(
                    "exactly one layer may feed the loss (be read by no other layer); these are read by none: {}",
                    names.join(", ")
                ));
            }
        };
        let order = topological_order(&preds)
            .ok_or_else(|| AppError::Config(format!("{origin}: the layers form a cycle")))?;
        Ok(Net::assemble(layers, &preds, &order, output))
    }

    fn assemble(
        layers: Vec<LayerSpec>,
        preds: &[Vec<usize>],
        order: &[usize],
        output: usize,
    ) -> Net {
        let mut position = vec![0; layers.len()];
        for (p, &l) in order.iter().enumerate() {
            position[l] = p;
        }
        let mut net = Net {
            layers: Vec::new(),
            vertices: Vec::new(),
            edges: Vec::new(),
            blocks: Vec::new(),
        };
        for &l in order {
            let layer = &layers[l];
            let kind = if layer.inputs.is_empty() {
                VertexKind::Input
            } else {
                VertexKind::Dense(layer.activation)
            };
            net.vertices.push(Vertex {
                name: layer.name.clone(),
                width: layer.width,
                kind,
                in_edges: Vec::new(),
                out_edges: Vec::new(),
                bias: None,
            });
        }
        for &l in order {
            let dst = position[l];
            if preds[l].is_empty() {
                continue;
            }
            let fan_in: usize = preds[l].iter().map(|&p| layers[p].width).sum();
            let width = layers[l].width;
            let scale = (6.0 / (fan_in + width) as f64).sqrt() as f32;
            for &p in &preds[l] {
                let src = position[p];
                let block = net.blocks.len();
                net.blocks.push(Block {
                    name: format!("W:{}->{}", layers[p].name, layers[l].name),
                    rows: layers[p].width,
                    cols: width,
                    init_scale: scale,
                });
                net.connect(src, dst, Some(block));
            }
            net.vertices[dst].bias = Some(net.blocks.len());
            net.blocks.push(Block {
                name: format!("b:{}", layers[l].name),
                rows: 1,
                cols: width,
                init_scale: 0.0,
            });
        }
        let loss = net.vertices.len();
        net.vertices.push(Vertex {
            name: "loss".into(),
            width: layers[output].width,
            kind: VertexKind::Loss,
            in_edges: Vec::new(),
            out_edges: Vec::new(),
            bias: None,
        });
        net.connect(position[output], loss, None);
        net.layers = order.iter().map(|&l| layers[l].clone()).collect();
        net
    }

    fn connect(&mut self, src: usize, dst: usize, weights: Option<usize>) {
        let e = self.edges.len();
        self.edges.push(Edge { src, dst, weights });
        self.vertices[src].out_edges.push(e);
        self.vertices[dst].in_edges.push(e);
    }

    /// Width of the input.
    pub fn input_width(&self) -> usize {
        self.vertices[0].width
    }

    /// Number of classes the loss scores (the width of the layer feeding it).
    pub fn classes(&self) -> usize {
        self.vertices.last().map_or(0, |v| v.width)
    }

    /// The vertex feeding the loss.
    pub fn output(&self) -> usize {
        let loss = self.vertices.last().expect("a loss vertex");
        self.edges[loss.in_edges[0]].src
    }

    /// Number of parameters.
    pub fn parameters(&self) -> usize {
        self.blocks.iter().map(Block::len).sum()
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .vertices
            .iter()
            .map(|v| {
                let from: Vec<&str> = v
                    .in_edges
                    .iter()
                    .map(|&e| self.vertices[self.edges[e].src].name.as_str())
                    .collect();
                let arrow = if from.is_empty() {
                    String::new()
                } else {
                    format!(" <- {}", from.join("+"))
                };
                match v.kind {
                    VertexKind::Input => format!("{}({})", v.name, v.width),
                    VertexKind::Dense(a) => format!("{}({}, {a}){arrow}", v.name, v.width),
                    VertexKind::Loss => format!("loss(softmax cross-entropy){arrow}"),
                }
            })
            .collect();
        write!(f, "{}; {} parameters", parts.join(", "), self.parameters())
    }
}

/// Kahn's algorithm; `None` on a cycle. Ties keep the given order.
fn topological_order(preds: &[Vec<usize>]) -> Option<Vec<usize>> {
    let n = preds.len();
    let mut indegree: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut succs = vec![Vec::new(); n];
    for (v, ps) in preds.iter().enumerate() {
        for &p in ps {
            succs[p].push(v);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&v| indegree[v] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(v) = ready.pop_first() {
        order.push(v);
        for &s in &succs[v] {
            indegree[s] -= 1;
            if indegree[s] == 0 {
                ready.insert(s);
            }
        }
    }
    (order.len() == n).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_has_weights_biases_and_a_loss() {
        let net = Net::chain(&[4, 3, 2], Activation::Relu).unwrap();
        assert_eq!(net.vertices.len(), 4);
        assert_eq!(net.vertices[3].kind, VertexKind::Loss);
        assert_eq!(net.parameters(), 4 * 3 + 3 + 3 * 2 + 2);
        assert_eq!((net.input_width(), net.classes(), net.output()), (4, 2, 2));
        assert!(net.to_string().contains("hidden1(3, relu) <- input"));
    }

    #[test]
    fn a_dag_in_any_order_is_sorted() {
        let text = "out 3 linear a,b\n# comment\nb 2 tanh input,a\na 4 relu input\ninput 5 - -\n";
        let net = Net::parse("net.txt", text).unwrap();
        let names: Vec<&str> = net.vertices.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["input", "a", "b", "out", "loss"]);
        assert_eq!(net.vertices[2].in_edges.len(), 2);
        assert_eq!(
            net.parameters(),
            5 * 4 + 4 + (5 + 4) * 2 + 2 + (4 + 2) * 3 + 3
        );
    }

    #[test]
    fn bad_networks_are_explained() {
        let err = |t: &str| Net::parse("n.txt", t).unwrap_err().to_string();
        assert!(err("input 5 - -\na 4 relu input\na 3 linear a\n").contains("defined twice"));
        assert!(err("input 5 - -\na 4 relu nope\n").contains("reads `nope`, which is not defined"));
        assert!(err("input 5 - -\na 4 relu input,b\nb 4 relu a\nc 2 linear b\n").contains("cycle"));
        assert!(
            err("input 5 - -\na 4 relu input\nb 4 relu input\n").contains("read by none: a, b")
        );
        assert!(err("input 5 - -\na 0 relu input\n").contains("width 0"));
        assert!(err("input 5 - -\na 4 swish input\n").starts_with("n.txt:2: unknown activation"));
        assert!(err("input 5 - -\na 4 relu\n").starts_with("n.txt:2: expected"));
        assert!(err("input 5 - -\n").contains("no layer after the input"));
        assert!(err("a 4 relu b\nb 4 relu a\n").contains("exactly one input"));
        assert!(Net::chain(&[3], Activation::Relu).is_err());
    }
}
