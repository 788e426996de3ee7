//! Finds the line of a key path in block-style YAML (config files, YAML templates), so problems
//! point at a line. Sequences count: `Statement/0/Action` finds the first item's `Action`.

use indexmap::IndexMap;

#[derive(Debug)]
struct Frame {
    indent: usize,
    /// A mapping key, or a sequence item's index.
    segment: String,
    is_item: bool,
    /// Items seen so far directly below this frame.
    items: usize,
}

/// A YAML text whose key paths are indexed once, on the first line asked for: a file with
/// many problems is scanned once, not once per problem.
#[derive(Debug)]
pub struct YamlText<'t> {
    text: &'t str,
    lines: std::sync::OnceLock<IndexMap<String, usize>>,
}

impl<'t> YamlText<'t> {
    pub fn new(text: &'t str) -> Self {
        YamlText {
            text,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// The 1-based line where the value at `path` (e.g. `["environments", "test", "alarms"]`
    /// or `["Resources", "Role", "Properties", "Policies", "0"]`) is written, or the deepest
    /// ancestor found. `None` if not even the first segment is found.
    pub fn line_of<S: AsRef<str>>(&self, path: &[S]) -> Option<usize> {
        let mut pointer = String::new();
        for segment in path {
            crate::findings::push_pointer_segment(&mut pointer, segment.as_ref());
        }
        crate::render::line_of(self.lines.get_or_init(|| pointer_lines(self.text)), &pointer)
    }
}

/// Every key path of a YAML text, as a JSON pointer (`/Resources/Role/Properties/Policies/0`),
/// with the 1-based line where it is first written, in one pass (a YAML template's findings
/// asked for one line each, and scanning the text each time made a big report take seconds).
/// Look a pointer up with [`crate::render::line_of`], which falls back to its nearest
/// ancestor.
pub fn pointer_lines(text: &str) -> IndexMap<String, usize> {
    let mut out = IndexMap::new();
    scan(text, |stack, line| {
        let mut pointer = String::new();
        for frame in stack {
            crate::findings::push_pointer_segment(&mut pointer, &frame.segment);
        }
        out.entry(pointer).or_insert(line);
    });
    out
}

/// Walks the text's block structure; calls `visit(stack, line)` each time a key or a sequence
/// item is pushed (so a `- key: value` line visits the item, then the key).
fn scan(text: &str, mut visit: impl FnMut(&[Frame], usize)) {
    let mut stack: Vec<Frame> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let mut content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        let mut indent = line.len() - content.len();
        let mut pushed = false;
        // Sequence items (`- ...`, possibly `- - ...`).
        while content == "-" || content.starts_with("- ") {
            while stack
                .last()
                .is_some_and(|f| f.indent > indent || (f.indent == indent && f.is_item))
            {
                stack.pop();
            }
            let item = match stack.last_mut() {
                Some(parent) => {
                    parent.items += 1;
                    parent.items - 1
                }
                None => 0,
            };
            stack.push(Frame {
                indent,
                segment: item.to_string(),
                is_item: true,
                items: 0,
            });
            pushed = true;
            visit(&stack, index + 1);
            let rest = content[1..].trim_start();
            indent += content.len() - rest.len();
            content = rest;
            if content.is_empty() {
                break;
            }
        }
        if let Some(key) = mapping_key(content) {
            while stack
                .last()
                .is_some_and(|f| f.indent > indent || (f.indent == indent && !(pushed && f.is_item)))
            {
                stack.pop();
            }
            stack.push(Frame {
                indent,
                segment: key,
                is_item: false,
                items: 0,
            });
            visit(&stack, index + 1);
        }
    }
}

fn mapping_key(content: &str) -> Option<String> {
    let (key, rest) = if let Some(stripped) = content.strip_prefix('"') {
        let end = stripped.find('"')?;
        (stripped[..end].to_string(), &stripped[end + 1..])
    } else if let Some(stripped) = content.strip_prefix('\'') {
        let end = stripped.find('\'')?;
        (stripped[..end].to_string(), &stripped[end + 1..])
    } else {
        let colon = content.find(':')?;
        (content[..colon].trim().to_string(), &content[colon..])
    };
    let rest = rest.trim_start();
    if rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t'])) {
        Some(key)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str, path: &[String]) -> Option<usize> {
        YamlText::new(text).line_of(path)
    }

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_nested_keys() {
        let text = "environments:\n  test:\n    region: x\n  production:\n    alarms:\n      failures_per_hour: 9\n";
        assert_eq!(
            line_of(text, &p(&["environments", "production", "alarms", "failures_per_hour"])),
            Some(6)
        );
        assert_eq!(line_of(text, &p(&["environments", "test", "region"])), Some(3));
        // Missing leaf: the deepest ancestor.
        assert_eq!(line_of(text, &p(&["environments", "production", "logs"])), Some(4));
        assert_eq!(line_of(text, &p(&["nope"])), None);
    }

    #[test]
    fn finds_sequence_items_in_both_styles() {
        let text = "\
Resources:
  Role:
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
            - Effect: Allow
              Action: s3:GetObject
            - Effect: Allow
              Action: '*'
              Resource:
                - a
                - b
";
        let at = |s: &str| line_of(text, &p(&s.split('/').collect::<Vec<_>>()));
        assert_eq!(at("Resources/Role/Properties/Policies/0"), Some(5));
        assert_eq!(at("Resources/Role/Properties/Policies/0/PolicyDocument"), Some(6));
        assert_eq!(
            at("Resources/Role/Properties/Policies/0/PolicyDocument/Statement/1/Action"),
            Some(11)
        );
        assert_eq!(
            at("Resources/Role/Properties/Policies/0/PolicyDocument/Statement/1/Resource/1"),
            Some(14)
        );
        assert_eq!(
            at("Resources/Role/Properties/Policies/0/PolicyDocument/Statement/0/Action"),
            Some(9)
        );
    }

    proptest::proptest! {
        /// `line_of` (the one-pass index) answers every path as a direct search for it does:
        /// the first line where the path is written, else its deepest ancestor's.
        #[test]
        fn the_index_agrees_with_a_direct_search(
            lines in proptest::collection::vec("( {0,6})(- ){0,2}([ab]|0|x/y|~)(: ?[a-z]{0,2})?", 0..25),
            path in proptest::collection::vec("[ab0]|x/y|~|1", 0..5),
        ) {
            let text = lines.join("\n");
            // (depth matched, line) of the first deepest match.
            let mut best: Option<(usize, usize)> = None;
            scan(&text, |stack, line| {
                let depth = stack.len();
                if depth <= path.len()
                    && stack.iter().zip(&path).all(|(f, p)| &f.segment == p)
                    && best.is_none_or(|(d, _)| depth > d)
                {
                    best = Some((depth, line));
                }
            });
            proptest::prop_assert_eq!(line_of(&text, &path), best.map(|(_, line)| line), "{:?}", text);
        }

        #[test]
        fn never_panics(text in "[ a-z:#'\"\n-é~/]{0,200}", path in proptest::collection::vec("[a-z0-9]{1,3}", 0..4)) {
            let _ = line_of(&text, &path);
            let _ = pointer_lines(&text);
        }
    }
}
