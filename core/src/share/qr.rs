//! The link as a QR code: SVG for apps and the web, PNG for the share sheet, and
//! text for a terminal.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

use crate::{Error, Result};

/// Pixels per module in the PNG.
const PNG_SCALE: u32 = 8;
/// White modules around the code, as the standard asks.
const QUIET_ZONE: u32 = 4;

fn code(text: &str) -> Result<QrCode> {
    // Medium error correction: survives a crease or a cracked screen.
    QrCode::with_error_correction_level(text, EcLevel::M).map_err(|e| Error::Config {
        reason: format!("the link does not fit a QR code: {e}"),
    })
}

pub fn svg(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// Two rows per line with half blocks, dark on light, for terminals.
pub fn terminal(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

/// A greyscale PNG.
pub fn png(text: &str) -> Result<Vec<u8>> {
    let code = code(text)?;
    let width = u32::try_from(code.width()).unwrap_or(u32::MAX);
    let side = (width + 2 * QUIET_ZONE) * PNG_SCALE;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; (side * side) as usize];
    for (index, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let (x, y) = (
            (index % width + QUIET_ZONE) * PNG_SCALE,
            (index / width + QUIET_ZONE) * PNG_SCALE,
        );
        for dy in 0..PNG_SCALE {
            let row = ((y + dy) * side + x) as usize;
            pixels[row..row + PNG_SCALE as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let failed = |e: png::EncodingError| Error::Config {
        reason: format!("the QR image could not be written: {e}"),
    };
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}
