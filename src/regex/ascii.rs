//! A small backtracking matcher for the regexes rules and schemas actually use, on ASCII text.
//!
//! The built-in rules are full of anchored, case-insensitive alternations of IAM action names
//! (`(?i)^(iam:(CreateAccessKey|...)|kms:(...))$`, up to 1,000 characters), and the schemas of
//! simple anchored classes (`^[a-zA-Z0-9_.-]+$`). A general engine spends most of its time on
//! such patterns compiling (an automaton of hundreds of states) and then simulating all those
//! states at once; a backtracker parses them in microseconds and rejects a wrong alternative
//! at its first character.
//!
//! Only a subset of the syntax is taken: literals and escaped punctuation, `.`, classes with
//! ranges and `\d \w \s` (and their negations), groups, alternation, the greedy and lazy
//! quantifiers, `^ $ \A \z`, and a leading `(?i)`. Anything else (look-around, backreferences,
//! word boundaries, other flags, Unicode properties) is not parsed here and stays with the full
//! engines. Semantics are those of the `regex` crate in its default Unicode mode restricted to
//! ASCII text (`(?i)` folds ASCII letters; `\s` is `[\t\n\x0B\x0C\r ]`; `.` is anything but
//! `\n`; `$` is the end of the text). A match that takes too many steps (a pattern that
//! backtracks exponentially) gives up and lets the full engine answer.

/// One parsed pattern.
#[derive(Debug)]
pub struct Program {
    alternatives: Vec<Vec<Node>>,
}

/// A set of ASCII bytes, bit `b` for byte `b`.
type Set = u128;

#[derive(Debug)]
enum Node {
    /// One character from the set.
    One(Set),
    Start,
    End,
    /// A group: the first alternative that lets the rest match.
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: u32,
    },
}

/// Longest text matched here (the matcher recurses once per repetition of a group).
pub const MAX_TEXT: usize = 1024;

/// Steps one match may take before it gives up.
const MAX_STEPS: usize = 200_000;

/// Largest counted repetition accepted (`{0,64}` is common, `{1000}` is not).
const MAX_COUNT: u32 = 1000;

/// Deepest group nesting accepted.
const MAX_NESTING: usize = 64;

impl Program {
    /// The program of `source`, or None when it uses syntax outside the subset, is not ASCII,
    /// or is not a valid pattern.
    pub fn parse(source: &str) -> Option<Program> {
        if !source.is_ascii() {
            return None;
        }
        let (ci, body) = match source.strip_prefix("(?i)") {
            Some(rest) => (true, rest),
            None => (false, source),
        };
        let mut p = Parser {
            s: body.as_bytes(),
            i: 0,
            ci,
            depth: 0,
        };
        let alternatives = p.alternation()?;
        (p.i == p.s.len()).then_some(Program { alternatives })
    }

    /// Whether the pattern matches anywhere in `text`; None when `text` is not ASCII, is
    /// longer than [`MAX_TEXT`], or the match took too many steps.
    pub fn is_match(&self, text: &str) -> Option<bool> {
        if !text.is_ascii() || text.len() > MAX_TEXT {
            return None;
        }
        let m = Matcher {
            text: text.as_bytes(),
            steps: std::cell::Cell::new(0),
        };
        for start in 0..=text.len() {
            if self.alternatives.iter().any(|alt| m.seq(alt, start, &mut |_| true)) {
                return Some(true);
            }
            if m.steps.get() > MAX_STEPS {
                return None;
            }
        }
        Some(false)
    }
}

fn bit(b: u8) -> Set {
    1u128 << b
}

/// The bytes `lo..=hi` (usable in constants).
const fn range(lo: u8, hi: u8) -> Set {
    let mut s: Set = 0;
    let mut b = lo;
    while b <= hi {
        s |= 1 << b;
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    s
}

const DIGIT: Set = range(b'0', b'9');
const LOWER: Set = range(b'a', b'z');
const UPPER: Set = LOWER >> 32;
const WORD: Set = DIGIT | LOWER | UPPER | (1 << b'_');
const SPACE: Set = (1 << b'\t') | (1 << b'\n') | (1 << 0x0B) | (1 << 0x0C) | (1 << b'\r') | (1 << b' ');
const ALL: Set = u128::MAX;

/// `s` with every ASCII letter in both cases.
fn fold(s: Set) -> Set {
    s | ((s & LOWER) >> 32) | ((s & UPPER) << 32)
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
    ci: bool,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn alternation(&mut self) -> Option<Vec<Vec<Node>>> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return None;
        }
        let mut alternatives = vec![self.sequence()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alternatives.push(self.sequence()?);
        }
        self.depth -= 1;
        Some(alternatives)
    }

    fn sequence(&mut self) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'|' || c == b')' {
                break;
            }
            let (atom, repeatable) = self.atom()?;
            let node = self.quantified(atom, repeatable)?;
            nodes.push(node);
        }
        Some(nodes)
    }

    /// One atom, and whether a quantifier may follow it (fancy-regex refuses one after a
    /// non-capturing group that is empty or only an anchor, `(?:^)*`).
    fn atom(&mut self) -> Option<(Node, bool)> {
        let c = self.peek()?;
        self.i += 1;
        Some(match c {
            b'.' => Node::One(ALL & !bit(b'\n')),
            b'^' => Node::Start,
            b'$' => Node::End,
            b'(' => {
                let capturing = self.peek() != Some(b'?');
                if !capturing {
                    // Only `(?:`; flags, names and look-around are left to the full engines.
                    if self.s.get(self.i + 1) != Some(&b':') {
                        return None;
                    }
                    self.i += 2;
                }
                let mut alternatives = self.alternation()?;
                if self.peek() != Some(b')') {
                    return None;
                }
                self.i += 1;
                if !capturing && let [alternative] = alternatives.as_mut_slice() {
                    // `(?:x)` is `x`.
                    match alternative.len() {
                        0 => return Some((Node::Group(alternatives), false)),
                        1 => {
                            let node = alternative.remove(0);
                            let repeatable = !matches!(node, Node::Start | Node::End);
                            return Some((node, repeatable));
                        }
                        _ => {}
                    }
                }
                Node::Group(alternatives)
            }
            b'[' => Node::One(self.class()?),
            b'\\' => self.escape(false)?,
            // A quantifier with nothing to repeat, or a stray brace or bracket.
            b'*' | b'+' | b'?' | b'{' | b'}' | b']' | b')' => return None,
            c => Node::One(self.literal(c)),
        })
        .map(|node| {
            let repeatable = !matches!(node, Node::Start | Node::End);
            (node, repeatable)
        })
    }

    fn literal(&self, c: u8) -> Set {
        if self.ci { fold(bit(c)) } else { bit(c) }
    }

    /// After a `\`: an escaped punctuation mark, a class shorthand or an anchor. `in_class`:
    /// inside `[...]`, where anchors mean nothing.
    fn escape(&mut self, in_class: bool) -> Option<Node> {
        let c = self.peek()?;
        self.i += 1;
        Some(match c {
            b'd' => Node::One(DIGIT),
            b'D' => Node::One(!DIGIT),
            b'w' => Node::One(WORD),
            b'W' => Node::One(!WORD),
            b's' => Node::One(SPACE),
            b'S' => Node::One(!SPACE),
            b't' => Node::One(bit(b'\t')),
            b'n' => Node::One(bit(b'\n')),
            b'r' => Node::One(bit(b'\r')),
            b'x' => match self.hex()? {
                cp if cp < 128 => Node::One(self.literal(cp as u8)),
                // Never in ASCII text.
                _ => Node::One(0),
            },
            b'A' if !in_class => Node::Start,
            b'z' if !in_class => Node::End,
            // `\<` and `\>` are word boundaries in the full engines.
            c if c.is_ascii_punctuation() && c != b'<' && c != b'>' => Node::One(self.literal(c)),
            _ => return None,
        })
    }

    /// A bracketed class, after its `[`; nested classes (`[[a-z]_]`, as the schema patterns'
    /// translation writes `\w` inside a class) are unions.
    fn class(&mut self) -> Option<Set> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return None;
        }
        let negated = self.peek() == Some(b'^');
        if negated {
            self.i += 1;
        }
        let mut set: Set = 0;
        let mut first = true;
        loop {
            let c = self.peek()?;
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if c == b'[' {
                // POSIX classes (`[:alpha:]`) are left to the full engines.
                if self.s.get(self.i + 1) == Some(&b':') {
                    return None;
                }
                self.i += 1;
                set |= self.class()?;
                continue;
            }
            // Set operations are left to the full engines.
            if matches!(c, b'&' | b'-' | b'~') && self.s.get(self.i + 1) == Some(&c) {
                return None;
            }
            let lo = self.class_item()?;
            let is_range = self.peek() == Some(b'-') && self.s.get(self.i + 1).is_some_and(|n| *n != b']');
            match lo {
                Item::Char(lo) if is_range => {
                    self.i += 1;
                    let Item::Char(hi) = self.class_item()? else {
                        return None;
                    };
                    if hi < lo {
                        return None;
                    }
                    if lo < 128 {
                        set |= range(lo as u8, hi.min(127) as u8);
                    }
                }
                Item::Char(c) if c < 128 => set |= bit(c as u8),
                // A character ASCII text cannot hold.
                Item::Char(_) => {}
                Item::Set(_) if is_range => return None,
                Item::Set(s) => set |= s,
            }
        }
        self.depth -= 1;
        if self.ci {
            set = fold(set);
        }
        Some(if negated { !set } else { set })
    }

    fn class_item(&mut self) -> Option<Item> {
        let c = self.peek()?;
        self.i += 1;
        if c != b'\\' {
            return Some(Item::Char(u32::from(c)));
        }
        let e = self.peek()?;
        if e == b'x' {
            self.i += 1;
            return Some(Item::Char(self.hex()?));
        }
        if e.is_ascii_punctuation() && e != b'<' && e != b'>' {
            self.i += 1;
            return Some(Item::Char(u32::from(e)));
        }
        match self.escape(true)? {
            Node::One(s) if s.count_ones() == 1 => Some(Item::Char(s.trailing_zeros())),
            Node::One(s) => Some(Item::Set(s)),
            _ => None,
        }
    }

    /// The code point of `\xHH` or `\x{H...}`, after the `x`.
    fn hex(&mut self) -> Option<u32> {
        let braced = self.peek() == Some(b'{');
        if braced {
            self.i += 1;
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) && (braced || self.i - start < 2) {
            self.i += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if digits.is_empty() || digits.len() > 8 || (!braced && digits.len() != 2) {
            return None;
        }
        if braced {
            if self.peek() != Some(b'}') {
                return None;
            }
            self.i += 1;
        }
        let cp = u32::from_str_radix(digits, 16).ok()?;
        // Surrogates and values past Unicode are not characters.
        char::from_u32(cp).map(u32::from)
    }

    /// `atom` with the quantifier that follows it, if any.
    fn quantified(&mut self, atom: Node, repeatable: bool) -> Option<Node> {
        let (min, max) = match self.peek() {
            None | Some(b'|' | b')') => return Some(atom),
            Some(b'*' | b'+' | b'?' | b'{') if !repeatable => return None,
            Some(b'*') => (0, u32::MAX),
            Some(b'+') => (1, u32::MAX),
            Some(b'?') => (0, 1),
            Some(b'{') => return self.counted(atom),
            _ => return Some(atom),
        };
        self.i += 1;
        self.repeat(atom, min, max)
    }

    fn counted(&mut self, atom: Node) -> Option<Node> {
        self.i += 1;
        let min = self.number()?;
        let max = match self.peek()? {
            b'}' => min,
            b',' => {
                self.i += 1;
                if self.peek() == Some(b'}') {
                    u32::MAX
                } else {
                    self.number()?
                }
            }
            _ => return None,
        };
        if self.peek() != Some(b'}') || max < min || (max != u32::MAX && max > MAX_COUNT) || min > MAX_COUNT {
            return None;
        }
        self.i += 1;
        self.repeat(atom, min, max)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).ok()?.parse().ok()
    }

    fn repeat(&mut self, atom: Node, min: u32, max: u32) -> Option<Node> {
        // Lazy (`*?`) finds a match exactly when greedy does; possessive and stacked
        // quantifiers are left to the full engines.
        if self.peek() == Some(b'?') {
            self.i += 1;
        }
        if matches!(self.peek(), Some(b'*' | b'+' | b'?' | b'{')) {
            return None;
        }
        Some(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }
}

enum Item {
    /// A code point (ASCII text holds only those below 128).
    Char(u32),
    Set(Set),
}

struct Matcher<'t> {
    text: &'t [u8],
    steps: std::cell::Cell<usize>,
}

impl Matcher<'_> {
    fn has(&self, set: Set, pos: usize) -> bool {
        self.text.get(pos).is_some_and(|b| set & bit(*b) != 0)
    }

    /// Whether `nodes` match from `pos` with `k` accepting where they end.
    fn seq(&self, nodes: &[Node], pos: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > MAX_STEPS {
            return false;
        }
        let Some((first, rest)) = nodes.split_first() else {
            return k(pos);
        };
        match first {
            Node::One(set) => self.has(*set, pos) && self.seq(rest, pos + 1, k),
            Node::Start => pos == 0 && self.seq(rest, pos, k),
            Node::End => pos == self.text.len() && self.seq(rest, pos, k),
            Node::Group(alternatives) => alternatives
                .iter()
                .any(|alt| self.seq(alt, pos, &mut |p| self.seq(rest, p, k))),
            Node::Repeat { node, min, max } => match **node {
                // One character at a time: take the longest run, then give back.
                Node::One(set) => {
                    let mut n = 0usize;
                    while (n as u64) < u64::from(*max) && self.has(set, pos + n) {
                        n += 1;
                    }
                    let min = *min as usize;
                    n >= min && (min..=n).rev().any(|i| self.seq(rest, pos + i, k))
                }
                _ => self.repeat(node, *min, *max, 0, pos, &mut |p| self.seq(rest, p, k)),
            },
        }
    }

    fn repeat(
        &self,
        node: &Node,
        min: u32,
        max: u32,
        count: u32,
        pos: usize,
        k: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        if count < max
            && self.seq(std::slice::from_ref(node), pos, &mut |p| {
                // An iteration that matched nothing cannot lead anywhere new.
                if p == pos && count >= min {
                    return false;
                }
                self.repeat(node, min, max, count.saturating_add(1), p, k)
            })
        {
            return true;
        }
        count >= min && k(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fancy(p: &str, s: &str) -> bool {
        fancy_regex::Regex::new(p).unwrap().is_match(s).unwrap()
    }

    #[test]
    fn matches_like_the_full_engine() {
        let cases: &[(&str, &[&str])] = &[
            (
                r"(?i)^(\*|iam:\*|iam:p(a(s(s(r(o(le?)?)?)?)?)?)?\*|iam:passrole)$",
                &["iam:PassRole", "IAM:PASS*", "iam:p*", "iam:passroles", "*", ""],
            ),
            (r"(?i)^([a-z0-9-]+:)?\*$", &["s3:*", "*", "S3-X:*", "s3:Get*", ":*"]),
            (r"^[a-zA-Z0-9_.-]+$", &["kiro-pipeline_1.x", "a b", "", "é"]),
            (r"\*", &["arn:aws:s3:::b/*", "none"]),
            (
                r"^(arn:[^*]*[^*:\/]|\$\{[A-Za-z0-9.:]+\}[^*]*)(\/|:)\*$",
                &[
                    "arn:aws:s3:::bucket/*",
                    "${Bucket.Arn}/*",
                    "arn:*:x/*",
                    "arn:aws:logs:x:log-group:/aws/x:*",
                ],
            ),
            (r"^[a-z]{2,4}\d?$", &["ab", "abcd1", "abcde", "a1"]),
            (r"(a|ab)(c|bcd)(d*)", &["abcd", "xabcdx", "ac"]),
            (r"^(a*)*$", &["aaaa", "aab", ""]),
            (r"^(?:x|y){2}z*?$", &["xy", "xyzz", "x"]),
            (r"[^\s\d]+", &["12 34", "a", " \t"]),
            (r"^\w+$", &["snake_case9", "kebab-case"]),
            (r"(?i)[^a-z]", &["ABC", "abc", "ab1"]),
            (r"^.*$", &["line", "two\nlines"]),
            (r"^[\]\-]+$", &["]-]", "a"]),
            (r"^[a-]+$", &["a-a", "b"]),
            (r"\Aab\z", &["ab", "abc"]),
            (r"^[[A-Za-z0-9_]+=,.@-]+$", &["role+x@y.z", "a b", "="]),
            (
                r"^[^[\x{9}-\x{d}\x{20}-\x{20}\x{a0}-\x{a0}\x{1680}-\x{1680}\x{3000}-\x{3000}]]+$",
                &["no-space", "a b", "tab\t", ""],
            ),
            (r"(?i)^\x41[\x61-\x{7a}]\x{263a}?$", &["aB", "Az", "a1"]),
            (r"[[^a-z][a]]", &["b", "a", "1"]),
        ];
        for (p, texts) in cases {
            let prog = Program::parse(p).unwrap_or_else(|| panic!("{p} not parsed"));
            for s in *texts {
                if s.is_ascii() {
                    assert_eq!(prog.is_match(s), Some(fancy(p, s)), "/{p}/ on {s:?}");
                } else {
                    assert_eq!(prog.is_match(s), None);
                }
            }
        }
    }

    #[test]
    fn leaves_other_syntax_to_the_full_engines() {
        for p in [
            r"(?=a)",
            r"(?<=a)b",
            r"(a)\1",
            r"\bword\b",
            r"(?s).",
            r"(?i:a)b",
            r"\p{L}",
            r"[[:alpha:]]",
            r"[a-z&&[^x]]",
            r"a**",
            r"a{2000}",
            r"(?P<n>a)",
            r"é",
            r"a{",
            r"(",
            r"[z-a]",
            r"\x4",
            r"\x{D800}",
        ] {
            assert!(Program::parse(p).is_none(), "{p} parsed");
        }
    }

    /// Every escape parsed here is one fancy-regex accepts, in and out of a class: the Guard
    /// parser skips the full engine's syntax check for patterns parsed here.
    #[test]
    fn every_escape_taken_is_valid_in_fancy_regex() {
        for b in 0u8..128 {
            for p in [format!("a\\{}", b as char), format!("[\\{}x]", b as char)] {
                if Program::parse(&p).is_some() {
                    assert!(fancy_regex::Regex::new(&p).is_ok(), "{p:?} parsed here only");
                }
            }
        }
    }

    #[test]
    fn gives_up_on_exponential_backtracking() {
        let Some(prog) = Program::parse(r"^(a|a)*(a|a)*(a|a)*b$") else {
            panic!("not parsed")
        };
        assert_eq!(prog.is_match(&"a".repeat(40)), None);
    }

    fn pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("B".to_string()),
            Just(".".to_string()),
            Just(r"\*".to_string()),
            Just(r"\d".to_string()),
            Just(r"\w".to_string()),
            Just(r"\s".to_string()),
            Just("[a-c]".to_string()),
            Just("[^b1]".to_string()),
            Just("[[a-c]1_]".to_string()),
            Just(r"[^[b]\x{31}\x{a0}-\x{ff}]".to_string()),
            Just(r"\x62".to_string()),
            Just("^".to_string()),
            Just("$".to_string()),
        ];
        let leaf = (
            atom,
            prop_oneof![Just(""), Just("*"), Just("+"), Just("?"), Just("{1,2}"), Just("*?")],
        )
            .prop_map(|(a, q)| if a == "^" || a == "$" { a } else { format!("{a}{q}") });
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
                prop::collection::vec(inner.clone(), 1..3).prop_map(|v| format!("({})", v.join("|"))),
                (inner, prop_oneof![Just("*"), Just("?"), Just("{0,2}")]).prop_map(|(p, q)| format!("(?:{p}){q}")),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// Random patterns of the subset, with and without `(?i)`, on random text: parsed here
        /// exactly when fancy-regex (cfn-guard's engine) accepts them, and the same answer
        /// whenever this matcher answers.
        #[test]
        fn agrees_with_fancy_regex(p in pattern(), ci in any::<bool>(), text in "[abB1 *\t\n_-]{0,8}") {
            let p = if ci { format!("(?i){p}") } else { p };
            // Refused only for what fancy-regex refuses too (`(?:^)*`).
            let Some(prog) = Program::parse(&p) else {
                prop_assert!(fancy_regex::Regex::new(&p).is_err(), "{} not parsed", p);
                return Ok(());
            };
            prop_assert!(fancy_regex::Regex::new(&p).is_ok(), "{} parsed here only", p);
            if let Some(answer) = prog.is_match(&text) {
                prop_assert_eq!(answer, fancy(&p, &text), "/{}/ on {:?}", p, text);
            }
        }
    }
}
