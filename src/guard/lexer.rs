//! Tokens of the Guard language, each with its (line, column) span.

use super::GuardError;

/// A 1-based position in the rules source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Var(String),
    Str(String),
    Regex(String),
    Int(i64),
    Float(f64),
    Message(String),
    /// Punctuation and operators: `. * [ ] ( ) { } , : | = := == != > >= < <= ! ::`
    P(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// A newline (or the start of the file) separates this token from the previous one.
    pub newline_before: bool,
    /// Whitespace or a comment separates this token from the previous one.
    pub space_before: bool,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Var(s) => format!("`%{s}`"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Regex(s) => format!("regex /{s}/"),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Message(_) => "a `<< >>` message".to_string(),
            Tok::P(p) => format!("`{p}`"),
            Tok::Eof => "end of file".to_string(),
        }
    }
}

const PUNCT: &[&str] = &[
    ":=", "==", "!=", ">=", "<=", "::", ".", "*", "[", "]", "(", ")", "{", "}", ",", ":", "|", "=", ">", "<", "!",
];

/// Splits a rules source into tokens. Works on bytes (every delimiter is ASCII); spans count
/// characters, as editors do.
pub fn lex(src: &str, file: &str) -> Result<Vec<Token>, GuardError> {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 6);
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut newline_before = true;
    let mut space_before = true;
    let err = |line: usize, col: usize, expected: &str| {
        GuardError::parse(src, file, Span { line, col }, &format!("expected {expected}"))
    };
    // The character at byte `i` and its length in bytes.
    let char_at = |i: usize| -> (char, usize) {
        match b.get(i) {
            Some(&c) if c < 0x80 => (c as char, 1),
            _ => src
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(('\0', 1), |c| (c, c.len_utf8())),
        }
    };
    // Characters in `src[from..to]` (a byte that does not continue a UTF-8 sequence starts one).
    let chars_in = |from: usize, to: usize| {
        b.get(from..to)
            .map_or(0, |s| s.iter().filter(|&&c| c & 0xC0 != 0x80).count())
    };
    let word_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < b.len() {
        let (c, len) = char_at(i);
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            newline_before = true;
            space_before = true;
            continue;
        }
        if c.is_whitespace() {
            i += len;
            col += 1;
            space_before = true;
            continue;
        }
        if c == '#' {
            i = b[i..].iter().position(|&d| d == b'\n').map_or(b.len(), |n| i + n);
            space_before = true;
            continue;
        }
        let span = Span { line, col };
        let start = i;
        let tok;
        if c == '\'' || c == '"' {
            let quote = c as u8;
            let mut s = String::new();
            let mut segment = i + 1;
            let mut j = i + 1;
            let (mut l2, mut c2) = (line, col + 1);
            loop {
                let Some(&d) = b.get(j) else {
                    return Err(err(line, col, "a closing quote for this string"));
                };
                if d == b'\\' && b.get(j + 1) == Some(&quote) {
                    s.push_str(&src[segment..j]);
                    s.push(quote as char);
                    j += 2;
                    c2 += 2;
                    segment = j;
                    continue;
                }
                if d == quote {
                    s.push_str(&src[segment..j]);
                    j += 1;
                    c2 += 1;
                    break;
                }
                if d == b'\n' {
                    l2 += 1;
                    c2 = 1;
                } else if d & 0xC0 != 0x80 {
                    c2 += 1;
                }
                j += 1;
            }
            out.push(Token {
                tok: Tok::Str(s),
                span,
                newline_before,
                space_before,
            });
            i = j;
            line = l2;
            col = c2;
            newline_before = false;
            space_before = false;
            continue;
        }
        if c == '/' {
            let mut s = String::new();
            let mut segment = i + 1;
            let mut j = i + 1;
            loop {
                let Some(&d) = b.get(j) else {
                    return Err(err(line, col, "a closing `/` for this regex"));
                };
                if d == b'\n' {
                    return Err(err(line, col, "a closing `/` for this regex on the same line"));
                }
                if d == b'\\' && b.get(j + 1) == Some(&b'/') {
                    s.push_str(&src[segment..j]);
                    s.push('/');
                    j += 2;
                    segment = j;
                    continue;
                }
                if d == b'/' {
                    s.push_str(&src[segment..j]);
                    j += 1;
                    break;
                }
                j += 1;
            }
            col += chars_in(i, j);
            i = j;
            out.push(Token {
                tok: Tok::Regex(s),
                span,
                newline_before,
                space_before,
            });
            newline_before = false;
            space_before = false;
            continue;
        }
        if c == '<' && b.get(i + 1) == Some(&b'<') {
            let mut j = i + 2;
            let (mut l2, mut c2) = (line, col + 2);
            loop {
                if j >= b.len() {
                    return Err(err(line, col, "a closing `>>` for this message"));
                }
                if b[j] == b'>' && b.get(j + 1) == Some(&b'>') {
                    break;
                }
                if b[j] == b'\n' {
                    l2 += 1;
                    c2 = 1;
                } else if b[j] & 0xC0 != 0x80 {
                    c2 += 1;
                }
                j += 1;
            }
            out.push(Token {
                tok: Tok::Message(src[i + 2..j].trim().to_string()),
                span,
                newline_before,
                space_before,
            });
            i = j + 2;
            line = l2;
            col = c2 + 2;
            newline_before = false;
            space_before = false;
            continue;
        }
        let digit = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() || (c == '-' && digit(i + 1)) {
            let mut j = i + 1;
            let mut is_float = false;
            while j < b.len() {
                let d = b[j];
                if d.is_ascii_digit() {
                    j += 1;
                } else if d == b'.' && !is_float && digit(j + 1) {
                    is_float = true;
                    j += 1;
                } else if (d == b'e' || d == b'E')
                    && (digit(j + 1) || (matches!(b.get(j + 1), Some(b'+' | b'-')) && digit(j + 2)))
                {
                    is_float = true;
                    j += 2;
                } else {
                    break;
                }
            }
            let text = &src[i..j];
            tok = if is_float {
                Tok::Float(text.parse().map_err(|_| err(line, col, "a number"))?)
            } else {
                match text.parse::<i64>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => return Err(err(line, col, "an integer that fits in 64 bits")),
                }
            };
            i = j;
        } else if c.is_alphabetic() || c == '_' || c == '%' {
            let mut j = i + len;
            while j < b.len() {
                let (d, dlen) = char_at(j);
                if !word_char(d) {
                    break;
                }
                j += dlen;
            }
            tok = if c == '%' {
                if j == i + 1 {
                    return Err(err(line, col, "a variable name after `%`"));
                }
                Tok::Var(src[i + 1..j].to_string())
            } else {
                Tok::Ident(src[i..j].to_string())
            };
            i = j;
        } else {
            // Longest first (`:=` before `:`).
            match PUNCT.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
                Some(p) => {
                    tok = Tok::P(p);
                    i += p.len();
                }
                None => return Err(err(line, col, "a Guard token (unexpected character)")),
            }
        }
        col += chars_in(start, i);
        out.push(Token {
            tok,
            span,
            newline_before,
            space_before,
        });
        newline_before = false;
        space_before = false;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span { line, col },
        newline_before: true,
        space_before: true,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The first lexer (over a `Vec<char>`), kept as the reference the byte lexer is checked
    /// against.
    pub(super) fn lex_reference(src: &str, file: &str) -> Result<Vec<Token>, GuardError> {
        let chars: Vec<char> = src.chars().collect();
        let mut out = Vec::new();
        let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
        let mut newline_before = true;
        let mut space_before = true;
        let err = |line: usize, col: usize, expected: &str| {
            GuardError::parse(src, file, Span { line, col }, &format!("expected {expected}"))
        };
        while i < chars.len() {
            let c = chars[i];
            if c == '\n' {
                i += 1;
                line += 1;
                col = 1;
                newline_before = true;
                space_before = true;
                continue;
            }
            if c.is_whitespace() {
                i += 1;
                col += 1;
                space_before = true;
                continue;
            }
            if c == '#' {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                space_before = true;
                continue;
            }
            let span = Span { line, col };
            let start = i;
            let tok;
            // advance helper: returns new (i, line, col) over a consumed range
            if c == '\'' || c == '"' {
                let mut s = String::new();
                let mut j = i + 1;
                let (mut l2, mut c2) = (line, col + 1);
                loop {
                    let Some(&d) = chars.get(j) else {
                        return Err(err(line, col, "a closing quote for this string"));
                    };
                    if d == '\\' && chars.get(j + 1) == Some(&c) {
                        s.push(c);
                        j += 2;
                        c2 += 2;
                        continue;
                    }
                    if d == c {
                        j += 1;
                        c2 += 1;
                        break;
                    }
                    if d == '\n' {
                        l2 += 1;
                        c2 = 1;
                    } else {
                        c2 += 1;
                    }
                    s.push(d);
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    span,
                    newline_before,
                    space_before,
                });
                i = j;
                line = l2;
                col = c2;
                newline_before = false;
                space_before = false;
                continue;
            }
            if c == '/' {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&d) = chars.get(j) else {
                        return Err(err(line, col, "a closing `/` for this regex"));
                    };
                    if d == '\n' {
                        return Err(err(line, col, "a closing `/` for this regex on the same line"));
                    }
                    if d == '\\' && chars.get(j + 1) == Some(&'/') {
                        s.push('/');
                        j += 2;
                        continue;
                    }
                    if d == '/' {
                        j += 1;
                        break;
                    }
                    s.push(d);
                    j += 1;
                }
                col += j - i;
                i = j;
                out.push(Token {
                    tok: Tok::Regex(s),
                    span,
                    newline_before,
                    space_before,
                });
                newline_before = false;
                space_before = false;
                continue;
            }
            if c == '<' && chars.get(i + 1) == Some(&'<') {
                let mut j = i + 2;
                let (mut l2, mut c2) = (line, col + 2);
                let mut s = String::new();
                loop {
                    if j >= chars.len() {
                        return Err(err(line, col, "a closing `>>` for this message"));
                    }
                    if chars[j] == '>' && chars.get(j + 1) == Some(&'>') {
                        j += 2;
                        c2 += 2;
                        break;
                    }
                    if chars[j] == '\n' {
                        l2 += 1;
                        c2 = 1;
                    } else {
                        c2 += 1;
                    }
                    s.push(chars[j]);
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Message(s.trim().to_string()),
                    span,
                    newline_before,
                    space_before,
                });
                i = j;
                line = l2;
                col = c2;
                newline_before = false;
                space_before = false;
                continue;
            }
            let digit_start = c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
            if digit_start {
                let mut j = i + 1;
                let mut is_float = false;
                while j < chars.len() {
                    let d = chars[j];
                    if d.is_ascii_digit() {
                        j += 1;
                    } else if d == '.' && !is_float && chars.get(j + 1).is_some_and(|e| e.is_ascii_digit()) {
                        is_float = true;
                        j += 1;
                    } else if (d == 'e' || d == 'E')
                        && (chars.get(j + 1).is_some_and(|e| e.is_ascii_digit())
                            || (matches!(chars.get(j + 1), Some('+') | Some('-'))
                                && chars.get(j + 2).is_some_and(|e| e.is_ascii_digit())))
                    {
                        is_float = true;
                        j += 2;
                    } else {
                        break;
                    }
                }
                let text: String = chars[i..j].iter().collect();
                tok = if is_float {
                    Tok::Float(text.parse().map_err(|_| err(line, col, "a number"))?)
                } else {
                    match text.parse::<i64>() {
                        Ok(n) => Tok::Int(n),
                        Err(_) => return Err(err(line, col, "an integer that fits in 64 bits")),
                    }
                };
                i = j;
            } else if c.is_alphabetic() || c == '_' {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                tok = Tok::Ident(chars[i..j].iter().collect());
                i = j;
            } else if c == '%' {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j == i + 1 {
                    return Err(err(line, col, "a variable name after `%`"));
                }
                tok = Tok::Var(chars[i + 1..j].iter().collect());
                i = j;
            } else {
                let mut found = None;
                // Longest first (`:=` before `:`); every entry is ASCII, one char per byte.
                for p in PUNCT {
                    if chars
                        .get(i..i + p.len())
                        .is_some_and(|w| w.iter().copied().eq(p.chars()))
                    {
                        found = Some(*p);
                        break;
                    }
                }
                match found {
                    Some(p) => {
                        tok = Tok::P(p);
                        i += p.chars().count();
                    }
                    None => return Err(err(line, col, "a Guard token (unexpected character)")),
                }
            }
            col += i - start;
            out.push(Token {
                tok,
                span,
                newline_before,
                space_before,
            });
            newline_before = false;
            space_before = false;
        }
        out.push(Token {
            tok: Tok::Eof,
            span: Span { line, col },
            newline_before: true,
            space_before: true,
        });
        Ok(out)
    }

    fn same(a: &Result<Vec<Token>, GuardError>, b: &Result<Vec<Token>, GuardError>) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                a.len() == b.len()
                    && a.iter().zip(b).all(|(x, y)| {
                        x.tok == y.tok
                            && x.span == y.span
                            && x.newline_before == y.newline_before
                            && x.space_before == y.space_before
                    })
            }
            (Err(a), Err(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }

    #[test]
    fn byte_lexer_matches_the_reference_on_every_builtin_rules_file() {
        for (name, source) in crate::ruleset::BUILTIN_RULES {
            assert!(same(&lex(source, name), &lex_reference(source, name)), "{name}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        /// Random sources over the language's characters, non-ASCII letters and spaces included:
        /// the same tokens, spans and errors as the reference.
        #[test]
        fn byte_lexer_matches_the_reference(src in "([a-zA-Z_%0-9.eE+-]|[ \t\n]|[#/\\\\'\"<>=!:,|*()\\[\\]{}]|é|ß|\u{3000}|\u{a0}){0,40}") {
            prop_assert!(same(&lex(&src, "f.guard"), &lex_reference(&src, "f.guard")), "{:?}", src);
        }
    }

    fn toks(s: &str) -> Vec<Tok> {
        lex(s, "t.guard")
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn lexes_strings_regex_numbers_and_messages() {
        assert_eq!(
            toks(r#"a == 'x\'y' /a\/b/ -3 1.5 2e+3 <<hi>> %v"#),
            vec![
                Tok::Ident("a".into()),
                Tok::P("=="),
                Tok::Str("x'y".into()),
                Tok::Regex("a/b".into()),
                Tok::Int(-3),
                Tok::Float(1.5),
                Tok::Float(2000.0),
                Tok::Message("hi".into()),
                Tok::Var("v".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_and_newlines_are_tracked() {
        let t = lex("a # c\n  b", "f").unwrap_or_default();
        assert_eq!(t[1].span, Span { line: 2, col: 3 });
        assert!(t[1].newline_before);
    }

    #[test]
    fn unterminated_string_is_located_error() {
        let e = lex("\n  x == 'abc", "f.guard")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("f.guard:2:8"), "{e}");
    }
}
