//! Static checks of a parsed rules file and human-readable rendering of results.

use std::collections::HashSet;

use super::ast::*;
use super::{Evaluation, GuardError, Status, Violation};

/// Every rule reference and parameterized rule call must name a rule of the file. cfn-guard
/// reports this only when the reference is evaluated (exit 255); we report it for every reference.
pub fn check_references(file: &RulesFile) -> Result<(), GuardError> {
    let rules: HashSet<&str> = file.rules.iter().map(|r| r.name.as_str()).collect();
    let params: HashSet<&str> = file.param_rules.iter().map(|r| r.rule.name.as_str()).collect();
    let ctx = Ctx {
        file: &file.file_name,
        rules: &rules,
        params: &params,
    };
    for l in &file.lets {
        ctx.let_value(&l.value)?;
    }
    for r in &file.rules {
        ctx.rule(r)?;
    }
    for p in &file.param_rules {
        ctx.rule(&p.rule)?;
    }
    Ok(())
}

struct Ctx<'a> {
    file: &'a str,
    rules: &'a HashSet<&'a str>,
    params: &'a HashSet<&'a str>,
}

impl Ctx<'_> {
    fn unknown(&self, name: &str, line: usize, col: usize) -> GuardError {
        GuardError::UnknownRule {
            file: self.file.to_string(),
            name: name.to_string(),
            line,
            col,
        }
    }
    fn rule(&self, r: &Rule) -> Result<(), GuardError> {
        if let Some(c) = &r.conditions {
            self.conj(c)?;
        }
        self.block(&r.block)
    }
    fn block(&self, b: &Block) -> Result<(), GuardError> {
        for l in &b.lets {
            self.let_value(&l.value)?;
        }
        self.conj(&b.clauses)
    }
    fn conj(&self, c: &Conj<Clause>) -> Result<(), GuardError> {
        c.iter().flatten().try_for_each(|c| self.clause(c))
    }
    fn let_value(&self, v: &LetValue) -> Result<(), GuardError> {
        match v {
            LetValue::Lit(_) => Ok(()),
            LetValue::Query(q) => self.query(q),
            LetValue::Func(f) => f.args.iter().try_for_each(|a| self.let_value(a)),
        }
    }
    fn query(&self, q: &Query) -> Result<(), GuardError> {
        for p in &q.parts {
            match p {
                QPart::Filter(_, c) => self.conj(c)?,
                QPart::KeyFilter(_, kf) => self.let_value(&kf.rhs)?,
                _ => {}
            }
        }
        Ok(())
    }
    fn clause(&self, c: &Clause) -> Result<(), GuardError> {
        match c {
            Clause::Access(a) => {
                self.query(&a.query)?;
                a.rhs.as_ref().map_or(Ok(()), |v| self.let_value(v))
            }
            Clause::Named(n) if !self.rules.contains(n.name.as_str()) => {
                Err(self.unknown(&n.name, n.span.line, n.span.col))
            }
            Clause::Named(_) => Ok(()),
            Clause::Param(p) if !self.params.contains(p.name.as_str()) => {
                Err(self.unknown(&p.name, p.span.line, p.span.col))
            }
            Clause::Param(p) => p.args.iter().try_for_each(|a| self.let_value(a)),
            Clause::Block(b) => {
                self.query(&b.query)?;
                self.block(&b.block)
            }
            Clause::When(c, b) => {
                self.conj(c)?;
                self.block(b)
            }
            Clause::Type(t) => {
                if let Some(c) = &t.conditions {
                    self.conj(c)?;
                }
                self.block(&t.block)
            }
        }
    }
}

/// One line per violation: `rule: pointer: operator expected, found actual (message)`.
pub fn describe(v: &Violation) -> String {
    let mut s = format!(
        "{}: {}: {}",
        v.rule_path.join(" > "),
        if v.pointer.is_empty() { "/" } else { &v.pointer },
        v.operator
    );
    if let Some(e) = &v.expected {
        s.push_str(&format!(" {e}"));
    }
    match &v.actual {
        Some(a) => s.push_str(&format!(", found {a}")),
        None => s.push_str(", found nothing (path did not resolve)"),
    }
    if let Some(r) = &v.reason {
        s.push_str(&format!(" [{r}]"));
    }
    if let Some(m) = &v.message {
        s.push_str(&format!(" -- {m}"));
    }
    s
}

/// A plain-text report of one evaluation: each rule's status, then each violation.
pub fn render_text(eval: &Evaluation) -> String {
    let mut out = String::new();
    for r in &eval.rules {
        out.push_str(&format!("{} {}\n", r.status, r.name));
        if r.status == Status::Fail {
            for v in &r.violations {
                out.push_str(&format!("  {}\n", describe(v)));
            }
        }
        if !r.suppressed_for.is_empty() {
            out.push_str(&format!("  suppressed for: {}\n", r.suppressed_for.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, parse_rules};

    #[test]
    fn unknown_references_are_found_statically() {
        let e = parse_rules("rule a when nope {\n  x exists\n}\n", "u.guard")
            .err()
            .map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("u.guard:1:13: unknown rule `nope`"));
        let e = parse_rules("rule a {\n  Resources.*[ missing_p(1) ] !empty\n}\n", "u.guard")
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("missing_p")));
    }

    #[test]
    fn text_report_names_rule_pointer_and_message() {
        let rules = parse_rules("rule R {\n  A.B == 1 << fix B >>\n}\n", "t.guard");
        let ev = rules.and_then(|r| evaluate(&r, &serde_json::json!({"A": {"B": 2}})));
        let text = ev.map(|e| super::render_text(&e)).unwrap_or_default();
        assert!(text.contains("FAIL R\n  R: /A/B: == 1, found 2 -- fix B"), "{text}");
    }
}
