//! Entry ids for imported entries: made valid (the pack's id rules) and unique.
//!
//! An id must be what [`crate::knowledge::is_command_name`] accepts: 1 to 32 lowercase ASCII
//! letters and digits in words joined by single hyphens. [`slug`] turns any text (a file
//! name, a spreadsheet's id column, a question) into such an id; [`Ids`] hands out each id
//! once, renaming repeats `-2`, `-3`, ...

use std::collections::{HashMap, HashSet};

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The longest id the pack format allows (entry ids follow the slash-command rules).
pub const MAX_ID: usize = 32;

/// The id given when nothing usable is left of the text (only emoji or punctuation).
pub const FALLBACK: &str = "entry";

/// A valid id made from `text`: lowercase, accents folded (`é` -> `e`, `ß` -> `ss`),
/// apostrophes dropped (`what's` -> `whats`), every other character that is not an ASCII
/// letter or digit a hyphen, runs of hyphens collapsed, hyphens trimmed from both ends, and
/// cut to [`MAX_ID`] characters at a word boundary when there is one. Empty when nothing
/// usable is left.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    // A separator is written only before the next letter or digit: no runs, no trailing one.
    let mut pending_hyphen = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c == '\'' || c == '’' {
            continue;
        }
        let folded: &str = match c {
            'ß' => "ss",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ø' | 'Ø' => "o",
            'đ' | 'Đ' | 'ð' | 'Ð' => "d",
            'ł' | 'Ł' => "l",
            'þ' | 'Þ' => "th",
            'ı' => "i",
            _ => "",
        };
        let mut push = |lower: char| {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(lower);
        };
        if !folded.is_empty() {
            folded.chars().for_each(&mut push);
        } else if c.is_ascii_alphanumeric() {
            push(c.to_ascii_lowercase());
        } else {
            pending_hyphen = true;
        }
    }
    shorten(&out, MAX_ID).to_string()
}

/// `id` cut to at most `max` characters: at the last hyphen if that keeps at least half,
/// else mid-word; never ending in a hyphen. `id` must already be a slug (ASCII).
fn shorten(id: &str, max: usize) -> &str {
    if id.len() <= max {
        return id;
    }
    let cut = &id[..max];
    let at_word = match cut.rfind('-') {
        Some(i) if i >= max / 2 => &cut[..i],
        _ => cut,
    };
    at_word.trim_end_matches('-')
}

/// The ids handed out so far, so that each is used once.
#[derive(Debug, Default)]
pub struct Ids {
    used: HashSet<String>,
    /// The next suffix to try per wanted id, so a thousand repeats stay linear.
    next: HashMap<String, usize>,
}

impl Ids {
    /// No id used yet.
    pub fn new() -> Ids {
        Ids::default()
    }

    /// Marks `id` as taken (by a file already in the output folder) without handing it out.
    pub fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_string());
    }

    /// True if `id` is taken.
    pub fn is_used(&self, id: &str) -> bool {
        self.used.contains(id)
    }

    /// `wanted` (a valid id) if it is free, else the first free `wanted-2`, `wanted-3`, ...,
    /// with `wanted` shortened when the suffix would make the id too long.
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut id = wanted.to_string();
        let n = self.next.entry(wanted.to_string()).or_insert(2);
        while self.used.contains(&id) {
            let suffix = format!("-{n}");
            id = format!("{}{suffix}", shorten(wanted, MAX_ID - suffix.len()));
            *n += 1;
        }
        self.used.insert(id.clone());
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::is_command_name;

    #[test]
    fn slug_table() {
        let cases = [
            ("install", "install"),
            ("How To Install", "how-to-install"),
            ("How do I join the server?", "how-do-i-join-the-server"),
            ("what's a VPS", "whats-a-vps"),
            ("It’s broken", "its-broken"),
            ("Rules (read first!)", "rules-read-first"),
            ("(parenthesised)", "parenthesised"),
            ("Café crème brûlée", "cafe-creme-brulee"),
            ("Straße", "strasse"),
            ("Ærø Łódź", "aero-lodz"),
            ("naïve_résumé.md", "naive-resume-md"),
            ("🎲 dice rolls 🎲", "dice-rolls"),
            ("🎲🎲", ""),
            ("", ""),
            ("   ", ""),
            ("--a---b--", "a-b"),
            ("snake_case_id", "snake-case-id"),
            ("ID 42", "id-42"),
            ("ＦＵＬＬ width", "full-width"),
            ("日本語のテスト", ""),
            (
                "How do I install the modpack on a dedicated Linux server?",
                "how-do-i-install-the-modpack-on",
            ),
            (
                "supercalifragilisticexpialidocious-and-more",
                "supercalifragilisticexpialidocio",
            ),
            (
                "a-very-long-id-that-is-too-long-by-far",
                "a-very-long-id-that-is-too-long",
            ),
        ];
        for (input, want) in cases {
            let got = slug(input);
            assert_eq!(got, want, "slug({input:?})");
            assert!(
                got.is_empty() || is_command_name(&got),
                "{got:?} is not valid"
            );
        }
    }

    #[test]
    fn duplicates_get_numbered_within_the_limit() {
        let mut ids = Ids::new();
        let long = "a".repeat(MAX_ID);
        let cases = [
            ("install", "install"),
            ("install", "install-2"),
            ("install", "install-3"),
            ("install-2", "install-2-2"),
            ("rules", "rules"),
            (long.as_str(), long.as_str()),
            (long.as_str(), &format!("{}-2", "a".repeat(MAX_ID - 2))),
            (
                "how-do-i-install-the-modpack-on",
                "how-do-i-install-the-modpack-on",
            ),
            (
                "how-do-i-install-the-modpack-on",
                "how-do-i-install-the-modpack-2",
            ),
        ];
        for (wanted, want) in cases {
            let got = ids.claim(wanted);
            assert_eq!(got, want, "claim({wanted:?})");
            assert!(is_command_name(&got), "{got:?} is not valid");
        }
        let mut reserved = Ids::new();
        reserved.reserve("faq");
        assert_eq!(reserved.claim("faq"), "faq-2");
        assert!(reserved.is_used("faq-2"));
    }

    #[test]
    fn many_duplicates_stay_valid() {
        let mut ids = Ids::new();
        for _ in 0..150 {
            let id = ids.claim(&"x".repeat(MAX_ID));
            assert!(is_command_name(&id), "{id}");
        }
    }
}
