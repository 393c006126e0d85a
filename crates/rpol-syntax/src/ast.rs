//! The RPOL syntax tree. Every node keeps its byte span; no pest type appears here.

pub use rpol_diag::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed `.rpol` file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
    /// Every comment in source order (the formatter puts them back).
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Span of the whole comment, `#` included, newline excluded.
    pub span: Span,
    /// Text after the `#` (after `##` for doc comments), newline excluded.
    pub text: String,
    /// `##` comment.
    pub doc: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// From the item's keyword to its end (doc comments excluded).
    pub span: Span,
    /// The item's leading keyword (`policy`, `mode`, `forbid`, …).
    pub keyword: Span,
    /// The run of `##` lines directly before the item, joined with `\n`,
    /// each line with the `##` and one following space removed.
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VocabKind {
    Purposes,
    Consent,
    Capabilities,
    Roles,
    Surfaces,
}

impl VocabKind {
    pub fn keyword(self) -> &'static str {
        match self {
            VocabKind::Purposes => "purposes",
            VocabKind::Consent => "consent",
            VocabKind::Capabilities => "capabilities",
            VocabKind::Roles => "roles",
            VocabKind::Surfaces => "surfaces",
        }
    }
}

/// The kinds of named blocks `KEYWORD NAME { fields }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    Policy,
    Mode,
    Class,
    Source,
    FeatureSet,
    Reason,
}

impl BlockKind {
    pub fn keyword(self) -> &'static str {
        match self {
            BlockKind::Policy => "policy",
            BlockKind::Mode => "mode",
            BlockKind::Class => "class",
            BlockKind::Source => "source",
            BlockKind::FeatureSet => "feature_set",
            BlockKind::Reason => "reason",
        }
    }
}

/// The kinds of unnamed blocks `KEYWORD { fields }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    Context,
    Retention,
    Debug,
}

impl TableKind {
    pub fn keyword(self) -> &'static str {
        match self {
            TableKind::Context => "context",
            TableKind::Retention => "retention",
            TableKind::Debug => "debug",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `policy N { … }`, `mode N { … }`, `class N { … }`, `source N { … }`,
    /// `feature_set N { … }`, `reason N { … }`.
    Block {
        kind: BlockKind,
        name: Ident,
        fields: Fields,
    },
    /// `purposes [a, b]` and the other vocabularies.
    Vocab {
        kind: VocabKind,
        names: Vec<Ident>,
        list_span: Span,
    },
    /// `context { … }`, `retention { … }`, `debug { … }`.
    Table {
        kind: TableKind,
        fields: Fields,
    },
    /// `resolve mode { when E => N … else => N }`; `target` is the word after
    /// `resolve` (the checker requires `mode`).
    Resolve {
        target: Ident,
        arms: Vec<Arm>,
        body_span: Span,
    },
    Forbid(Forbid),
    Test(Test),
}

/// `{ name: value, … }` with its braces' span.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: Ident,
    pub value: Value,
    /// From the name to the end of the value.
    pub span: Span,
}

/// A field value: a nested object (only in `given`) or an expression, which
/// also covers literals, names and lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Object(Fields),
    Expr(Expr),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Object(f) => f.span,
            Value::Expr(e) => e.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// `None` for the `else` arm.
    pub condition: Option<Expr>,
    pub mode: Ident,
    /// From `when`/`else` to the end of the mode name.
    pub span: Span,
    /// The `when` or `else` keyword.
    pub keyword: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForbidKind {
    Feature,
    Source,
    Reason,
}

impl ForbidKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ForbidKind::Feature => "feature",
            ForbidKind::Source => "source",
            ForbidKind::Reason => "reason",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    One(Ident),
    List(Vec<Ident>, Span),
}

impl Targets {
    pub fn names(&self) -> &[Ident] {
        match self {
            Targets::One(i) => std::slice::from_ref(i),
            Targets::List(v, _) => v,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            Targets::One(i) => i.span,
            Targets::List(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forbid {
    pub kind: ForbidKind,
    pub kind_span: Span,
    pub targets: Option<Targets>,
    pub condition: Option<Expr>,
    pub because: Option<StrLit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    /// The unescaped value.
    pub value: String,
    /// Span including the quotes.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub name: StrLit,
    pub body_span: Span,
    /// Every `given { … }` block in order (the checker requires exactly one).
    pub given: Vec<Fields>,
    pub expects: Vec<Expect>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub kind: ExpectKind,
    /// From `expect` to the end of the statement.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allowed,
    Denied,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectKind {
    /// `expect mode == N`
    Mode(Ident),
    /// `expect route == N` or `expect route == none` (`None`).
    Route(Option<Ident>),
    /// `expect source T allowed|denied CODE?`
    Source {
        targets: Targets,
        outcome: Outcome,
        outcome_span: Span,
        code: Option<Ident>,
    },
    /// `expect feature T allowed|denied CODE?`
    Feature {
        targets: Targets,
        outcome: Outcome,
        outcome_span: Span,
        code: Option<Ident>,
    },
    /// `expect reason "code" shows N` (or a list of codes)
    ReasonShows { codes: ReasonCodes, reason: Ident },
    /// `expect reason "code" suppressed CODE?` (or a list of codes)
    ReasonSuppressed {
        codes: ReasonCodes,
        deny: Option<Ident>,
    },
    /// `expect retention KIND DURATION`; `duration` is a duration literal.
    Retention { kind: Ident, duration: Expr },
    /// `expect debug ROLE sees|hides T`
    Debug {
        role: Ident,
        sees: bool,
        verb_span: Span,
        targets: Targets,
    },
    /// `expect cache_scope { component: value, … }`: only the components
    /// written are compared.
    CacheScope(Fields),
}

/// The reason codes of an `expect reason`: one string or a list.
#[derive(Debug, Clone, PartialEq)]
pub enum ReasonCodes {
    One(StrLit),
    List(Vec<StrLit>, Span),
}

impl ReasonCodes {
    pub fn codes(&self) -> &[StrLit] {
        match self {
            ReasonCodes::One(s) => std::slice::from_ref(s),
            ReasonCodes::List(v, _) => v,
        }
    }
    pub fn span(&self) -> Span {
        match self {
            ReasonCodes::One(s) => s.span,
            ReasonCodes::List(_, sp) => *sp,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    S,
    M,
    H,
    D,
    W,
}

impl DurationUnit {
    pub fn seconds(self) -> i64 {
        match self {
            DurationUnit::S => 1,
            DurationUnit::M => 60,
            DurationUnit::H => 3_600,
            DurationUnit::D => 86_400,
            DurationUnit::W => 604_800,
        }
    }
    pub fn suffix(self) -> char {
        match self {
            DurationUnit::S => 's',
            DurationUnit::M => 'm',
            DurationUnit::H => 'h',
            DurationUnit::D => 'd',
            DurationUnit::W => 'w',
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Unescaped string literal.
    Str(String),
    Int(i64),
    Duration {
        value: i64,
        unit: DurationUnit,
    },
    Bool(bool),
    List(Vec<Expr>),
    /// `a.b.c`, or a bare identifier (one segment). Whether the first segment is a
    /// path root (`tenant`, `consent`, …) or an enum literal is the checker's call;
    /// keywords are allowed as segments.
    Path(Vec<Ident>),
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    /// Two or more operands (n-ary, so long chains do not nest).
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    In {
        negated: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
}
