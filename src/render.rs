//! Deterministic JSON: 2-space indent, keys in model order, LF line ends, a trailing newline;
//! and a JSON-pointer -> line index of any JSON text, so findings can name a line.
//!
//! Small leaves stay on one line (`{"Ref": "Bucket"}`, `["s3:GetObject", "s3:PutObject"]`,
//! a tag): a container is written inline when it nests at most two levels and its one-line form
//! fits in [`INLINE_WIDTH`] columns, or is a single-key object (an intrinsic) of at most two levels. That keeps templates readable in review and under
//! CloudFormation's 51,200-byte inline limit, and is the same on every machine.

use indexmap::IndexMap;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Every JSON pointer of a text with its (1-based line, byte offset): see [`pointer_positions`].
pub type Positions = IndexMap<String, (usize, usize)>;

/// A rendered template: its bytes, and where each JSON pointer starts (indexed on first use:
/// only a finding needs a line, and most templates have none).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    positions: OnceLock<Positions>,
}

impl Rendered {
    /// The line of `pointer`, or of its nearest ancestor that has one.
    pub fn line_of(&self, pointer: &str) -> Option<usize> {
        line_of(self.positions(), pointer).map(|(line, _)| line)
    }

    /// Every JSON pointer of the text and where it starts.
    pub fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| pointer_positions(&self.text))
    }
}

/// The widest line an inline container may make (indent included).
pub const INLINE_WIDTH: usize = 120;

/// Renders a value the one way templates are written.
pub fn render(value: &Value) -> Rendered {
    let mut text = String::with_capacity(64 * 1024);
    write_value(&mut text, value, 0);
    text.push('\n');
    Rendered {
        text,
        positions: OnceLock::new(),
    }
}

/// Appends a scalar as JSON (serde_json's escaping, so the text parses back to the value).
fn push_scalar(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => push_json_string(out, s),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Null => out.push_str("null"),
        // Serializing a number cannot fail.
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

/// Appends `s` as a JSON string literal, escaped exactly as serde_json does.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether `bytes` holds a control character, `"` or `\\` (what JSON strings escape), eight
/// bytes at a time: templates are mostly strings that need no escaping.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` below `n` (n <= 128), or equal to `b`: exact as a yes/no for the word.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let has = |x: u64, b: u64| below(x ^ (ONES * b), 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if below(x, 0x20) || has(x, u64::from(b'"')) || has(x, u64::from(b'\\')) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Whether the containers of `v` nest at most `limit` levels (a scalar is 0, `[1]` is 1,
/// `{"a": [1]}` is 2).
fn depth_at_most(v: &Value, limit: usize) -> bool {
    match v {
        Value::Array(items) => limit > 0 && items.iter().all(|i| depth_at_most(i, limit - 1)),
        Value::Object(map) => limit > 0 && map.values().all(|i| depth_at_most(i, limit - 1)),
        _ => true,
    }
}

/// Appends the one-line form of `v`; false (and `out` as it was) once the line would pass
/// `end` bytes of `out`, when `end` is given.
fn push_inline(out: &mut String, v: &Value, end: Option<usize>) -> bool {
    let fits = |out: &String| end.is_none_or(|e| out.len() <= e);
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if !push_inline(out, item, end) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_json_string(out, k);
                out.push_str(": ");
                if !fits(out) || !push_inline(out, item, end) {
                    return false;
                }
            }
            out.push('}');
        }
        other => push_scalar(out, other),
    }
    fits(out)
}

/// Writes `value` at indent level `level` (its first line continues the current line).
///
/// A container goes on one line when it nests at most three levels and fits in
/// [`INLINE_WIDTH`] columns, or is an intrinsic (a one-key object) of at most two levels.
fn write_value(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Array(items) if items.is_empty() => return out.push_str("[]"),
        Value::Object(map) if map.is_empty() => return out.push_str("{}"),
        Value::Array(_) | Value::Object(_) if depth_at_most(value, 3) => {
            let intrinsic = value.as_object().is_some_and(|m| m.len() == 1);
            let mark = out.len();
            let end = if intrinsic && depth_at_most(value, 2) {
                None
            } else {
                let line_start = out.rfind('\n').map_or(0, |i| i + 1);
                Some(line_start + INLINE_WIDTH)
            };
            if push_inline(out, value, end) {
                return;
            }
            out.truncate(mark);
        }
        _ => {}
    }
    match value {
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, level + 1);
                write_value(out, item, level + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, level);
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                pad(out, level + 1);
                push_json_string(out, k);
                out.push_str(": ");
                write_value(out, v, level + 1);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            pad(out, level);
            out.push('}');
        }
        other => push_scalar(out, other),
    }
}

fn pad(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// What an index (lines, or [`Positions`]) holds for `pointer`, or for its nearest ancestor
/// that it has.
pub fn line_of<T: Copy>(index: &IndexMap<String, T>, pointer: &str) -> Option<T> {
    let mut p = pointer;
    loop {
        if let Some(at) = index.get(p) {
            return Some(*at);
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return None,
        }
    }
}

/// Maps every JSON pointer in `text` (any JSON, not only ours) to where its value (or, inside
/// an object, its key) starts: the 1-based line and the byte offset (of the key's opening quote
/// inside an object, else of the value's first byte; a finding on a minified template, one long
/// line, gets its column from it). Malformed text yields what was indexed before the problem;
/// nesting deeper than 256 levels is not indexed (no stack overflow on any input).
pub fn pointer_positions(text: &str) -> Positions {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        out: IndexMap::new(),
    };
    scanner.skip_ws();
    let _ = scanner.value(String::new(), 0);
    scanner.out
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    out: Positions,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Reads a string starting at `"`; returns its unescaped content.
    fn string(&mut self) -> Option<String> {
        let start = self.pos + 1;
        let mut i = start;
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    let raw = std::str::from_utf8(self.bytes.get(self.pos..=i)?).ok()?;
                    self.pos = i + 1;
                    return serde_json::from_str::<String>(raw).ok();
                }
                b'\n' => return None,
                _ => i += 1,
            }
        }
        None
    }

    fn value(&mut self, pointer: String, depth: usize) -> Option<()> {
        if depth > 256 {
            return None;
        }
        self.out.entry(pointer.clone()).or_insert((self.line, self.pos));
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key_at = (self.line, self.pos);
                    let key = self.string()?;
                    let child = format!("{pointer}/{}", crate::findings::escape_pointer_token(&key));
                    self.out.insert(child.clone(), key_at);
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    self.value(child, depth + 1)?;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(());
                }
                let mut index = 0usize;
                loop {
                    self.skip_ws();
                    self.value(format!("{pointer}/{index}"), depth + 1)?;
                    index += 1;
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The word-at-a-time test answers as the byte-by-byte one.
        #[test]
        fn needs_escape_is_exact(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let plain = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(super::needs_escape(&bytes), plain);
        }

        #[test]
        fn needs_escape_is_exact_near_the_edges(
            bytes in proptest::collection::vec(proptest::sample::select(vec![0x00u8, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0x9f, 0xa2, 0xdc, 0xff]), 0..40),
        ) {
            let plain = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(super::needs_escape(&bytes), plain);
        }
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn renders_canonically_and_indexes_lines() {
        let long = "x".repeat(120);
        let v = json!({"Resources": {"B": {"Type": "X", "Properties": {"A/b": [1, {"c": true}], "L": [long, 2]}}}});
        let r = render(&v);
        assert!(r.text.ends_with("}\n"));
        assert!(r.text.contains("\n  \"Resources\": {\n"), "{}", r.text);
        assert!(r.text.contains("\"A/b\": [1, {\"c\": true}],\n"), "{}", r.text);
        assert_eq!(r.positions()["/Resources"].0, 2);
        assert_eq!(r.positions()["/Resources/B/Type"].0, 4);
        assert_eq!(r.line_of("/Resources/B/Properties/A~1b/1/c"), Some(6));
        assert_eq!(r.line_of("/Resources/B/Properties/L/1"), Some(9));
        assert_eq!(r.line_of("/Resources/B/Properties/Missing"), Some(5));
        // The text is the value: parsing it back gives the same JSON.
        assert_eq!(serde_json::from_str::<Value>(&r.text).unwrap(), v);
    }

    proptest::proptest! {
        #[test]
        fn pointer_positions_never_panics(s in ".{0,200}") {
            let _ = pointer_positions(&s);
        }
    }

    // The writer before it was made single-pass: kept as the reference the fast one must equal.
    fn scalar(v: &Value) -> String {
        // Serializing a scalar `Value` cannot fail.
        serde_json::to_string(v).unwrap_or_default()
    }

    /// Nesting depth of containers (a scalar is 0, `[1]` is 1, `{"a": [1]}` is 2).
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn inline(v: &Value) -> String {
        match v {
            Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
            Value::Object(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| format!("{}: {}", scalar(&Value::String(k.clone())), inline(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            other => scalar(other),
        }
    }

    /// Writes `value` at indent level `level` (its first line continues the current line).
    fn reference_write_value(out: &mut String, value: &Value, level: usize) {
        let pad = "  ".repeat(level);
        match value {
            Value::Array(items) if items.is_empty() => out.push_str("[]"),
            Value::Object(map) if map.is_empty() => out.push_str("{}"),
            Value::Array(_) | Value::Object(_)
                if depth(value) <= 3 && {
                    // An intrinsic (`{"Fn::Sub": "..."}`) stays whole however long; others must fit.
                    let intrinsic = value.as_object().is_some_and(|m| m.len() == 1);
                    let column = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
                    (intrinsic && depth(value) <= 2) || column + inline(value).len() <= INLINE_WIDTH
                } =>
            {
                out.push_str(&inline(value));
            }
            Value::Array(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str("  ");
                    reference_write_value(out, item, level + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad);
                out.push(']');
            }
            Value::Object(map) => {
                out.push_str("{\n");
                for (i, (k, v)) in map.iter().enumerate() {
                    out.push_str(&pad);
                    out.push_str("  ");
                    out.push_str(&scalar(&Value::String(k.clone())));
                    out.push_str(": ");
                    reference_write_value(out, v, level + 1);
                    out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad);
                out.push('}');
            }
            other => out.push_str(&scalar(other)),
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[a-z\\\\\"/~\\n\\t\\x00-\\x1f\\x7f é€]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[A-Za-z:~/]{1,12}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn single_pass_writer_equals_the_reference(v in json_value()) {
            let mut expected = String::new();
            reference_write_value(&mut expected, &v, 0);
            expected.push('\n');
            proptest::prop_assert_eq!(&render(&v).text, &expected);
            let back: Value = serde_json::from_str(&expected).unwrap();
            proptest::prop_assert_eq!(back, v);
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        let positions = pointer_positions(&deep);
        assert!(positions.len() <= 258);
    }
}
