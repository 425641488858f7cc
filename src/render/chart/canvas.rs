//! The PNG's pixels: a palette index per pixel, and the PNG made from them.
//!
//! A chart has few colours (white, greys, a handful of line colours and their
//! blends), and the PNG encoder's work grows with the bytes it is given: on the
//! charts of a 100-run build, one byte a pixel instead of three took encoding
//! from 0.49 to 0.22 ms a chart and the files from 120 to 44 KB. So drawing
//! works on indices, blending through the palette, and a chart that ends with
//! at most 256 colours is written as an indexed PNG. Indices are 16-bit so
//! drawing never runs out; a chart of more colours (anti-aliased text and
//! edges over many tints) is expanded and written as RGB. Either way the
//! picture is pixel for pixel the one plotters' RGB bitmap would hold: the
//! blends are its formulas, applied to the colours the indices stand for.

use std::collections::HashMap;

/// Indices are `u16`; past this many colours a new colour leaves the pixel as
/// it was, a limit no chart comes near (each colour would need its own blend).
const MAX_COLOURS: usize = 1 << 16;

/// Slots in the cache of blends already worked out: text and translucent
/// curves blend the same few colours over the same few tints again and again.
const BLEND_SLOTS: usize = 1 << 12;

/// How a colour lands on a pixel: plotters' bitmap has three ways.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Ink {
    /// Replace the pixel.
    Set([u8; 3]),
    /// Plotters' pixel blend, alpha in 256ths: `old ± |new - old| * a / 256`.
    Mix([u8; 3], u16),
    /// Plotters' blend for the bulk of a translucent rectangle's row:
    /// `(old * (256 - a) + new * a) / 256`, which rounds the other way.
    Wash([u8; 3], u16),
}

impl Ink {
    /// A colour as plotters' bitmap lays a pixel: set from an alpha of 255/256
    /// up, mixed in 256ths below, nothing at 0.
    pub fn of(rgb: (u8, u8, u8), alpha: f64) -> Option<Ink> {
        let rgb = [rgb.0, rgb.1, rgb.2];
        if alpha >= 1.0 - 1.0 / 256.0 {
            Some(Ink::Set(rgb))
        } else if alpha > 0.0 {
            Some(Ink::Mix(rgb, (alpha * 256.0).floor() as u16))
        } else {
            None
        }
    }

    fn over(self, old: [u8; 3]) -> [u8; 3] {
        let mix = |o: u8, n: u8, a: u16| {
            let (o, n, a) = (o as u32, n as u32, a as u32);
            (if n > o {
                o + (n - o) * a / 256
            } else {
                o - (o - n) * a / 256
            }) as u8
        };
        let wash =
            |o: u8, n: u8, a: u16| ((o as u32 * (256 - a as u32) + n as u32 * a as u32) >> 8) as u8;
        match self {
            Ink::Set(rgb) => rgb,
            Ink::Mix(rgb, a) => [0, 1, 2].map(|c| mix(old[c], rgb[c], a)),
            Ink::Wash(rgb, a) => [0, 1, 2].map(|c| wash(old[c], rgb[c], a)),
        }
    }

    /// The cache key: kind, alpha and colour, with room for the old index.
    fn key(self) -> u64 {
        let (kind, [r, g, b], a) = match self {
            Ink::Set(rgb) => (1u64, rgb, 0),
            Ink::Mix(rgb, a) => (2, rgb, a),
            Ink::Wash(rgb, a) => (3, rgb, a),
        };
        kind << 58 | (a as u64) << 40 | (r as u64) << 32 | (g as u64) << 24 | (b as u64) << 16
    }
}

/// A `width` x `height` picture as palette indices, row by row.
pub(super) struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u16>,
    palette: Vec<[u8; 3]>,
    lookup: HashMap<[u8; 3], u16>,
    /// `(ink key | old index, new index)`; a key of 0 is an empty slot.
    blends: Vec<(u64, u16)>,
    /// The last opaque colour and its index.
    last_set: ([u8; 3], u16),
    /// The bytes handed to the encoder, kept between charts.
    bytes: Vec<u8>,
    /// Nothing painted since [`Canvas::reset`]: every pixel is white, so
    /// painting white (a chart's first act) changes nothing.
    blank: bool,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        let mut canvas = Canvas {
            width: 0,
            height: 0,
            pixels: Vec::new(),
            palette: Vec::new(),
            lookup: HashMap::new(),
            blends: Vec::new(),
            last_set: ([255; 3], 0),
            bytes: Vec::new(),
            blank: true,
        };
        canvas.reset(width, height);
        canvas
    }

    /// White again, at a new size, keeping the allocations.
    pub fn reset(&mut self, width: u32, height: u32) {
        (self.width, self.height) = (width as usize, height as usize);
        // Resize, then fill: `fill` is one memset, where a resize from empty
        // wrote the pixels one at a time.
        self.pixels.resize(self.width * self.height, 0);
        self.pixels.fill(0);
        self.palette.clear();
        self.lookup.clear();
        self.blends.clear();
        self.blends.resize(BLEND_SLOTS, (0, 0));
        self.palette.push([255; 3]);
        self.lookup.insert([255; 3], 0);
        self.last_set = ([255; 3], 0);
        self.blank = true;
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    /// How many colours the picture has used.
    #[cfg(test)]
    pub fn colours(&self) -> usize {
        self.palette.len()
    }

    fn index_of(&mut self, rgb: [u8; 3]) -> Option<u16> {
        if let Some(&index) = self.lookup.get(&rgb) {
            return Some(index);
        }
        if self.palette.len() >= MAX_COLOURS {
            return None;
        }
        let index = self.palette.len() as u16;
        self.palette.push(rgb);
        self.lookup.insert(rgb, index);
        Some(index)
    }

    /// The index `ink` leaves on a pixel of index `old` (an opaque ink's
    /// answer does not depend on it, so it is remembered once); `None` when
    /// that is a new colour and the palette is full.
    fn resolve(&mut self, ink: Ink, old: u16) -> Option<u16> {
        let key = match ink {
            // A curve is painted a column at a time in one colour.
            Ink::Set(rgb) if self.last_set.0 == rgb => return Some(self.last_set.1),
            Ink::Set(_) => ink.key(),
            _ => ink.key() | old as u64,
        };
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize % BLEND_SLOTS;
        let new = match self.blends.get(slot) {
            Some(&(k, new)) if k == key => new,
            _ => {
                let new = self.index_of(ink.over(self.palette[old as usize]))?;
                self.blends[slot] = (key, new);
                new
            }
        };
        if let Ink::Set(rgb) = ink {
            self.last_set = (rgb, new);
        }
        Some(new)
    }

    /// Pixels `start..start + len` of the row-major picture, which the caller
    /// has clipped to the canvas (a run that leaves it is not painted).
    pub fn paint_run(&mut self, start: usize, len: usize, ink: Ink) {
        self.paint_strided(start, len, 1, ink);
    }

    /// `count` pixels from `start`, `stride` apart (a row's run, or a column),
    /// which the caller has clipped to the canvas.
    pub fn paint_strided(&mut self, start: usize, count: usize, stride: usize, ink: Ink) {
        let last_at = count
            .checked_sub(1)
            .and_then(|n| n.checked_mul(stride))
            .and_then(|n| n.checked_add(start));
        let Some(end) = last_at
            .filter(|&at| at < self.pixels.len())
            .map(|at| at + 1)
        else {
            return;
        };
        if let Ink::Set(rgb) = ink {
            if self.blank && rgb == [255; 3] {
                return; // white on white: the second pass over every pixel that this was
            }
            self.blank = false;
            let Some(index) = self.resolve(ink, self.pixels[start]) else {
                return;
            };
            if stride == 1 {
                self.pixels[start..end].fill(index);
            } else {
                self.pixels[start..end]
                    .iter_mut()
                    .step_by(stride)
                    .for_each(|p| *p = index);
            }
            return;
        }
        self.blank = false;
        // Runs of one old colour are the rule (background, a line's body), so
        // the last blend is remembered before the cache is asked.
        let first = self.pixels[start];
        let (mut last_old, mut last_new) = (first, self.resolve(ink, first).unwrap_or(first));
        for at in (start..end).step_by(stride) {
            let old = self.pixels[at];
            if old != last_old {
                (last_old, last_new) = (old, self.resolve(ink, old).unwrap_or(old));
            }
            self.pixels[at] = last_new;
        }
    }

    /// The pixel at (`x`, `y`), if it is on the canvas.
    pub fn paint_pixel(&mut self, x: i32, y: i32, ink: Ink) {
        self.paint_pixel_memo(x, y, ink, &mut None);
    }

    /// [`Canvas::paint_pixel`], `memo` holding the last (old index, new
    /// index) this ink gave: text paints each of its few tints over the same
    /// background pixel after pixel, and asking the blend cache each time
    /// was most of its cost. (A blend, once known, never changes.)
    pub fn paint_pixel_memo(&mut self, x: i32, y: i32, ink: Ink, memo: &mut Option<(u16, u16)>) {
        if (x as u32 as usize) < self.width && (y as u32 as usize) < self.height {
            let at = y as usize * self.width + x as usize;
            let old = self.pixels[at];
            let new = match *memo {
                Some((known, new)) if known == old => new,
                _ => match self.resolve(ink, old) {
                    Some(new) => {
                        *memo = Some((old, new));
                        new
                    }
                    None => return,
                },
            };
            self.pixels[at] = new;
            self.blank = false;
        }
    }

    /// The picture as RGB bytes, row by row, into `rgb`.
    fn write_rgb(&self, rgb: &mut Vec<u8>) {
        rgb.resize(self.pixels.len() * 3, 0);
        for (out, &index) in rgb.chunks_exact_mut(3).zip(&self.pixels) {
            out.copy_from_slice(&self.palette[index as usize]);
        }
    }

    /// The picture as RGB bytes, row by row.
    #[cfg(test)]
    pub fn rgb(&self) -> Vec<u8> {
        let mut rgb = Vec::new();
        self.write_rgb(&mut rgb);
        rgb
    }

    /// When colours painted over along the way took the palette past 256
    /// but at most 256 are left in the picture: those, in palette order, and
    /// each old index's new one.
    fn colours_left(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut used = vec![false; self.palette.len()];
        for &index in &self.pixels {
            used[index as usize] = true;
        }
        if used.iter().filter(|&&u| u).count() > 256 {
            return None;
        }
        let (mut palette, mut remap) = (Vec::new(), vec![0u8; self.palette.len()]);
        for (index, _) in used.iter().enumerate().filter(|(_, &u)| u) {
            remap[index] = (palette.len() / 3) as u8;
            palette.extend_from_slice(&self.palette[index]);
        }
        Some((palette, remap))
    }

    /// PNG file bytes: indexed when the picture has at most 256 colours (or
    /// keeps at most 256 of more it used along the way), RGB otherwise. Fast
    /// deflate, which codes runs of zero bytes and little else, and the Up
    /// filter: a chart's rows mostly repeat the row above (white margins, the
    /// plot's background, vertical grid lines), so they filter to zeros. On a
    /// build's RGB charts Up took 12% fewer instructions than Sub for files 2%
    /// smaller; Paeth and the adaptive search make smaller files, at more of
    /// the time.
    pub fn encode_png(&mut self) -> Result<Vec<u8>, String> {
        let (width, height) = self.size();
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::FilterType::Up);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::NonAdaptive);
        // The bytes go through a buffer kept with the canvas: a fresh megabyte
        // for every chart costs its page faults again.
        let mut bytes = std::mem::take(&mut self.bytes);
        if self.palette.len() <= 256 {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(self.palette.concat());
            bytes.clear();
            bytes.extend(self.pixels.iter().map(|&i| i as u8));
        } else if let Some((palette, remap)) = self.colours_left() {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(palette);
            bytes.clear();
            bytes.extend(self.pixels.iter().map(|&i| remap[i as usize]));
        } else {
            encoder.set_color(png::ColorType::Rgb);
            self.write_rgb(&mut bytes);
        }
        let fail = |e: png::EncodingError| format!("encoding chart PNG: {e}");
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(&bytes).map_err(fail)?;
        self.bytes = bytes;
        writer.finish().map_err(fail)?;
        Ok(png)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::decode_png;
    use super::*;

    fn decode(png: &[u8]) -> (png::ColorType, Vec<u8>) {
        let (colour, _, rgb) = decode_png(png);
        (colour, rgb)
    }

    /// Every ink, on every kind of old pixel, gives what plotters' formulas
    /// give on RGB bytes, whether the blend was worked out or remembered.
    #[test]
    fn blends_through_the_palette_are_the_rgb_blends() {
        let mut canvas = Canvas::new(64, 3);
        let mut expected = vec![255u8; 64 * 3 * 3];
        let inks = [
            Ink::Set([0, 0x72, 0xB2]),
            Ink::Mix([0xD5, 0x5E, 0], 77),
            Ink::Wash([0xD5, 0x5E, 0], 77),
            Ink::Mix([0x22, 0x22, 0x22], 255),
            Ink::Wash([0, 0, 0], 1),
            Ink::Set([0xE5, 0xE5, 0xE5]),
        ];
        for round in 0..2 {
            for (i, &ink) in inks.iter().enumerate() {
                let start = (i * 7 + round * 3) % 40;
                canvas.paint_run(start, 20, ink);
                for p in start..start + 20 {
                    let old = [expected[p * 3], expected[p * 3 + 1], expected[p * 3 + 2]];
                    expected[p * 3..p * 3 + 3].copy_from_slice(&ink.over(old));
                }
                canvas.paint_strided(i + 40, 3, 64, ink);
                canvas.paint_pixel(i as i32 + 50, 1, ink);
                for p in (0..3).map(|row| row * 64 + i + 40).chain([64 + i + 50]) {
                    let old = [expected[p * 3], expected[p * 3 + 1], expected[p * 3 + 2]];
                    expected[p * 3..p * 3 + 3].copy_from_slice(&ink.over(old));
                }
            }
        }
        assert_eq!(canvas.rgb(), expected);
        // The two rounding rules really differ, so mixing them up would show.
        assert_ne!(
            Ink::Mix([0; 3], 128).over([255; 3]),
            Ink::Wash([0; 3], 128).over([255; 3])
        );
    }

    #[test]
    fn few_colours_are_written_indexed_and_many_as_rgb() {
        let mut canvas = Canvas::new(300, 2);
        canvas.paint_run(10, 100, Ink::Set([1, 2, 3]));
        canvas.paint_run(50, 100, Ink::Mix([200, 0, 0], 100));
        let (colour, rgb) = decode(&canvas.encode_png().unwrap());
        assert_eq!((colour, &rgb), (png::ColorType::Indexed, &canvas.rgb()));
        for x in 0..300u32 {
            canvas.paint_pixel(x as i32, 1, Ink::Set([x as u8, (x >> 8) as u8, 7]));
        }
        assert!(canvas.colours() > 256);
        let (colour, rgb) = decode(&canvas.encode_png().unwrap());
        assert_eq!((colour, &rgb), (png::ColorType::Rgb, &canvas.rgb()));
        // Painted over, those colours are gone: indexed again.
        canvas.paint_run(300, 300, Ink::Set([9, 9, 9]));
        let (colour, rgb) = decode(&canvas.encode_png().unwrap());
        assert_eq!((colour, &rgb), (png::ColorType::Indexed, &canvas.rgb()));
    }

    /// Past 65,536 colours a new colour leaves its pixel as it was, blended
    /// or not, and the picture is still written (as RGB).
    #[test]
    fn a_full_palette_keeps_pixels_as_they_were() {
        let (w, h) = (300u32, 240u32);
        let mut canvas = Canvas::new(w, h);
        let colour = |i: u32| [(i >> 16) as u8, (i >> 8) as u8, i as u8];
        for i in 0..w * h {
            canvas.paint_pixel((i % w) as i32, (i / w) as i32, Ink::Set(colour(i + 1)));
        }
        assert_eq!(canvas.colours(), MAX_COLOURS);
        let rgb = canvas.rgb();
        let pixel = |i: u32| {
            [
                rgb[i as usize * 3],
                rgb[i as usize * 3 + 1],
                rgb[i as usize * 3 + 2],
            ]
        };
        // White is entry 0, so colours 1..=65,535 made it; the rest stayed white.
        assert_eq!(pixel(65_534), colour(65_535));
        assert_eq!(pixel(65_535), [255; 3]);
        assert_eq!(pixel(w * h - 1), [255; 3]);
        canvas.paint_run(0, 10, Ink::Mix([255, 0, 0], 100));
        assert_eq!(
            canvas.rgb()[..30],
            rgb[..30],
            "a blend to a new colour is refused too"
        );
        canvas.paint_run(0, 10, Ink::Set([7, 7, 7]));
        canvas.paint_strided(0, 200, w as usize, Ink::Set([7, 7, 7]));
        assert_eq!(
            canvas.rgb(),
            rgb,
            "a new opaque colour is refused, run and column alike"
        );
        canvas.paint_run(0, 10, Ink::Set([255; 3]));
        assert_eq!(
            canvas.rgb()[..30],
            [255; 30],
            "colours already there still paint"
        );
        let (colour_type, _, decoded) = decode_png(&canvas.encode_png().unwrap());
        assert_eq!((colour_type, decoded), (png::ColorType::Rgb, canvas.rgb()));
    }

    #[test]
    fn painting_off_the_canvas_does_nothing() {
        let mut canvas = Canvas::new(4, 4);
        canvas.paint_run(14, 5, Ink::Set([0; 3]));
        canvas.paint_strided(3, 9, 4, Ink::Set([0; 3]));
        canvas.paint_pixel(-1, 0, Ink::Set([0; 3]));
        canvas.paint_pixel(4, 0, Ink::Set([0; 3]));
        canvas.paint_pixel(0, 4, Ink::Set([0; 3]));
        assert_eq!(canvas.rgb(), vec![255; 48]);
        canvas.reset(2, 1);
        assert_eq!(
            (canvas.size(), canvas.colours(), canvas.rgb()),
            ((2, 1), 1, vec![255; 6])
        );
    }

    /// White on a fresh canvas is skipped; white once something is painted,
    /// by any of the three ways, paints.
    #[test]
    fn white_paints_once_the_canvas_is_not_blank() {
        let white = Ink::Set([255; 3]);
        let paints: [fn(&mut Canvas); 3] = [
            |c| c.paint_run(1, 1, Ink::Set([0; 3])),
            |c| c.paint_run(1, 1, Ink::Mix([0; 3], 128)),
            |c| c.paint_pixel(1, 0, Ink::Set([0; 3])),
        ];
        for paint in paints {
            let mut canvas = Canvas::new(3, 1);
            canvas.paint_run(0, 3, white);
            paint(&mut canvas);
            assert_ne!(canvas.rgb(), vec![255; 9]);
            canvas.paint_run(0, 3, white);
            assert_eq!(canvas.rgb(), vec![255; 9]);
            canvas.reset(3, 1);
            paint(&mut canvas);
            canvas.paint_strided(1, 1, 3, white);
            assert_eq!(canvas.rgb(), vec![255; 9], "after a reset too");
        }
    }

    /// A remembered blend gives what asking the cache gives, over pixels of
    /// changing old colours, and a full palette still leaves pixels alone.
    #[test]
    fn remembered_blends_are_the_cache_blends() {
        let inks = [
            Ink::Mix([0, 0x72, 0xB2], 40),
            Ink::Mix([0xD5, 0x5E, 0], 200),
        ];
        let (mut asked, mut remembered) = (Canvas::new(16, 4), Canvas::new(16, 4));
        for canvas in [&mut asked, &mut remembered] {
            canvas.paint_run(8, 8, Ink::Set([9, 9, 9]));
            canvas.paint_run(20, 30, Ink::Mix([200, 0, 0], 100));
        }
        let mut memos = [None, None];
        for step in 0..200 {
            let (x, y, i) = ((step * 7 % 16) as i32, (step % 5) as i32 - 1, step % 2);
            asked.paint_pixel(x, y, inks[i]);
            remembered.paint_pixel_memo(x, y, inks[i], &mut memos[i]);
        }
        assert_eq!(asked.rgb(), remembered.rgb());
        assert!(asked.colours() > 6, "blends of blends were made");
    }
}
