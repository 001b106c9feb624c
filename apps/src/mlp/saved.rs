//! Saved models: JSON with the layers (as the user described them) and every parameter
//! block, written atomically. `f32` values round-trip exactly through JSON's shortest
//! decimal form.

use std::path::Path;

use super::net::{LayerSpec, Net};
use crate::output::write_atomically;
use crate::{AppError, Result};

/// The `format` field of a saved model.
const FORMAT: &str = "gasket-mlp";
/// The `version` field.
const VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedModel {
    format: String,
    version: u32,
    layers: Vec<LayerSpec>,
    blocks: Vec<Vec<f32>>,
}

/// Writes `net` and its parameter `blocks` to `path`.
///
/// # Errors
///
/// A failed write.
pub fn save(path: &Path, net: &Net, blocks: &[Vec<f32>]) -> Result<()> {
    let doc = SavedModel {
        format: FORMAT.into(),
        version: VERSION,
        layers: net.layers.clone(),
        blocks: blocks.to_vec(),
    };
    write_atomically(path, |w| {
        serde_json::to_writer(&mut *w, &doc).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// Reads a model [`save`] wrote: the network and its blocks.
///
/// # Errors
///
/// An unreadable file, not a gasket MLP model, a network that does not check, or blocks
/// whose sizes do not match the network or that hold non-finite values.
pub fn load(path: &Path) -> Result<(Net, Vec<Vec<f32>>)> {
    let text = std::fs::read(path)
        .map_err(|e| AppError::Config(format!("{}: cannot read the model: {e}", path.display())))?;
    parse(&path.display().to_string(), &text)
}

/// Parses the bytes of a model file, as [`load`] does; `name` stands for the file in
/// errors.
///
/// # Errors
///
/// As [`load`], except the read.
pub fn parse(name: &str, text: &[u8]) -> Result<(Net, Vec<Vec<f32>>)> {
    let fail = |why: String| AppError::Config(format!("{name}: {why}"));
    let doc: SavedModel =
        serde_json::from_slice(text).map_err(|e| fail(format!("not a gasket MLP model ({e})")))?;
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(fail(format!(
            "format `{}` version {}, expected `{FORMAT}` version {VERSION}",
            doc.format, doc.version
        )));
    }
    let net = Net::from_layers(doc.layers, name)?;
    if doc.blocks.len() != net.blocks.len() {
        return Err(fail(format!(
            "{} parameter blocks, the network needs {}",
            doc.blocks.len(),
            net.blocks.len()
        )));
    }
    for (values, block) in doc.blocks.iter().zip(&net.blocks) {
        if values.len() != block.len() {
            return Err(fail(format!(
                "block {} has {} values, expected {}",
                block.name,
                values.len(),
                block.len()
            )));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(fail(format!(
                "block {} holds a non-finite value",
                block.name
            )));
        }
    }
    Ok((net, doc.blocks))
}
