//! Values the evaluator works on: the data document (converted once, every node knowing its JSON
//! pointer; its strings and keys borrowed from the JSON, `'d`) and rule-side literals (owned,
//! `Node<'static>`; they may also be regexes, ranges and chars).

use indexmap::IndexMap;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

use crate::findings::push_pointer_segment;

/// Deepest data document accepted by the evaluator.
pub const MAX_DATA_DEPTH: usize = 256;

/// A regex literal: checked when the rules file is parsed, compiled on first use.
pub use crate::regex::Rx;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Bound {
    Int(i64),
    Float(f64),
    Char(char),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RangeV {
    pub lo: Bound,
    pub hi: Bound,
    pub lo_incl: bool,
    pub hi_incl: bool,
}

/// A map of the data or a rules literal: insertion order kept (reports follow the document),
/// hashed with FxHash (keys are short and lookups are the evaluator's commonest operation).
pub type GMap<'d> = IndexMap<Cow<'d, str>, Node<'d>, rustc_hash::FxBuildHasher>;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum GVal<'d> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'d, str>),
    Char(char),
    Regex(Rx),
    Range(RangeV),
    List(Vec<Node<'d>>),
    Map(GMap<'d>),
}

/// A value with its RFC 6901 pointer into the data document ("" for literals and the root).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Node<'d> {
    pub path: Cow<'d, str>,
    pub val: GVal<'d>,
}

/// [`Node::from_json_checked`]: None when a value lies more than `depth` levels below `v`.
fn conv<'d>(v: &'d Value, path: &mut String, depth: usize) -> Option<Node<'d>> {
    let len = path.len();
    let val = match v {
        Value::Null => GVal::Null,
        Value::Bool(b) => GVal::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => GVal::Int(i),
            None => GVal::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => GVal::Str(Cow::Borrowed(s)),
        Value::Array(a) => {
            let mut list = Vec::with_capacity(a.len());
            for (i, e) in a.iter().enumerate() {
                crate::findings::push_pointer_index(path, i);
                list.push(conv(e, path, depth.checked_sub(1)?)?);
                path.truncate(len);
            }
            GVal::List(list)
        }
        Value::Object(m) => {
            let mut map = GMap::with_capacity_and_hasher(m.len(), Default::default());
            for (k, e) in m {
                push_pointer_segment(path, k);
                map.insert(Cow::Borrowed(k.as_str()), conv(e, path, depth.checked_sub(1)?)?);
                path.truncate(len);
            }
            GVal::Map(map)
        }
    };
    Some(Node {
        path: Cow::Owned(path.clone()),
        val,
    })
}

impl<'d> Node<'d> {
    pub fn lit(val: GVal<'d>) -> Node<'d> {
        Node {
            path: Cow::Borrowed(""),
            val,
        }
    }

    /// Converts a JSON document, recording each node's pointer. None when it nests deeper than
    /// `MAX_DATA_DEPTH` (the evaluator recurses over values).
    pub fn from_json_checked(v: &'d Value) -> Option<Node<'d>> {
        conv(v, &mut String::with_capacity(256), MAX_DATA_DEPTH)
    }

    /// The same value owning its strings (for one converted from a document that does not live
    /// as long as the rules: a function's result).
    pub fn into_owned(self) -> Node<'static> {
        let val = match self.val {
            GVal::Null => GVal::Null,
            GVal::Bool(b) => GVal::Bool(b),
            GVal::Int(i) => GVal::Int(i),
            GVal::Float(f) => GVal::Float(f),
            GVal::Str(s) => GVal::Str(Cow::Owned(s.into_owned())),
            GVal::Char(c) => GVal::Char(c),
            GVal::Regex(r) => GVal::Regex(r),
            GVal::Range(r) => GVal::Range(r),
            GVal::List(l) => GVal::List(l.into_iter().map(Node::into_owned).collect()),
            GVal::Map(m) => GVal::Map(
                m.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        };
        Node {
            path: Cow::Owned(self.path.into_owned()),
            val,
        }
    }

    /// Converts a JSON document, recording each node's pointer (callers bound the depth: a
    /// document nested deeper than `MAX_DATA_DEPTH` becomes `null` below that depth).
    pub fn from_json(v: &'d Value) -> Node<'d> {
        conv(v, &mut String::with_capacity(256), MAX_DATA_DEPTH).unwrap_or(Node::lit(GVal::Null))
    }
    pub fn to_json(&self) -> Value {
        match &self.val {
            GVal::Null => Value::Null,
            GVal::Bool(b) => Value::Bool(*b),
            GVal::Int(i) => Value::from(*i),
            GVal::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            GVal::Str(s) => Value::String(s.to_string()),
            GVal::Char(c) => Value::String(c.to_string()),
            GVal::Regex(r) => Value::String(format!("/{}/", r.source)),
            GVal::Range(r) => Value::String(range_text(r)),
            GVal::List(l) => Value::Array(l.iter().map(Node::to_json).collect()),
            GVal::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.to_string(), v.to_json())).collect()),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match &self.val {
            GVal::Null => "null",
            GVal::Bool(_) => "bool",
            GVal::Int(_) => "int",
            GVal::Float(_) => "float",
            GVal::Str(_) => "string",
            GVal::Char(_) => "char",
            GVal::Regex(_) => "regex",
            GVal::Range(_) => "range",
            GVal::List(_) => "list",
            GVal::Map(_) => "map",
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self.val, GVal::List(_))
    }
    pub fn is_scalar(&self) -> bool {
        !matches!(self.val, GVal::List(_) | GVal::Map(_))
    }
}

fn bound_text(b: &Bound) -> String {
    match b {
        Bound::Int(i) => i.to_string(),
        Bound::Float(f) => f.to_string(),
        Bound::Char(c) => c.to_string(),
    }
}

pub fn range_text(r: &RangeV) -> String {
    format!(
        "r{}{},{}{}",
        if r.lo_incl { '[' } else { '(' },
        bound_text(&r.lo),
        bound_text(&r.hi),
        if r.hi_incl { ']' } else { ')' }
    )
}

/// Error of a comparison between values of kinds that cannot be compared.
#[derive(Debug)]
pub struct NotComparable;

fn f_of(b: &Bound) -> Option<f64> {
    match b {
        Bound::Int(i) => Some(*i as f64),
        Bound::Float(f) => Some(*f),
        Bound::Char(_) => None,
    }
}

fn within(x: f64, r: &RangeV) -> Option<bool> {
    let lo = f_of(&r.lo)?;
    let hi = f_of(&r.hi)?;
    let lo_ok = if r.lo_incl { x >= lo } else { x > lo };
    let hi_ok = if r.hi_incl { x <= hi } else { x < hi };
    Some(lo_ok && hi_ok)
}

fn char_within(c: char, r: &RangeV) -> Option<bool> {
    let (Bound::Char(lo), Bound::Char(hi)) = (r.lo, r.hi) else {
        return None;
    };
    let lo_ok = if r.lo_incl { c >= lo } else { c > lo };
    let hi_ok = if r.hi_incl { c <= hi } else { c < hi };
    Some(lo_ok && hi_ok)
}

fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    (i as f64).partial_cmp(&f)
}

/// Ordering of scalars (`<`, `>` ...): numbers, strings, chars, null.
pub fn compare_values(a: &Node<'_>, b: &Node<'_>) -> Result<Ordering, NotComparable> {
    match (&a.val, &b.val) {
        (GVal::Null, GVal::Null) => Ok(Ordering::Equal),
        (GVal::Int(x), GVal::Int(y)) => Ok(x.cmp(y)),
        (GVal::Str(x), GVal::Str(y)) => Ok(x.cmp(y)),
        (GVal::Float(x), GVal::Float(y)) => x.partial_cmp(y).ok_or(NotComparable),
        (GVal::Int(i), GVal::Float(f)) => int_float_cmp(*i, *f).ok_or(NotComparable),
        (GVal::Float(f), GVal::Int(i)) => int_float_cmp(*i, *f).map(Ordering::reverse).ok_or(NotComparable),
        (GVal::Char(x), GVal::Char(y)) => Ok(x.cmp(y)),
        _ => Err(NotComparable),
    }
}

/// cfn-guard's `compare_eq`: regex match, range membership, deep equality of lists and maps.
pub fn compare_eq(a: &Node<'_>, b: &Node<'_>) -> Result<bool, NotComparable> {
    match (&a.val, &b.val) {
        (GVal::Str(s), GVal::Regex(r)) | (GVal::Regex(r), GVal::Str(s)) => Ok(r.is_match(s)),
        (GVal::Str(x), GVal::Str(y)) => Ok(x == y),
        (GVal::Map(x), GVal::Map(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in x {
                match y.get(k) {
                    Some(v2) => {
                        if !compare_eq(v, v2)? {
                            return Ok(false);
                        }
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        }
        (GVal::List(x), GVal::List(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (l, r) in x.iter().zip(y) {
                if !compare_eq(l, r)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (GVal::Bool(x), GVal::Bool(y)) => Ok(x == y),
        (GVal::Regex(x), GVal::Regex(y)) => Ok(x.source == y.source),
        (GVal::Int(i), GVal::Range(r)) => within(*i as f64, r).ok_or(NotComparable),
        (GVal::Float(f), GVal::Range(r)) => within(*f, r).ok_or(NotComparable),
        (GVal::Char(c), GVal::Range(r)) => char_within(*c, r).ok_or(NotComparable),
        (GVal::Str(s), GVal::Range(r)) if s.chars().count() == 1 => {
            s.chars().next().and_then(|c| char_within(c, r)).ok_or(NotComparable)
        }
        _ => compare_values(a, b).map(|o| o == Ordering::Equal),
    }
}

/// Structural equality as cfn-guard's `PartialEq` (used by list membership): like `compare_eq`
/// but never an error, and strings match regexes.
pub fn loose_eq(a: &Node, b: &Node) -> bool {
    match (&a.val, &b.val) {
        (GVal::Map(x), GVal::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        (GVal::List(x), GVal::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(l, r)| loose_eq(l, r)),
        (GVal::Range(x), GVal::Range(y)) => x == y,
        _ => compare_eq(a, b).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value `MAX_DATA_DEPTH` levels down is accepted, one level deeper is not (an empty
    /// list or map at the limit has nothing below it), in lists and maps alike.
    #[test]
    fn depth_limit_is_exact() {
        let nest = |n: usize, leaf: Value, in_map: bool| {
            (0..n).fold(leaf, |v, _| if in_map { json!({"k": v}) } else { json!([v]) })
        };
        for in_map in [false, true] {
            let ok = |n, leaf| Node::from_json_checked(&nest(n, leaf, in_map)).is_some();
            assert!(ok(MAX_DATA_DEPTH, json!(1)));
            assert!(!ok(MAX_DATA_DEPTH + 1, json!(1)));
            assert!(ok(MAX_DATA_DEPTH, json!([])));
            assert!(ok(MAX_DATA_DEPTH, json!({})));
            assert!(!ok(MAX_DATA_DEPTH, json!([1])));
            assert!(!ok(MAX_DATA_DEPTH, json!({"x": null})));
        }
    }

    #[test]
    fn paths_are_json_pointers() {
        let doc = json!({"Resources": {"a/b": {"X": [1, 2]}}});
        let n = Node::from_json(&doc);
        let GVal::Map(m) = &n.val else { panic!("map") };
        let r = &m["Resources"];
        let GVal::Map(m2) = &r.val else { panic!("map") };
        assert_eq!(m2["a/b"].path, "/Resources/a~1b");
    }

    #[test]
    fn int_and_float_compare_numerically() {
        let a = Node::lit(GVal::Int(1));
        let b = Node::lit(GVal::Float(1.0));
        assert!(compare_eq(&a, &b).unwrap_or(false));
        let s = Node::lit(GVal::Str("1".into()));
        assert!(compare_eq(&a, &s).is_err());
    }

    #[test]
    fn ranges() {
        let r = Node::lit(GVal::Range(RangeV {
            lo: Bound::Int(1),
            hi: Bound::Int(5),
            lo_incl: true,
            hi_incl: false,
        }));
        assert!(compare_eq(&Node::lit(GVal::Int(1)), &r).unwrap_or(false));
        assert!(!compare_eq(&Node::lit(GVal::Int(5)), &r).unwrap_or(true));
        assert!(compare_eq(&Node::lit(GVal::Float(4.5)), &r).unwrap_or(false));
    }
}
