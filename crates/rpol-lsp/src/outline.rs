//! Document symbols: the items of one file as a tree, with byte spans.

use rpol_diag::Span;
use rpol_syntax::ast::{self, ItemKind, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutlineKind {
    Policy,
    Vocabulary,
    VocabularyName,
    Table,
    Field,
    Mode,
    Class,
    Source,
    FeatureSet,
    Reason,
    Resolve,
    Arm,
    Forbid,
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    pub name: String,
    pub detail: Option<String>,
    pub kind: OutlineKind,
    /// The whole construct.
    pub span: Span,
    /// What to highlight: its name, or its keyword when it has none.
    pub selection: Span,
    pub children: Vec<Outline>,
}

fn leaf(name: &str, kind: OutlineKind, span: Span, selection: Span) -> Outline {
    Outline {
        name: name.to_string(),
        detail: None,
        kind,
        span,
        selection,
        children: Vec::new(),
    }
}

pub fn outline(file: &ast::File, text: &str) -> Vec<Outline> {
    file.items.iter().map(|i| item(i, text)).collect()
}

fn item(it: &ast::Item, text: &str) -> Outline {
    use OutlineKind as K;
    match &it.kind {
        ItemKind::Block { kind, name, fields } => {
            let k = match kind {
                ast::BlockKind::Policy => K::Policy,
                ast::BlockKind::Mode => K::Mode,
                ast::BlockKind::Class => K::Class,
                ast::BlockKind::Source => K::Source,
                ast::BlockKind::FeatureSet => K::FeatureSet,
                ast::BlockKind::Reason => K::Reason,
            };
            let mut o = leaf(&name.name, k, it.span, name.span);
            o.detail = Some(kind.keyword().to_string());
            if *kind == ast::BlockKind::Policy {
                o.children = fields
                    .fields
                    .iter()
                    .map(|f| leaf(&f.name.name, K::Field, f.span, f.name.span))
                    .collect();
            }
            o
        }
        ItemKind::Vocab { kind, names, .. } => {
            let mut o = leaf(kind.keyword(), K::Vocabulary, it.span, it.keyword);
            o.children = names
                .iter()
                .map(|n| leaf(&n.name, K::VocabularyName, n.span, n.span))
                .collect();
            o
        }
        ItemKind::Table { kind, fields } => {
            let mut o = leaf(kind.keyword(), K::Table, it.span, it.keyword);
            o.children = fields
                .fields
                .iter()
                .map(|f| {
                    let mut c = leaf(&f.name.name, K::Field, f.span, f.name.span);
                    if let Value::Expr(e) = &f.value {
                        c.detail = text.get(e.span.start..e.span.end).map(one_line);
                    }
                    c
                })
                .collect();
            o
        }
        ItemKind::Resolve { target, arms, .. } => {
            let mut o = leaf(
                &format!("resolve {}", target.name),
                K::Resolve,
                it.span,
                it.keyword,
            );
            o.children = arms
                .iter()
                .map(|a| {
                    let label = match &a.condition {
                        Some(c) => text.get(c.span.start..c.span.end).map_or_else(
                            || "when …".to_string(),
                            |s| format!("when {}", one_line(s)),
                        ),
                        None => "else".to_string(),
                    };
                    let mut c = leaf(&label, K::Arm, a.span, a.keyword);
                    c.detail = Some(format!("=> {}", a.mode.name));
                    c
                })
                .collect();
            o
        }
        ItemKind::Forbid(f) => {
            let targets = f.targets.as_ref().map_or_else(String::new, |t| {
                let names: Vec<&str> = t.names().iter().map(|n| n.name.as_str()).collect();
                format!(" {}", names.join(", "))
            });
            let mut o = leaf(
                &format!("forbid {}{targets}", f.kind.keyword()),
                K::Forbid,
                it.span,
                it.keyword,
            );
            o.detail = f.because.as_ref().map(|b| b.value.clone());
            o
        }
        ItemKind::Test(t) => leaf(
            &format!("test \"{}\"", t.name.value),
            K::Test,
            it.span,
            t.name.span,
        ),
    }
}

/// Whitespace runs collapsed, cut to a readable length.
fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
