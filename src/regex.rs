//! Regular expressions shared by the Guard engine (rule literals like `/^arn:/`) and the resource
//! schemas (`pattern`): compiled lazily, once per distinct source for the whole process.

mod ascii;

use std::sync::{Arc, Mutex, OnceLock};

/// A regular expression compiled on first use (most rules and schema patterns are never reached
/// on a given template, and compiling is the costly part).
///
/// Literals with the same source share one compiled form for the whole process (the built-in
/// rules repeat many). An ASCII pattern matched against an ASCII string runs on `regex-lite`,
/// which compiles some ten times faster than the full engine and gives the same answer there:
/// Unicode classes and case folding only differ from their ASCII forms on non-ASCII text. Any
/// other case (non-ASCII text or pattern, look-around, backreferences, `\p{..}`) runs on
/// fancy-regex, cfn-guard's own engine.
#[derive(Debug, Clone)]
pub struct Rx {
    pub source: String,
    compiled: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    ascii: bool,
    /// The backtracker of [`ascii`], for patterns in its subset.
    fast: OnceLock<Option<ascii::Program>>,
    lite: OnceLock<Option<regex_lite::Regex>>,
    full: OnceLock<Option<fancy_regex::Regex>>,
    /// Answers already given for short texts: the same IAM actions, ARNs and names come back
    /// on every template of every environment, and the big case-insensitive alternations of
    /// the IAM rules are slow to run on a backtracking-free engine.
    seen: Mutex<rustc_hash::FxHashMap<Box<str>, bool>>,
}

/// Longest text whose answer is remembered.
const MEMO_MAX: usize = 256;

/// A regex is stored as its source (the pre-parsed built-in rules, `ruleset`): loading it is
/// [`Rx::new`], compiling waits for the first match as ever.
impl serde::Serialize for Rx {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> serde::Deserialize<'de> for Rx {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Source;
        impl serde::de::Visitor<'_> for Source {
            type Value = Rx;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a regex source")
            }
            fn visit_str<E: serde::de::Error>(self, source: &str) -> Result<Rx, E> {
                Ok(Rx::new(source))
            }
        }
        d.deserialize_str(Source)
    }
}

impl Rx {
    /// A regex in Rust `regex` / fancy-regex syntax. An invalid one never matches: check the
    /// syntax first where a user wrote it (the Guard parser does, with a located error).
    pub fn new(source: &str) -> Self {
        static SHARED: OnceLock<Mutex<rustc_hash::FxHashMap<String, Arc<Compiled>>>> = OnceLock::new();
        let mut shared = SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let compiled = shared
            .entry(source.to_string())
            .or_insert_with(|| {
                Arc::new(Compiled {
                    ascii: source.is_ascii(),
                    fast: OnceLock::new(),
                    lite: OnceLock::new(),
                    full: OnceLock::new(),
                    seen: Mutex::default(),
                })
            })
            .clone();
        Rx {
            source: source.to_string(),
            compiled,
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        if s.len() > MEMO_MAX {
            return self.run(s);
        }
        let known = self.compiled.seen.lock().ok().and_then(|m| m.get(s).copied());
        if let Some(answer) = known {
            return answer;
        }
        let answer = self.run(s);
        if let Ok(mut m) = self.compiled.seen.lock() {
            m.insert(s.into(), answer);
        }
        answer
    }

    fn run(&self, s: &str) -> bool {
        let c = &self.compiled;
        if c.ascii && s.is_ascii() {
            // The small backtracker for its subset (it may give up), then regex-lite.
            let fast = c
                .fast
                .get_or_init(|| ascii_source(&self.source).and_then(|src| ascii::Program::parse(&src)));
            if let Some(answer) = fast.as_ref().and_then(|program| program.is_match(s)) {
                return answer;
            }
            let lite = c
                .lite
                .get_or_init(|| ascii_source(&self.source).and_then(|src| regex_lite::Regex::new(&src).ok()));
            if let Some(re) = lite {
                return re.is_match(s);
            }
        }
        self.is_match_full(s)
    }

    fn full(&self) -> Option<&fancy_regex::Regex> {
        self.compiled
            .full
            .get_or_init(|| fancy_regex::Regex::new(&self.source).ok())
            .as_ref()
    }

    /// The regex, when its source is surely valid without asking the full engine: the small
    /// matcher of `regex::ascii` parses only a subset of the syntax, all of which fancy-regex
    /// accepts (a test checks). The parsed program is kept for the first match.
    pub fn if_surely_valid(source: &str) -> Option<Rx> {
        let rx = Rx::new(source);
        // The same source seen before (the built-in rules repeat their big alternations): its
        // program, or the subset's refusal, is already there.
        if let Some(known) = rx.compiled.fast.get() {
            return known.is_some().then_some(rx);
        }
        let program = ascii::Program::parse(source)?;
        // A source the subset parses has no `\p{..}` for `ascii_source` to rewrite.
        let _ = rx.compiled.fast.set(Some(program));
        Some(rx)
    }

    /// Whether the full engine accepts the source.
    pub fn compiles(&self) -> bool {
        self.full().is_some()
    }

    /// The match by fancy-regex alone (what cfn-guard runs).
    pub fn is_match_full(&self, s: &str) -> bool {
        self.full().is_some_and(|re| re.is_match(s).unwrap_or(false))
    }
}

/// The source for `regex-lite`, which runs on ASCII text only: Unicode general categories
/// (`\p{L}`, `\p{N}`, `\p{Z}` and their common subsets, as in the resource schemas' tag
/// patterns) rewritten to their ASCII members, which is all they can match there. `None` when
/// some other property class remains (the full engine takes those).
fn ascii_source(source: &str) -> Option<String> {
    if !source.contains("\\p") && !source.contains("\\P") {
        return Some(source.to_string());
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut in_class = false;
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, next) = chars.next()?;
                if next == 'p' || next == 'P' {
                    let rest = &source[i + 2..];
                    let (name, len) = match rest.strip_prefix('{') {
                        Some(r) => {
                            let end = r.find('}')?;
                            (&r[..end], end + 2)
                        }
                        None => (rest.get(..1)?, 1),
                    };
                    for _ in 0..len {
                        chars.next();
                    }
                    let members = match name {
                        "L" | "Letter" => "A-Za-z",
                        "Lu" | "Uppercase_Letter" => "A-Z",
                        "Ll" | "Lowercase_Letter" => "a-z",
                        "N" | "Number" | "Nd" | "Decimal_Number" => "0-9",
                        "Z" | "Separator" | "Zs" | "Space_Separator" => " ",
                        _ => return None,
                    };
                    match (in_class, next == 'P') {
                        // `[\p{Z}-~]` is Z, `-` and `~`; its ASCII form `[ -~]` would be a range.
                        (true, false) if matches!(chars.peek(), Some((_, '-'))) => return None,
                        (true, false) => out.push_str(members),
                        (false, false) => {
                            out.push('[');
                            out.push_str(members);
                            out.push(']');
                        }
                        (false, true) => {
                            out.push_str("[^");
                            out.push_str(members);
                            out.push(']');
                        }
                        // A negated property inside a class has no ASCII range form.
                        (true, true) => return None,
                    }
                } else {
                    out.push('\\');
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // `[]...]` and `[^]...]`: a leading `]` is a literal.
                if let Some(&(_, '^')) = chars.peek() {
                    out.push('^');
                    chars.next();
                }
                if let Some(&(_, ']')) = chars.peek() {
                    out.push(']');
                    chars.next();
                }
            }
            // Nested classes (`[a[b]]`) are not rewritten: leave them to the full engine.
            '[' => return None,
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_categories_become_their_ascii_members() {
        let tag = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
        assert_eq!(ascii_source(tag).as_deref(), Some(r"^([A-Za-z 0-9_.:/=+\-@]*)$"));
        assert_eq!(ascii_source(r"\pL+\P{N}").as_deref(), Some(r"[A-Za-z]+[^0-9]"));
        assert_eq!(ascii_source(r"[^\P{L}]"), None);
        assert_eq!(ascii_source(r"\p{Greek}"), None);
        assert_eq!(ascii_source(r"a\\p").as_deref(), Some(r"a\\p"));
        assert_eq!(ascii_source(r"[\p{Z}-~]"), None);
        for p in [
            r"^[\p{Z}-~]+$",
            r"^[a\p{N}-]+$",
            tag,
            r"\pL+\P{N}",
            r"(?i)^\p{Lu}[\p{Ll}\p{Nd}]*$",
            r"[]\p{L}]",
            r"[^]\p{Zs}]+",
        ] {
            let rx = Rx::new(p);
            for s in [
                "",
                "a",
                "Kiro Pipeline",
                "env:test/x=1+2@y",
                "A1",
                "]",
                "a]b",
                "  ",
                "9a",
                "tab\there",
                "x~y",
                "~ -",
                "a-1",
                "!",
            ] {
                assert_eq!(rx.is_match(s), rx.is_match_full(s), "/{p}/ on {s:?}");
            }
        }
    }
}
