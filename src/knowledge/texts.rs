//! [`Texts`]: a compact, immutable list of short texts (an entry's alternates, keywords,
//! negatives, subjects).
//!
//! A hand-written entry has a dozen of these, each a few words long. As `Vec<String>` each
//! costs a 24-byte header and an allocation of its own; at 100,000 entries that overhead
//! alone is tens of megabytes. Here a list is two allocations: the texts one after another,
//! and where each ends.

use std::fmt;

/// A list of texts stored one after another in one buffer.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Texts {
    text: Box<str>,
    /// Where each text ends in `text` (it starts where the one before ends).
    ends: Box<[u32]>,
}

impl Texts {
    /// How many texts there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True if there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th text, if there are that many.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        Some(&self.text[start..end])
    }

    /// The texts, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            texts: self,
            next: 0..self.len(),
        }
    }

    /// The buffer and where each text ends in it: the snapshot's form.
    pub(crate) fn parts(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }

    /// The list whose [`Texts::parts`] these are, if they make one: ends in order, within
    /// the text and on character boundaries (a snapshot is outside input: [`Texts::get`]
    /// must never slice out of bounds).
    pub(crate) fn from_parts(text: String, ends: Vec<u32>) -> Option<Texts> {
        let mut start = 0;
        for &end in &ends {
            let end = end as usize;
            if end < start || !text.is_char_boundary(end) {
                return None;
            }
            start = end;
        }
        Some(Texts {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        })
    }

    /// The texts joined with `separator`.
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }
}

/// The texts of a [`Texts`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    texts: &'a Texts,
    next: std::ops::Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        self.texts.get(self.next.next()?)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.next.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.texts.get(self.next.next_back()?)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<S: AsRef<str>> FromIterator<S> for Texts {
    /// Collects texts. Knowledge files are capped far below 4 GiB, the most one list can
    /// hold; anything beyond is cut off rather than wrapped around.
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> Texts {
        let mut text = String::new();
        let mut ends = Vec::new();
        for item in items {
            let Ok(end) = u32::try_from(text.len() + item.as_ref().len()) else {
                break;
            };
            text.push_str(item.as_ref());
            ends.push(end);
        }
        Texts {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }
}

impl<'a> IntoIterator for &'a Texts {
    type Item = &'a str;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::ops::Index<usize> for Texts {
    type Output = str;
    /// The `i`-th text; panics if there are not that many, like a slice.
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(text) => text,
            None => panic!("text {i} of {}", self.len()),
        }
    }
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Texts {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Texts {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_text_in_order() {
        let cases: &[&[&str]] = &[&[], &["one"], &["a", "", "ccc"], &["é", "日本", "x y"]];
        for &case in cases {
            let texts: Texts = case.iter().collect();
            assert_eq!(texts.len(), case.len());
            assert_eq!(texts.is_empty(), case.is_empty());
            assert_eq!(texts.iter().collect::<Vec<_>>(), case);
            assert_eq!(
                texts.iter().rev().collect::<Vec<_>>(),
                case.iter().rev().copied().collect::<Vec<_>>()
            );
            assert_eq!(texts, *case);
            for (i, want) in case.iter().enumerate() {
                assert_eq!(texts.get(i), Some(*want));
            }
            assert_eq!(texts.get(case.len()), None);
            if let Some(last) = case.last() {
                assert_eq!(&texts[case.len() - 1], *last);
            }
            assert_eq!(texts.join("|"), case.join("|"));
            assert_eq!(format!("{texts:?}"), format!("{case:?}"));
        }
    }
}
