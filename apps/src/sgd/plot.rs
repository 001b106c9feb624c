//! Training curves of SGD runs as an SVG: objective against wall-clock seconds (left) and
//! against clocks (right), one line per run, log-scaled when every objective is positive.
//!
//! Design: plotters' SVG backend writes text as SVG `<text>` elements and needs no font
//! files or C libraries, so plots work on a bare cluster node. Bitmap output would need a
//! font rasteriser; it is left out rather than depending on system fonts.

use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One run's curve.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text, e.g. `SSP s = 3`.
    pub label: String,
    /// `(wall seconds since start, clock, objective)`, in clock order.
    pub points: Vec<(f64, f64, f64)>,
}

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file name does not end in `.svg`.
    #[error("cannot plot to {}: only .svg files are supported", .0.display())]
    Extension(PathBuf),
    /// No series has a finite point.
    #[error("cannot plot to {}: no finite objective to draw", .0.display())]
    NoData(PathBuf),
    /// Drawing or writing failed.
    #[error("cannot plot to {}: {reason}", path.display())]
    Draw {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws every series into `path` (see the module docs).
///
/// # Errors
///
/// A name not ending in `.svg`, no finite data, or a failed write.
pub fn plot_objective(path: &Path, title: &str, series: &[Series]) -> Result<(), PlotError> {
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !is_svg {
        return Err(PlotError::Extension(path.to_path_buf()));
    }
    let finite = |p: &&(f64, f64, f64)| p.0.is_finite() && p.2.is_finite();
    let all: Vec<(f64, f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).copied())
        .collect();
    if all.is_empty() {
        return Err(PlotError::NoData(path.to_path_buf()));
    }
    let fail = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let max = |f: fn(&(f64, f64, f64)) -> f64| all.iter().map(f).fold(f64::MIN, f64::max);
    let min = |f: fn(&(f64, f64, f64)) -> f64| all.iter().map(f).fold(f64::MAX, f64::min);
    let (lo, hi) = (min(|p| p.2), max(|p| p.2));
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let log = lo > 0.0;
    let root = SVGBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| fail(&e))?;
    let (left, right) = root.split_horizontally(600);
    let panels = [
        (left, "wall-clock seconds", max(|p| p.0).max(1e-9), 0usize),
        (right, "clock", max(|p| p.1).max(1.0), 1usize),
    ];
    for (area, x_name, x_max, axis) in panels {
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70);
        if log {
            let chart = builder
                .build_cartesian_2d(0.0..x_max, (lo * 0.95..hi * 1.05).log_scale())
                .map_err(|e| fail(&e))?;
            panel(chart, x_name, "objective (log scale)", series, axis).map_err(|e| fail(&e))?;
        } else {
            let pad = 0.05 * (hi - lo);
            let chart = builder
                .build_cartesian_2d(0.0..x_max, lo - pad..hi + pad)
                .map_err(|e| fail(&e))?;
            panel(chart, x_name, "objective", series, axis).map_err(|e| fail(&e))?;
        }
    }
    root.present().map_err(|e| fail(&e))
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Axes, one line per series (x = seconds when `axis` is 0, clocks when 1) and a legend.
fn panel<'a, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    x_name: &str,
    y_name: &str,
    series: &[Series],
    axis: usize,
) -> DrawResult
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_name)
        .y_desc(y_name)
        .draw()?;
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let pts = s
            .points
            .iter()
            .filter(|p| p.0.is_finite() && p.2.is_finite())
            .map(|p| (if axis == 0 { p.0 } else { p.1 }, p.2));
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(2)))?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<Series> {
        vec![
            Series {
                label: "BSP (s = 0)".into(),
                points: vec![(0.1, 1.0, 2.0), (0.2, 2.0, 1.0)],
            },
            Series {
                label: "async".into(),
                points: vec![(0.05, 1.0, 2.5), (0.1, 2.0, 0.8)],
            },
        ]
    }

    #[test]
    fn writes_an_svg_with_every_label() {
        let path = std::env::temp_dir().join(format!("gasket-plot-{}.svg", std::process::id()));
        plot_objective(&path, "test", &series()).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(svg.contains("<svg"));
        assert!(svg.contains("BSP (s = 0)") && svg.contains("async"));
    }

    #[test]
    fn other_extensions_and_empty_data_are_errors() {
        let err = plot_objective(Path::new("x.png"), "t", &series()).unwrap_err();
        assert!(err.to_string().contains("only .svg"));
        let empty = [Series {
            label: "x".into(),
            points: vec![],
        }];
        let err = plot_objective(Path::new("x.svg"), "t", &empty).unwrap_err();
        assert!(matches!(err, PlotError::NoData(_)));
    }
}
