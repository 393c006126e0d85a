//! Completion that knows what the cursor's position takes (docs/editors.md): registry
//! features in `features: [`, modes after `=>`, capabilities in `requires: [`,
//! topics after `consent.`, fields after `context.`, an enum field's variants
//! after `==`, field names at the start of a line in a block, and otherwise
//! keywords and declared names.

use rpol_diag::Span;

use crate::analysis::Analysis;
use rpol_check::vocab::{
    CLASS_FIELDS, CLEARANCES, CONSENT_STATES, CONTEXT_TYPES, FEATURE_FIELDS, FEATURE_SET_FIELDS,
    GIVEN_FIELDS, MODE_FIELDS, POLICY_FIELDS, REASON_FIELDS, SOURCE_FIELDS, SUBJECT_FIELDS,
    VISIBILITIES,
};
use rpol_syntax::ITEM_KEYWORDS;

use crate::index::Kind;
use crate::lex::{Tail, Tok, Token, lex};

const EXPR_WORDS: &[&str] = &[
    "not",
    "and",
    "or",
    "in",
    "true",
    "false",
    "exists",
    "starts_with",
];
const FORBID_KINDS: &[&str] = &["feature", "source", "reason"];
const EXPECT_KINDS: &[&str] = &[
    "mode",
    "route",
    "source",
    "feature",
    "reason",
    "retention",
    "debug",
    "cache_scope",
];
const BLOCK_KEYWORDS: &[&str] = &["policy", "mode", "class", "source", "feature_set", "reason"];
const VOCAB_KEYWORDS: &[&str] = &["purposes", "consent", "capabilities", "roles", "surfaces"];

/// What a position takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Declared names of a kind (registry features for [`Kind::Feature`]).
    Names(Kind),
    /// The variants of the named enum context field.
    Variants(String),
    /// Fixed words: field names, consent states, keywords of the position.
    Words(&'static [&'static str]),
    /// Field names of a block.
    Fields(&'static [&'static str]),
    /// Keywords of an item start.
    Items,
    /// An expression: path roots, operators, functions and declared names.
    Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    Keyword,
    Field,
    Value,
    Name(Kind),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub kind: CandidateKind,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The partly typed word the chosen item replaces (empty at the cursor).
    pub replace: Span,
    pub items: Vec<Candidate>,
}

/// Completion at byte `offset` of `text` (the current text of a file), with
/// names from the analysis `a` (which may be older than `text`).
pub fn complete(text: &str, offset: usize, a: &Analysis) -> Completion {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (parts, replace) = context(&text[..offset]);
    let mut items = Vec::new();
    for p in &parts {
        candidates(p, a, &mut items);
    }
    let mut seen = std::collections::HashSet::new();
    items.retain(|c: &Candidate| seen.insert((c.label.clone(), c.kind)));
    Completion { replace, items }
}

/// What the end of `before` takes, and the span of the word being typed.
pub fn context(before: &str) -> (Vec<Part>, Span) {
    let end = before.len();
    let (mut toks, tail) = lex(before);
    if tail != Tail::Code {
        return (vec![], Span::new(end, end));
    }
    let mut replace = Span::new(end, end);
    if let Some(last) = toks.last().copied()
        && last.span.end == end
    {
        match last.tok {
            Tok::Ident(_) => {
                replace = last.span;
                toks.pop();
            }
            Tok::Num | Tok::Str => return (vec![], replace),
            Tok::Punct(_) => {}
        }
    }
    let at_line_start = {
        let prev_end = toks.last().map_or(0, |t| t.span.end);
        before[prev_end..replace.start].contains('\n') || toks.is_empty()
    };
    (parts(before, &toks, at_line_start), replace)
}

/// An open bracket and its position in the token list.
#[derive(Clone, Copy)]
struct Open {
    punct: &'static str,
    at: usize,
}

fn parts(before: &str, t: &[Token<'_>], at_line_start: bool) -> Vec<Part> {
    use Part::*;
    let n = t.len();
    let tok = |i: usize| t.get(i);
    let ident = |i: usize| tok(i).and_then(Token::ident);
    let last = n.checked_sub(1);
    let is = |i: Option<usize>, p: &str| i.and_then(tok).is_some_and(|x| x.is_punct(p));
    let word = |i: Option<usize>| i.and_then(ident);

    // After a dot: the fields of a path root.
    if is(last, ".") {
        if n >= 3 && t[n - 3].is_punct(".") {
            return vec![];
        }
        return match word(n.checked_sub(2)) {
            Some("consent") => vec![Names(Kind::Consent)],
            Some("context") => vec![Names(Kind::ContextField)],
            Some("subject") => vec![Words(SUBJECT_FIELDS)],
            Some("feature") => vec![Words(FEATURE_FIELDS)],
            _ => vec![],
        };
    }
    if is(last, "=>") {
        return vec![Names(Kind::Mode)];
    }
    if is(last, "==") || is(last, "!=") {
        let end = n - 1;
        let path = path_before(t, end);
        if path.len() == 1 && word(end.checked_sub(2)) == Some("expect") {
            return match path[0] {
                "mode" => vec![Names(Kind::Mode)],
                "route" => vec![Names(Kind::FeatureSet), Words(&["none"])],
                _ => vec![],
            };
        }
        return path_values(&path).unwrap_or_else(|| vec![Expr]);
    }

    let stack = open_groups(t);
    let inner = stack.last().copied();
    if let Some(Open { punct: "[", at }) = inner {
        return list_parts(t, at, stack.get(stack.len().wrapping_sub(2)).copied());
    }
    if let Some(Open { punct: "{", at }) = inner {
        let owner = owner(t, at);
        // `field:` — the value of a field.
        if is(last, ":") {
            let field = word(n.checked_sub(2)).unwrap_or("");
            return field_value(&owner, field);
        }
        if let Some(p) = statement(t) {
            return p;
        }
        let new_field = last.is_some_and(|l| t[l].is_punct("{") || t[l].is_punct(","))
            || (at_line_start && last.is_some_and(|l| ends_value(t, l)));
        if new_field {
            return field_names(&owner);
        }
        return vec![Expr];
    }
    if let Some(Open { punct: "(", .. }) = inner {
        return vec![Expr];
    }

    // Top level.
    if let Some(p) = statement(t) {
        return p;
    }
    if let Some(l) = last {
        let line_start_kw = starts_item(before, t, l);
        if line_start_kw && t[l].ident().is_some_and(|w| BLOCK_KEYWORDS.contains(&w)) {
            // `mode █`: a new name is being declared.
            return vec![];
        }
        if line_start_kw && t[l].is_ident("resolve") {
            return vec![Words(&["mode"])];
        }
    }
    if at_line_start && last.is_none_or(|l| ends_value(t, l)) {
        let mut v = vec![Items];
        if in_forbid(before, t) {
            v.push(Words(&["when", "because"]));
        }
        return v;
    }
    vec![Expr]
}

/// `forbid …` and `expect …` statements, whose words depend on what came before.
fn statement(t: &[Token<'_>]) -> Option<Vec<Part>> {
    use Part::*;
    let n = t.len();
    let w = |back: usize| n.checked_sub(back).and_then(|i| t[i].ident());
    match (w(2), w(1)) {
        (_, Some("forbid")) => Some(vec![Words(FORBID_KINDS)]),
        (Some("forbid"), Some(k)) => {
            kind_of(k).map(|k| vec![Names(k), Words(&["when", "because"])])
        }
        (_, Some("expect")) => Some(vec![Words(EXPECT_KINDS)]),
        (Some("expect"), Some(k)) => match k {
            "source" => Some(vec![Names(Kind::Source)]),
            "feature" => Some(vec![Names(Kind::Feature)]),
            "retention" => Some(vec![Names(Kind::Retention)]),
            "debug" => Some(vec![Names(Kind::Role)]),
            _ => None,
        },
        (_, Some("shows")) => Some(vec![Names(Kind::Reason)]),
        (_, Some("sees" | "hides")) => Some(vec![Names(Kind::Feature)]),
        (Some("debug"), Some(_)) if n >= 3 && t[n - 3].is_ident("expect") => {
            Some(vec![Words(&["sees", "hides"])])
        }
        (Some("source" | "feature"), Some(_)) if n >= 3 && t[n - 3].is_ident("expect") => {
            Some(vec![Words(&["allowed", "denied"])])
        }
        _ => {
            // `expect reason "code" █`
            if n >= 2 && t[n - 1].tok == Tok::Str && t[n - 2].is_ident("reason") {
                return Some(vec![Words(&["shows", "suppressed"])]);
            }
            // `expect reason ["a", "b"] █`
            if n >= 2 && t[n - 1].is_punct("]") {
                let open = (0..n - 1).rev().find(|&i| t[i].is_punct("["))?;
                if open >= 2 && t[open - 1].is_ident("reason") && t[open - 2].is_ident("expect") {
                    return Some(vec![Words(&["shows", "suppressed"])]);
                }
            }
            None
        }
    }
}

fn kind_of(forbid_kind: &str) -> Option<Kind> {
    match forbid_kind {
        "feature" => Some(Kind::Feature),
        "source" => Some(Kind::Source),
        "reason" => Some(Kind::Reason),
        _ => None,
    }
}

/// The unclosed `[`, `{` and `(` before the cursor, outermost first.
fn open_groups(t: &[Token<'_>]) -> Vec<Open> {
    let mut stack: Vec<Open> = Vec::new();
    for (i, tk) in t.iter().enumerate() {
        if let Tok::Punct(p) = tk.tok {
            match p {
                "[" => stack.push(Open { punct: "[", at: i }),
                "{" => stack.push(Open { punct: "{", at: i }),
                "(" => stack.push(Open { punct: "(", at: i }),
                "]" | "}" | ")" => {
                    let open = match p {
                        "]" => "[",
                        "}" => "{",
                        _ => "(",
                    };
                    // Unbalanced input: close up to the matching opener, if any.
                    if let Some(pos) = stack.iter().rposition(|o| o.punct == open) {
                        stack.truncate(pos);
                    }
                }
                _ => {}
            }
        }
    }
    stack
}

/// The dotted path that ends just before token `end` (`context.device`).
fn path_before<'a>(t: &[Token<'a>], end: usize) -> Vec<&'a str> {
    let mut segs = Vec::new();
    let mut i = end;
    while i > 0 {
        let Some(w) = t[i - 1].ident() else { break };
        segs.push(w);
        if i >= 2 && t[i - 2].is_punct(".") {
            i -= 2;
        } else {
            break;
        }
    }
    segs.reverse();
    segs
}

/// What names compare with a path (docs/reference.md, Expressions); `None` when the path is not one
/// whose values are names.
fn path_values(path: &[&str]) -> Option<Vec<Part>> {
    use Part::*;
    Some(match path {
        ["purpose"] => vec![Names(Kind::Purpose)],
        ["surface"] => vec![Names(Kind::Surface)],
        ["mode"] => vec![Names(Kind::Mode)],
        ["context", f] => vec![Variants((*f).to_string())],
        ["consent", _] => vec![Words(CONSENT_STATES)],
        ["feature", "name"] => vec![Names(Kind::Feature)],
        ["feature", "class"] => vec![Names(Kind::Class)],
        _ => return None,
    })
}

/// Inside `[ … ]` opened at token `at`.
fn list_parts(t: &[Token<'_>], at: usize, outer: Option<Open>) -> Vec<Part> {
    use Part::*;
    let before = |back: usize| at.checked_sub(back).map(|i| &t[i]);
    if before(1).is_some_and(|x| x.is_punct(":")) {
        let field = before(2).and_then(Token::ident).unwrap_or("");
        // Variants of a `context { f: [ … ] }` field are new names.
        if let Some(Open { punct: "{", at: o }) = outer
            && matches!(owner(t, o), Owner::Table("context"))
        {
            return vec![];
        }
        return match field {
            "features" | "from" => vec![Names(Kind::Feature)],
            "requires" | "grants" => vec![Names(Kind::Capability)],
            "modes" => vec![Names(Kind::Mode)],
            "surfaces" => vec![Names(Kind::Surface)],
            "roles" => vec![Names(Kind::Role)],
            _ => vec![],
        };
    }
    if let Some(w) = before(1).and_then(Token::ident) {
        if w == "in" {
            let path = path_before(t, at - 1);
            return path_values(&path).unwrap_or_else(|| vec![Expr]);
        }
        if VOCAB_KEYWORDS.contains(&w) {
            // `purposes [ … ]` declares names.
            return vec![];
        }
        if let (Some(k), Some(prev)) = (kind_of(w), before(2).and_then(Token::ident))
            && (prev == "forbid" || prev == "expect")
        {
            return vec![Names(k)];
        }
    }
    vec![Expr]
}

/// What a `{` belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner<'a> {
    /// `mode x {`, `class x {`, …
    Block(&'a str),
    /// `context {`, `retention {`, `debug {`
    Table(&'a str),
    Given,
    Test,
    Resolve,
    /// `subject: {`, `consent: {`, `context: {` inside `given`.
    Object(&'a str),
    Other,
}

fn owner<'a>(t: &[Token<'a>], at: usize) -> Owner<'a> {
    let back = |k: usize| at.checked_sub(k).map(|i| &t[i]);
    let w = |k: usize| back(k).and_then(Token::ident);
    match (w(2), w(1)) {
        (Some(kw), Some(_)) if BLOCK_KEYWORDS.contains(&kw) => Owner::Block(kw),
        (Some("resolve"), Some(_)) => Owner::Resolve,
        (_, Some("given")) => Owner::Given,
        (_, Some(kw @ ("context" | "retention" | "debug"))) => Owner::Table(kw),
        _ if back(1).is_some_and(|x| x.tok == Tok::Str) && w(2) == Some("test") => Owner::Test,
        _ if back(1).is_some_and(|x| x.is_punct(":")) => Owner::Object(w(2).unwrap_or("")),
        _ => Owner::Other,
    }
}

fn field_names(owner: &Owner<'_>) -> Vec<Part> {
    use Part::*;
    match owner {
        Owner::Block("policy") => vec![Fields(POLICY_FIELDS)],
        Owner::Block("mode") => vec![Fields(MODE_FIELDS)],
        Owner::Block("class") => vec![Fields(CLASS_FIELDS)],
        Owner::Block("source") => vec![Fields(SOURCE_FIELDS)],
        Owner::Block("feature_set") => vec![Fields(FEATURE_SET_FIELDS)],
        Owner::Block("reason") => vec![Fields(REASON_FIELDS)],
        Owner::Table("debug") => vec![Names(Kind::Role)],
        Owner::Given => vec![Fields(GIVEN_FIELDS)],
        Owner::Object("subject") => vec![Fields(SUBJECT_FIELDS)],
        Owner::Object("consent") => vec![Names(Kind::Consent)],
        Owner::Object("context") => vec![Names(Kind::ContextField)],
        Owner::Test => vec![Words(&["given", "expect"])],
        Owner::Resolve => vec![Words(&["when", "else"])],
        // New names (context fields, retention kinds) or unknown blocks.
        _ => vec![],
    }
}

fn field_value(owner: &Owner<'_>, field: &str) -> Vec<Part> {
    use Part::*;
    match (owner, field) {
        (Owner::Block("class"), "debug") => vec![Words(VISIBILITIES)],
        (Owner::Block("class"), "personal" | "sensitive") => vec![Words(&["true", "false"])],
        (Owner::Block("source"), "when") => vec![Expr],
        (Owner::Table("context"), _) => vec![Words(CONTEXT_TYPES)],
        (Owner::Table("debug"), _) => vec![Words(CLEARANCES)],
        (Owner::Given, "surface") => vec![Names(Kind::Surface)],
        (Owner::Given, "purpose") => vec![Names(Kind::Purpose)],
        (Owner::Object("consent"), _) => vec![Words(CONSENT_STATES)],
        (Owner::Object("context"), f) => vec![Variants(f.to_string())],
        _ => vec![],
    }
}

/// Whether token `i` ends a value, so that what follows on a new line starts
/// a new field or item (rather than continuing an expression).
fn ends_value(t: &[Token<'_>], i: usize) -> bool {
    match t[i].tok {
        Tok::Str | Tok::Num => true,
        Tok::Punct(p) => matches!(p, "]" | "}" | ")"),
        Tok::Ident(w) => !matches!(
            w,
            "and" | "or" | "not" | "in" | "when" | "because" | "forbid" | "expect" | "shows"
        ),
    }
}

/// Whether token `i` is the first token on its line.
fn starts_item(before: &str, t: &[Token<'_>], i: usize) -> bool {
    let prev_end = if i == 0 { 0 } else { t[i - 1].span.end };
    i == 0 || before[prev_end..t[i].span.start].contains('\n')
}

/// Whether the cursor is inside a `forbid` rule (its `when`/`because` may follow
/// on a new line).
fn in_forbid(before: &str, t: &[Token<'_>]) -> bool {
    let mut depth = 0i32;
    for i in (0..t.len()).rev() {
        match t[i].tok {
            Tok::Punct("]" | "}" | ")") => depth += 1,
            Tok::Punct("[" | "{" | "(") => depth -= 1,
            Tok::Ident(w)
                if depth == 0
                    && starts_item(before, t, i)
                    && (ITEM_KEYWORDS.contains(&w) || w == "when" || w == "because") =>
            {
                return w == "forbid" || w == "when";
            }
            _ => {}
        }
    }
    false
}

fn candidates(p: &Part, a: &Analysis, out: &mut Vec<Candidate>) {
    let index = &a.index;
    let words = |ws: &[&str], kind: CandidateKind, out: &mut Vec<Candidate>| {
        out.extend(ws.iter().map(|w| Candidate {
            label: (*w).to_string(),
            kind,
            detail: None,
        }));
    };
    match p {
        Part::Names(k) => names(a, *k, out),
        Part::Variants(field) => {
            if let Some(f) = index.find(Kind::ContextField, None, field) {
                out.extend(index.variants(f).map(|(_, s)| Candidate {
                    label: s.name.clone(),
                    kind: CandidateKind::Name(Kind::Variant),
                    detail: Some(format!("variant of context.{field}")),
                }));
            }
        }
        Part::Words(ws) => words(ws, CandidateKind::Value, out),
        Part::Fields(ws) => words(ws, CandidateKind::Field, out),
        Part::Items => words(ITEM_KEYWORDS, CandidateKind::Keyword, out),
        Part::Expr => {
            words(rpol_syntax::PATH_ROOTS, CandidateKind::Keyword, out);
            words(EXPR_WORDS, CandidateKind::Keyword, out);
            for k in [
                Kind::Purpose,
                Kind::Surface,
                Kind::Role,
                Kind::Mode,
                Kind::Class,
                Kind::Source,
                Kind::FeatureSet,
                Kind::Reason,
            ] {
                names(a, k, out);
            }
        }
    }
}

fn names(a: &Analysis, k: Kind, out: &mut Vec<Candidate>) {
    if k == Kind::Feature
        && let Some(reg) = &a.checked.registry
    {
        // Registry order, with each feature's class: what decides where it may be used.
        out.extend(reg.features.iter().map(|f| Candidate {
            label: f.name.value.clone(),
            kind: CandidateKind::Name(k),
            detail: Some(format!("feature, class {}", f.privacy_class.value)),
        }));
        return;
    }
    out.extend(a.index.of_kind(k).map(|(_, s)| Candidate {
        label: s.name.clone(),
        kind: CandidateKind::Name(k),
        detail: Some(k.describe().to_string()),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(src: &str) -> Vec<Part> {
        let cut = src.find('█').expect("cursor");
        context(&src[..cut]).0
    }

    #[test]
    fn positions() {
        use Part::*;
        assert_eq!(
            at("feature_set f {\n  modes: [a]\n  features: [x, █"),
            vec![Names(Kind::Feature)]
        );
        assert_eq!(at("resolve mode {\n  when x => █"), vec![Names(Kind::Mode)]);
        assert_eq!(at("class c { requires: [█"), vec![Names(Kind::Capability)]);
        assert_eq!(
            at("source s { when: consent.pe█"),
            vec![Names(Kind::Consent)]
        );
        assert_eq!(
            at("forbid feature when context.█"),
            vec![Names(Kind::ContextField)]
        );
        assert_eq!(
            at("forbid feature when context.device == █"),
            vec![Variants("device".into())]
        );
        assert_eq!(
            at("forbid feature when context.device in [tv, █"),
            vec![Variants("device".into())]
        );
        assert_eq!(at("mode a {}\n█"), vec![Items]);
        assert_eq!(at("mode █"), vec![]);
        assert_eq!(at("# a comment █"), vec![]);
        assert_eq!(at("reason r { text: \"ab█"), vec![]);
        assert_eq!(at("purposes [a, █"), vec![]);
        assert_eq!(at("context {\n  device: [a, █"), vec![]);
        assert_eq!(
            at("class c {\n  personal: true\n  █"),
            field_names(&Owner::Block("class"))
        );
        assert_eq!(at("forbid █"), vec![Words(FORBID_KINDS)]);
        assert_eq!(
            at("forbid source █"),
            vec![Names(Kind::Source), Words(&["when", "because"])]
        );
        assert_eq!(
            at("test \"t\" {\n  expect route == █"),
            vec![Names(Kind::FeatureSet), Words(&["none"])]
        );
        assert_eq!(
            at("test \"t\" {\n  given {\n    consent: { personalization: █"),
            vec![Words(CONSENT_STATES)]
        );
        assert_eq!(at("test \"t\" {\n  expect █"), vec![Words(EXPECT_KINDS)]);
        assert_eq!(
            at("test \"t\" {\n  expect retention █"),
            vec![Names(Kind::Retention)]
        );
        assert_eq!(
            at("test \"t\" {\n  expect debug █"),
            vec![Names(Kind::Role)]
        );
        assert_eq!(
            at("test \"t\" {\n  expect debug sre █"),
            vec![Words(&["sees", "hides"])]
        );
        assert_eq!(
            at("test \"t\" {\n  expect debug sre hides █"),
            vec![Names(Kind::Feature)]
        );
        assert_eq!(
            at("test \"t\" {\n  expect reason [\"a\", \"b\"] █"),
            vec![Words(&["shows", "suppressed"])]
        );
        assert_eq!(at("source s { when: █"), vec![Expr]);
        assert_eq!(
            at("forbid feature when purpose == ads\n█"),
            vec![Items, Words(&["when", "because"])]
        );
    }

    #[test]
    fn replace_span_is_the_word_being_typed() {
        let (_, span) = context("mode a { grants: [beh");
        assert_eq!(span, Span::new(18, 21));
    }
}
