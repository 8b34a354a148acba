//! Pathway's fuzz targets: the parsers at the edge of the platform, fed
//! generated input, each asserting that nothing panics and that whatever is
//! accepted keeps the parser's own promises (round-trips, check digits,
//! ordering of dates).
//!
//! The targets live in `tests/fuzz/`, one file per parser: the referral
//! (intake's validation), the CHI number, a board's settings document and
//! the analytics baseline CSV. They run under `cargo test` on the stable
//! toolchain with random input ([`bolero`]), a short run by default; set
//! `BOLERO_RANDOM_ITERATIONS` (or `BOLERO_RANDOM_TEST_TIME_MS`) for a long one,
//! as `make fuzz` does. The same targets can be driven by a coverage-guided
//! engine with `cargo bolero test` where that engine's toolchain is at hand.
//!
//! This library holds what the targets share: [`Draw`], which turns the
//! engine's bytes into choices, so a coverage-guided engine that mutates
//! bytes mutates the choices too.

/// Choices drawn from the engine's bytes, front to back; once the bytes run
/// out every draw is the first choice, so a short input is still a case.
pub struct Draw<'a> {
    bytes: &'a [u8],
}

/// Characters that parsers tend to trip on: white space of several kinds,
/// quotes and separators, formula starts, non-ASCII digits and letters whose
/// case mapping changes their length.
const AWKWARD: [char; 24] = [
    ' ', '\t', '\n', '\r', '\u{a0}', '\u{3000}', ',', '"', '\'', '=', '+', '-', '@', '{', '}', '%',
    '\0', 'é', 'ß', 'İ', '٣', '𝟘', '\u{200b}', '\u{feff}',
];

impl<'a> Draw<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The next byte, 0 once the input is spent.
    pub fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&first, rest)) => {
                self.bytes = rest;
                first
            }
            None => 0,
        }
    }

    /// A number below `n` (at least 1), from one byte or two.
    pub fn below(&mut self, n: usize) -> usize {
        let raw = if n <= 256 {
            usize::from(self.byte())
        } else {
            usize::from(u16::from_le_bytes([self.byte(), self.byte()]))
        };
        raw % n.max(1)
    }

    /// A number from `low` to `high` inclusive.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        let span = usize::try_from(high - low).unwrap_or(0);
        low + i64::try_from(self.below(span + 1)).unwrap_or(0)
    }

    /// A number from `low` to `high` mostly, now and then one either side.
    pub fn around(&mut self, low: i64, high: i64) -> i64 {
        match self.below(32) {
            30 => low - 1,
            31 => high + 1,
            _ => self.range(low, high),
        }
    }

    /// True about `in_256` times in 256; false once the input is spent, so
    /// a rare event is never the default.
    pub fn chance(&mut self, in_256: u8) -> bool {
        u16::from(self.byte()) + u16::from(in_256) >= 256
    }

    /// One of `options`.
    pub fn pick<T: Clone>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())].clone()
    }

    /// Up to `max` characters: ASCII, awkward ones, or any scalar value.
    pub fn text(&mut self, max: usize) -> String {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| match self.below(8) {
                0..=4 => char::from(self.byte() % 0x60 + 0x20),
                5 | 6 => self.pick(&AWKWARD),
                _ => char::from_u32(u32::from_le_bytes([
                    self.byte(),
                    self.byte(),
                    self.byte() % 0x11,
                    0,
                ]))
                .unwrap_or('\u{fffd}'),
            })
            .collect()
    }

    /// `count` ASCII digits.
    pub fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.byte() % 10))
            .collect()
    }

    /// `value`, or now and then a damaged copy of it: a character added,
    /// dropped or changed, white space around it, or a different case.
    pub fn mangle(&mut self, value: &str) -> String {
        let mut chars: Vec<char> = value.chars().collect();
        match self.below(12) {
            7 if !chars.is_empty() => {
                let at = self.below(chars.len());
                chars.remove(at);
            }
            8 => {
                let at = self.below(chars.len() + 1);
                let extra = self.text(1).chars().next().unwrap_or(' ');
                chars.insert(at, extra);
            }
            9 if !chars.is_empty() => {
                let at = self.below(chars.len());
                chars[at] = self.text(1).chars().next().unwrap_or('x');
            }
            10 => return format!(" {value}\t"),
            11 => return value.to_uppercase(),
            _ => {}
        }
        chars.into_iter().collect()
    }
}
