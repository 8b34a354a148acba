//! Small-number suppression, after Public Health Scotland's statistical
//! disclosure control: a count of 1 to `threshold - 1` people is never
//! shown, nor anything that would let a reader work it out — a share or a
//! median over it, the total of parts one of which is hidden, the last
//! visible part of a total, or the complement of a subset (vetted minus
//! vetted within target). Zeros are shown: they say nothing about anyone.

/// Hidden values are `None`; each hidden field's name is kept in
/// `suppressed`, so JSON can say why it is `null` and CSV can write `*`.
#[derive(Debug, Clone)]
pub struct Disclosure {
    threshold: u64,
    pub suppressed: Vec<String>,
}

impl Disclosure {
    pub fn new(threshold: u64) -> Self {
        Self {
            threshold,
            suppressed: Vec::new(),
        }
    }

    /// Whether `n` is a small, non-zero count.
    pub fn is_small(&self, n: u64) -> bool {
        n > 0 && n < self.threshold
    }

    /// Hide `field`.
    pub fn hide<T>(&mut self, field: &str) -> Option<T> {
        if !self.suppressed.iter().any(|f| f == field) {
            self.suppressed.push(field.to_owned());
        }
        None
    }

    pub fn is_hidden(&self, field: &str) -> bool {
        self.suppressed.iter().any(|f| f == field)
    }

    /// `n`, unless it is small.
    pub fn count(&mut self, field: &str, n: u64) -> Option<u64> {
        if self.is_small(n) {
            self.hide(field)
        } else {
            Some(n)
        }
    }

    /// `n` out of `of`, hidden when `n` is small, when `of - n` is (the
    /// complement a reader could work out), or when `of` is hidden.
    pub fn subset(&mut self, field: &str, n: u64, of: u64, of_field: &str) -> Option<u64> {
        if self.is_small(n) || self.is_small(of.saturating_sub(n)) || self.is_hidden(of_field) {
            self.hide(field)
        } else {
            Some(n)
        }
    }

    /// `value`, derived from the count in `from`: hidden when that is.
    pub fn derived<T>(&mut self, field: &str, value: Option<T>, from: &[&str]) -> Option<T> {
        if from.iter().any(|f| self.is_hidden(f)) {
            self.hide(field)
        } else {
            value
        }
    }

    /// Parts that add up to a total shown as `total_field`: each small part
    /// is hidden; when just one is, the smallest other non-zero part is
    /// hidden too, so the one cannot be had by subtraction.
    pub fn parts(&mut self, total_field: &str, parts: &[(String, u64)]) -> Vec<Option<u64>> {
        let total_hidden = self.is_hidden(total_field);
        let mut shown: Vec<Option<u64>> = parts
            .iter()
            .map(|(field, n)| {
                if self.is_small(*n) {
                    self.hide(field)
                } else {
                    Some(*n)
                }
            })
            .collect();
        let hidden = shown.iter().filter(|v| v.is_none()).count();
        if hidden == 1 && !total_hidden {
            let smallest = shown
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.filter(|n| *n > 0).map(|n| (n, i)))
                .min();
            if let Some((_, i)) = smallest {
                shown[i] = self.hide(&parts[i].0);
            }
        }
        shown
    }
}

#[cfg(test)]
#[path = "tests/disclosure.rs"]
mod tests;
