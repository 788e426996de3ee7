//! The parsed form of a rules file.

use super::lexer::Span;
use super::value::Node;

/// Conjunctive normal form: every inner list is a disjunction, all of them must hold.
pub type Conj<T> = Vec<Vec<T>>;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Let {
    pub name: String,
    pub value: LetValue,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum LetValue {
    Lit(Node<'static>),
    Query(Query),
    Func(FnCall),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FnCall {
    pub name: String,
    pub args: Vec<LetValue>,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Query {
    pub parts: Vec<QPart>,
    /// false when written with the `some` prefix.
    pub match_all: bool,
    pub span: Span,
}

impl Query {
    pub fn is_lone_variable(&self) -> bool {
        matches!(self.parts.as_slice(), [QPart::Var(_)])
    }
    pub fn ends_in_filter(&self) -> bool {
        matches!(self.parts.last(), Some(QPart::Filter(..)) | Some(QPart::KeyFilter(..)))
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum QPart {
    This,
    Key(String),
    /// `%v` at the start of a query, or a key join `Resources.%v` later.
    Var(String),
    Index(i64),
    /// `.*` (optionally `[name]`-style capture is AllIndices)
    AllValues(Option<String>),
    /// `[*]` or `[name]`
    AllIndices(Option<String>),
    Filter(Option<String>, Conj<Clause>),
    KeyFilter(Option<String>, KeyFilter),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyFilter {
    pub op: KeyOp,
    pub rhs: LetValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyOp {
    Eq,
    NotEq,
    In,
    NotIn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    Eq,
    In,
    Gt,
    Ge,
    Lt,
    Le,
    Exists,
    Empty,
    IsString,
    IsList,
    IsStruct,
    IsBool,
    IsInt,
    IsFloat,
    IsNull,
}

impl Op {
    pub fn is_unary(self) -> bool {
        !matches!(self, Op::Eq | Op::In | Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
    pub fn name(self, not: bool) -> &'static str {
        match (self, not) {
            (Op::Eq, false) => "==",
            (Op::Eq, true) => "!=",
            (Op::In, false) => "IN",
            (Op::In, true) => "NOT IN",
            (Op::Gt, _) => ">",
            (Op::Ge, _) => ">=",
            (Op::Lt, _) => "<",
            (Op::Le, _) => "<=",
            (Op::Exists, false) => "EXISTS",
            (Op::Exists, true) => "NOT EXISTS",
            (Op::Empty, false) => "EMPTY",
            (Op::Empty, true) => "NOT EMPTY",
            (Op::IsString, false) => "IS_STRING",
            (Op::IsString, true) => "NOT IS_STRING",
            (Op::IsList, false) => "IS_LIST",
            (Op::IsList, true) => "NOT IS_LIST",
            (Op::IsStruct, false) => "IS_STRUCT",
            (Op::IsStruct, true) => "NOT IS_STRUCT",
            (Op::IsBool, false) => "IS_BOOL",
            (Op::IsBool, true) => "NOT IS_BOOL",
            (Op::IsInt, false) => "IS_INT",
            (Op::IsInt, true) => "NOT IS_INT",
            (Op::IsFloat, false) => "IS_FLOAT",
            (Op::IsFloat, true) => "NOT IS_FLOAT",
            (Op::IsNull, false) => "IS_NULL",
            (Op::IsNull, true) => "NOT IS_NULL",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Access {
    pub query: Query,
    pub op: Op,
    /// The operator's own negation: `!=`, `not in`, `!exists`, `not empty` ...
    pub op_not: bool,
    /// Clause-level `not` / `!` before the query.
    pub negation: bool,
    pub rhs: Option<LetValue>,
    pub message: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NamedRef {
    pub name: String,
    pub negation: bool,
    pub message: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParamCall {
    pub name: String,
    pub negation: bool,
    pub args: Vec<LetValue>,
    pub message: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Block {
    pub lets: Vec<Let>,
    pub clauses: Conj<Clause>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BlockClause {
    pub query: Query,
    pub not_empty: bool,
    pub block: Block,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TypeBlock {
    pub type_name: String,
    pub query: Query,
    pub conditions: Option<Conj<Clause>>,
    pub block: Block,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Clause {
    Access(Access),
    Named(NamedRef),
    Param(ParamCall),
    Block(BlockClause),
    When(Conj<Clause>, Block),
    Type(TypeBlock),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    pub name: String,
    pub conditions: Option<Conj<Clause>>,
    pub block: Block,
    pub span: Span,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParamRule {
    pub rule: Rule,
    pub params: Vec<String>,
}

/// A parsed `.guard` file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RulesFile {
    pub file_name: String,
    pub lets: Vec<Let>,
    /// File order; the implicit `default` rule (clauses outside any rule) comes first.
    pub rules: Vec<Rule>,
    pub param_rules: Vec<ParamRule>,
}
