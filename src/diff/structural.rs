//! The structural diff of two values: a flat list of [`PropertyChange`]s whose paths form the
//! property tree. JSON held in strings is diffed as JSON, set-like arrays are compared as
//! multisets ("reordered only" is one change), secrets are masked.

use super::normalise::{self, canonical, iam_set_like, parse_json_string};
use super::{ChangeKind, Hidden, PropertyChange};
use crate::findings::{push_pointer_index, push_pointer_segment};
use serde_json::{Map, Value};

/// Which arrays are set-like, besides the IAM ones every document has.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Schema `insertionOrder: false` paths relative to `Properties`, split into tokens.
    pub unordered: Vec<Vec<String>>,
    /// The values diffed are whole resources (`/Properties/...`, `/DependsOn`).
    pub resource_level: bool,
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
    Json,
}

struct Walker<'a> {
    rules: &'a Rules,
    out: &'a mut Vec<PropertyChange>,
    hidden: &'a mut Hidden,
    path: Vec<Seg>,
}

/// Keys that identify an item of a set-like array (`Tags` by `Key`, statements by `Sid`).
const IDENTITY_KEYS: [&str; 7] = ["Key", "Sid", "PolicyName", "IndexName", "AttributeName", "Name", "Id"];

/// Diffs `before` against `after`, appending changes to `out`. `key` is the name the values
/// sit under (used to decide masking of a top-level string).
pub fn diff_values(
    before: &Value,
    after: &Value,
    rules: &Rules,
    key: &str,
    out: &mut Vec<PropertyChange>,
    hidden: &mut Hidden,
) {
    let mut w = Walker {
        rules,
        out,
        hidden,
        path: Vec::new(),
    };
    w.walk(before, after, key, false, false);
}

/// A change of a whole value (an entry added or removed), masked.
pub fn whole(
    kind: ChangeKind,
    before: Option<&Value>,
    after: Option<&Value>,
    key: &str,
    hidden: &mut Hidden,
) -> PropertyChange {
    let mut out = Vec::new();
    let rules = Rules::default();
    let mut w = Walker {
        rules: &rules,
        out: &mut out,
        hidden,
        path: Vec::new(),
    };
    w.emit(kind, before, after, key);
    out.pop().unwrap_or(PropertyChange {
        path: String::new(),
        json_path: None,
        kind,
        before: None,
        after: None,
        masked: false,
        forces_replacement: None,
    })
}

impl Walker<'_> {
    fn walk(&mut self, b: &Value, a: &Value, key: &str, set_like: bool, in_json: bool) {
        if b == a {
            return;
        }
        match (b, a) {
            (Value::String(bs), Value::String(as_)) => {
                let secret = normalise::is_secret_key(key)
                    || normalise::has_secure_dynamic_ref(bs)
                    || normalise::has_secure_dynamic_ref(as_);
                if !in_json
                    && !secret
                    && let (Some(bj), Some(aj)) = (parse_json_string(bs), parse_json_string(as_))
                {
                    if bj == aj {
                        self.hidden.reformatted += 1;
                        return;
                    }
                    self.path.push(Seg::Json);
                    self.walk(&bj, &aj, key, false, true);
                    self.path.pop();
                    return;
                }
                self.emit(ChangeKind::Modify, Some(b), Some(a), key);
            }
            (Value::Object(bo), Value::Object(ao)) => {
                let parent_has_effect = bo.contains_key("Effect") || ao.contains_key("Effect");
                let no_echo = normalise::is_no_echo(bo) || normalise::is_no_echo(ao);
                for (k, bv) in bo {
                    let child_set = self.child_set_like(k, parent_has_effect, in_json);
                    self.path.push(Seg::Key(k.clone()));
                    match ao.get(k) {
                        Some(av) => self.walk(bv, av, mkey(no_echo, k), child_set, in_json),
                        None => self.emit(ChangeKind::Remove, Some(bv), None, mkey(no_echo, k)),
                    }
                    self.path.pop();
                }
                for (k, av) in ao {
                    if !bo.contains_key(k) {
                        self.path.push(Seg::Key(k.clone()));
                        self.emit(ChangeKind::Add, None, Some(av), mkey(no_echo, k));
                        self.path.pop();
                    }
                }
            }
            (Value::Array(bi), Value::Array(ai)) => {
                if set_like {
                    self.set_diff(bi, ai, key, in_json);
                } else {
                    self.ordered_diff(bi, ai, key, in_json);
                }
            }
            _ => self.emit(ChangeKind::Modify, Some(b), Some(a), key),
        }
    }

    fn last_keys(&self) -> (Option<&str>, Option<&str>) {
        let mut keys = self.path.iter().rev().filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            _ => None,
        });
        (keys.next(), keys.next())
    }

    /// Is the child `k` of the object at the current path a set-like array?
    fn child_set_like(&self, k: &str, parent_has_effect: bool, in_json: bool) -> bool {
        let (parent_key, grandparent_key) = self.last_keys();
        if iam_set_like(k, parent_has_effect, parent_key) {
            return true;
        }
        // Condition values are ORed: `{"Condition": {"StringEquals": {"k": [..]}}}`.
        if grandparent_key == Some("Condition") {
            return true;
        }
        if self.rules.resource_level && !in_json {
            if self.path.is_empty() && k == "DependsOn" {
                return true;
            }
            if let Some(Seg::Key(first)) = self.path.first()
                && first == "Properties"
            {
                let mut tokens: Vec<String> = self.path[1..]
                    .iter()
                    .map(|s| match s {
                        Seg::Key(k) => k.clone(),
                        Seg::Index(_) | Seg::Json => "*".to_string(),
                    })
                    .collect();
                tokens.push(k.to_string());
                return self
                    .rules
                    .unordered
                    .iter()
                    .any(|p| p.len() == tokens.len() && p.iter().zip(&tokens).all(|(p, t)| p == t || p == "*"));
            }
        }
        false
    }

    fn set_diff(&mut self, b: &[Value], a: &[Value], key: &str, in_json: bool) {
        let bc: Vec<String> = b.iter().map(canonical).collect();
        let ac: Vec<String> = a.iter().map(canonical).collect();
        let mut b_used = vec![false; b.len()];
        let mut a_left = Vec::new();
        // For each item after, the item before it matched or was paired with.
        let mut origin: Vec<Option<usize>> = vec![None; a.len()];
        for (ai, c) in ac.iter().enumerate() {
            let hit = bc.iter().enumerate().find(|(bi, bcv)| !b_used[*bi] && *bcv == c);
            match hit {
                Some((bi, _)) => {
                    b_used[bi] = true;
                    origin[ai] = Some(bi);
                }
                None => a_left.push(ai),
            }
        }
        let mut b_left: Vec<usize> = (0..b.len()).filter(|i| !b_used[*i]).collect();
        if a_left.is_empty() && b_left.is_empty() {
            if bc != ac {
                self.hidden.reordered += 1;
                self.push(ChangeKind::Reorder, None, None, false);
            }
            return;
        }
        // Pair leftovers by an identity key, then by position when the counts match.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        let mut a_rest = Vec::new();
        for ai in a_left {
            let found = identity(&a[ai]).and_then(|id| b_left.iter().position(|bi| identity(&b[*bi]) == Some(id)));
            match found {
                Some(pos) => pairs.push((b_left.remove(pos), ai)),
                None => a_rest.push(ai),
            }
        }
        // Then by similarity: objects sharing at least half of their entries.
        let mut unpaired = Vec::new();
        for ai in a_rest {
            let best = b_left
                .iter()
                .enumerate()
                .map(|(pos, bi)| (pos, similarity(&b[*bi], &a[ai])))
                .filter(|(_, s)| *s > 0)
                .max_by_key(|(pos, s)| (*s, std::cmp::Reverse(*pos)));
            match best {
                Some((pos, _)) => pairs.push((b_left.remove(pos), ai)),
                None => unpaired.push(ai),
            }
        }
        let mut a_rest = unpaired;
        if a_rest.len() == b_left.len() {
            pairs.extend(b_left.drain(..).zip(a_rest.drain(..)));
        }
        if b_left.is_empty() && a_rest.is_empty() {
            for (bi, ai) in &pairs {
                if let Some(o) = origin.get_mut(*ai) {
                    *o = Some(*bi);
                }
            }
            let order: Vec<usize> = origin.iter().flatten().copied().collect();
            if order.windows(2).any(|w| w[0] > w[1]) {
                self.hidden.reordered += 1;
                self.push(ChangeKind::Reorder, None, None, false);
            }
        }
        pairs.sort_by_key(|p| p.1);
        for (bi, ai) in pairs {
            if let (Some(bv), Some(av)) = (b.get(bi), a.get(ai)) {
                self.path.push(Seg::Index(ai));
                self.walk(bv, av, key, false, in_json);
                self.path.pop();
            }
        }
        for bi in b_left {
            self.path.push(Seg::Index(bi));
            self.emit(ChangeKind::Remove, b.get(bi), None, key);
            self.path.pop();
        }
        for ai in a_rest {
            self.path.push(Seg::Index(ai));
            self.emit(ChangeKind::Add, None, a.get(ai), key);
            self.path.pop();
        }
    }

    fn ordered_diff(&mut self, b: &[Value], a: &[Value], key: &str, in_json: bool) {
        if b.len() == a.len() || b.len().saturating_mul(a.len()) > 250_000 {
            let common = b.len().min(a.len());
            for (i, (bv, av)) in b.iter().zip(a.iter()).enumerate() {
                self.path.push(Seg::Index(i));
                self.walk(bv, av, key, false, in_json);
                self.path.pop();
            }
            for (i, bv) in b.iter().enumerate().skip(common) {
                self.path.push(Seg::Index(i));
                self.emit(ChangeKind::Remove, Some(bv), None, key);
                self.path.pop();
            }
            for (i, av) in a.iter().enumerate().skip(common) {
                self.path.push(Seg::Index(i));
                self.emit(ChangeKind::Add, None, Some(av), key);
                self.path.pop();
            }
            return;
        }
        // Longest common subsequence: inserted and deleted items, the rest kept.
        let (n, m) = (b.len(), a.len());
        let mut table = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                table[at(i, j)] = if b[i] == a[j] {
                    table[at(i + 1, j + 1)] + 1
                } else {
                    table[at(i + 1, j)].max(table[at(i, j + 1)])
                };
            }
        }
        // Walk the table; between two kept items, pair deleted and inserted items by position
        // (a changed item), the rest are removed or added.
        let (mut i, mut j) = (0, 0);
        let (mut dels, mut inss): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        while i < n || j < m {
            if i < n && j < m && b[i] == a[j] {
                self.flush_run(b, a, &mut dels, &mut inss, key, in_json);
                i += 1;
                j += 1;
            } else if j < m && (i == n || table[at(i, j + 1)] >= table[at(i + 1, j)]) {
                inss.push(j);
                j += 1;
            } else {
                dels.push(i);
                i += 1;
            }
        }
        self.flush_run(b, a, &mut dels, &mut inss, key, in_json);
    }

    fn flush_run(
        &mut self,
        b: &[Value],
        a: &[Value],
        dels: &mut Vec<usize>,
        inss: &mut Vec<usize>,
        key: &str,
        in_json: bool,
    ) {
        let paired = dels.len().min(inss.len());
        for (bi, ai) in dels.iter().zip(inss.iter()) {
            if let (Some(bv), Some(av)) = (b.get(*bi), a.get(*ai)) {
                self.path.push(Seg::Index(*ai));
                self.walk(bv, av, key, false, in_json);
                self.path.pop();
            }
        }
        for bi in dels.iter().skip(paired) {
            self.path.push(Seg::Index(*bi));
            self.emit(ChangeKind::Remove, b.get(*bi), None, key);
            self.path.pop();
        }
        for ai in inss.iter().skip(paired) {
            self.path.push(Seg::Index(*ai));
            self.emit(ChangeKind::Add, None, a.get(*ai), key);
            self.path.pop();
        }
        dels.clear();
        inss.clear();
    }

    fn emit(&mut self, kind: ChangeKind, b: Option<&Value>, a: Option<&Value>, key: &str) {
        let mb = b.map(|v| normalise::mask(v, key));
        let ma = a.map(|v| normalise::mask(v, key));
        let masked = mb.as_ref().is_some_and(|m| m.1) || ma.as_ref().is_some_and(|m| m.1);
        if masked {
            self.hidden.masked += 1;
        }
        self.push(kind, mb.map(|m| m.0), ma.map(|m| m.0), masked);
    }

    fn push(&mut self, kind: ChangeKind, before: Option<Value>, after: Option<Value>, masked: bool) {
        let mut path = String::new();
        let mut json_path: Option<String> = None;
        for seg in &self.path {
            let target = json_path.as_mut().unwrap_or(&mut path);
            match seg {
                Seg::Key(k) => push_pointer_segment(target, k),
                Seg::Index(i) => push_pointer_index(target, *i),
                Seg::Json => {
                    if json_path.is_none() {
                        json_path = Some(String::new());
                    }
                }
            }
        }
        self.out.push(PropertyChange {
            path,
            json_path,
            kind,
            before,
            after,
            masked,
            forces_replacement: None,
        });
    }
}

/// The key masking is judged by: a `NoEcho` parameter's `Default` is always a secret.
fn mkey(no_echo: bool, k: &str) -> &str {
    if no_echo && k == "Default" {
        normalise::SECRET_KEY
    } else {
        k
    }
}

/// Entries two objects share (same key, same value) when that is at least half of the larger
/// one; 0 otherwise.
fn similarity(b: &Value, a: &Value) -> usize {
    let (Some(bo), Some(ao)) = (b.as_object(), a.as_object()) else {
        return 0;
    };
    let shared = bo.iter().filter(|(k, v)| ao.get(*k) == Some(*v)).count();
    if shared * 2 >= bo.len().max(ao.len()) {
        shared
    } else {
        0
    }
}

fn identity(v: &Value) -> Option<(&'static str, &str)> {
    let obj: &Map<String, Value> = v.as_object()?;
    IDENTITY_KEYS
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str).map(|s| (*k, s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(b: Value, a: Value, rules: &Rules) -> (Vec<PropertyChange>, Hidden) {
        let mut out = Vec::new();
        let mut hidden = Hidden::default();
        diff_values(&b, &a, rules, "", &mut out, &mut hidden);
        (out, hidden)
    }

    #[test]
    fn iam_actions_reordered_is_one_reorder_change() {
        let b = json!({"Statement": [{"Effect": "Allow", "Action": ["a", "b"], "Resource": "*"}]});
        let a = json!({"Statement": [{"Effect": "Allow", "Action": ["b", "a"], "Resource": "*"}]});
        let (out, hidden) = run(b, a, &Rules::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, ChangeKind::Reorder);
        assert_eq!(out[0].path, "/Statement/0/Action");
        assert_eq!(hidden.reordered, 1);
    }

    #[test]
    fn json_in_strings_is_diffed_structurally() {
        let b = json!({"Body": "{\"widgets\": [{\"title\": \"a\"}]}"});
        let a = json!({"Body": "{\"widgets\":[{\"title\":\"b\"}]}"});
        let (out, _) = run(b, a, &Rules::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].path, "/Body");
        assert_eq!(out[0].json_path.as_deref(), Some("/widgets/0/title"));
        assert_eq!(out[0].after, Some(json!("b")));
    }

    #[test]
    fn ordered_insertion_is_one_add() {
        let (out, _) = run(json!(["a", "c"]), json!(["a", "b", "c"]), &Rules::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, ChangeKind::Add);
        assert_eq!(out[0].path, "/1");
    }

    #[test]
    fn tags_pair_by_key() {
        let rules = Rules {
            unordered: vec![vec!["Tags".into()]],
            resource_level: true,
        };
        let b = json!({"Properties": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}});
        let a = json!({"Properties": {"Tags": [{"Key": "b", "Value": "3"}, {"Key": "a", "Value": "1"}]}});
        let (out, hidden) = run(b, a, &rules);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].kind, ChangeKind::Reorder);
        assert_eq!(out[0].path, "/Properties/Tags");
        assert_eq!(out[1].path, "/Properties/Tags/0/Value");
        assert_eq!(out[1].before, Some(json!("2")));
        assert_eq!(hidden.reordered, 1);
    }
}
