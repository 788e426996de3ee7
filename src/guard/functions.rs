//! Built-in functions (GUARD.md section 9). Each returns one result per usable input value;
//! inputs of an unsupported type are dropped.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use super::eval::{QR, Val};
use super::value::{GVal, Node};

pub type RegexCache = RefCell<HashMap<String, Rc<fancy_regex::Regex>>>;

fn out<'a>(v: GVal<'a>) -> QR<'a> {
    QR::Res(Val::O(Rc::new(Node::lit(v))))
}

fn values<'a, 'q>(arg: &'q [QR<'a>]) -> impl Iterator<Item = &'q Val<'a>> {
    arg.iter().filter_map(|q| match q {
        QR::Res(v) | QR::Lit(v) => Some(v),
        QR::Unres(_) => None,
    })
}

/// The string values of an argument (lists and other types are dropped, like cfn-guard).
fn strings(arg: &[QR<'_>]) -> Vec<String> {
    values(arg)
        .filter_map(|x| match &x.val {
            GVal::Str(s) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

fn single_string(arg: &[QR<'_>], what: &str) -> Result<String, String> {
    match values(arg).next().map(|v| &v.val) {
        Some(GVal::Str(s)) => Ok(s.to_string()),
        Some(GVal::Char(c)) => Ok(c.to_string()),
        _ => Err(format!("{what} must be a string")),
    }
}

fn single_int(arg: &[QR<'_>], what: &str) -> Result<i64, String> {
    match values(arg).next().map(|v| &v.val) {
        Some(GVal::Int(i)) => Ok(*i),
        _ => Err(format!("{what} must be an integer")),
    }
}

/// Calls built-in `name` on already evaluated arguments.
pub fn call<'a>(cache: &RegexCache, name: &str, args: &[super::eval::QRs<'a>]) -> Result<Vec<QR<'a>>, String> {
    let expected = match name {
        "now" => 0,
        "join" => 2,
        "regex_replace" | "substring" => 3,
        _ => 1,
    };
    if args.len() != expected {
        return Err(format!(
            "function {name} takes {expected} argument(s), {} given",
            args.len()
        ));
    }
    let first: &[QR<'a>] = args.first().map(|a| a.as_slice()).unwrap_or(&[]);
    let arg = |i: usize| -> &[QR<'a>] { args.get(i).map(|a| a.as_slice()).unwrap_or(&[]) };
    Ok(match name {
        "count" => vec![out(GVal::Int(values(first).count() as i64))],
        "join" => {
            let delim = single_string(arg(1), "join's delimiter")?;
            let mut parts = vec![];
            for q in first {
                match q {
                    QR::Res(v) | QR::Lit(v) => match &v.val {
                        GVal::Str(s) => parts.push(&**s),
                        _ => return Err(format!("join: not a string: {}", v.to_json())),
                    },
                    QR::Unres(u) => return Err(format!("join: unresolved value at {} ({})", u.path(), u.reason())),
                }
            }
            vec![out(GVal::Str(parts.join(&delim).into()))]
        }
        "json_parse" => {
            let mut v = vec![];
            for s in strings(first) {
                let j: serde_json::Value =
                    serde_json::from_str(&s).map_err(|e| format!("json_parse: not JSON ({e}): {s}"))?;
                v.push(QR::Res(Val::O(Rc::new(Node::from_json(&j).into_owned()))));
            }
            v
        }
        "to_upper" => strings(first)
            .into_iter()
            .map(|s| out(GVal::Str(s.to_uppercase().into())))
            .collect(),
        "to_lower" => strings(first)
            .into_iter()
            .map(|s| out(GVal::Str(s.to_lowercase().into())))
            .collect(),
        "url_decode" => {
            let mut v = vec![];
            for s in strings(first) {
                v.push(out(GVal::Str(
                    url_decode(&s)
                        .ok_or_else(|| format!("url_decode: invalid input {s}"))?
                        .into(),
                )));
            }
            v
        }
        "substring" => {
            let from = single_int(arg(1), "substring's start")?;
            let to = single_int(arg(2), "substring's end")?;
            let mut v = vec![];
            for s in strings(first) {
                if from >= 0
                    && to >= from
                    && let Some(sub) = s.get(from as usize..to as usize)
                {
                    v.push(out(GVal::Str(sub.to_string().into())));
                }
            }
            v
        }
        "regex_replace" => {
            let re_src = single_string(arg(1), "regex_replace's regex")?;
            let repl = single_string(arg(2), "regex_replace's replacement")?;
            let re = {
                let cached = cache.borrow().get(&re_src).cloned();
                match cached {
                    Some(r) => r,
                    None => {
                        let r = Rc::new(
                            fancy_regex::Regex::new(&re_src).map_err(|e| format!("invalid regex {re_src:?}: {e}"))?,
                        );
                        cache.borrow_mut().insert(re_src.clone(), Rc::clone(&r));
                        r
                    }
                }
            };
            strings(first)
                .into_iter()
                .map(|s| out(GVal::Str(re.replace_all(&s, repl.as_str()).into_owned().into())))
                .collect()
        }
        "parse_int" => {
            let mut v = vec![];
            for x in values(first) {
                v.push(out(GVal::Int(match &x.val {
                    GVal::Int(i) => *i,
                    GVal::Float(f) => *f as i64,
                    GVal::Str(s) => s
                        .trim()
                        .parse()
                        .map_err(|_| format!("parse_int: not an integer: {s}"))?,
                    GVal::Char(c) => c
                        .to_digit(10)
                        .map(i64::from)
                        .ok_or_else(|| format!("parse_int: not a digit: {c}"))?,
                    _ => continue,
                })));
            }
            v
        }
        "parse_float" => {
            let mut v = vec![];
            for x in values(first) {
                v.push(out(GVal::Float(match &x.val {
                    GVal::Int(i) => *i as f64,
                    GVal::Float(f) => *f,
                    GVal::Str(s) => s
                        .trim()
                        .parse()
                        .map_err(|_| format!("parse_float: not a number: {s}"))?,
                    _ => continue,
                })));
            }
            v
        }
        "parse_string" => values(first)
            .filter_map(|x| match &x.val {
                GVal::Int(i) => Some(i.to_string()),
                GVal::Float(f) => Some(f.to_string()),
                GVal::Bool(b) => Some(b.to_string()),
                GVal::Char(c) => Some(c.to_string()),
                GVal::Str(s) => Some(s.to_string()),
                _ => None,
            })
            .map(|s| out(GVal::Str(s.into())))
            .collect(),
        "parse_boolean" => {
            let mut v = vec![];
            for x in values(first) {
                v.push(out(GVal::Bool(match &x.val {
                    GVal::Bool(b) => *b,
                    GVal::Str(s) => match s.to_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("parse_boolean: not a boolean: {s}")),
                    },
                    _ => continue,
                })));
            }
            v
        }
        "parse_char" => {
            let mut v = vec![];
            for x in values(first) {
                v.push(out(GVal::Char(match &x.val {
                    GVal::Char(c) => *c,
                    GVal::Str(s) if s.chars().count() == 1 => s.chars().next().unwrap_or(' '),
                    GVal::Int(i) if (0..=9).contains(i) => char::from_digit(*i as u32, 10).unwrap_or('0'),
                    GVal::Str(s) => return Err(format!("parse_char: not a single character: {s}")),
                    _ => continue,
                })));
            }
            v
        }
        "parse_epoch" => {
            let mut v = vec![];
            for s in strings(first) {
                v.push(out(GVal::Int(
                    parse_epoch(&s).ok_or_else(|| format!("parse_epoch: not RFC 3339: {s}"))?,
                )));
            }
            v
        }
        "now" => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            vec![out(GVal::Int(secs))]
        }
        other => return Err(format!("unknown function {other}")),
    })
}

fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut outv = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            outv.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            outv.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(outv).ok()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// RFC 3339 timestamp (`2024-01-02T03:04:05Z`, optional fraction and offset) to epoch seconds.
pub fn parse_epoch(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> { s.get(a..b)?.parse().ok() };
    if s.len() < 19 || s.get(4..5)? != "-" || s.get(7..8)? != "-" || s.get(13..14)? != ":" {
        return None;
    }
    if !matches!(s.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let (y, mo, d, h, mi, se) = (
        num(0, 4)?,
        num(5, 7)?,
        num(8, 10)?,
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.chars().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = r.get(n..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.get(3..4)? != ":" {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_parsing() {
        assert_eq!(parse_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_epoch("2024-02-29T12:00:00.5+01:00"), Some(1709204400));
        assert_eq!(parse_epoch("nope"), None);
    }

    #[test]
    fn url_decoding() {
        assert_eq!(url_decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(url_decode("%zz"), None);
    }
}
