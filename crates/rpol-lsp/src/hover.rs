//! Hover text (Markdown): a declaration with its source and doc comment, or a
//! registry feature with what decides its use (docs/editors.md).

use std::fmt::Write as _;

use rpol_registry::{DebugVisibility, RegFeature};
use rpol_syntax::ast::{ExprKind, ItemKind, Value};

use crate::analysis::Analysis;
use crate::index::{Kind, Loc, Symbol, SymbolId};

/// Declarations longer than this are cut in the hover.
const MAX_LINES: usize = 12;

pub fn markdown(a: &Analysis, id: SymbolId) -> Option<String> {
    let sym = a.index.symbol(id)?;
    let mut out = String::new();
    match sym.kind {
        Kind::Feature => feature(a, sym, &mut out),
        Kind::Variant => {
            let field = sym
                .parent
                .and_then(|p| a.index.symbol(p))
                .map_or("?", |s| s.name.as_str());
            let _ = write!(out, "**variant** `{}` of `context.{field}`", sym.name);
        }
        _ => {
            let _ = writeln!(out, "**{}** `{}`", sym.kind.describe(), sym.name);
            if let Some(src) = source(a, sym.item) {
                let _ = write!(out, "\n```rpol\n{src}\n```\n");
            }
            if let Some(doc) = &sym.doc {
                let _ = write!(out, "\n---\n\n{doc}\n");
            }
        }
    }
    Some(out.trim_end().to_string())
}

/// The declaring construct's text, cut to a few lines.
fn source(a: &Analysis, loc: Loc) -> Option<String> {
    let text = a.text(loc.file)?;
    let s = text.get(loc.span.start..loc.span.end)?;
    let mut lines: Vec<&str> = s.lines().take(MAX_LINES + 1).collect();
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        lines.push("…");
    }
    Some(lines.join("\n"))
}

fn names(list: &[rpol_registry::Sp<String>]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    list.iter()
        .map(|s| format!("`{}`", s.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn feature(a: &Analysis, sym: &Symbol, out: &mut String) {
    let _ = writeln!(out, "**feature** `{}` (registry)\n", sym.name);
    let Some(f) = a
        .checked
        .registry
        .as_ref()
        .and_then(|r| r.features.iter().find(|f| f.name.value == sym.name))
    else {
        return;
    };
    let class = &f.privacy_class.value;
    let _ = writeln!(out, "- entity: {}", f.entity.value);
    let _ = writeln!(out, "- class: `{class}`");
    let _ = writeln!(out, "- modes: {}", names(&f.allowed_privacy_modes.value));
    let _ = writeln!(out, "- purposes: {}", names(&f.allowed_purposes.value));
    if let Some(p) = &f.prohibited_purposes {
        let _ = writeln!(out, "- prohibited purposes: {}", names(&p.value));
    }
    match &f.retention_days {
        Some(d) => {
            let _ = writeln!(out, "- retention: {} days", d.value);
        }
        None => {
            let _ = writeln!(out, "- retention: not set");
        }
    }
    match &f.requires_consent {
        Some(c) => {
            let _ = writeln!(out, "- consent: `{}` must be granted", c.value);
        }
        None => {
            let _ = writeln!(out, "- consent: not required");
        }
    }
    let _ = writeln!(out, "- debug visibility: {}", visibility(a, f));
    if let Some(d) = &f.description {
        let _ = write!(out, "\n{d}\n");
    }
    if let Some(o) = &f.owner {
        let _ = write!(out, "\nowner: {o}\n");
    }
}

/// The registry's `debug_visibility`, else the class's `debug` (docs/reference.md, The decision, step by step).
fn visibility(a: &Analysis, f: &RegFeature) -> String {
    if let Some(v) = &f.debug_visibility {
        let v = match v.value {
            DebugVisibility::Open => "open",
            DebugVisibility::Restricted => "restricted",
            DebugVisibility::Hidden => "hidden",
        };
        return format!("`{v}`");
    }
    let class = &f.privacy_class.value;
    let from_class = a
        .index
        .find(Kind::Class, None, class)
        .and_then(|id| a.index.symbol(id))
        .and_then(|s| class_debug(a, s.item));
    format!(
        "`{}` (default of class `{class}`)",
        from_class.as_deref().unwrap_or("open")
    )
}

fn class_debug(a: &Analysis, item: Loc) -> Option<String> {
    let ast = a.ast(item.file)?;
    let it = ast.items.iter().find(|i| i.span == item.span)?;
    let ItemKind::Block { fields, .. } = &it.kind else {
        return None;
    };
    let f = fields.fields.iter().find(|f| f.name.name == "debug")?;
    match &f.value {
        Value::Expr(e) => match &e.kind {
            ExprKind::Path(segs) if segs.len() == 1 => segs.first().map(|s| s.name.clone()),
            _ => None,
        },
        Value::Object(_) => None,
    }
}
