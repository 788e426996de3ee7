//! Finds the line of a key path in block-style YAML, so config problems point at a line.

/// The 1-based line where the mapping key at `path` (e.g. `["environments", "test", "alarms"]`)
/// is written, or the deepest ancestor found. `None` if not even the first key is found.
pub fn line_of(text: &str, path: &[String]) -> Option<usize> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut best: Option<(usize, usize)> = None; // (depth matched, line)
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        let indent = line.len() - content.len();
        let content = content.strip_prefix("- ").unwrap_or(content);
        let Some(key) = mapping_key(content) else { continue };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        let depth = stack.len();
        if depth <= path.len() && stack.iter().zip(path).all(|((_, k), p)| k == p) {
            if depth == path.len() {
                return Some(index + 1);
            }
            if best.is_none_or(|(d, _)| depth > d) {
                best = Some((depth, index + 1));
            }
        }
    }
    best.map(|(_, line)| line)
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
}
