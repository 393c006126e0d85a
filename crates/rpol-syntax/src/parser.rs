//! pest → AST. No pest type leaves this module.

use pest::Parser as _;
use pest::iterators::Pair;
use pest_derive::Parser;
use rpol_diag::{Diagnostic, FileId, Span};

use crate::ast::*;

use crate::escape::unescape;

#[derive(Parser)]
#[grammar = "rpol.pest"]
struct RpolParser;

struct Lower<'t> {
    file: FileId,
    text: &'t str,
    /// Comment end offset → start offset, to trim comments off span ends.
    comment_at_end: std::collections::HashMap<usize, usize>,
}

type R<T> = Result<T, Diagnostic>;

pub fn parse_items(file: FileId, text: &str, comments: &[Comment]) -> R<Vec<Item>> {
    let mut pairs = RpolParser::parse(Rule::file, text).map_err(|e| syntax_error(file, text, e))?;
    let lower = Lower {
        file,
        text,
        // Keyed by the comment's end without trailing whitespace too, since
        // trimming a span's end first trims that whitespace (fuzzing found
        // `when t\n## \n` left half a comment in the span).
        comment_at_end: comments
            .iter()
            .flat_map(|c| {
                let trimmed = c.span.start + text[c.span.start..c.span.end].trim_end().len();
                [(c.span.end, c.span.start), (trimmed, c.span.start)]
            })
            .collect(),
    };
    let Some(root) = pairs.next() else {
        return Ok(Vec::new());
    };
    root.into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(|p| lower.item(p))
        .collect()
}

/// Parses one condition on its own (a query). Comments are not allowed in it.
pub fn parse_expr(file: FileId, text: &str) -> R<Expr> {
    let mut pairs =
        RpolParser::parse(Rule::query, text).map_err(|e| syntax_error(file, text, e))?;
    let lower = Lower {
        file,
        text,
        comment_at_end: Default::default(),
    };
    let root = pairs.next().expect("query rule");
    let expr = root.into_inner().next().expect("query body");
    lower.expr(expr)
}

fn describe(rule: &Rule) -> &'static str {
    match rule {
        Rule::ident | Rule::target_name | Rule::code => "a name",
        Rule::block_item
        | Rule::vocab_item
        | Rule::table_item
        | Rule::resolve_item
        | Rule::forbid_item
        | Rule::test_item
        | Rule::item_kw => "an item",
        Rule::block_kw | Rule::vocab_kw | Rule::table_kw => "an item keyword",
        Rule::field => "a field `name: value`",
        Rule::fields => "`{`",
        Rule::name_list | Rule::list => "a list `[…]`",
        Rule::arm => "a `when … => mode` or `else => mode` arm",
        Rule::arms | Rule::test_body => "`{`",
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::unary | Rule::compare => {
            "an expression"
        }
        Rule::cmp_op => "a comparison operator",
        Rule::in_op | Rule::kw_in => "`in`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not | Rule::not_op => "`not`",
        Rule::path => "a path",
        Rule::call => "a call",
        Rule::paren => "`(`",
        Rule::string | Rule::string_inner => "a string",
        Rule::int | Rule::digits => "an integer",
        Rule::duration => "a duration",
        Rule::bool => "`true` or `false`",
        Rule::kw_when => "`when`",
        Rule::kw_else => "`else`",
        Rule::kw_because => "`because`",
        Rule::kw_given => "`given`",
        Rule::kw_expect => "`expect`",
        Rule::given => "`given { … }`",
        Rule::expect => "`expect …`",
        Rule::expect_mode | Rule::kw_mode => "`mode`",
        Rule::expect_route | Rule::kw_route => "`route`",
        Rule::expect_source | Rule::kw_source => "`source`",
        Rule::expect_feature | Rule::kw_feature => "`feature`",
        Rule::expect_reason | Rule::kw_reason => "`reason`",
        Rule::expect_retention | Rule::kw_retention => "`retention`",
        Rule::expect_debug | Rule::kw_debug => "`debug`",
        Rule::expect_cache_scope | Rule::kw_cache_scope => "`cache_scope`",
        Rule::debug_verb => "`sees` or `hides`",
        Rule::reason_codes | Rule::string_list => "a reason code string or a list of them",
        Rule::reason_shows | Rule::kw_shows => "`shows`",
        Rule::reason_suppressed | Rule::kw_suppressed => "`suppressed`",
        Rule::outcome => "`allowed` or `denied`",
        Rule::forbid_kind => "`feature`, `source` or `reason`",
        Rule::targets => "a name or a list of names",
        Rule::EOI => "the end of the file",
        _ => "something else",
    }
}

fn syntax_error(file: FileId, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let expected = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&str> = positives.iter().map(describe).collect();
            words.sort_unstable();
            words.dedup();
            words.retain(|w| *w != "something else");
            match words.len() {
                0 => "valid syntax".to_string(),
                1 => words[0].to_string(),
                n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let rest = &text[pos.min(text.len())..];
    let found_len = if rest.is_empty() {
        0
    } else if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    let found = if found_len == 0 {
        "the end of the file".to_string()
    } else {
        format!("`{}`", &rest[..found_len])
    };
    let d = Diagnostic::error(
        "E0100",
        file,
        Span::new(pos, pos + found_len),
        format!("expected {expected}, found {found}"),
    )
    .with_label(format!("expected {expected}"));
    if looks_like_a_duration(&rest[..found_len]) {
        // `24hours`, `3days`: a number run into a word is a duration that
        // pest cannot name; say what one looks like.
        return d.with_help(
            "a duration is a whole number followed by one unit, `s`, `m`, `h`, `d` or `w`: `24h`, `90d`, `2w`",
        );
    }
    d
}

/// Digits followed by letters (`24hours`): what a malformed duration looks like.
fn looks_like_a_duration(word: &str) -> bool {
    let letters = word.trim_start_matches(|c: char| c.is_ascii_digit());
    letters.len() < word.len() && !letters.is_empty() && letters.starts_with(char::is_alphabetic)
}

impl Lower<'_> {
    /// A pair's span without the whitespace and comments pest lets a
    /// non-atomic rule swallow at its end.
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let start = p.as_span().start();
        let mut end = p.as_span().end();
        loop {
            let trimmed = self.text[start..end].trim_end().len() + start;
            end = trimmed;
            match self.comment_at_end.get(&end) {
                Some(&s) if s >= start => end = s,
                _ => break,
            }
        }
        Span::new(start, end.max(start))
    }

    fn err(&self, span: Span, msg: String) -> Diagnostic {
        Diagnostic::error("E0100", self.file, span, msg)
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        // `target_name` and `code` wrap an ident.
        let p = match p.as_rule() {
            Rule::ident => p,
            _ => p.into_inner().next().expect("wrapper holds an ident"),
        };
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn string(&self, p: Pair<'_, Rule>) -> R<StrLit> {
        let sp = self.span(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        let value = unescape(raw).map_err(|(off, code, msg)| {
            let at = Span::new(sp.start + 1 + off, sp.start + 3 + off);
            let d = self.err(at, msg);
            if code == "E0100" {
                d
            } else {
                Diagnostic { code, ..d }
            }
        })?;
        Ok(StrLit { value, span: sp })
    }

    fn item(&self, p: Pair<'_, Rule>) -> R<Item> {
        let sp = self.span(&p);
        let rule = p.as_rule();
        let mut inner = p.into_inner();
        let kw = inner.next().expect("items start with a keyword");
        let keyword = self.span(&kw);
        let kind = match rule {
            Rule::block_item => {
                let kind = match kw.as_str() {
                    "policy" => BlockKind::Policy,
                    "mode" => BlockKind::Mode,
                    "class" => BlockKind::Class,
                    "source" => BlockKind::Source,
                    "feature_set" => BlockKind::FeatureSet,
                    _ => BlockKind::Reason,
                };
                let name = self.ident(inner.next().expect("block name"));
                let fields = self.fields(inner.next().expect("block fields"))?;
                ItemKind::Block { kind, name, fields }
            }
            Rule::vocab_item => {
                let kind = match kw.as_str() {
                    "purposes" => VocabKind::Purposes,
                    "consent" => VocabKind::Consent,
                    "capabilities" => VocabKind::Capabilities,
                    "roles" => VocabKind::Roles,
                    _ => VocabKind::Surfaces,
                };
                let list = inner.next().expect("vocabulary list");
                let list_span = self.span(&list);
                ItemKind::Vocab {
                    kind,
                    names: list.into_inner().map(|i| self.ident(i)).collect(),
                    list_span,
                }
            }
            Rule::table_item => {
                let kind = match kw.as_str() {
                    "context" => TableKind::Context,
                    "retention" => TableKind::Retention,
                    _ => TableKind::Debug,
                };
                ItemKind::Table {
                    kind,
                    fields: self.fields(inner.next().expect("table fields"))?,
                }
            }
            Rule::resolve_item => {
                let target = self.ident(inner.next().expect("resolve target"));
                let arms_pair = inner.next().expect("resolve arms");
                let body_span = self.span(&arms_pair);
                let arms = arms_pair
                    .into_inner()
                    .map(|a| self.arm(a))
                    .collect::<R<Vec<_>>>()?;
                ItemKind::Resolve {
                    target,
                    arms,
                    body_span,
                }
            }
            Rule::forbid_item => ItemKind::Forbid(self.forbid(inner)?),
            Rule::test_item => ItemKind::Test(self.test(inner)?),
            _ => unreachable!("grammar: item alternatives"),
        };
        Ok(Item {
            kind,
            span: sp,
            keyword,
            doc: None,
        })
    }

    fn arm(&self, p: Pair<'_, Rule>) -> R<Arm> {
        let sp = self.span(&p);
        let mut inner = p.into_inner();
        let kw = inner.next().expect("arm keyword");
        let keyword = self.span(&kw);
        let condition = if kw.as_rule() == Rule::kw_when {
            Some(self.expr(inner.next().expect("arm condition"))?)
        } else {
            None
        };
        let mode = self.ident(inner.next().expect("arm mode"));
        Ok(Arm {
            condition,
            mode,
            span: sp,
            keyword,
        })
    }

    fn targets(&self, p: Pair<'_, Rule>) -> Targets {
        let sp = self.span(&p);
        let t = p.into_inner().next().expect("targets content");
        match t.as_rule() {
            Rule::name_list => Targets::List(t.into_inner().map(|i| self.ident(i)).collect(), sp),
            _ => Targets::One(self.ident(t)),
        }
    }

    fn forbid(&self, mut inner: pest::iterators::Pairs<'_, Rule>) -> R<Forbid> {
        let kind_p = inner.next().expect("forbid kind");
        let kind = match kind_p.as_str() {
            "feature" => ForbidKind::Feature,
            "source" => ForbidKind::Source,
            _ => ForbidKind::Reason,
        };
        let mut f = Forbid {
            kind,
            kind_span: self.span(&kind_p),
            targets: None,
            condition: None,
            because: None,
        };
        while let Some(p) = inner.next() {
            match p.as_rule() {
                Rule::targets => f.targets = Some(self.targets(p)),
                Rule::kw_when => {
                    f.condition = Some(self.expr(inner.next().expect("forbid condition"))?)
                }
                Rule::kw_because => {
                    f.because = Some(self.string(inner.next().expect("because text"))?)
                }
                _ => {}
            }
        }
        Ok(f)
    }

    fn test(&self, mut inner: pest::iterators::Pairs<'_, Rule>) -> R<Test> {
        let name = self.string(inner.next().expect("test name"))?;
        let body = inner.next().expect("test body");
        let body_span = self.span(&body);
        let mut t = Test {
            name,
            body_span,
            given: vec![],
            expects: vec![],
        };
        for p in body.into_inner() {
            match p.as_rule() {
                Rule::given => t
                    .given
                    .push(self.fields(p.into_inner().nth(1).expect("given fields"))?),
                Rule::expect => t.expects.push(self.expect(p)?),
                _ => {}
            }
        }
        Ok(t)
    }

    fn expect(&self, p: Pair<'_, Rule>) -> R<Expect> {
        let sp = self.span(&p);
        let stmt = p.into_inner().nth(1).expect("expect statement");
        let rule = stmt.as_rule();
        let mut inner = stmt.into_inner();
        inner.next(); // the statement's keyword
        let kind = match rule {
            Rule::expect_mode => ExpectKind::Mode(self.ident(inner.next().expect("mode name"))),
            Rule::expect_route => {
                let id = self.ident(inner.next().expect("route name"));
                ExpectKind::Route(if id.name == "none" { None } else { Some(id) })
            }
            Rule::expect_source | Rule::expect_feature => {
                let targets = self.targets(inner.next().expect("targets"));
                let o = inner.next().expect("outcome");
                let outcome = if o.as_str() == "allowed" {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                };
                let outcome_span = self.span(&o);
                let code = inner.next().map(|c| self.ident(c));
                if rule == Rule::expect_source {
                    ExpectKind::Source {
                        targets,
                        outcome,
                        outcome_span,
                        code,
                    }
                } else {
                    ExpectKind::Feature {
                        targets,
                        outcome,
                        outcome_span,
                        code,
                    }
                }
            }
            Rule::expect_reason => {
                let codes = self.reason_codes(inner.next().expect("reason codes"))?;
                let tail = inner.next().expect("shows or suppressed");
                let tail_rule = tail.as_rule();
                let mut t = tail.into_inner();
                t.next();
                match tail_rule {
                    Rule::reason_shows => ExpectKind::ReasonShows {
                        codes,
                        reason: self.ident(t.next().expect("reason name")),
                    },
                    _ => ExpectKind::ReasonSuppressed {
                        codes,
                        deny: t.next().map(|c| self.ident(c)),
                    },
                }
            }
            Rule::expect_retention => ExpectKind::Retention {
                kind: self.ident(inner.next().expect("retention kind")),
                duration: self.expr(inner.next().expect("retention duration"))?,
            },
            Rule::expect_debug => {
                let role = self.ident(inner.next().expect("debug role"));
                let verb = inner.next().expect("sees or hides");
                ExpectKind::Debug {
                    role,
                    sees: verb.as_str() == "sees",
                    verb_span: self.span(&verb),
                    targets: self.targets(inner.next().expect("debug targets")),
                }
            }
            Rule::expect_cache_scope => {
                ExpectKind::CacheScope(self.fields(inner.next().expect("cache_scope fields"))?)
            }
            _ => unreachable!("grammar: expect alternatives"),
        };
        Ok(Expect { kind, span: sp })
    }

    fn reason_codes(&self, p: Pair<'_, Rule>) -> R<ReasonCodes> {
        let inner = p.into_inner().next().expect("reason codes content");
        if inner.as_rule() == Rule::string_list {
            let sp = self.span(&inner);
            let codes = inner
                .into_inner()
                .map(|s| self.string(s))
                .collect::<R<Vec<_>>>()?;
            return Ok(ReasonCodes::List(codes, sp));
        }
        Ok(ReasonCodes::One(self.string(inner)?))
    }

    fn fields(&self, p: Pair<'_, Rule>) -> R<Fields> {
        let sp = self.span(&p);
        let fields = p
            .into_inner()
            .map(|f| self.field(f))
            .collect::<R<Vec<_>>>()?;
        Ok(Fields { fields, span: sp })
    }

    fn field(&self, p: Pair<'_, Rule>) -> R<Field> {
        let sp = self.span(&p);
        let mut inner = p.into_inner();
        let name = self.ident(inner.next().expect("field name"));
        let v = inner.next().expect("field value");
        let value = match v.as_rule() {
            Rule::fields => Value::Object(self.fields(v)?),
            _ => Value::Expr(self.expr(v)?),
        };
        Ok(Field {
            name,
            value,
            span: sp,
        })
    }

    fn expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        let sp = self.span(&p);
        match p.as_rule() {
            Rule::expr => self.expr(p.into_inner().next().expect("expr body")),
            Rule::or_expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::or_expr;
                let parts: Vec<Expr> = p
                    .into_inner()
                    .filter(|q| !matches!(q.as_rule(), Rule::kw_and | Rule::kw_or))
                    .map(|q| self.expr(q))
                    .collect::<R<_>>()?;
                if parts.len() == 1 {
                    return Ok(parts.into_iter().next().expect("one part"));
                }
                Ok(Expr {
                    kind: if is_or {
                        ExprKind::Or(parts)
                    } else {
                        ExprKind::And(parts)
                    },
                    span: sp,
                })
            }
            Rule::unary => {
                let mut inner = p.into_inner();
                let first = inner.next().expect("unary body");
                if first.as_rule() == Rule::not_op {
                    let operand = self.expr(inner.next().expect("not operand"))?;
                    Ok(Expr {
                        kind: ExprKind::Not(Box::new(operand)),
                        span: sp,
                    })
                } else {
                    self.expr(first)
                }
            }
            Rule::compare => {
                let mut inner = p.into_inner();
                let lhs = self.expr(inner.next().expect("lhs"))?;
                let Some(op) = inner.next() else {
                    return Ok(lhs);
                };
                let rhs = self.expr(inner.next().expect("rhs"))?;
                let kind = if op.as_rule() == Rule::in_op {
                    ExprKind::In {
                        negated: op.into_inner().count() == 2,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    }
                } else {
                    let op = match op.as_str() {
                        "==" => CmpOp::Eq,
                        "!=" => CmpOp::Ne,
                        "<=" => CmpOp::Le,
                        ">=" => CmpOp::Ge,
                        "<" => CmpOp::Lt,
                        _ => CmpOp::Gt,
                    };
                    ExprKind::Compare {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    }
                };
                Ok(Expr { kind, span: sp })
            }
            Rule::paren => Ok(Expr {
                kind: ExprKind::Paren(Box::new(
                    self.expr(p.into_inner().next().expect("paren body"))?,
                )),
                span: sp,
            }),
            Rule::call => {
                let mut inner = p.into_inner();
                let name = self.ident(inner.next().expect("call name"));
                let args = inner.map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
                Ok(Expr {
                    kind: ExprKind::Call { name, args },
                    span: sp,
                })
            }
            Rule::list => Ok(Expr {
                kind: ExprKind::List(p.into_inner().map(|i| self.expr(i)).collect::<R<_>>()?),
                span: sp,
            }),
            Rule::path => Ok(Expr {
                kind: ExprKind::Path(p.into_inner().map(|i| self.ident(i)).collect()),
                span: sp,
            }),
            Rule::string => {
                let s = self.string(p)?;
                Ok(Expr {
                    kind: ExprKind::Str(s.value),
                    span: sp,
                })
            }
            Rule::bool => Ok(Expr {
                kind: ExprKind::Bool(p.as_str() == "true"),
                span: sp,
            }),
            Rule::int => {
                let v = p.as_str().parse::<i64>().map_err(|_| {
                    self.err(
                        sp,
                        format!("integer `{}` does not fit in 64 bits", p.as_str()),
                    )
                })?;
                Ok(Expr {
                    kind: ExprKind::Int(v),
                    span: sp,
                })
            }
            Rule::duration => {
                let t = p.as_str();
                let (digits, unit) = t.split_at(t.len() - 1);
                let value = digits
                    .parse::<i64>()
                    .map_err(|_| self.err(sp, format!("duration `{t}` does not fit in 64 bits")))?;
                let unit = match unit {
                    "s" => DurationUnit::S,
                    "m" => DurationUnit::M,
                    "h" => DurationUnit::H,
                    "d" => DurationUnit::D,
                    _ => DurationUnit::W,
                };
                Ok(Expr {
                    kind: ExprKind::Duration { value, unit },
                    span: sp,
                })
            }
            other => Err(self.err(sp, format!("internal: unexpected {other:?}"))),
        }
    }
}
