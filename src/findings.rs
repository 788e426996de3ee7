//! Findings: what every check (resource schemas, CloudFormation limits, Guard rules) reports.
//!
//! One shape for all checks, so `synth` and `check` print, count and export them the same way.

use serde::Serialize;

/// Which check produced a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The official CloudFormation resource schema of a type.
    Schema,
    /// A CloudFormation limit or a service's naming rule.
    Limit,
    /// Cross-stack consistency (exports and imports).
    CrossStack,
    /// A Guard rule, by id (`S3_BUCKET_SSE_KMS`) and the rules file it came from.
    Guard { rule: String, file: String },
}

/// How bad a finding is. Errors stop `synth`; warnings are reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub source: Source,
    pub severity: Severity,
    /// The stack name (`KiroPipelineCoreTest`) or, for external templates, the file name.
    pub stack: String,
    /// The resource's logical id, when the finding is about one resource.
    pub logical_id: Option<String>,
    /// JSON pointer into the template (`/Resources/Bucket/Properties/BucketName`).
    pub pointer: String,
    /// 1-based line of `pointer` in the rendered template, when known.
    pub line: Option<usize>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What was expected, when the check knows.
    pub expected: Option<String>,
    /// What was found, when the check knows.
    pub actual: Option<String>,
    /// How to fix it, when the check knows.
    pub fix: Option<String>,
}

impl Finding {
    /// A finding with only the required fields set; the rest are filled by the builder methods.
    pub fn new(
        source: Source,
        stack: impl Into<String>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let pointer = pointer.into();
        Finding {
            source,
            severity: Severity::Error,
            stack: stack.into(),
            logical_id: logical_id_of(&pointer),
            pointer,
            line: None,
            message: message.into(),
            expected: None,
            actual: None,
            fix: None,
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Self {
        self.actual = Some(actual.into());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }
}

/// `/Resources/Bucket/Properties/X` -> `Bucket`.
pub fn logical_id_of(pointer: &str) -> Option<String> {
    let mut parts = pointer.split('/').skip(1);
    match (parts.next(), parts.next()) {
        (Some("Resources"), Some(id)) if !id.is_empty() => Some(unescape_pointer_token(id)),
        _ => None,
    }
}

/// Escapes one JSON-pointer token (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    push_pointer_token(&mut out, token);
    out
}

/// Appends `/` and the escaped `token` to a JSON pointer being built (the walkers keep one
/// buffer and truncate it on the way back up, instead of formatting a string per node).
pub fn push_pointer_segment(pointer: &mut String, token: &str) {
    pointer.push('/');
    push_pointer_token(pointer, token);
}

/// One level of a path through a JSON document, borrowed from it: walkers keep a stack of these
/// and write a pointer ([`pointer_of`]) only for what they report.
#[derive(Debug, Clone, Copy)]
pub enum PathStep<'a> {
    Key(&'a str),
    Index(usize),
}

/// The JSON pointer of `steps` (`/Resources/A/Properties/0`).
pub fn pointer_of(steps: &[PathStep<'_>]) -> String {
    let mut pointer = String::new();
    for step in steps {
        match step {
            PathStep::Key(k) => push_pointer_segment(&mut pointer, k),
            PathStep::Index(i) => push_pointer_index(&mut pointer, *i),
        }
    }
    pointer
}

/// Appends `/` and the decimal digits of `index` (a pointer's array step), without the
/// formatting machinery: template walks write one for every array item they pass.
pub fn push_pointer_index(pointer: &mut String, index: usize) {
    pointer.push('/');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        pointer.push(char::from(d));
    }
}

fn push_pointer_token(out: &mut String, token: &str) {
    // Bytes, not chars: `~` and `/` are ASCII, and most keys have neither.
    if !token.bytes().any(|b| b == b'~' || b == b'/') {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Unescapes one JSON-pointer token (RFC 6901).
pub fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_id_comes_from_the_resources_pointer() {
        assert_eq!(
            logical_id_of("/Resources/Bucket/Properties/X").as_deref(),
            Some("Bucket")
        );
        assert_eq!(logical_id_of("/Outputs/Arn"), None);
        assert_eq!(logical_id_of(""), None);
    }

    #[test]
    fn pointer_tokens_round_trip() {
        let raw = "a/b~c";
        assert_eq!(unescape_pointer_token(&escape_pointer_token(raw)), raw);
        let mut out = String::new();
        push_pointer_token(&mut out, "é~/x");
        assert_eq!(out, "é~0~1x");
    }

    #[test]
    fn pointer_indexes_are_decimal() {
        for i in [0, 7, 10, 99, 100, 1_234_567, usize::MAX] {
            let mut out = String::from("/L");
            push_pointer_index(&mut out, i);
            assert_eq!(out, format!("/L/{i}"));
        }
    }
}
