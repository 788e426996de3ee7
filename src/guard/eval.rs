//! Evaluation of a parsed rules file against one data document, with cfn-guard 3.2.1's
//! PASS / FAIL / SKIP rules (GUARD.md sections 4-8, 10, 11).
//!
//! Queries borrow the converted document (`&Node`); only function results and captured keys are
//! owned (`Rc<Node>`).

use rustc_hash::FxHashMap as HashMap;
use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::Rc;

use super::ast::*;
use super::lexer::Span;
use super::value::{GVal, Node, compare_eq, compare_values, loose_eq};
use super::{Evaluation, GuardError, RuleResult, Status, Violation};

/// Deepest chain of rule references / parameterized rule calls followed.
pub const MAX_CALL_DEPTH: usize = 32;

#[derive(Clone, Debug)]
pub enum Val<'a> {
    B(&'a Node<'a>),
    O(Rc<Node<'a>>),
}

impl<'a> Deref for Val<'a> {
    type Target = Node<'a>;
    fn deref(&self) -> &Node<'a> {
        match self {
            Val::B(n) => n,
            Val::O(n) => n,
        }
    }
}

/// A query's results: most queries select one value, kept inline.
pub(super) type QRs<'a> = smallvec::SmallVec<[QR<'a>; 2]>;

/// A query that stopped before its end: the deepest value reached and why. The reason's text
/// is only built when a report needs it (gates and filters never do).
#[derive(Clone, Debug)]
pub struct Unres<'a> {
    at: Val<'a>,
    why: Why<'a>,
}

#[derive(Clone, Debug)]
enum Why<'a> {
    /// `.k` on a value that is not a map.
    KeyOnNonMap(&'a str),
    MissingKey(&'a str),
    /// A key named by a variable's value.
    MissingVarKey(String),
    /// `.%name` on a value that is not a map.
    VarKeysOnNonMap(&'a str),
    VarIndexOut(i64, &'a str),
    EmptyList,
    EmptyMap,
    Filter,
    KeyFilter,
    IndexOnNonList(i64),
    IndexOut(i64),
}

impl Unres<'_> {
    /// Pointer of the deepest value reached.
    pub fn path(&self) -> &str {
        &self.at.path
    }

    pub fn reason(&self) -> String {
        let ty = self.at.type_name();
        match &self.why {
            Why::KeyOnNonMap(k) => format!("cannot look up key `{k}`: the value is a {ty}"),
            Why::MissingKey(k) => format!("missing key `{k}`"),
            Why::MissingVarKey(k) => format!("missing key `{k}`"),
            Why::VarKeysOnNonMap(name) => format!("cannot look up keys of `%{name}`: the value is a {ty}"),
            Why::VarIndexOut(i, name) => format!("index {i} out of range of `%{name}`"),
            Why::EmptyList => "empty list".into(),
            Why::EmptyMap => "empty map".into(),
            Why::Filter => format!("cannot filter a {ty}"),
            Why::KeyFilter => format!("cannot filter the keys of a {ty}"),
            Why::IndexOnNonList(i) => format!("cannot index [{i}]: the value is a {ty}"),
            Why::IndexOut(i) => {
                let n = match &self.at.val {
                    GVal::List(l) => l.len(),
                    _ => 0,
                };
                format!("index {i} out of range (length {n})")
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum QR<'a> {
    Res(Val<'a>),
    Lit(Val<'a>),
    Unres(Unres<'a>),
}

impl<'a> QR<'a> {
    fn val(&self) -> Option<&Val<'a>> {
        match self {
            QR::Res(v) | QR::Lit(v) => Some(v),
            QR::Unres(_) => None,
        }
    }
}

fn owned<'a>(n: &Node<'a>) -> Val<'a> {
    Val::O(Rc::new(n.clone()))
}

impl<'a> Val<'a> {
    fn get_key(&self, k: &str) -> Option<Val<'a>> {
        match self {
            Val::B(n) => match &n.val {
                GVal::Map(m) => m.get(k).map(Val::B),
                _ => None,
            },
            Val::O(n) => match &n.val {
                GVal::Map(m) => m.get(k).map(owned),
                _ => None,
            },
        }
    }
    fn get_index(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Val::B(n) => match &n.val {
                GVal::List(l) => l.get(i).map(Val::B),
                _ => None,
            },
            Val::O(n) => match &n.val {
                GVal::List(l) => l.get(i).map(owned),
                _ => None,
            },
        }
    }
    fn elements(&self) -> Vec<Val<'a>> {
        match self {
            Val::B(n) => match &n.val {
                GVal::List(l) => l.iter().map(Val::B).collect(),
                _ => vec![],
            },
            Val::O(n) => match &n.val {
                GVal::List(l) => l.iter().map(owned).collect(),
                _ => vec![],
            },
        }
    }
    fn map_values(&self) -> Vec<Val<'a>> {
        match self {
            Val::B(n) => match &n.val {
                GVal::Map(m) => m.values().map(Val::B).collect(),
                _ => vec![],
            },
            Val::O(n) => match &n.val {
                GVal::Map(m) => m.values().map(owned).collect(),
                _ => vec![],
            },
        }
    }
    fn entries(&self) -> Vec<(String, Val<'a>)> {
        match self {
            Val::B(n) => match &n.val {
                GVal::Map(m) => m.iter().map(|(k, v)| (k.to_string(), Val::B(v))).collect(),
                _ => vec![],
            },
            Val::O(n) => match &n.val {
                GVal::Map(m) => m.iter().map(|(k, v)| (k.to_string(), owned(v))).collect(),
                _ => vec![],
            },
        }
    }
}

/// Role of a clause: an assertion in a rule body fails closed, a gate (`when`, filter) does not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Role {
    Assertion,
    Gate,
}

#[derive(Debug)]
pub enum EvErr {
    /// cfn-guard's IncompatibleError: FAIL in an assertion, propagates through gates.
    Unevaluatable(String, Span),
    Fatal(GuardError),
}

type R<T> = Result<T, EvErr>;

/// Collects violations when on (assertions); off inside gates and filters.
pub struct Sink {
    on: bool,
    v: Vec<Violation>,
}

impl Sink {
    fn new(on: bool) -> Sink {
        Sink { on, v: vec![] }
    }
    fn child(&self) -> Sink {
        Sink::new(self.on)
    }
    fn push(&mut self, f: impl FnOnce() -> Violation) {
        if self.on {
            self.v.push(f());
        }
    }
}

pub struct Scope<'s, 'a> {
    parent: Option<&'s Scope<'s, 'a>>,
    root: Val<'a>,
    lets: &'a [Let],
    bound: RefCell<HashMap<String, Rc<Vec<QR<'a>>>>>,
}

impl<'s, 'a> Scope<'s, 'a> {
    fn new(parent: Option<&'s Scope<'s, 'a>>, root: Val<'a>, lets: &'a [Let]) -> Self {
        Scope {
            parent,
            root,
            lets,
            bound: RefCell::new(HashMap::default()),
        }
    }
}

struct Ev<'a> {
    file: &'a RulesFile,
    rules: HashMap<&'a str, Vec<&'a Rule>>,
    params: HashMap<&'a str, &'a ParamRule>,
    cache: RefCell<HashMap<(&'a str, Role), Status>>,
    in_progress: RefCell<Vec<&'a str>>,
    depth: Cell<usize>,
    regex_cache: RefCell<HashMap<String, Rc<fancy_regex::Regex>>>,
    /// Per conjunction (by address and length: a filter's clauses after its first are one
    /// too): `quiet[i]` is whether every clause from disjunction `i`
    /// on is a [`quiet_clause`] (see [`Ev::quiet_after`]).
    quiet: RefCell<QuietTables>,
    /// Per map of the document (by address) and key, shared by every rules file evaluated on
    /// the document: see [`Ev::preselected`].
    key_index: &'a KeyIndexes<'a>,
}

/// The values of one map grouped by the string each holds at one key: the positions (in map
/// order) of the values whose key holds each string, and of the others (not a map, key absent,
/// not a string), which only the general path can judge.
struct KeyIndex<'a> {
    by_value: HashMap<&'a str, Vec<usize>>,
    other: Vec<usize>,
}

/// Per conjunction (address and length of its disjunctions), see [`Ev::quiet_after`].
type QuietTables = HashMap<(usize, usize), Rc<[bool]>>;

/// What a filter's opening key test says of a value ([`Ev::preselected`]): its key holds a
/// string the test accepts or refuses, or something only the whole filter can judge.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum KeyVerdict {
    Accepted,
    Refused,
    Other,
}

/// See [`Ev::preselected`]: the map, the filter, and the values to visit with their verdicts.
type Preselected<'a> = (&'a super::value::GMap<'a>, &'a Conj<Clause>, Vec<(usize, KeyVerdict)>);

/// The [`KeyIndex`]es of one document, by map address and key.
type KeyIndexes<'a> = RefCell<HashMap<(usize, &'a str), Rc<KeyIndex<'a>>>>;

fn status_of(fails: usize, passes: usize) -> Status {
    if fails > 0 {
        Status::Fail
    } else if passes > 0 {
        Status::Pass
    } else {
        Status::Skip
    }
}

/// Evaluates every rule of `rules` on `data` (a CloudFormation template or any document).
pub fn evaluate(rules: &RulesFile, data: &serde_json::Value) -> Result<Evaluation, GuardError> {
    let mut out = evaluate_many(&[rules], data)?;
    Ok(out.pop().unwrap_or(Evaluation { rules: Vec::new() }))
}

/// Evaluates several rules files on one document, converting the document once (the costly
/// part when many files run on the same template). Results are in the order of `files`.
pub fn evaluate_many(files: &[&RulesFile], data: &serde_json::Value) -> Result<Vec<Evaluation>, GuardError> {
    evaluate_many_where(files, data, &|_, _| true)
}

/// [`evaluate_many`] for the rules `wanted` (index of the file, rule name) accepts: the others
/// get no result and are evaluated only if a wanted rule refers to them. A rule a profile turns
/// off costs nothing, and cannot make the run fail.
pub fn evaluate_many_where(
    files: &[&RulesFile],
    data: &serde_json::Value,
    wanted: &dyn Fn(usize, &str) -> bool,
) -> Result<Vec<Evaluation>, GuardError> {
    let Some(root) = Node::from_json_checked(data) else {
        return Err(GuardError::Eval {
            file: files.first().map(|f| f.file_name.clone()).unwrap_or_default(),
            line: 0,
            col: 0,
            message: format!(
                "the data document nests deeper than {} levels",
                super::value::MAX_DATA_DEPTH
            ),
        });
    };
    let suppressed = suppressions_by_rule(data);
    let key_index = KeyIndexes::default();
    files
        .iter()
        .enumerate()
        .map(|(i, rules)| evaluate_root(rules, &suppressed, &root, &key_index, &|name| wanted(i, name)))
        .collect()
}

/// Rule name -> logical ids whose `Metadata.guard.SuppressedRules` (a list or a single string)
/// names it, read once per document, not once per rule.
fn suppressions_by_rule(data: &serde_json::Value) -> HashMap<&str, Vec<String>> {
    let mut out: HashMap<&str, Vec<String>> = HashMap::default();
    let Some(res) = data.get("Resources").and_then(|r| r.as_object()) else {
        return out;
    };
    for (id, r) in res {
        let named = r
            .get("Metadata")
            .and_then(|m| m.get("guard"))
            .and_then(|g| g.get("SuppressedRules"));
        let names: Vec<&str> = match named {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => continue,
        };
        for name in names {
            let ids = out.entry(name).or_default();
            // A resource listing a rule twice is still one suppression.
            if ids.last() != Some(id) {
                ids.push(id.clone());
            }
        }
    }
    out
}

fn evaluate_root<'a>(
    rules: &'a RulesFile,
    suppressed: &HashMap<&str, Vec<String>>,
    root: &'a Node,
    key_index: &'a KeyIndexes<'a>,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Evaluation, GuardError> {
    let ev = Ev::new(rules, key_index);
    let scope = Scope::new(None, Val::B(root), &rules.lets);
    let mut out = Vec::with_capacity(rules.rules.len());
    for rule in rules.rules.iter().filter(|r| wanted(&r.name)) {
        // First for the verdict alone: most rules pass, and the violations a passing rule meets
        // on the way (the first half of an `or` that holds, a `some` that finds one) are never
        // reported. A failing rule is evaluated again to collect its violations: the sink only
        // collects, so the second run meets the same values, verdicts and errors.
        let mut sink = Sink::new(false);
        let mut status = match ev.rule(rule, &scope, Role::Assertion, &mut sink) {
            Ok(s) => s,
            Err(e) => return Err(ev.to_error(e)),
        };
        if status == Status::Fail {
            sink = Sink::new(true);
            status = match ev.rule(rule, &scope, Role::Assertion, &mut sink) {
                Ok(s) => s,
                Err(e) => return Err(ev.to_error(e)),
            };
        }
        let mut violations = if status == Status::Fail { sink.v } else { vec![] };
        for v in &mut violations {
            v.rule_path.insert(0, rule.name.clone());
        }
        out.push(RuleResult {
            name: rule.name.clone(),
            status,
            violations,
            suppressed_for: suppressed.get(rule.name.as_str()).cloned().unwrap_or_default(),
            line: rule.span.line,
            col: rule.span.col,
        });
    }
    Ok(Evaluation { rules: out })
}

/// A key's spellings by cfn-guard's converters (cruet 0.14's camel, class, kebab, pascal, snake,
/// title and train cases, in that order, as cfn-guard 3.2.1 uses them): a key missing from a
/// map is looked up under each spelling in turn, and the converter that finds it is the only
/// one tried for the keys below it.
struct Variants {
    /// Each converter's spelling, by index in that order; the class slot is empty (see `class`).
    all: [String; CONVERTERS],
    /// The class spelling is the class-cased key with its last word made singular, and
    /// cruet's singularization compiles some thirty regexes the first time (10 ms, more than a
    /// whole synth): it is computed only for a map with a key it could be (see
    /// [`Variants::class_may_be`]).
    class_prefix: String,
    class_last: String,
    /// What a key must start with, and its length range in bytes, to be the class spelling
    /// (`None`: any key may be; see [`Variants::class_may_be`]).
    class_bounds: Option<(String, usize, usize)>,
    class: std::cell::OnceCell<String>,
}

/// How many converters cfn-guard tries, and the class converter's place among them.
const CONVERTERS: usize = 7;
const CLASS: usize = 1;

impl Variants {
    fn of(key: &str) -> Variants {
        use cruet::case::{CamelOptions, to_case_camel_like};
        // `cruet::to_class_case` up to its singularization.
        let plural = to_case_camel_like(
            key,
            CamelOptions {
                new_word: true,
                last_char: ' ',
                first_word: false,
                injectable_char: ' ',
                has_seperator: false,
                inverted: false,
                concat_num: true,
            },
        );
        let (prefix, last) = plural.split_at(plural.rfind(char::is_uppercase).unwrap_or(0));
        Variants {
            class_bounds: Self::class_bounds(prefix, last),
            all: [
                cruet::to_camel_case(key),
                String::new(),
                cruet::to_kebab_case(key),
                cruet::to_pascal_case(key),
                cruet::to_snake_case(key),
                cruet::to_title_case(key),
                cruet::to_train_case(key),
            ],
            class_prefix: prefix.to_string(),
            class_last: last.to_string(),
            class: std::cell::OnceCell::new(),
        }
    }

    /// Converter `c`'s spelling, when it could name a key of `map` (the class spelling is
    /// made only then).
    fn spelling(&self, c: usize, map: &Val<'_>) -> Option<&str> {
        if c != CLASS {
            return self.all.get(c).map(String::as_str);
        }
        if self.class.get().is_none() && !self.class_may_be(map) {
            return None;
        }
        Some(self.class.get_or_init(|| {
            let last = &self.class_last;
            let mut chars = last.chars();
            let singular = match (chars.next(), chars.next()) {
                // One character: no rule but `(\w*)s$` takes one, and that needs "s" (test).
                (Some(c), None) if c != 's' => last.clone(),
                (Some('s'), None) => String::new(),
                _ => cruet::string::to_singular(last),
            };
            format!("{}{singular}", self.class_prefix)
        }))
    }

    /// Whether `map` has a key the class spelling could be, told without singularizing.
    fn class_may_be(&self, map: &Val<'_>) -> bool {
        let Some((head, min, max)) = &self.class_bounds else {
            return true;
        };
        match &map.val {
            GVal::Map(m) => m
                .keys()
                .any(|k| (*min..=*max).contains(&k.len()) && k.starts_with(head.as_str())),
            _ => false,
        }
    }

    /// The bounds [`Variants::class_may_be`] checks. The last word starts with a capital (the
    /// split is at the last one) and cruet's rules are anchored at the end with lower-case
    /// suffixes: the singular keeps the word's first character and all but its last five, and
    /// is at most one character longer (tests check both on cruet's own rules). A word that
    /// does not start with a capital, or of one character, gets no bounds.
    fn class_bounds(prefix: &str, last: &str) -> Option<(String, usize, usize)> {
        if !last.starts_with(char::is_uppercase) || last.chars().nth(1).is_none() {
            return None;
        }
        let n = last.chars().count();
        let keep = last
            .char_indices()
            .nth(n.saturating_sub(5).max(1))
            .map_or(last.len(), |(i, _)| i);
        let head = format!("{prefix}{}", &last[..keep]);
        let min = head.len();
        Some((head, min, prefix.len() + last.len() + 1))
    }
}

/// A comparison's outcomes, most often one, kept inline.
type Crs<'a> = smallvec::SmallVec<[Cr<'a>; 2]>;

/// One comparison's outcome (cfn-guard's operators.rs shapes).
enum Cr<'a> {
    LhsUnres(Unres<'a>),
    RhsUnres(Val<'a>, Unres<'a>),
    NotComparable(Val<'a>, Val<'a>),
    Value {
        ok: bool,
        lhs: Val<'a>,
        rhs: Val<'a>,
    },
    ListIn {
        ok: bool,
        lhs: Val<'a>,
        rhs: Val<'a>,
        diff: Vec<Val<'a>>,
    },
    QueryIn {
        ok: bool,
        lhs: Vec<Val<'a>>,
        rhs: Vec<Val<'a>>,
        diff: Vec<Val<'a>>,
    },
}

fn is_literal<'a>(q: &[QR<'a>]) -> Option<Val<'a>> {
    match q {
        [QR::Lit(v)] => Some(v.clone()),
        _ => None,
    }
}

fn match_value<'a>(l: Val<'a>, r: Val<'a>) -> Cr<'a> {
    match compare_eq(&l, &r) {
        Ok(ok) => Cr::Value { ok, lhs: l, rhs: r },
        Err(_) => Cr::NotComparable(l, r),
    }
}

fn match_with<'a>(l: Val<'a>, r: Val<'a>, op: Op) -> Cr<'a> {
    match compare_values(&l, &r) {
        Ok(o) => {
            let ok = match op {
                Op::Lt => o.is_lt(),
                Op::Le => o.is_le(),
                Op::Gt => o.is_gt(),
                Op::Ge => o.is_ge(),
                _ => o.is_eq(),
            };
            Cr::Value { ok, lhs: l, rhs: r }
        }
        Err(_) => Cr::NotComparable(l, r),
    }
}

fn contains(list: &[Val<'_>], x: &Node) -> bool {
    list.iter().any(|e| loose_eq(e, x))
}

fn string_in<'a>(l: &Val<'a>, r: &Val<'a>) -> Cr<'a> {
    match (&l.val, &r.val) {
        (GVal::Str(a), GVal::Str(b)) => Cr::Value {
            ok: b.contains(&**a),
            lhs: l.clone(),
            rhs: r.clone(),
        },
        _ => Cr::NotComparable(l.clone(), r.clone()),
    }
}

fn contained_in<'a>(l: &Val<'a>, r: &Val<'a>) -> Cr<'a> {
    if l.is_list() {
        if !r.is_list() {
            return Cr::NotComparable(l.clone(), r.clone());
        }
        let rl = r.elements();
        if rl.first().is_some_and(|f| f.is_list()) {
            let ok = contains(&rl, l);
            let diff = if ok { vec![] } else { vec![l.clone()] };
            return Cr::ListIn {
                ok,
                lhs: l.clone(),
                rhs: r.clone(),
                diff,
            };
        }
        let diff: Vec<Val<'a>> = l.elements().into_iter().filter(|e| !contains(&rl, e)).collect();
        return Cr::ListIn {
            ok: diff.is_empty(),
            lhs: l.clone(),
            rhs: r.clone(),
            diff,
        };
    }
    if r.is_list() {
        let ok = contains(&r.elements(), l);
        return Cr::Value {
            ok,
            lhs: l.clone(),
            rhs: r.clone(),
        };
    }
    match_value(l.clone(), r.clone())
}

fn selected<'a>(q: &[QR<'a>], mut on_unres: impl FnMut(&Unres<'a>)) -> Vec<Val<'a>> {
    let mut out = Vec::with_capacity(q.len());
    for e in q {
        match e {
            QR::Res(v) | QR::Lit(v) => out.push(v.clone()),
            QR::Unres(u) => on_unres(u),
        }
    }
    out
}

fn flattened<'a>(q: &[QR<'a>], on_unres: impl FnMut(&Unres<'a>)) -> Vec<Val<'a>> {
    let mut out = vec![];
    for v in selected(q, on_unres) {
        if v.is_list() {
            out.extend(v.elements());
        } else {
            out.push(v);
        }
    }
    out
}

fn rhs_unres_for_each<'a>(results: &mut Crs<'a>, lhs: &[Val<'a>], u: &Unres<'a>) {
    for l in lhs {
        results.push(Cr::RhsUnres(l.clone(), u.clone()));
    }
}

fn compare_eq_op<'a>(lhs: &[QR<'a>], rhs: &[QR<'a>]) -> Crs<'a> {
    let mut results = Crs::new();
    match (is_literal(lhs), is_literal(rhs)) {
        (Some(l), Some(r)) => results.push(match_value(l, r)),
        (Some(l), None) => {
            let mut un = vec![];
            let rs = selected(rhs, |u| un.push(u.clone()));
            for u in un {
                results.push(Cr::RhsUnres(l.clone(), u));
            }
            if l.is_list() {
                for r in rs {
                    results.push(match_value(l.clone(), r));
                }
            } else {
                for r in rs {
                    if r.is_list() {
                        for e in r.elements() {
                            results.push(match_value(l.clone(), e));
                        }
                    } else {
                        results.push(match_value(l.clone(), r));
                    }
                }
            }
        }
        (None, Some(r)) => {
            let rl = r.elements();
            for q in lhs {
                let l = match q {
                    QR::Unres(u) => {
                        results.push(Cr::LhsUnres(u.clone()));
                        continue;
                    }
                    QR::Res(v) | QR::Lit(v) => v.clone(),
                };
                if r.is_list() {
                    match (l.is_scalar(), rl.as_slice()) {
                        (true, [single]) => results.push(match_value(l, single.clone())),
                        _ => results.push(match_value(l, r.clone())),
                    }
                } else if l.is_list() {
                    for e in l.elements() {
                        results.push(match_value(e, r.clone()));
                    }
                } else {
                    results.push(match_value(l, r.clone()));
                }
            }
        }
        (None, None) => {
            let ls = selected(lhs, |u| results.push(Cr::LhsUnres(u.clone())));
            let mut un = vec![];
            let rs = selected(rhs, |u| un.push(u.clone()));
            for u in &un {
                rhs_unres_for_each(&mut results, &ls, u);
            }
            let diff: Vec<Val<'a>> = if ls.len() > rs.len() {
                ls.iter().filter(|e| !contains(&rs, e)).cloned().collect()
            } else {
                rs.iter().filter(|e| !contains(&ls, e)).cloned().collect()
            };
            results.push(Cr::QueryIn {
                ok: diff.is_empty(),
                lhs: ls,
                rhs: rs,
                diff,
            });
        }
    }
    results
}

fn compare_in_op<'a>(lhs: &[QR<'a>], rhs: &[QR<'a>]) -> Crs<'a> {
    let mut results = Crs::new();
    match (is_literal(lhs), is_literal(rhs)) {
        (Some(l), Some(r)) => {
            let s = string_in(&l, &r);
            results.push(match s {
                Cr::Value { ok: true, .. } => s,
                _ => contained_in(&l, &r),
            });
        }
        (Some(l), None) => {
            let mut un = vec![];
            let rs = selected(rhs, |u| un.push(u.clone()));
            for u in un {
                results.push(Cr::RhsUnres(l.clone(), u));
            }
            if rs.iter().any(|e| e.is_list()) {
                for r in &rs {
                    results.push(contained_in(&l, r));
                }
            } else if l.is_list() {
                let diff: Vec<Val<'a>> = l.elements().into_iter().filter(|e| !contains(&rs, e)).collect();
                results.push(Cr::QueryIn {
                    ok: diff.is_empty(),
                    lhs: vec![l.clone()],
                    rhs: rs,
                    diff,
                });
            } else {
                for r in &rs {
                    results.push(contained_in(&l, r));
                }
            }
        }
        (None, Some(r)) => {
            for q in lhs {
                let l = match q {
                    QR::Unres(u) => {
                        results.push(Cr::LhsUnres(u.clone()));
                        continue;
                    }
                    QR::Res(v) | QR::Lit(v) => v.clone(),
                };
                if matches!(r.val, GVal::Str(_)) {
                    if l.is_list() {
                        for e in l.elements() {
                            results.push(string_in(&e, &r));
                        }
                    } else {
                        results.push(string_in(&l, &r));
                    }
                } else {
                    results.push(contained_in(&l, &r));
                }
            }
        }
        (None, None) => {
            let ls = selected(lhs, |u| results.push(Cr::LhsUnres(u.clone())));
            let mut un = vec![];
            let rs = selected(rhs, |u| un.push(u.clone()));
            for u in &un {
                rhs_unres_for_each(&mut results, &ls, u);
            }
            let diff: Vec<Val<'a>> = ls
                .iter()
                .filter(|l| {
                    !rs.iter().any(|r| {
                        matches!(
                            contained_in(l, r),
                            Cr::Value { ok: true, .. } | Cr::ListIn { ok: true, .. }
                        )
                    })
                })
                .cloned()
                .collect();
            results.push(Cr::QueryIn {
                ok: diff.is_empty(),
                lhs: ls,
                rhs: rs,
                diff,
            });
        }
    }
    results
}

fn compare_common<'a>(lhs: &[QR<'a>], rhs: &[QR<'a>], op: Op) -> Crs<'a> {
    let mut results = Crs::new();
    let ls = flattened(lhs, |u| results.push(Cr::LhsUnres(u.clone())));
    let mut un = vec![];
    let rs = flattened(rhs, |u| un.push(u.clone()));
    for u in &un {
        rhs_unres_for_each(&mut results, &ls, u);
    }
    for l in &ls {
        for r in &rs {
            results.push(match_with(l.clone(), r.clone(), op));
        }
    }
    results
}

/// The `not` form of a comparison, as cfn-guard 3.2.1 derives it from the positive one.
fn negate<'a>(cr: Cr<'a>, op: Op, lhs_len: usize, rhs_len: usize) -> Cr<'a> {
    match cr {
        Cr::Value { ok, lhs, rhs } => Cr::Value { ok: !ok, lhs, rhs },
        Cr::QueryIn {
            ok: false,
            lhs,
            rhs,
            diff,
        } => {
            let base = if rhs_len >= lhs_len && op == Op::Eq { &rhs } else { &lhs };
            let rd: Vec<Val<'a>> = base.iter().filter(|e| !contains(&diff, e)).cloned().collect();
            Cr::QueryIn {
                ok: rd.is_empty(),
                lhs,
                rhs,
                diff: rd,
            }
        }
        Cr::QueryIn { ok: true, lhs, rhs, .. } => Cr::QueryIn {
            ok: false,
            diff: lhs.clone(),
            lhs,
            rhs,
        },
        Cr::ListIn {
            ok: false,
            lhs,
            rhs,
            diff,
        } => {
            let rd: Vec<Val<'a>> = lhs.elements().into_iter().filter(|e| !contains(&diff, e)).collect();
            Cr::ListIn {
                ok: rd.is_empty(),
                lhs,
                rhs,
                diff: rd,
            }
        }
        Cr::ListIn { ok: true, lhs, rhs, .. } => Cr::ListIn {
            ok: false,
            diff: lhs.elements(),
            lhs,
            rhs,
        },
        rest => rest,
    }
}

impl<'a> Ev<'a> {
    fn new(file: &'a RulesFile, key_index: &'a KeyIndexes<'a>) -> Ev<'a> {
        let mut rules: HashMap<&str, Vec<&Rule>> = HashMap::default();
        for r in &file.rules {
            rules.entry(r.name.as_str()).or_default().push(r);
        }
        let params = file.param_rules.iter().map(|p| (p.rule.name.as_str(), p)).collect();
        Ev {
            file,
            rules,
            params,
            cache: RefCell::new(HashMap::default()),
            in_progress: RefCell::new(vec![]),
            depth: Cell::new(0),
            regex_cache: RefCell::new(HashMap::default()),
            quiet: RefCell::new(HashMap::default()),
            key_index,
        }
    }

    /// `Resources.*[ Type == 'AWS::S3::Bucket' ... ]`, the opening of most rules, scans every
    /// resource for every rule. When the filter after `.*` opens with a key test (`Key ==
    /// 'literal'` or `Key in ['literal', ...]`, see [`key_test`]), what the test says of a value
    /// whose key holds a string is known from an index built once per map and key: the filter
    /// and each value's position in map order with that verdict. A refused value is left out
    /// when nothing after the test can raise an error or bind (the condition of the fast path in
    /// [`Ev::filter_pass`]); otherwise it is kept, for the rest of the filter to run on it only
    /// for its errors and bindings, as cfn-guard evaluates them on a value the filter drops.
    fn preselected(&self, cur: &Val<'a>, next: Option<&'a QPart>) -> Option<Preselected<'a>> {
        let Val::B(node) = cur else { return None };
        let GVal::Map(map) = &node.val else { return None };
        let Some(QPart::Filter(None, conj)) = next else {
            return None;
        };
        let (key, test) = conj.first().and_then(|d| key_test(d))?;
        let slot = (std::ptr::from_ref(*node) as usize, key);
        let known = self.key_index.borrow().get(&slot).cloned();
        let index = known.unwrap_or_else(|| {
            let mut index = KeyIndex {
                by_value: HashMap::default(),
                other: Vec::new(),
            };
            for (i, v) in map.values().enumerate() {
                match &v.val {
                    GVal::Map(inner) => match inner.get(key) {
                        Some(Node { val: GVal::Str(s), .. }) => index.by_value.entry(&**s).or_default().push(i),
                        _ => index.other.push(i),
                    },
                    _ => index.other.push(i),
                }
            }
            let index = Rc::new(index);
            self.key_index.borrow_mut().insert(slot, Rc::clone(&index));
            index
        });
        let mut positions: Vec<(usize, KeyVerdict)> = index.other.iter().map(|&p| (p, KeyVerdict::Other)).collect();
        if self.quiet_after(conj, 0) {
            for lit in test.literals() {
                let at = index.by_value.get(lit).map_or(&[][..], Vec::as_slice);
                positions.extend(at.iter().map(|&p| (p, KeyVerdict::Accepted)));
            }
        } else {
            for (s, at) in &index.by_value {
                let verdict = if test.accepts(s) {
                    KeyVerdict::Accepted
                } else {
                    KeyVerdict::Refused
                };
                positions.extend(at.iter().map(|&p| (p, verdict)));
            }
        }
        positions.sort_unstable();
        // A list may name a string twice.
        positions.dedup();
        Some((map, conj, positions))
    }

    /// Whether every clause after disjunction `i` of `conj` can neither raise an error nor
    /// bind anything, worked out once per conjunction (filters ask it for every element).
    fn quiet_after(&self, conj: &[Vec<Clause>], i: usize) -> bool {
        let key = (conj.as_ptr() as usize, conj.len());
        let known = self.quiet.borrow().get(&key).cloned();
        let table = known.unwrap_or_else(|| {
            let mut table = vec![true; conj.len() + 1];
            for j in (0..conj.len()).rev() {
                table[j] = table[j + 1] && conj[j].iter().all(quiet_clause);
            }
            let table: Rc<[bool]> = table.into();
            self.quiet.borrow_mut().insert(key, Rc::clone(&table));
            table
        });
        table.get(i + 1).copied().unwrap_or(true)
    }

    fn to_error(&self, e: EvErr) -> GuardError {
        match e {
            EvErr::Fatal(g) => g,
            EvErr::Unevaluatable(message, span) => self.fatal_err(span, message),
        }
    }

    fn fatal_err(&self, span: Span, message: String) -> GuardError {
        GuardError::Eval {
            file: self.file.file_name.clone(),
            line: span.line,
            col: span.col,
            message,
        }
    }

    fn fatal<T>(&self, span: Span, message: String) -> R<T> {
        Err(EvErr::Fatal(self.fatal_err(span, message)))
    }

    // ---------------------------------------------------------------- variables

    fn resolve_var(&self, name: &str, scope: &Scope<'_, 'a>, span: Span) -> R<Rc<Vec<QR<'a>>>> {
        let mut s = Some(scope);
        while let Some(sc) = s {
            if let Some(v) = sc.bound.borrow().get(name) {
                return Ok(Rc::clone(v));
            }
            if let Some(l) = sc.lets.iter().rev().find(|l| l.name == name) {
                let vals = match &l.value {
                    LetValue::Lit(n) => vec![QR::Lit(Val::B(n))],
                    LetValue::Query(q) => {
                        let r = self.query(q, sc)?;
                        if q.match_all {
                            r.into_vec()
                        } else {
                            r.into_iter().filter(|x| !matches!(x, QR::Unres(_))).collect()
                        }
                    }
                    LetValue::Func(f) => self.call_function(f, sc)?.into_vec(),
                };
                let rc = Rc::new(vals);
                sc.bound.borrow_mut().insert(name.to_string(), Rc::clone(&rc));
                return Ok(rc);
            }
            s = sc.parent;
        }
        self.fatal(span, format!("unknown variable `%{name}`"))
    }

    pub(super) fn let_value(&self, v: &'a LetValue, scope: &Scope<'_, 'a>) -> R<QRs<'a>> {
        Ok(match v {
            LetValue::Lit(n) => smallvec::smallvec![QR::Lit(Val::B(n))],
            LetValue::Query(q) => self.query(q, scope)?,
            LetValue::Func(f) => self.call_function(f, scope)?,
        })
    }

    fn call_function(&self, f: &'a FnCall, scope: &Scope<'_, 'a>) -> R<QRs<'a>> {
        let mut args = Vec::with_capacity(f.args.len());
        for a in &f.args {
            args.push(self.let_value(a, scope)?);
        }
        super::functions::call(&self.regex_cache, &f.name, &args)
            .map(QRs::from_vec)
            .map_err(|m| EvErr::Unevaluatable(m, f.span))
    }

    // ---------------------------------------------------------------- queries

    pub(super) fn query(&self, q: &'a Query, scope: &Scope<'_, 'a>) -> R<QRs<'a>> {
        let mut out = QRs::new();
        self.retrieve(0, q, scope.root.clone(), scope.root.clone(), scope, None, &mut out)?;
        Ok(out)
    }

    fn unres(out: &mut QRs<'a>, at: &Val<'a>, why: Why<'a>) {
        out.push(QR::Unres(Unres { at: at.clone(), why }));
    }

    #[allow(clippy::too_many_arguments)]
    fn retrieve(
        &self,
        idx: usize,
        q: &'a Query,
        cur: Val<'a>,
        rroot: Val<'a>,
        scope: &Scope<'_, 'a>,
        conv: Option<usize>,
        out: &mut QRs<'a>,
    ) -> R<()> {
        let parts = &q.parts;
        let Some(part) = parts.get(idx) else {
            out.push(QR::Res(cur));
            return Ok(());
        };
        if idx == 0
            && let QPart::Var(name) = part
        {
            let vals = self.resolve_var(name, scope, q.span)?;
            let next = if matches!(parts.get(1), Some(QPart::AllIndices(_))) {
                2
            } else {
                1
            };
            for v in vals.iter() {
                match v.val() {
                    Some(val) if next < parts.len() => {
                        self.retrieve(next, q, val.clone(), val.clone(), scope, conv, out)?
                    }
                    _ => out.push(v.clone()),
                }
            }
            return Ok(());
        }
        match part {
            QPart::This => self.retrieve(idx + 1, q, cur, rroot.clone(), scope, conv, out),
            QPart::Key(k) => {
                if k.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
                    && let Ok(i) = k.parse::<i64>()
                {
                    return self.index(idx, q, cur, i, rroot, scope, conv, out);
                }
                if !matches!(cur.val, GVal::Map(_)) {
                    Self::unres(out, &cur, Why::KeyOnNonMap(k));
                    return Ok(());
                }
                if let Some(v) = cur.get_key(k) {
                    return self.retrieve(idx + 1, q, v, rroot.clone(), scope, conv, out);
                }
                let variants = self.variants(k);
                match conv {
                    Some(c) => {
                        if let Some(v) = variants.spelling(c, &cur).and_then(|name| cur.get_key(name)) {
                            return self.retrieve(idx + 1, q, v, rroot.clone(), scope, conv, out);
                        }
                    }
                    None => {
                        for c in 0..CONVERTERS {
                            if let Some(name) = variants.spelling(c, &cur)
                                && name != k
                                && let Some(v) = cur.get_key(name)
                            {
                                return self.retrieve(idx + 1, q, v, rroot.clone(), scope, Some(c), out);
                            }
                        }
                    }
                }
                Self::unres(out, &cur, Why::MissingKey(k));
                Ok(())
            }
            QPart::Index(i) => self.index(idx, q, cur, *i, rroot, scope, conv, out),
            QPart::Var(name) => {
                if !matches!(cur.val, GVal::Map(_)) {
                    Self::unres(out, &cur, Why::VarKeysOnNonMap(name));
                    return Ok(());
                }
                let keys = self.resolve_var(name, scope, q.span)?;
                let (keys, next): (Vec<QR<'a>>, usize) = match parts.get(idx + 1) {
                    Some(QPart::Index(i)) => {
                        let n = keys.len() as i64;
                        let j = if *i < 0 { n + *i } else { *i };
                        match keys.get(j as usize).filter(|_| j >= 0) {
                            Some(k) => (vec![k.clone()], idx + 2),
                            None => {
                                Self::unres(out, &cur, Why::VarIndexOut(*i, name));
                                return Ok(());
                            }
                        }
                    }
                    _ => (keys.to_vec(), idx + 1),
                };
                for k in keys {
                    match &k {
                        QR::Unres(u) => out.push(QR::Unres(u.clone())),
                        QR::Res(v) | QR::Lit(v) => {
                            let names: Vec<String> = match &v.val {
                                GVal::Str(s) => vec![s.to_string()],
                                GVal::List(l) => {
                                    let mut names = vec![];
                                    for e in l {
                                        match &e.val {
                                            GVal::Str(s) => names.push(s.to_string()),
                                            _ => {
                                                return Err(EvErr::Unevaluatable(
                                                    format!("`%{name}` returned a non-string key"),
                                                    q.span,
                                                ));
                                            }
                                        }
                                    }
                                    names
                                }
                                _ => {
                                    return Err(EvErr::Unevaluatable(
                                        format!("`%{name}` returned a non-string key"),
                                        q.span,
                                    ));
                                }
                            };
                            for n in names {
                                match cur.get_key(&n) {
                                    Some(v) => self.retrieve(next, q, v, rroot.clone(), scope, conv, out)?,
                                    None => Self::unres(out, &cur, Why::MissingVarKey(n)),
                                }
                            }
                        }
                    }
                }
                Ok(())
            }
            QPart::AllIndices(name) | QPart::AllValues(name) => {
                let all_values = matches!(part, QPart::AllValues(_));
                match &cur.val {
                    GVal::List(_) => {
                        // A list of the document: its items borrowed, no list of handles built.
                        if let Val::B(Node {
                            val: GVal::List(items), ..
                        }) = &cur
                        {
                            if items.is_empty() {
                                Self::unres(out, &cur, Why::EmptyList);
                            }
                            for e in items {
                                self.retrieve(idx + 1, q, Val::B(e), rroot.clone(), scope, conv, out)?;
                            }
                            return Ok(());
                        }
                        let els = cur.elements();
                        if els.is_empty() {
                            Self::unres(out, &cur, Why::EmptyList);
                        }
                        for e in els {
                            self.retrieve(idx + 1, q, e, rroot.clone(), scope, conv, out)?;
                        }
                        Ok(())
                    }
                    GVal::Map(_) => {
                        if !all_values && name.is_none() {
                            return self.retrieve(idx + 1, q, cur, rroot.clone(), scope, conv, out);
                        }
                        if let Some(n) = name {
                            let es = cur.entries();
                            if es.is_empty() {
                                Self::unres(out, &cur, Why::EmptyMap);
                            }
                            for (k, v) in es {
                                self.capture(scope, n, k);
                                self.retrieve(idx + 1, q, v.clone(), v, scope, conv, out)?;
                            }
                            return Ok(());
                        }
                        if let Some((map, conj, positions)) = self.preselected(&cur, parts.get(idx + 1)) {
                            if map.is_empty() {
                                Self::unres(out, &cur, Why::EmptyMap);
                            }
                            for (p, verdict) in positions {
                                let Some((_, v)) = map.get_index(p) else { continue };
                                match verdict {
                                    // The filter as `QPart::Filter` evaluates it after `.*` over a
                                    // map, its first clause known to hold.
                                    KeyVerdict::Accepted => {
                                        if self.filter_rest(conj, &Val::B(v), scope)? != Status::Fail {
                                            self.retrieve(idx + 2, q, Val::B(v), Val::B(v), scope, conv, out)?;
                                        }
                                    }
                                    // Dropped: the rest runs only for its errors and bindings.
                                    KeyVerdict::Refused => {
                                        self.filter_rest(conj, &Val::B(v), scope)?;
                                    }
                                    KeyVerdict::Other => {
                                        self.retrieve(idx + 1, q, Val::B(v), Val::B(v), scope, conv, out)?
                                    }
                                }
                            }
                            return Ok(());
                        }
                        if let Val::B(Node {
                            val: GVal::Map(map), ..
                        }) = &cur
                        {
                            if map.is_empty() {
                                Self::unres(out, &cur, Why::EmptyMap);
                            }
                            for v in map.values() {
                                self.retrieve(idx + 1, q, Val::B(v), Val::B(v), scope, conv, out)?;
                            }
                            return Ok(());
                        }
                        let vs = cur.map_values();
                        if vs.is_empty() {
                            Self::unres(out, &cur, Why::EmptyMap);
                        }
                        for v in vs {
                            self.retrieve(idx + 1, q, v.clone(), v, scope, conv, out)?;
                        }
                        Ok(())
                    }
                    _ => self.retrieve(idx + 1, q, cur, rroot.clone(), scope, conv, out),
                }
            }
            QPart::Filter(name, conj) => {
                let prev_iterates = idx > 0
                    && matches!(
                        parts.get(idx - 1),
                        Some(QPart::AllValues(_)) | Some(QPart::AllIndices(_))
                    );
                match &cur.val {
                    GVal::Map(_) if prev_iterates => {
                        // cfn-guard evaluates this filter against the scope's root: the map
                        // itself after `.*` over a map, but the enclosing value after `.*` or
                        // `[*]` over a list (so `Resources.*[ Type == 'T' ]` selects nothing
                        // when `Resources` is a list).
                        if self.filter_pass(conj, &rroot, scope)? {
                            self.retrieve(idx + 1, q, cur, rroot.clone(), scope, conv, out)?;
                        }
                        Ok(())
                    }
                    GVal::Map(_) if name.is_none() => {
                        for v in cur.map_values() {
                            if self.filter_pass(conj, &v, scope)? {
                                self.retrieve(idx + 1, q, v.clone(), v, scope, conv, out)?;
                            }
                        }
                        Ok(())
                    }
                    GVal::Map(_) => {
                        for (k, v) in cur.entries() {
                            if self.filter_pass(conj, &v, scope)? {
                                if let Some(n) = name {
                                    self.capture(scope, n, k);
                                }
                                self.retrieve(idx + 1, q, v.clone(), v, scope, conv, out)?;
                            }
                        }
                        Ok(())
                    }
                    GVal::List(_) => {
                        for e in cur.elements() {
                            if self.filter_pass(conj, &e, scope)? {
                                self.retrieve(idx + 1, q, e, rroot.clone(), scope, conv, out)?;
                            }
                        }
                        Ok(())
                    }
                    _ if matches!(parts.get(idx.wrapping_sub(1)), Some(QPart::AllIndices(_))) => {
                        if self.filter_pass(conj, &cur, scope)? {
                            self.retrieve(idx + 1, q, cur, rroot.clone(), scope, conv, out)?;
                        }
                        Ok(())
                    }
                    _ => {
                        Self::unres(out, &cur, Why::Filter);
                        Ok(())
                    }
                }
            }
            QPart::KeyFilter(_, kf) => {
                if !matches!(cur.val, GVal::Map(_)) {
                    Self::unres(out, &cur, Why::KeyFilter);
                    return Ok(());
                }
                let rhs = match &kf.rhs {
                    LetValue::Query(rq) => {
                        let mut r = QRs::new();
                        self.retrieve(0, rq, cur.clone(), cur.clone(), scope, conv, &mut r)?;
                        r
                    }
                    other => self.let_value(other, scope)?,
                };
                let mut cands: Vec<Val<'a>> = vec![];
                for r in &rhs {
                    if let Some(v) = r.val() {
                        if v.is_list() {
                            cands.extend(v.elements());
                        } else {
                            cands.push(v.clone());
                        }
                    }
                }
                for (k, v) in cur.entries() {
                    let key = Node::lit(GVal::Str(std::borrow::Cow::Owned(k)));
                    let any = cands.iter().any(|c| compare_eq(&key, c).unwrap_or(false));
                    let keep = match kf.op {
                        KeyOp::Eq | KeyOp::In => any,
                        KeyOp::NotEq | KeyOp::NotIn => !any && !cands.is_empty(),
                    };
                    if keep {
                        self.retrieve(idx + 1, q, v, rroot.clone(), scope, conv, out)?;
                    }
                }
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn index(
        &self,
        idx: usize,
        q: &'a Query,
        cur: Val<'a>,
        i: i64,
        rroot: Val<'a>,
        scope: &Scope<'_, 'a>,
        conv: Option<usize>,
        out: &mut QRs<'a>,
    ) -> R<()> {
        let GVal::List(l) = &cur.val else {
            Self::unres(out, &cur, Why::IndexOnNonList(i));
            return Ok(());
        };
        let n = l.len() as i64;
        let j = if i < 0 { n + i } else { i };
        match (j >= 0).then(|| cur.get_index(j as usize)).flatten() {
            Some(v) => self.retrieve(idx + 1, q, v, rroot.clone(), scope, conv, out),
            None => {
                Self::unres(out, &cur, Why::IndexOut(i));
                Ok(())
            }
        }
    }

    fn variants(&self, k: &str) -> Rc<Variants> {
        thread_local! {
            /// Case-converted spellings of keys: the converters are slow, and the same keys are
            /// missed by every rules file on every template.
            static CONVERTED: RefCell<HashMap<String, Rc<Variants>>> = RefCell::new(HashMap::default());
        }
        CONVERTED.with(|cache| {
            if let Some(v) = cache.borrow().get(k) {
                return Rc::clone(v);
            }
            let v = Rc::new(Variants::of(k));
            cache.borrow_mut().insert(k.to_string(), Rc::clone(&v));
            v
        })
    }

    fn capture(&self, scope: &Scope<'_, 'a>, name: &str, key: String) {
        let mut b = scope.bound.borrow_mut();
        let e = b.entry(name.to_string()).or_insert_with(|| Rc::new(vec![]));
        Rc::make_mut(e).push(QR::Res(Val::O(Rc::new(Node::lit(GVal::Str(key.into()))))));
    }

    fn filter_pass(&self, conj: &'a Conj<Clause>, v: &Val<'a>, scope: &Scope<'_, 'a>) -> R<bool> {
        // Most filters start with `Key == 'literal'` (`Resources.*[ Type == 'AWS::S3::Bucket' ...]`)
        // or `Key in [...]` and run on every resource: when the key holds a string the test
        // refuses, the filter fails, and
        // if nothing after that clause can raise an error (which cfn-guard would report even
        // for an element the filter drops), it fails without the general machinery.
        if let Some((key, test)) = conj.first().and_then(|d| key_test(d))
            && let Some(Val::B(Node {
                val: GVal::Str(actual), ..
            })) = v.get_key(key).as_ref()
            && !test.accepts(actual)
            && self.quiet_after(conj, 0)
        {
            return Ok(false);
        }
        let vs = Scope::new(Some(scope), v.clone(), &[]);
        let mut sink = Sink::new(false);
        Ok(self.conjunction(conj, &vs, Role::Gate, &mut sink)? == Status::Pass)
    }

    /// The status of a filter's disjunctions after its first on `v` (see [`Ev::preselected`]):
    /// where the first surely holds, the filter passes unless this fails.
    fn filter_rest(&self, conj: &'a Conj<Clause>, v: &Val<'a>, scope: &Scope<'_, 'a>) -> R<Status> {
        let rest = conj.get(1..).unwrap_or_default();
        let vs = Scope::new(Some(scope), v.clone(), &[]);
        let mut sink = Sink::new(false);
        self.conjunction(rest, &vs, Role::Gate, &mut sink)
    }

    // ---------------------------------------------------------------- clauses

    fn conjunction(&self, conj: &'a [Vec<Clause>], scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let (mut passes, mut fails) = (0, 0);
        'outer: for (i, disj) in conj.iter().enumerate() {
            let mut dfails = 0;
            let mut tmp = sink.child();
            for c in disj {
                match self.clause(c, scope, role, &mut tmp)? {
                    Status::Pass => {
                        passes += 1;
                        continue 'outer;
                    }
                    Status::Fail => dfails += 1,
                    Status::Skip => {}
                }
            }
            if dfails > 0 {
                fails += 1;
                sink.v.append(&mut tmp.v);
                // The conjunction has failed. A gate reports nothing, so the rest only matters
                // if it could raise an error or capture keys; when it cannot, stop here (most
                // filters are `Type == '...'` and then more clauses, on every resource).
                if role == Role::Gate && !sink.on && self.quiet_after(conj, i) {
                    break;
                }
            }
        }
        Ok(status_of(fails, passes))
    }

    fn clause(&self, c: &'a Clause, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        match c {
            Clause::Access(a) => match self.access(a, scope, role, sink) {
                Err(EvErr::Unevaluatable(m, span)) if role == Role::Assertion => {
                    sink.push(|| violation(a.span, "", a.op.name(a.op_not), a.message.clone(), None, None, Some(m)));
                    let _ = span;
                    Ok(Status::Fail)
                }
                r => r,
            },
            Clause::Named(n) => self.named(n, scope, role, sink),
            Clause::Param(p) => self.param_call(p, scope, role, sink),
            Clause::Block(b) => self.block_clause(b, scope, role, sink),
            Clause::When(conds, block) => {
                let mut gate = Sink::new(false);
                match self.conjunction(conds, scope, Role::Gate, &mut gate) {
                    Ok(Status::Pass) => {}
                    Ok(_) => return Ok(Status::Skip),
                    Err(EvErr::Unevaluatable(m, span)) if role == Role::Assertion => {
                        sink.push(|| violation(span, "", "WHEN", None, None, None, Some(m)));
                        return Ok(Status::Fail);
                    }
                    Err(e) => return Err(e),
                }
                self.block(block, scope, scope.root.clone(), role, sink)
            }
            Clause::Type(t) => self.type_block(t, scope, role, sink),
        }
    }

    fn block(&self, b: &'a Block, parent: &Scope<'_, 'a>, root: Val<'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let s = Scope::new(Some(parent), root, &b.lets);
        self.conjunction(&b.clauses, &s, role, sink)
    }

    fn enter(&self, span: Span) -> R<()> {
        let d = self.depth.get() + 1;
        if d > MAX_CALL_DEPTH {
            return self.fatal(span, format!("rule references nested more than {MAX_CALL_DEPTH} deep"));
        }
        self.depth.set(d);
        Ok(())
    }
    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    fn rule(&self, rule: &'a Rule, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        if let Some(conds) = &rule.conditions {
            let mut gate = Sink::new(false);
            match self.conjunction(conds, scope, Role::Gate, &mut gate) {
                Ok(Status::Pass) => {}
                Ok(_) => return Ok(Status::Skip),
                Err(EvErr::Unevaluatable(m, span)) if role == Role::Assertion => {
                    sink.push(|| violation(span, "", "WHEN", None, None, None, Some(m)));
                    return Ok(Status::Fail);
                }
                Err(e) => return Err(e),
            }
        }
        self.block(&rule.block, scope, scope.root.clone(), role, sink)
    }

    fn rule_status(&self, name: &'a str, role: Role, span: Span, scope: &Scope<'_, 'a>) -> R<Status> {
        if let Some(s) = self.cache.borrow().get(&(name, role)) {
            return Ok(*s);
        }
        let Some(rules) = self.rules.get(name) else {
            return Err(EvErr::Fatal(GuardError::UnknownRule {
                file: self.file.file_name.clone(),
                name: name.to_string(),
                line: span.line,
                col: span.col,
            }));
        };
        if self.in_progress.borrow().contains(&name) {
            return self.fatal(span, format!("rule `{name}` depends on itself"));
        }
        self.enter(span)?;
        self.in_progress.borrow_mut().push(name);
        // Rules are evaluated against the document root with the file's variables.
        let mut result = Ok(Status::Skip);
        let mut top = scope;
        while let Some(p) = top.parent {
            top = p;
        }
        for r in rules {
            let mut sink = Sink::new(false);
            match self.rule(r, top, role, &mut sink) {
                Ok(Status::Skip) => {}
                other => {
                    result = other;
                    break;
                }
            }
        }
        self.in_progress.borrow_mut().pop();
        self.leave();
        let s = result?;
        self.cache.borrow_mut().insert((name, role), s);
        Ok(s)
    }

    fn named(&self, n: &'a NamedRef, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let st = self.rule_status(&n.name, role, n.span, scope)?;
        let out = rule_ref_status(st, n.negation, role);
        if out == Status::Fail {
            let op = if n.negation { "NOT RULE" } else { "RULE" };
            sink.push(|| {
                violation(
                    n.span,
                    "",
                    op,
                    n.message.clone(),
                    Some(serde_json::Value::String(n.name.clone())),
                    Some(serde_json::Value::String(st.to_string())),
                    Some(format!("rule `{}` was {st}", n.name)),
                )
            });
        }
        Ok(out)
    }

    fn param_call(&self, p: &'a ParamCall, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let Some(pr) = self.params.get(p.name.as_str()).copied() else {
            return Err(EvErr::Fatal(GuardError::UnknownRule {
                file: self.file.file_name.clone(),
                name: p.name.clone(),
                line: p.span.line,
                col: p.span.col,
            }));
        };
        if pr.params.len() != p.args.len() {
            return self.fatal(
                p.span,
                format!(
                    "rule `{}` takes {} argument(s), {} given",
                    p.name,
                    pr.params.len(),
                    p.args.len()
                ),
            );
        }
        let mut bound = HashMap::default();
        for (name, arg) in pr.params.iter().zip(&p.args) {
            let vals = match arg {
                LetValue::Lit(n) => vec![QR::Res(Val::B(n))],
                other => self.let_value(other, scope)?.into_vec(),
            };
            bound.insert(name.clone(), Rc::new(vals));
        }
        let ps = Scope {
            parent: Some(scope),
            root: scope.root.clone(),
            lets: &[],
            bound: RefCell::new(bound),
        };
        self.enter(p.span)?;
        let mut inner = sink.child();
        let st = self.rule(&pr.rule, &ps, role, &mut inner);
        self.leave();
        let st = st?;
        let out = rule_ref_status(st, p.negation, role);
        if out == Status::Fail {
            if st == Status::Fail && !p.negation {
                for mut v in inner.v {
                    v.rule_path.insert(0, p.name.clone());
                    if v.message.is_none() {
                        v.message.clone_from(&p.message);
                    }
                    sink.v.push(v);
                }
            } else {
                sink.push(|| {
                    violation(
                        p.span,
                        "",
                        if p.negation { "NOT RULE" } else { "RULE" },
                        p.message.clone(),
                        Some(serde_json::Value::String(p.name.clone())),
                        Some(serde_json::Value::String(st.to_string())),
                        Some(format!("rule `{}` was {st}", p.name)),
                    )
                });
            }
        }
        Ok(out)
    }

    fn block_clause(&self, b: &'a BlockClause, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let values = self.query(&b.query, scope)?;
        if values.is_empty() {
            if b.not_empty {
                sink.push(|| {
                    violation(
                        b.span,
                        "",
                        "NOT EMPTY",
                        None,
                        None,
                        None,
                        Some("the block's query selected nothing".into()),
                    )
                });
                return Ok(Status::Fail);
            }
            return Ok(Status::Skip);
        }
        let (mut fails, mut passes) = (0, 0);
        let mut tmp = sink.child();
        for v in values {
            match v {
                QR::Unres(u) => {
                    fails += 1;
                    tmp.push(|| violation(b.span, u.path(), "EXISTS", None, None, None, Some(u.reason())));
                }
                QR::Res(val) | QR::Lit(val) => match self.block(&b.block, scope, val, role, &mut tmp)? {
                    Status::Pass => passes += 1,
                    Status::Fail => fails += 1,
                    Status::Skip => {}
                },
            }
        }
        let st = if b.query.match_all {
            status_of(fails, passes)
        } else if passes > 0 {
            Status::Pass
        } else if fails > 0 {
            Status::Fail
        } else {
            Status::Skip
        };
        if st == Status::Fail {
            sink.v.append(&mut tmp.v);
        }
        Ok(st)
    }

    fn type_block(&self, t: &'a TypeBlock, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let values = self.query(&t.query, scope)?;
        let (mut fails, mut passes) = (0, 0);
        for v in values {
            let QR::Res(val) = v else { continue };
            let vs = Scope::new(Some(scope), val.clone(), &[]);
            if let Some(conds) = &t.conditions {
                let mut gate = Sink::new(false);
                match self.conjunction(conds, &vs, Role::Gate, &mut gate) {
                    Ok(Status::Pass) => {}
                    Ok(_) => continue,
                    Err(EvErr::Unevaluatable(m, span)) if role == Role::Assertion => {
                        sink.push(|| violation(span, &val.path, "WHEN", None, None, None, Some(m)));
                        fails += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            match self.block(&t.block, &vs, val.clone(), role, sink)? {
                Status::Pass => passes += 1,
                Status::Fail => fails += 1,
                Status::Skip => {}
            }
        }
        Ok(status_of(fails, passes))
    }

    fn access(&self, a: &'a Access, scope: &Scope<'_, 'a>, role: Role, sink: &mut Sink) -> R<Status> {
        let lhs = self.query(&a.query, scope)?;
        let all = a.query.match_all;
        let opname = a.op.name(a.op_not ^ (a.negation && !a.op.is_unary()));
        if a.op.is_unary() {
            return self.unary(a, &lhs, role, sink, opname);
        }
        // A literal, the common right-hand side, is borrowed where it stands (no list built).
        let literal: [QR<'a>; 1];
        let queried: QRs<'a>;
        let rhs: &[QR<'a>] = match &a.rhs {
            Some(LetValue::Lit(n)) => {
                literal = [QR::Lit(Val::B(n))];
                &literal
            }
            Some(v) => {
                queried = self.let_value(v, scope)?;
                &queried
            }
            None => return self.fatal(a.span, "binary operator without a right-hand side".into()),
        };
        let not = a.op_not ^ a.negation;
        if lhs.is_empty() {
            if a.query.is_lone_variable() && role == Role::Assertion {
                sink.push(|| {
                    violation(
                        a.span,
                        "",
                        opname,
                        a.message.clone(),
                        None,
                        None,
                        Some("the variable has no values".into()),
                    )
                });
                return Ok(Status::Fail);
            }
            return Ok(Status::Skip);
        }
        if rhs.is_empty() {
            if role == Role::Assertion {
                sink.push(|| {
                    violation(
                        a.span,
                        "",
                        opname,
                        a.message.clone(),
                        None,
                        None,
                        Some("the right-hand side has no values".into()),
                    )
                });
                return Ok(Status::Fail);
            }
            return Ok(Status::Skip);
        }
        let results = match a.op {
            Op::Eq => compare_eq_op(&lhs, rhs),
            Op::In => compare_in_op(&lhs, rhs),
            op => compare_common(&lhs, rhs, op),
        };
        let results: Crs<'a> = if not {
            results
                .into_iter()
                .map(|c| negate(c, a.op, lhs.len(), rhs.len()))
                .collect()
        } else {
            results
        };
        let (mut passes, mut fails) = (0usize, 0usize);
        let mut tmp = sink.child();
        // Violations (and their JSON) are only built where they are collected: gates and
        // filters count passes and fails only.
        let v = |ptr: &str, exp, act, why| violation(a.span, ptr, opname, a.message.clone(), exp, act, why);
        for r in results {
            match r {
                Cr::Value { ok: true, .. } | Cr::ListIn { ok: true, .. } => passes += 1,
                Cr::QueryIn { ok: true, lhs, .. } => passes += lhs.len(),
                Cr::QueryIn {
                    ok: false,
                    rhs: r,
                    diff,
                    ..
                } => {
                    fails += diff.len();
                    if tmp.on && !diff.is_empty() {
                        let exp = serde_json::Value::Array(r.iter().map(|x| x.to_json()).collect());
                        for d in diff {
                            tmp.v.push(v(&d.path, Some(exp.clone()), Some(d.to_json()), None));
                        }
                    }
                }
                Cr::LhsUnres(u) => {
                    fails += 1;
                    tmp.push(|| v(u.path(), rhs_json(rhs), None, Some(u.reason())));
                }
                Cr::RhsUnres(l, u) => {
                    fails += 1;
                    tmp.push(|| {
                        let why = format!("right-hand side: {}", u.reason());
                        v(&l.path, None, Some(l.to_json()), Some(why))
                    });
                }
                Cr::NotComparable(l, r) => {
                    fails += 1;
                    tmp.push(|| {
                        let why = format!("not comparable: {} with {}", l.type_name(), r.type_name());
                        v(&l.path, Some(r.to_json()), Some(l.to_json()), Some(why))
                    });
                }
                Cr::Value { lhs, rhs: r, .. } | Cr::ListIn { lhs, rhs: r, .. } => {
                    fails += 1;
                    tmp.push(|| v(&lhs.path, Some(r.to_json()), Some(lhs.to_json()), None));
                }
            }
        }
        let st = if passes == 0 && fails == 0 {
            if all { Status::Pass } else { Status::Fail }
        } else if all {
            if fails > 0 { Status::Fail } else { Status::Pass }
        } else if passes > 0 {
            Status::Pass
        } else {
            Status::Fail
        };
        if st == Status::Fail {
            sink.v.append(&mut tmp.v);
        }
        Ok(st)
    }

    fn unary(&self, a: &'a Access, lhs: &[QR<'a>], role: Role, sink: &mut Sink, opname: &str) -> R<Status> {
        let lone = a.query.is_lone_variable();
        let invert = |b: bool| if a.negation { !b } else { b };
        let mut tmp = sink.child();
        let (mut passes, mut fails) = (0usize, 0usize);
        let mut record = |tmp: &mut Sink, ok: bool, q: &QR<'a>, why: Option<String>| {
            if ok {
                passes += 1;
            } else {
                fails += 1;
                tmp.push(|| match q {
                    QR::Res(v) | QR::Lit(v) => {
                        violation(a.span, &v.path, opname, a.message.clone(), None, Some(v.to_json()), why)
                    }
                    QR::Unres(u) => {
                        let why = why.or_else(|| Some(u.reason()));
                        violation(a.span, u.path(), opname, a.message.clone(), None, None, why)
                    }
                });
            }
        };
        if a.op == Op::Empty && (lone || a.query.ends_in_filter()) {
            if lhs.is_empty() {
                let ok = invert(!a.op_not);
                if !ok {
                    sink.push(|| {
                        violation(
                            a.span,
                            "",
                            opname,
                            a.message.clone(),
                            None,
                            None,
                            Some("the query selected nothing".into()),
                        )
                    });
                    return Ok(Status::Fail);
                }
                return Ok(Status::Pass);
            }
            for q in lhs {
                let empty = if lone {
                    match element_empty(q) {
                        Ok(e) => e,
                        Err(m) => {
                            if role == Role::Assertion {
                                record(&mut tmp, false, q, Some(m));
                                continue;
                            }
                            return Err(EvErr::Unevaluatable(m, a.span));
                        }
                    }
                } else {
                    match q {
                        QR::Res(v) | QR::Lit(v) => matches!(v.val, GVal::Null),
                        QR::Unres(_) => true,
                    }
                };
                let ok = invert(if a.op_not { !empty } else { empty });
                record(&mut tmp, ok, q, None);
            }
        } else {
            if lhs.is_empty() {
                return Ok(Status::Skip);
            }
            for q in lhs {
                let r: Result<bool, String> = match a.op {
                    Op::Exists => Ok(!matches!(q, QR::Unres(_))),
                    Op::Empty => element_empty(q),
                    _ => Ok(match q.val() {
                        Some(v) => matches!(
                            (a.op, &v.val),
                            (Op::IsString, GVal::Str(_))
                                | (Op::IsList, GVal::List(_))
                                | (Op::IsStruct, GVal::Map(_))
                                | (Op::IsBool, GVal::Bool(_))
                                | (Op::IsInt, GVal::Int(_))
                                | (Op::IsFloat, GVal::Float(_))
                                | (Op::IsNull, GVal::Null)
                        ),
                        None => false,
                    }),
                };
                match r {
                    Ok(b) => record(&mut tmp, invert(if a.op_not { !b } else { b }), q, None),
                    Err(m) if role == Role::Assertion => record(&mut tmp, false, q, Some(m)),
                    Err(m) => return Err(EvErr::Unevaluatable(m, a.span)),
                }
            }
        }
        let st = if a.query.match_all {
            if fails > 0 { Status::Fail } else { Status::Pass }
        } else if passes > 0 {
            Status::Pass
        } else {
            Status::Fail
        };
        if st == Status::Fail {
            sink.v.append(&mut tmp.v);
        }
        Ok(st)
    }
}

fn element_empty(q: &QR<'_>) -> Result<bool, String> {
    match q {
        QR::Unres(_) => Ok(true),
        QR::Res(v) | QR::Lit(v) => match &v.val {
            GVal::List(l) => Ok(l.is_empty()),
            GVal::Map(m) => Ok(m.is_empty()),
            GVal::Str(s) => Ok(s.is_empty()),
            _ => Err(format!("EMPTY is not defined for a {} (at {})", v.type_name(), v.path)),
        },
    }
}

fn rhs_json(rhs: &[QR<'_>]) -> Option<serde_json::Value> {
    match rhs {
        [one] => one.val().map(|v| v.to_json()),
        _ => Some(serde_json::Value::Array(
            rhs.iter().filter_map(|q| q.val().map(|v| v.to_json())).collect(),
        )),
    }
}

fn violation(
    span: Span,
    pointer: &str,
    operator: &str,
    message: Option<String>,
    expected: Option<serde_json::Value>,
    actual: Option<serde_json::Value>,
    reason: Option<String>,
) -> Violation {
    Violation {
        pointer: pointer.to_string(),
        message,
        operator: operator.to_string(),
        expected,
        actual,
        rule_path: vec![],
        reason,
        line: span.line,
        col: span.col,
    }
}

/// The strings a [`key_test`] accepts: one literal (`key == 'x'`) or a list of them
/// (`key in ['x', 'y']`).
#[derive(Clone, Copy)]
enum KeyTest<'a> {
    Eq(&'a str),
    In(&'a [Node<'static>]),
}

impl<'a> KeyTest<'a> {
    /// Whether a key holding the string `s` passes the clause.
    fn accepts(self, s: &str) -> bool {
        match self {
            KeyTest::Eq(lit) => s == lit,
            KeyTest::In(list) => list.iter().any(|n| matches!(&n.val, GVal::Str(lit) if lit == s)),
        }
    }

    fn literals(self) -> impl Iterator<Item = &'a str> {
        let (one, list) = match self {
            KeyTest::Eq(lit) => (Some(lit), &[][..]),
            KeyTest::In(list) => (None, list),
        };
        one.into_iter().chain(list.iter().filter_map(|n| match &n.val {
            GVal::Str(s) => Some(s.as_ref()),
            _ => None,
        }))
    }
}

/// `(key, test)` when a disjunction is the one clause `key == 'literal'` or `key in ['literal',
/// ...]` (a plain key of the element, plain strings on the right, no negation): a value whose
/// key holds a string passes exactly when the test accepts it (string equality in both, see
/// `compare_eq_op` and `contained_in`).
fn key_test(disj: &[Clause]) -> Option<(&str, KeyTest<'_>)> {
    let [Clause::Access(a)] = disj else { return None };
    if !matches!(a.op, Op::Eq | Op::In) || a.op_not || a.negation || !a.query.match_all {
        return None;
    }
    let [QPart::Key(key)] = a.query.parts.as_slice() else {
        return None;
    };
    // A key that reads as a number is an index (see `retrieve`).
    if key.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        return None;
    }
    let Some(LetValue::Lit(Node { val, .. })) = &a.rhs else {
        return None;
    };
    match (a.op, val) {
        (Op::Eq, GVal::Str(lit)) => Some((key, KeyTest::Eq(lit))),
        (Op::In, GVal::List(list)) if !list.is_empty() && list.iter().all(|n| matches!(n.val, GVal::Str(_))) => {
            Some((key, KeyTest::In(list)))
        }
        _ => None,
    }
}

/// Whether evaluating `c` can neither raise an error nor bind anything (no variables, function
/// calls, captures, rule references, `EMPTY` or blocks): then skipping it changes no verdict.
fn quiet_clause(c: &Clause) -> bool {
    let Clause::Access(a) = c else { return false };
    let rhs_quiet = match &a.rhs {
        None => a.op.is_unary(),
        Some(LetValue::Lit(_)) => true,
        Some(LetValue::Query(q)) => quiet_query(q),
        Some(LetValue::Func(_)) => false,
    };
    a.op != Op::Empty && rhs_quiet && quiet_query(&a.query)
}

fn quiet_query(q: &Query) -> bool {
    q.parts.iter().all(|p| match p {
        QPart::This | QPart::Key(_) | QPart::Index(_) | QPart::AllValues(None) | QPart::AllIndices(None) => true,
        QPart::Filter(None, conj) => conj.iter().flatten().all(quiet_clause),
        _ => false,
    })
}

/// The status of a rule reference (`RULE` / `not RULE`, plain or parameterized) from the
/// referenced rule's status: a SKIP fails where an assertion is required.
fn rule_ref_status(st: Status, negation: bool, role: Role) -> Status {
    match st {
        Status::Pass if negation => Status::Fail,
        Status::Pass => Status::Pass,
        Status::Skip if role == Role::Assertion => Status::Fail,
        Status::Skip if !negation => Status::Skip,
        _ if negation => Status::Pass,
        _ => Status::Fail,
    }
}

#[cfg(test)]
mod suppression_tests {
    use super::*;

    #[test]
    fn suppressions_are_read_once_per_document() {
        let data = serde_json::json!({"Resources": {
            "A": {"Metadata": {"guard": {"SuppressedRules": ["R1", "R2", "R1"]}}},
            "B": {"Metadata": {"guard": {"SuppressedRules": "R2"}}},
            "C": {"Metadata": {"guard": {"SuppressedRules": [1, "R3"]}}},
            "D": {"Properties": {}},
        }});
        let by_rule = suppressions_by_rule(&data);
        let ids = |rule: &str| by_rule.get(rule).cloned().unwrap_or_default();
        assert_eq!(ids("R1"), ["A"]);
        assert_eq!(ids("R2"), ["A", "B"]);
        assert_eq!(ids("R3"), ["C"]);
        assert!(ids("R4").is_empty());
        assert!(suppressions_by_rule(&serde_json::json!({"Resources": []})).is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_rules;
    use super::*;
    use serde_json::json;

    /// Every converter's spelling of `key` is cruet's, the class one (singular last word)
    /// included whenever the map holds it: the bounds that spare the singularization never
    /// hide a key cfn-guard would find.
    fn spells_as_cruet(key: &str) {
        let want = [
            cruet::to_camel_case(key),
            cruet::to_class_case(key),
            cruet::to_kebab_case(key),
            cruet::to_pascal_case(key),
            cruet::to_snake_case(key),
            cruet::to_title_case(key),
            cruet::to_train_case(key),
        ];
        let mut m = crate::guard::value::GMap::default();
        m.insert(std::borrow::Cow::Owned(want[CLASS].clone()), Node::lit(GVal::Null));
        let map = Val::O(Rc::new(Node::lit(GVal::Map(m))));
        let v = Variants::of(key);
        for (c, spelling) in want.iter().enumerate() {
            assert_eq!(v.spelling(c, &map), Some(spelling.as_str()), "{key:?}, converter {c}");
        }
    }

    #[test]
    fn key_spellings_are_cruets_as_cfn_guard_uses_them() {
        for key in [
            "!Ref",
            "Fn::GetAtt",
            "Tags",
            "tags",
            "KMSMasterKeyID",
            "kms-master-key-id",
            "bucket_name",
            "SSEAlgorithm",
            "Properties",
            "Policies",
            "Statuses",
            "Aliases",
            "Matrices",
            "Indices",
            "Vertices",
            "Movies",
            "Series",
            "Quizzes",
            "Databases",
            "Analyses",
            "Octopi",
            "Viri",
            "Buses",
            "Shoes",
            "Crises",
            "Axes",
            "Mice",
            "Wolves",
            "Knives",
            "News",
            "Heroes",
            "Data",
            "Media",
            "Men",
            "Oxen",
            "S",
            "s",
            "A",
            "ID",
            "KeyID",
            "x1Y2",
            "ÉtéDays",
            "",
            "!!",
            "123",
        ] {
            spells_as_cruet(key);
        }
        // One character: cruet's singular is the character, but "s" is "".
        for c in ('a'..='z').chain('A'..='Z').chain('0'..='9') {
            let want = if c == 's' { String::new() } else { c.to_string() };
            assert_eq!(cruet::string::to_singular(&c.to_string()), want, "{c}");
        }
    }

    proptest::proptest! {
        #[test]
        fn key_spellings_are_cruets_on_generated_keys(
            head in proptest::sample::select(vec!["", "Bucket", "kms", "Fn::", "!", "S3", "x"]),
            sep in proptest::sample::select(vec!["", "_", "-", " ", "::", "."]),
            stem in proptest::sample::select(vec![
                "Tag", "tag", "Polic", "Matr", "Vert", "Ind", "Octop", "Vir", "Quiz", "Databas", "Analy",
                "Mov", "Ser", "Bu", "Sho", "Cris", "Test", "Ali", "Stat", "Hive", "Tive", "Wol", "M",
                "Wom", "Ox", "X", "Éta", "Ke", "ID", "Bas", "Diagno", "Parenthe", "Progno", "Synop", "The",
            ]),
            suffix in proptest::sample::select(vec![
                "", "s", "ss", "news", "oes", "a", "ta", "ia", "ses", "sis", "ves", "lves", "ies",
                "eries", "ovies", "xes", "ches", "shes", "ice", "us", "i", "es", "is", "en", "ices",
                "zes", "zzes", "ts", "Ss",
            ]),
        ) {
            spells_as_cruet(&format!("{head}{sep}{stem}{suffix}"));
        }
    }

    fn statuses(src: &str, data: serde_json::Value) -> Vec<(String, Status)> {
        let rules = match parse_rules(src, "t.guard") {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        match evaluate(&rules, &data) {
            Ok(e) => e.rules.into_iter().map(|r| (r.name, r.status)).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    fn one(src: &str, data: serde_json::Value) -> Status {
        statuses(src, data).first().map(|s| s.1).unwrap_or(Status::Skip)
    }

    /// The statuses of the rules `names` (all of `src`'s rules, in order) on three documents:
    /// resources of types Bucket and Queue among odd values (a string, no `Type`, a list
    /// `Type`); the same without the string; and without the list `Type` too.
    fn verdicts(src: &str, names: [&str; 5]) -> [[Status; 5]; 3] {
        let mut data = json!({"Resources": {
            "B1": {"Type": "Bucket", "Properties": {"N": 1}},
            "Q": {"Type": "Queue", "Properties": {"N": 9}},
            "Odd": "a string",
            "NoType": {"Properties": {"N": 1}},
            "ListType": {"Type": ["Bucket"], "Properties": {"N": 1}},
            "B2": {"Type": "Bucket", "Properties": {"N": 2}},
        }});
        let mut out = [[Status::Skip; 5]; 3];
        for (i, removed) in ["", "Odd", "ListType"].into_iter().enumerate() {
            if let Some(r) = data["Resources"].as_object_mut() {
                r.shift_remove(removed);
            }
            let run = statuses(src, data.clone());
            assert_eq!(run.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), names);
            for (slot, (_, status)) in out[i].iter_mut().zip(run) {
                *slot = status;
            }
        }
        out
    }

    #[test]
    fn a_failed_filter_still_evaluates_clauses_that_can_raise_errors() {
        // cfn-guard 3.2.1: R1 FAILs (its condition cannot be evaluated: EMPTY on an int), although
        // the filter's first clause already failed. Quiet clauses may be skipped; this may not.
        let src = "let x = Resources.*[ Type == 'Nope'\n  Properties.Size empty ]\n\
                   rule R1 when %x !empty {\n  %x.Properties.Size == 1\n}\n\
                   let y = Resources.*[ Type == 'Nope'\n  Properties.Size exists ]\n\
                   rule R2 when %y !empty {\n  %y.Properties.Size == 1\n}\n";
        let data = json!({"Resources": {"A": {"Type": "T", "Properties": {"Size": 1}}}});
        assert_eq!(
            statuses(src, data),
            vec![("R1".to_string(), Status::Fail), ("R2".to_string(), Status::Skip)]
        );
    }

    /// The type index behind `Resources.*[ Type == '...' ]` must pick what scanning every
    /// value picks, odd values included (a string among the resources, no `Type`, a list
    /// `Type`). Expected statuses: cfn-guard 3.2.1 `validate` on the same rules and data.
    #[test]
    fn type_preselection_gives_cfn_guards_verdicts() {
        let src = "let b = Resources.*[ Type == 'Bucket' ]\n\
                   rule Count when %b !empty { %b.Properties.N in [1, 2] }\n\
                   rule Second { %b[1].Properties.N == 2 }\n\
                   rule Third { %b[2] not exists }\n\
                   let q = Resources.*[ Type == 'Queue' ]\n\
                   rule Queue { %q.Properties.N == 9 }\n\
                   let none = Resources.*[ Type == 'Topic' ]\n\
                   rule None when %none !empty { %none.Properties.N == 0 }\n";
        use Status::{Fail, Pass, Skip};
        assert_eq!(
            verdicts(src, ["Count", "Second", "Third", "Queue", "None"]),
            [
                [Skip, Fail, Pass, Fail, Skip],
                [Pass, Fail, Pass, Pass, Skip],
                [Pass, Fail, Pass, Pass, Skip],
            ]
        );
        let src = "let b = Resources.*[ Type == 'Bucket' ]\nrule R { %b empty }\n";
        assert_eq!(one(src, json!({"Resources": [{"Type": "Bucket"}]})), Status::Pass);
        assert_eq!(one(src, json!({"Resources": {}})), Status::Pass);
        assert_eq!(one(src, json!({"Resources": {"A": {"Type": "Bucket"}}})), Status::Fail);
    }

    /// The same for `Type in [...]` (a name listed twice, a list `Type` that the general
    /// path judges, a filter with a second clause). Expected: cfn-guard 3.2.1 `validate`.
    #[test]
    fn type_list_preselection_gives_cfn_guards_verdicts() {
        let src = "let b = Resources.*[ Type in ['Bucket', 'Queue', 'Bucket'] ]\n\
                   rule Count when %b !empty { %b.Properties.N in [1, 2, 9] }\n\
                   rule Second { %b[1].Properties.N == 9 }\n\
                   rule Third { %b[3] not exists }\n\
                   let none = Resources.*[ Type in ['Topic'] ]\n\
                   rule None when %none !empty { %none.Properties.N == 0 }\n\
                   let l = Resources.*[ Type in ['Bucket']\n  Properties.N == 1 ]\n\
                   rule Ones { %l.Properties.N == 1 }\n";
        use Status::{Fail, Pass, Skip};
        assert_eq!(
            verdicts(src, ["Count", "Second", "Third", "None", "Ones"]),
            [
                [Skip, Fail, Pass, Skip, Fail],
                [Pass, Fail, Pass, Skip, Pass],
                [Pass, Fail, Pass, Skip, Pass],
            ]
        );
        // The fast paths agree with the general one (`this.Type` takes no fast path).
        let general = src.replace("Type in", "this.Type in");
        for d in [
            json!({"Resources": {"A": {"Type": "Queue"}, "B": {"Type": "Bucket", "Properties": {"N": 3}}}}),
            json!({"Resources": {"A": {"Type": 7}, "B": {"Type": null}, "C": {"Type": {"x": 1}}}}),
            json!({"Resources": {"A": {"Type": "Bucket", "Properties": {"N": 1}}, "B": "x"}}),
        ] {
            assert_eq!(statuses(src, d.clone()), statuses(&general, d));
        }
    }

    /// A filter opening with a key test whose later clauses may raise an error or read a
    /// variable (`Properties.N !empty`, `Properties.N in %ok`) takes the key test's shortcut
    /// (`Ev::preselected`) and must give what the general path gives (`this.Type` takes none):
    /// the same verdicts, violations and errors, an error raised on a value the filter drops
    /// included. The general path is the one verified against cfn-guard.
    #[test]
    fn key_test_filter_with_noisy_clauses_agrees_with_the_general_path() {
        let src = "let ok = [1, 'a']\n\
                   let b = Resources.*[ Type == 'Bucket'\n  Properties.N !empty ]\n\
                   rule NotEmpty when %b !empty { %b.Properties.N exists }\n\
                   let c = Resources.*[ Type in ['Bucket', 'Queue']\n  Properties.N in %ok\n  Properties.M not exists ]\n\
                   rule Allowed { %c.Properties.N == 1 }\n\
                   let d = Resources.*[ Type == 'Queue'\n  Properties.N empty or Properties.N == 'a' ]\n\
                   rule Either when %d !empty { %d.Properties.N != 2 }\n";
        let general = src.replace("[ Type", "[ this.Type");
        let run = |src: &str, data: &serde_json::Value| {
            let rules = parse_rules(src, "t.guard").expect("parses");
            match evaluate(&rules, data) {
                Ok(e) => format!(
                    "{:?}",
                    e.rules
                        .iter()
                        .map(|r| (&r.name, r.status, &r.violations))
                        .collect::<Vec<_>>()
                ),
                Err(e) => format!("error: {e}"),
            }
        };
        let docs = [
            json!({"Resources": {"A": {"Type": "Bucket", "Properties": {"N": 1}}, "B": {"Type": "Queue", "Properties": {"N": "a"}}}}),
            // An int where EMPTY is asked, on a value whose Type the filter refuses: the rule
            // whose condition reads it fails (cfn-guard: cannot evaluate).
            json!({"Resources": {"A": {"Type": "Topic", "Properties": {"N": 5}}, "B": {"Type": "Bucket", "Properties": {"N": [1]}}}}),
            json!({"Resources": {"A": {"Type": "Bucket", "Properties": {"N": 5}}}}),
            json!({"Resources": {"A": {"Type": "Queue", "Properties": {"N": 2}}, "B": {"Type": "Queue"}, "C": "odd"}}),
            json!({"Resources": {"A": {"Type": ["Bucket"], "Properties": {"N": 1}}, "B": {"type": "Bucket", "Properties": {"N": {}}}}}),
            json!({"Resources": {"A": {"Type": "Bucket", "Properties": {"N": 1, "M": 0}}, "B": {"Type": 3}}}),
            json!({"Resources": {}}),
        ];
        for d in &docs {
            assert_eq!(run(src, d), run(&general, d), "{d}");
        }
        // The second document's Topic, which every filter drops, still makes `NotEmpty` fail.
        assert!(run(src, &docs[1]).contains("EMPTY is not defined for a int (at /Resources/A/Properties/N)"));
    }

    /// A key missing from a map is looked up under its case-converted spellings, the first
    /// found fixing the spelling for the rest of the query. Expected: cfn-guard 3.2.1 `validate`.
    #[test]
    fn missing_keys_are_looked_up_under_converted_spellings() {
        let src = "rule Pascal { Resources.A.BucketName == \"x\" }\n\
                   rule Kebab { Resources.A.BucketName.Inner == 1 }\n\
                   rule Missing { Resources.A.Nothing exists }\n\
                   rule Chain { Resources.A.SomeThing.DeepKey == 2 }\n";
        use Status::{Fail, Pass};
        let expect = |chain: Status| {
            vec![
                ("Pascal".to_string(), Pass),
                ("Kebab".to_string(), Fail),
                ("Missing".to_string(), Fail),
                ("Chain".to_string(), chain),
            ]
        };
        let d = json!({"Resources": {"A": {"bucket_name": "x", "some-thing": {"deep_key": 3, "deep-key": 2, "DeepKey": 5}}}});
        assert_eq!(statuses(src, d), expect(Fail));
        let d = json!({"Resources": {"A": {"bucket_name": "x", "some-thing": {"deep_key": 3, "deep-key": 2}}}});
        assert_eq!(statuses(src, d), expect(Pass));
        let d = json!({"Resources": {"A": {"bucketName": "x", "some-thing": {"deep_key": 2}}}});
        assert_eq!(statuses(src, d), expect(Fail));
    }

    #[test]
    fn unresolved_lhs_fails_even_for_not_equal() {
        assert_eq!(one("rule r { A.B != 'x' }", json!({"A": {}})), Status::Fail);
        assert_eq!(one("rule r { A.B not exists }", json!({"A": {}})), Status::Pass);
        assert_eq!(one("rule r { A.B empty }", json!({"A": {}})), Status::Pass);
    }

    #[test]
    fn empty_filter_skips_binary_but_decides_empty() {
        let d = json!({"Resources": {"Q": {"Type": "Q"}}});
        assert_eq!(
            one("rule r { Resources.*[ Type == 'B' ].P == 1 }", d.clone()),
            Status::Skip
        );
        assert_eq!(
            one("rule r { Resources.*[ Type == 'B' ] empty }", d.clone()),
            Status::Pass
        );
        assert_eq!(one("rule r { Resources.*[ Type == 'B' ] !empty }", d), Status::Fail);
    }

    #[test]
    fn no_resources_key_fails_where_no_match_skips() {
        let src = "let b = Resources.*[ Type == 'B' ]\nrule r { %b.Properties.P == 1 }";
        assert_eq!(one(src, json!({})), Status::Fail);
        assert_eq!(one(src, json!({"Resources": {"Q": {"Type": "Q"}}})), Status::Skip);
    }

    #[test]
    fn disjunction_and_conjunction_combine_like_cfn_guard() {
        let d = json!({"A": 1, "L": [{"Y": 2}]});
        assert_eq!(one("rule r { A == 2 or A == 1 }", d.clone()), Status::Pass);
        assert_eq!(one("rule r {\n A == 1\n A == 2\n}", d.clone()), Status::Fail);
        // SKIP is neutral in a conjunction.
        assert_eq!(one("rule r {\n A == 1\n L[ Y == 1 ].Z == 1\n}", d), Status::Pass);
    }

    #[test]
    fn some_needs_one_value() {
        let d = json!({"L": [1, 2, 3]});
        assert_eq!(one("rule r { some L[*] == 2 }", d.clone()), Status::Pass);
        assert_eq!(one("rule r { L[*] == 2 }", d), Status::Fail);
    }

    #[test]
    fn let_redefinition_replaces_for_whole_scope() {
        assert_eq!(one("rule r { %x == 2 }\nlet x = 1\nlet x = 2", json!({})), Status::Pass);
    }

    #[test]
    fn rule_reference_semantics_3_2_1() {
        let src = "rule s when Missing exists {\n X exists\n}\nrule body {\n not s\n}\nrule gate when not s {\n X exists\n}\n";
        let st = statuses(src, json!({"X": 1}));
        assert_eq!(st[1], ("body".to_string(), Status::Fail));
        assert_eq!(st[2], ("gate".to_string(), Status::Pass));
    }

    #[test]
    fn unevaluatable_empty_in_gate_fails_the_rule() {
        assert_eq!(
            one("rule r when B !empty { X exists }", json!({"B": true, "X": 1})),
            Status::Fail
        );
        assert_eq!(one("rule r { N empty }", json!({"N": 3})), Status::Fail);
    }

    #[test]
    fn parameterized_rules_and_arity() {
        let src = "rule p(a, b) {\n %a == %b\n}\nrule r {\n p(X, 1)\n}\n";
        assert_eq!(one(src, json!({"X": 1})), Status::Pass);
        let rules = parse_rules("rule p(a) {\n %a exists\n}\nrule r {\n p(1, 2)\n}\n", "t.guard");
        let e = rules.map(|r| evaluate(&r, &json!({})).is_err());
        assert!(matches!(e, Ok(true)));
    }

    #[test]
    fn too_deep_data_is_an_error() {
        let mut v = json!(1);
        for _ in 0..300 {
            v = json!([v]);
        }
        let r = parse_rules("rule r { x exists }", "t.guard").map(|r| evaluate(&r, &v).is_err());
        assert!(matches!(r, Ok(true)));
    }

    #[test]
    fn key_case_fallback() {
        assert_eq!(
            one("rule r { a.bucketName == 1 }", json!({"a": {"BucketName": 1}})),
            Status::Pass
        );
        assert_eq!(
            one("rule r { a.bucket_name == 1 }", json!({"a": {"BucketName": 1}})),
            Status::Pass
        );
    }

    #[test]
    fn captures_and_key_filters() {
        let d = json!({"M": {"ab": 1, "ac": 2, "b": 3}});
        assert_eq!(one("rule r { M[ keys == /^a/ ] < 3 }", d.clone()), Status::Pass);
        assert_eq!(one("rule r { M[ keys != /^a/ ] == 3 }", d.clone()), Status::Pass);
        assert_eq!(one("rule r { M[ k | this >= 2 ] !empty }", d), Status::Pass);
    }

    #[test]
    fn violations_only_for_failing_rules_and_failing_disjunctions() {
        let rules = parse_rules("rule r {\n A == 2 or A == 1\n B == 1 << b must be 1 >>\n}", "t.guard");
        let ev = rules.map(|r| evaluate(&r, &json!({"A": 1, "B": 2})));
        let Ok(Ok(ev)) = ev else { panic!("eval") };
        assert_eq!(ev.rules[0].violations.len(), 1);
        assert_eq!(ev.rules[0].violations[0].pointer, "/B");
        assert_eq!(ev.rules[0].violations[0].message.as_deref(), Some("b must be 1"));
    }

    /// A rule is evaluated for its verdict first and again, collecting, only when it fails:
    /// the second run must report what one collecting run would, in order, and nothing from
    /// the parts that held (`some` that found a value, the `or` half that passed).
    #[test]
    fn a_failing_rule_reports_each_failure_once_and_in_order() {
        let src = "rule r {\n  some L[*] == 3\n  L[*] { this < 3 or this == 9 }\n  M.* { this is_string or this > 0 }\n}\n\
                   rule ok {\n  some L[*] == 1\n}";
        let data = json!({"L": [1, 3, 5, 9], "M": {"a": "x", "b": -1, "c": 2, "d": -2}});
        let Ok(Ok(ev)) = parse_rules(src, "t.guard").map(|r| evaluate(&r, &data)) else {
            panic!("eval")
        };
        let pointers: Vec<&str> = ev.rules[0].violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(ev.rules[0].status, Status::Fail);
        assert_eq!(
            pointers,
            ["/L/1", "/L/1", "/L/2", "/L/2", "/M/b", "/M/b", "/M/d", "/M/d"]
        );
        assert_eq!(ev.rules[1].status, Status::Pass);
        assert!(ev.rules[1].violations.is_empty());
    }
}
