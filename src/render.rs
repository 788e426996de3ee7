//! Deterministic JSON: 2-space indent, keys in model order, LF line ends, a trailing newline;
//! and a JSON-pointer -> line index of any JSON text, so findings can name a line.
//!
//! Small leaves stay on one line (`{"Ref": "Bucket"}`, `["s3:GetObject", "s3:PutObject"]`,
//! a tag): a container is written inline when it nests at most two levels and its one-line form
//! fits in [`INLINE_WIDTH`] columns, or is a single-key object (an intrinsic) of at most two levels. That keeps templates readable in review and under
//! CloudFormation's 51,200-byte inline limit, and is the same on every machine.

use indexmap::IndexMap;
use serde_json::Value;

/// A rendered template: its bytes and where each JSON pointer starts.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub text: String,
    pub lines: IndexMap<String, usize>,
}

impl Rendered {
    /// The line of `pointer`, or of its nearest ancestor that has one.
    pub fn line_of(&self, pointer: &str) -> Option<usize> {
        line_of(&self.lines, pointer)
    }
}

/// The widest line an inline container may make (indent included).
pub const INLINE_WIDTH: usize = 120;

/// Renders a value the one way templates are written.
pub fn render(value: &Value) -> Rendered {
    let mut text = String::with_capacity(4096);
    write_value(&mut text, value, 0);
    text.push('\n');
    let lines = pointer_lines(&text);
    Rendered { text, lines }
}

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
fn write_value(out: &mut String, value: &Value, level: usize) {
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
                write_value(out, item, level + 1);
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
                write_value(out, v, level + 1);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad);
            out.push('}');
        }
        other => out.push_str(&scalar(other)),
    }
}

/// The line of `pointer` in an index, or of its nearest ancestor that has one.
pub fn line_of(lines: &IndexMap<String, usize>, pointer: &str) -> Option<usize> {
    let mut p = pointer;
    loop {
        if let Some(line) = lines.get(p) {
            return Some(*line);
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return None,
        }
    }
}

/// Maps every JSON pointer in `text` (any JSON, not only ours) to the 1-based line where its
/// value (or, inside an object, its key) starts. Malformed text yields what was indexed before
/// the problem; nesting deeper than 256 levels is not indexed (no stack overflow on any input).
pub fn pointer_lines(text: &str) -> IndexMap<String, usize> {
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
    out: IndexMap<String, usize>,
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
        self.out.entry(pointer.clone()).or_insert(self.line);
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
                    let key_line = self.line;
                    let key = self.string()?;
                    let child = format!("{pointer}/{}", crate::findings::escape_pointer_token(&key));
                    self.out.insert(child.clone(), key_line);
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
        assert_eq!(r.lines["/Resources"], 2);
        assert_eq!(r.lines["/Resources/B/Type"], 4);
        assert_eq!(r.line_of("/Resources/B/Properties/A~1b/1/c"), Some(6));
        assert_eq!(r.line_of("/Resources/B/Properties/L/1"), Some(9));
        assert_eq!(r.line_of("/Resources/B/Properties/Missing"), Some(5));
        // The text is the value: parsing it back gives the same JSON.
        assert_eq!(serde_json::from_str::<Value>(&r.text).unwrap(), v);
    }

    proptest::proptest! {
        #[test]
        fn pointer_lines_never_panics(s in ".{0,200}") {
            let _ = pointer_lines(&s);
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        let lines = pointer_lines(&deep);
        assert!(lines.len() <= 258);
    }
}
