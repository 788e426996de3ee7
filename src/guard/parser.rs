//! Hand-written recursive-descent parser for `.guard` files (GUARD.md section 3).

use super::GuardError;
use super::ast::*;
use super::lexer::{Span, Tok, Token, lex};
use super::value::{Bound, GVal, Node, RangeV, Rx};

/// Deepest nesting of blocks, filters and literals accepted.
pub const MAX_DEPTH: usize = 32;

pub const FUNCTIONS: &[&str] = &[
    "count",
    "join",
    "json_parse",
    "now",
    "parse_boolean",
    "parse_char",
    "parse_epoch",
    "parse_float",
    "parse_int",
    "parse_string",
    "regex_replace",
    "substring",
    "to_lower",
    "to_upper",
    "url_decode",
];

struct Parser<'s> {
    toks: Vec<Token>,
    pos: usize,
    src: &'s str,
    file: &'s str,
    depth: usize,
}

type PResult<T> = Result<T, GuardError>;

fn is_kw(t: &Tok, kws: &[&str]) -> bool {
    matches!(t, Tok::Ident(s) if kws.contains(&s.as_str()))
}

const NOT: &[&str] = &["not", "NOT"];
const OR: &[&str] = &["or", "OR"];
const WHEN: &[&str] = &["when", "WHEN"];
const SOME: &[&str] = &["some", "SOME"];
const THIS: &[&str] = &["this", "THIS"];
const KEYS: &[&str] = &["keys", "KEYS"];
const IN: &[&str] = &["in", "IN"];

fn unary_op(s: &str) -> Option<Op> {
    Some(match s {
        "exists" | "EXISTS" => Op::Exists,
        "empty" | "EMPTY" => Op::Empty,
        "is_string" | "IS_STRING" => Op::IsString,
        "is_list" | "IS_LIST" => Op::IsList,
        "is_struct" | "IS_STRUCT" => Op::IsStruct,
        "is_bool" | "IS_BOOL" => Op::IsBool,
        "is_int" | "IS_INT" => Op::IsInt,
        "is_float" | "IS_FLOAT" => Op::IsFloat,
        "is_null" | "IS_NULL" => Op::IsNull,
        _ => return None,
    })
}

fn literal_kw(s: &str) -> Option<GVal<'static>> {
    Some(match s {
        "true" | "True" | "TRUE" => GVal::Bool(true),
        "false" | "False" | "FALSE" => GVal::Bool(false),
        "null" | "NULL" | "Null" => GVal::Null,
        _ => return None,
    })
}

/// Parses a rules file. `file_name` is used in error messages.
pub fn parse(src: &str, file: &str) -> PResult<RulesFile> {
    let toks = lex(src, file)?;
    let mut p = Parser {
        toks,
        pos: 0,
        src,
        file,
        depth: 0,
    };
    p.file_items()
}

impl<'s> Parser<'s> {
    fn tok(&self) -> &Tok {
        self.toks.get(self.pos).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }
    fn tok_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }
    fn token_at(&self, n: usize) -> Option<&Token> {
        self.toks.get(self.pos + n)
    }
    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map(|t| t.span)
            .unwrap_or_default()
    }
    fn newline_at(&self, n: usize) -> bool {
        self.token_at(n).is_none_or(|t| t.newline_before)
    }
    fn space_at(&self, n: usize) -> bool {
        self.token_at(n).is_none_or(|t| t.space_before)
    }
    fn bump(&mut self) -> Tok {
        let t = self.tok().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn at_p(&self, p: &str) -> bool {
        matches!(self.tok(), Tok::P(q) if *q == p)
    }
    fn eat_p(&mut self, p: &str) -> bool {
        if self.at_p(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn at_kw(&self, kws: &[&str]) -> bool {
        is_kw(self.tok(), kws)
    }
    fn eat_kw(&mut self, kws: &[&str]) -> bool {
        if self.at_kw(kws) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn err<T>(&self, expected: &str) -> PResult<T> {
        Err(GuardError::parse(
            self.src,
            self.file,
            self.span(),
            &format!("expected {expected}, found {}", self.tok().describe()),
        ))
    }
    fn expect_p(&mut self, p: &str, what: &str) -> PResult<()> {
        if self.eat_p(p) { Ok(()) } else { self.err(what) }
    }
    fn ident(&mut self, what: &str) -> PResult<String> {
        match self.tok().clone() {
            Tok::Ident(s) => {
                self.pos += 1;
                Ok(s)
            }
            _ => self.err(what),
        }
    }
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(&format!(
                "less nesting (more than {MAX_DEPTH} levels of blocks, filters or literals)"
            ));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn file_items(&mut self) -> PResult<RulesFile> {
        let mut file = RulesFile {
            file_name: self.file.to_string(),
            lets: vec![],
            rules: vec![],
            param_rules: vec![],
        };
        let mut default_clauses: Conj<Clause> = vec![];
        let mut default_span = None;
        loop {
            match self.tok() {
                Tok::Eof => break,
                Tok::Ident(s) if s == "let" => {
                    let l = self.let_stmt()?;
                    file.lets.push(l);
                }
                Tok::Ident(s) if s == "rule" => self.rule(&mut file)?,
                _ => {
                    default_span.get_or_insert(self.span());
                    let d = self.disjunction(Ctx::Rule)?;
                    default_clauses.push(d);
                }
            }
        }
        if !default_clauses.is_empty() {
            file.rules.insert(
                0,
                Rule {
                    name: "default".to_string(),
                    conditions: None,
                    block: Block {
                        lets: vec![],
                        clauses: default_clauses,
                    },
                    span: default_span.unwrap_or_default(),
                },
            );
        }
        Ok(file)
    }

    fn let_stmt(&mut self) -> PResult<Let> {
        let span = self.span();
        self.bump(); // let
        let name = self.ident("a variable name after `let`")?;
        if !(self.eat_p("=") || self.eat_p(":=")) {
            return self.err("`=` or `:=` after the variable name");
        }
        let value = self.let_value()?;
        Ok(Let { name, value, span })
    }

    fn rule(&mut self, file: &mut RulesFile) -> PResult<()> {
        let span = self.span();
        self.bump(); // rule
        let name = self.ident("a rule name after `rule`")?;
        let mut params = None;
        if self.eat_p("(") {
            let mut ps = vec![self.ident("a parameter name")?];
            while self.eat_p(",") {
                ps.push(self.ident("a parameter name")?);
            }
            self.expect_p(")", "`)` closing the parameter list")?;
            params = Some(ps);
        }
        let conditions = if self.eat_kw(WHEN) {
            Some(self.conditions()?)
        } else {
            None
        };
        let block = self.block(Ctx::Rule)?;
        let rule = Rule {
            name,
            conditions,
            block,
            span,
        };
        match params {
            Some(params) => file.param_rules.push(ParamRule { rule, params }),
            None => file.rules.push(rule),
        }
        Ok(())
    }

    /// `{ { let | disjunction } }`
    fn block(&mut self, ctx: Ctx) -> PResult<Block> {
        self.expect_p("{", "`{` opening a block")?;
        self.enter()?;
        let mut block = Block::default();
        loop {
            if self.eat_p("}") {
                break;
            }
            if matches!(self.tok(), Tok::Eof) {
                return self.err("`}` closing the block");
            }
            if matches!(self.tok(), Tok::Ident(s) if s == "let") {
                let l = self.let_stmt()?;
                block.lets.push(l);
                continue;
            }
            let d = self.disjunction(ctx)?;
            block.clauses.push(d);
        }
        self.leave();
        Ok(block)
    }

    fn at_or(&self) -> bool {
        self.at_kw(OR) || (self.at_p("|") && is_kw(self.tok_at(1), &["OR"]) && matches!(self.tok_at(2), Tok::P("|")))
    }
    fn eat_or(&mut self) -> bool {
        if self.at_kw(OR) {
            self.pos += 1;
            return true;
        }
        if self.at_or() {
            self.pos += 3;
            return true;
        }
        false
    }

    fn disjunction(&mut self, ctx: Ctx) -> PResult<Vec<Clause>> {
        let mut d = vec![self.clause(ctx)?];
        while self.eat_or() {
            d.push(self.clause(ctx)?);
        }
        Ok(d)
    }

    /// `when` conditions: disjunctions of access clauses, rule references and parameterized rule
    /// calls, up to the `{` of the guarded block.
    fn conditions(&mut self) -> PResult<Conj<Clause>> {
        let mut c = vec![];
        loop {
            c.push(self.disjunction(Ctx::Cond)?);
            if self.at_p("{") {
                break;
            }
            if matches!(self.tok(), Tok::Eof) {
                return self.err("`{` after the `when` conditions");
            }
        }
        Ok(c)
    }

    fn is_type_name_start(&self) -> bool {
        matches!(self.tok(), Tok::Ident(_)) && matches!(self.tok_at(1), Tok::P("::"))
    }

    fn clause(&mut self, ctx: Ctx) -> PResult<Clause> {
        if ctx != Ctx::Cond && self.at_kw(WHEN) {
            self.bump();
            let conds = self.conditions()?;
            let block = self.block(ctx)?;
            return Ok(Clause::When(conds, block));
        }
        if ctx == Ctx::Rule && self.is_type_name_start() {
            return self.type_block();
        }
        let span = self.span();
        let mut negation = false;
        if self.at_kw(NOT) || (self.at_p("!") && !self.at_kw_at(1, IN)) {
            // `not` can also start `not in` only after a query, so here it is a clause negation.
            self.bump();
            negation = true;
        }
        if let Tok::Ident(name) = self.tok().clone()
            && !self.at_kw(SOME)
            && !self.at_kw(THIS)
        {
            if matches!(self.tok_at(1), Tok::P("(")) {
                self.pos += 2;
                let mut args = vec![];
                if !self.at_p(")") {
                    args.push(self.let_value()?);
                    while self.eat_p(",") {
                        args.push(self.let_value()?);
                    }
                }
                self.expect_p(")", "`)` closing the rule call")?;
                let message = self.message();
                return Ok(Clause::Param(ParamCall {
                    name,
                    negation,
                    args,
                    message,
                    span,
                }));
            }
            let next = self.tok_at(1);
            let ends = self.newline_at(1)
                || is_kw(next, OR)
                || matches!(next, Tok::Message(_) | Tok::Eof)
                || (ctx == Ctx::Cond && matches!(next, Tok::P("{")))
                || (matches!(next, Tok::P("|")) && is_kw(self.tok_at(2), &["OR"]));
            if ends && unary_op(&name).is_none() {
                self.pos += 1;
                let message = self.message();
                return Ok(Clause::Named(NamedRef {
                    name,
                    negation,
                    message,
                    span,
                }));
            }
        }
        let query = self.query()?;
        if ctx != Ctx::Cond {
            if self.at_p("{") {
                let block = self.block(ctx.inner())?;
                return Ok(Clause::Block(BlockClause {
                    query,
                    not_empty: false,
                    block,
                    span,
                }));
            }
            if (self.at_p("!") || self.at_kw(NOT))
                && is_kw(self.tok_at(1), &["empty", "EMPTY"])
                && matches!(self.tok_at(2), Tok::P("{"))
            {
                self.pos += 2;
                let block = self.block(ctx.inner())?;
                return Ok(Clause::Block(BlockClause {
                    query,
                    not_empty: true,
                    block,
                    span,
                }));
            }
        }
        let (op, op_not) = self.operator()?;
        let rhs = if op.is_unary() { None } else { Some(self.let_value()?) };
        let message = self.message();
        Ok(Clause::Access(Access {
            query,
            op,
            op_not,
            negation,
            rhs,
            message,
            span,
        }))
    }

    fn at_kw_at(&self, n: usize, kws: &[&str]) -> bool {
        is_kw(self.tok_at(n), kws)
    }

    fn message(&mut self) -> Option<String> {
        if let Tok::Message(m) = self.tok().clone() {
            self.pos += 1;
            Some(m)
        } else {
            None
        }
    }

    fn operator(&mut self) -> PResult<(Op, bool)> {
        let t = self.tok().clone();
        let r = match &t {
            Tok::P("==") => (Op::Eq, false),
            Tok::P("!=") => (Op::Eq, true),
            Tok::P(">") => (Op::Gt, false),
            Tok::P(">=") => (Op::Ge, false),
            Tok::P("<") => (Op::Lt, false),
            Tok::P("<=") => (Op::Le, false),
            Tok::Ident(s) if IN.contains(&s.as_str()) => (Op::In, false),
            Tok::Ident(s) if unary_op(s).is_some() => (unary_op(s).unwrap_or(Op::Exists), false),
            Tok::P("!") | Tok::Ident(_) if self.at_p("!") || self.at_kw(NOT) => {
                let n = self.tok_at(1).clone();
                match &n {
                    Tok::Ident(s) if IN.contains(&s.as_str()) => {
                        self.pos += 2;
                        return Ok((Op::In, true));
                    }
                    Tok::Ident(s) if unary_op(s).is_some() => {
                        self.pos += 2;
                        return Ok((unary_op(s).unwrap_or(Op::Exists), true));
                    }
                    _ => {
                        self.pos += 1;
                        return self.err("`in`, `exists`, `empty` or an `is_*` check after the negation");
                    }
                }
            }
            _ => {
                return self.err(
                    "an operator (==, !=, >, >=, <, <=, in, not in, exists, empty, is_string, ...); \
                     a rule reference must end its line",
                );
            }
        };
        self.pos += 1;
        Ok(r)
    }

    fn type_block(&mut self) -> PResult<Clause> {
        let span = self.span();
        let mut name = self.ident("a type name")?;
        while self.eat_p("::") {
            let part = self.ident("a type name part after `::`")?;
            name.push_str("::");
            name.push_str(&part);
        }
        let query = Query {
            parts: vec![
                QPart::Key("Resources".into()),
                QPart::AllValues(None),
                QPart::Filter(
                    None,
                    vec![vec![Clause::Access(Access {
                        query: Query {
                            parts: vec![QPart::Key("Type".into())],
                            match_all: true,
                            span,
                        },
                        op: Op::Eq,
                        op_not: false,
                        negation: false,
                        rhs: Some(LetValue::Lit(Node::lit(GVal::Str(name.clone().into())))),
                        message: None,
                        span,
                    })]],
                ),
            ],
            match_all: true,
            span,
        };
        let conditions = if self.eat_kw(WHEN) {
            Some(self.conditions()?)
        } else {
            None
        };
        let block = if self.at_p("{") {
            self.block(Ctx::Body)?
        } else {
            Block {
                lets: vec![],
                clauses: vec![self.disjunction(Ctx::Body)?],
            }
        };
        Ok(Clause::Type(TypeBlock {
            type_name: name,
            query,
            conditions,
            block,
            span,
        }))
    }

    fn query(&mut self) -> PResult<Query> {
        let span = self.span();
        let match_all = !self.eat_kw(SOME);
        let mut parts = vec![];
        match self.tok().clone() {
            Tok::Var(v) => parts.push(QPart::Var(v)),
            Tok::Ident(s) if THIS.contains(&s.as_str()) => parts.push(QPart::This),
            Tok::Ident(s) => parts.push(QPart::Key(s)),
            Tok::Str(s) => parts.push(QPart::Key(s)),
            _ => return self.err("a query (a key, `%variable` or `this`)"),
        }
        self.pos += 1;
        loop {
            if self.at_p(".") {
                self.pos += 1;
                match self.tok().clone() {
                    Tok::P("*") => parts.push(QPart::AllValues(None)),
                    Tok::Ident(s) => parts.push(QPart::Key(s)),
                    Tok::Str(s) => parts.push(QPart::Key(s)),
                    Tok::Int(i) => parts.push(QPart::Index(i)),
                    Tok::Var(v) => parts.push(QPart::Var(v)),
                    _ => return self.err("a key, index, `*` or `%variable` after `.`"),
                }
                self.pos += 1;
            } else if self.at_p("[") && !self.newline_at(0) {
                self.pos += 1;
                let part = self.bracket_part()?;
                parts.push(part);
            } else {
                break;
            }
        }
        // Like cfn-guard's parser: `%v.A`, `%v[ filter ]` ... are `%v[*].A`, `%v[*][ filter ]`.
        if matches!(parts.first(), Some(QPart::Var(_)))
            && parts.len() > 1
            && !matches!(parts.get(1), Some(QPart::AllIndices(None)))
        {
            parts.insert(1, QPart::AllIndices(None));
        }
        Ok(Query { parts, match_all, span })
    }

    fn bracket_part(&mut self) -> PResult<QPart> {
        let t = self.tok().clone();
        let close = matches!(self.tok_at(1), Tok::P("]"));
        match t {
            Tok::P("*") if close => {
                self.pos += 2;
                return Ok(QPart::AllIndices(None));
            }
            Tok::Int(i) if close => {
                self.pos += 2;
                return Ok(QPart::Index(i));
            }
            Tok::Str(s) if close => {
                self.pos += 2;
                return Ok(QPart::Key(s));
            }
            Tok::Ident(ref s) if close && !KEYS.contains(&s.as_str()) && !THIS.contains(&s.as_str()) => {
                self.pos += 2;
                return Ok(QPart::AllIndices(Some(s.clone())));
            }
            Tok::Ident(ref s) if matches!(self.tok_at(1), Tok::P("|")) => {
                let name = s.clone();
                self.pos += 2;
                let c = self.filter_clauses()?;
                return Ok(QPart::Filter(Some(name), c));
            }
            _ => {}
        }
        if self.at_kw(KEYS) {
            let op = match (self.tok_at(1).clone(), self.tok_at(2).clone()) {
                (Tok::P("=="), _) => Some((KeyOp::Eq, 2)),
                (Tok::P("!="), _) => Some((KeyOp::NotEq, 2)),
                (Tok::Ident(s), _) if IN.contains(&s.as_str()) => Some((KeyOp::In, 2)),
                (Tok::P("!"), Tok::Ident(s)) if IN.contains(&s.as_str()) => Some((KeyOp::NotIn, 3)),
                (Tok::Ident(n), Tok::Ident(s)) if NOT.contains(&n.as_str()) && IN.contains(&s.as_str()) => {
                    Some((KeyOp::NotIn, 3))
                }
                _ => None,
            };
            if let Some((op, n)) = op {
                self.pos += n;
                let rhs = self.let_value()?;
                self.expect_p("]", "`]` closing the keys filter")?;
                return Ok(QPart::KeyFilter(None, KeyFilter { op, rhs }));
            }
        }
        let c = self.filter_clauses()?;
        Ok(QPart::Filter(None, c))
    }

    fn filter_clauses(&mut self) -> PResult<Conj<Clause>> {
        self.enter()?;
        let mut c = vec![];
        loop {
            if self.eat_p("]") {
                break;
            }
            if matches!(self.tok(), Tok::Eof) {
                return self.err("`]` closing the filter");
            }
            c.push(self.disjunction(Ctx::Body)?);
        }
        if c.is_empty() {
            return self.err("at least one clause inside the filter `[ ]`");
        }
        self.leave();
        Ok(c)
    }

    fn let_value(&mut self) -> PResult<LetValue> {
        match self.tok().clone() {
            Tok::Str(_) | Tok::Regex(_) | Tok::Int(_) | Tok::Float(_) | Tok::P("[") | Tok::P("{") => {
                Ok(LetValue::Lit(self.literal()?))
            }
            Tok::Ident(s) if literal_kw(&s).is_some() => Ok(LetValue::Lit(self.literal()?)),
            Tok::Ident(s) if s == "r" && matches!(self.tok_at(1), Tok::P("[") | Tok::P("(")) && !self.space_at(1) => {
                Ok(LetValue::Lit(self.literal()?))
            }
            Tok::Ident(s) if matches!(self.tok_at(1), Tok::P("(")) => {
                let span = self.span();
                if !FUNCTIONS.contains(&s.as_str()) {
                    return self.err(&format!("a known function ({}), not `{s}`", FUNCTIONS.join(", ")));
                }
                self.pos += 2;
                let mut args = vec![];
                if !self.at_p(")") {
                    args.push(self.let_value()?);
                    while self.eat_p(",") {
                        args.push(self.let_value()?);
                    }
                }
                self.expect_p(")", "`)` closing the function call")?;
                Ok(LetValue::Func(FnCall { name: s, args, span }))
            }
            _ => Ok(LetValue::Query(self.query()?)),
        }
    }

    fn regex(&self, src: &str) -> PResult<Rx> {
        // Syntax is checked now (a located parse error); compiling waits for the first match.
        // Patterns in the small matcher's subset are valid without asking the full parser.
        if let Some(rx) = Rx::if_surely_valid(src) {
            return Ok(rx);
        }
        match fancy_regex::Expr::parse_tree(src) {
            Ok(_) => Ok(Rx::new(src)),
            Err(e) => Err(GuardError::parse(
                self.src,
                self.file,
                self.span(),
                &format!("a valid regex: {e}"),
            )),
        }
    }

    fn literal(&mut self) -> PResult<Node<'static>> {
        self.enter()?;
        let v = self.literal_inner()?;
        self.leave();
        Ok(Node::lit(v))
    }

    fn literal_inner(&mut self) -> PResult<GVal<'static>> {
        let t = self.tok().clone();
        let v = match t {
            Tok::Str(s) => GVal::Str(s.into()),
            Tok::Regex(r) => GVal::Regex(self.regex(&r)?),
            Tok::Int(i) => GVal::Int(i),
            Tok::Float(f) => GVal::Float(f),
            Tok::Ident(ref s) if literal_kw(s).is_some() => literal_kw(s).unwrap_or(GVal::Null),
            Tok::Ident(ref s) if s == "r" => {
                self.pos += 1;
                let lo_incl = match self.bump() {
                    Tok::P("[") => true,
                    Tok::P("(") => false,
                    _ => return self.err("`[` or `(` opening a range"),
                };
                let lo = self.bound()?;
                self.expect_p(",", "`,` between the range bounds")?;
                let hi = self.bound()?;
                let hi_incl = match self.tok() {
                    Tok::P("]") => true,
                    Tok::P(")") => false,
                    _ => return self.err("`]` or `)` closing the range"),
                };
                self.pos += 1;
                return Ok(GVal::Range(RangeV {
                    lo,
                    hi,
                    lo_incl,
                    hi_incl,
                }));
            }
            Tok::P("[") => {
                self.pos += 1;
                let mut items = vec![];
                while !self.eat_p("]") {
                    items.push(self.literal()?);
                    if !self.eat_p(",") {
                        self.expect_p("]", "`,` or `]` in the list")?;
                        break;
                    }
                }
                return Ok(GVal::List(items));
            }
            Tok::P("{") => {
                self.pos += 1;
                let mut m = super::value::GMap::default();
                while !self.eat_p("}") {
                    let k = match self.bump() {
                        Tok::Str(s) | Tok::Ident(s) => s,
                        _ => {
                            self.pos = self.pos.saturating_sub(1);
                            return self.err("a key in the map literal");
                        }
                    };
                    self.expect_p(":", "`:` after the map key")?;
                    let v = self.literal()?;
                    m.insert(k.into(), v);
                    if !self.eat_p(",") {
                        self.expect_p("}", "`,` or `}` in the map")?;
                        break;
                    }
                }
                return Ok(GVal::Map(m));
            }
            _ => return self.err("a literal value"),
        };
        self.pos += 1;
        Ok(v)
    }

    fn bound(&mut self) -> PResult<Bound> {
        let b = match self.tok().clone() {
            Tok::Int(i) => Bound::Int(i),
            Tok::Float(f) => Bound::Float(f),
            Tok::Str(s) if s.chars().count() == 1 => Bound::Char(s.chars().next().unwrap_or(' ')),
            Tok::Ident(s) if s.chars().count() == 1 => Bound::Char(s.chars().next().unwrap_or(' ')),
            _ => return self.err("a number or a character as range bound"),
        };
        self.pos += 1;
        Ok(b)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ctx {
    /// Rule body: type blocks allowed.
    Rule,
    /// Block / filter body.
    Body,
    /// `when` conditions.
    Cond,
}

impl Ctx {
    fn inner(self) -> Ctx {
        Ctx::Body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> RulesFile {
        match parse(src, "t.guard") {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }
    fn err(src: &str) -> String {
        parse(src, "t.guard")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "NO ERROR".into())
    }

    #[test]
    fn parses_rules_lets_and_default() {
        let f = ok(
            "let a = Resources.*[ Type == 'X' ]\nrule r when %a !empty { %a.Properties.P == 1 }\nResources exists\n",
        );
        assert_eq!(f.lets.len(), 1);
        assert_eq!(f.rules.len(), 2);
        assert_eq!(f.rules[0].name, "default");
        assert_eq!(f.rules[1].name, "r");
        assert!(f.rules[1].conditions.is_some());
    }

    #[test]
    fn parses_operators_and_literals() {
        let f = ok(r#"rule r {
  a != "x"
  b not in [1, 2.5, /re/, 'x']
  c !in r[1,5)
  d NOT EXISTS
  e !empty
  f IS_STRING or g is_list OR h is_null
  i >= 1 << must be big >>
  j == { k: 'v', "q-k": [true, NULL] }
  not k == 'v'
  some l.*.m == 1
  Tags[ keys == /a/ ] !empty
  x[ name | this == 1 ].y[*].z[0].'q'.%v exists
}"#);
        let clauses = &f.rules[0].block.clauses;
        assert_eq!(clauses.len(), 12);
        assert_eq!(clauses[5].len(), 3);
        let Clause::Access(a) = &clauses[8][0] else {
            panic!("access")
        };
        assert!(a.negation && !a.op_not);
        let Clause::Access(a) = &clauses[6][0] else {
            panic!("access")
        };
        assert_eq!(a.message.as_deref(), Some("must be big"));
    }

    #[test]
    fn parses_blocks_type_blocks_when_and_params() {
        let f = ok(r#"
rule p(x) { %x !empty }
rule r when q {
  AWS::S3::Bucket when Properties exists {
    Properties { BucketName exists }
  }
  AWS::SQS::Queue Properties.X == 1
  when a == 1 { b == 2 }
  p(%y)
  not q
  Properties !empty { c == 1 }
}
rule q { x exists }
"#);
        assert_eq!(f.param_rules.len(), 1);
        assert_eq!(f.rules.len(), 2);
        let c = &f.rules[0].block.clauses;
        assert!(matches!(c[0][0], Clause::Type(_)));
        assert!(matches!(c[1][0], Clause::Type(_)));
        assert!(matches!(c[2][0], Clause::When(..)));
        assert!(matches!(c[3][0], Clause::Param(_)));
        assert!(matches!(c[4][0], Clause::Named(NamedRef { negation: true, .. })));
        assert!(matches!(c[5][0], Clause::Block(BlockClause { not_empty: true, .. })));
    }

    #[test]
    fn rule_reference_must_end_its_line() {
        let e = err("rule a { b }\nrule b { x exists }");
        assert!(e.contains("t.guard:1:12"), "{e}");
        assert!(e.contains('^'), "{e}");
    }

    #[test]
    fn errors_are_located_with_caret() {
        let e = err("rule r {\n  a ==\n}");
        assert!(e.starts_with("t.guard:3:1"), "{e}");
        assert!(e.contains("expected"), "{e}");
        let e = err("rule r { a == /(/ }");
        assert!(e.contains("valid regex"), "{e}");
        let e = err("let x = foo(1)");
        assert!(e.contains("known function"), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let src = format!("rule r {{ a == {}1{} }}", "[".repeat(100), "]".repeat(100));
        assert!(err(&src).contains("nesting"));
        let src = format!("rule r {{ {} }}", "a { ".repeat(100));
        assert!(err(&src).contains("nesting"));
    }
}
