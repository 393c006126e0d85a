//! L001 (a name declared but never referred to) and L009 (a mode no
//! `resolve` arm yields).

use std::collections::HashSet;

use rpol_diag::Diagnostic;
use rpol_engine::model::{Expr, Literal, Operand, Path};

use super::{Linter, warn};

impl Linter<'_> {
    /// L001: declared but never referred to.
    pub(super) fn unused(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let mut purposes = HashSet::new();
        let mut topics = HashSet::new();
        let mut caps = HashSet::new();
        let mut roles = HashSet::new();
        let mut classes = HashSet::new();
        for f in &m.features {
            purposes.extend(
                f.allowed_purposes
                    .iter()
                    .chain(&f.prohibited_purposes)
                    .copied(),
            );
            topics.extend(f.requires_consent);
            classes.insert(f.class);
        }
        for md in &m.modes {
            caps.extend(md.grants.iter().copied());
        }
        for c in &m.classes {
            caps.extend(c.requires.iter().copied());
        }
        for s in &m.sources {
            caps.extend(s.requires.iter().copied());
        }
        for r in &m.reasons {
            caps.extend(r.requires.iter().copied());
        }
        roles.extend(m.debug.iter().map(|(r, _)| *r));
        for e in self.model.conditions() {
            walk(e, &mut |e| match e {
                Expr::HasRole { role, .. } => {
                    roles.insert(*role);
                }
                Expr::Compare { lhs, rhs, .. } => note_sym(
                    lhs,
                    std::slice::from_ref(rhs),
                    &mut purposes,
                    &mut topics,
                    &mut classes,
                ),
                Expr::InList { lhs, items, .. } => {
                    note_sym(lhs, items, &mut purposes, &mut topics, &mut classes)
                }
                Expr::Exists(Path::Consent(t)) | Expr::Truthy(Path::Consent(t)) => {
                    topics.insert(*t);
                }
                _ => {}
            });
        }
        let s = &self.checked.scope;
        let mut report = |names: &crate::names::Names, used: &HashSet<u32>| {
            for (i, d) in names.decls.iter().enumerate() {
                if !used.contains(&(i as u32)) {
                    out.push(warn(
                        "L001",
                        d.file,
                        d.span,
                        format!(
                            "{} `{}` is declared but nothing refers to it",
                            names.kind, d.name
                        ),
                        "remove it, or use it; an unused name often hides a typo elsewhere",
                    ));
                }
            }
        };
        report(&s.purposes, &purposes);
        report(&s.consent, &topics);
        report(&s.capabilities, &caps);
        report(&s.roles, &roles);
        report(&s.classes, &classes);
    }

    /// L009: a mode no `resolve` arm yields.
    pub(super) fn unused_modes(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let yielded: HashSet<u32> = m
            .resolve
            .iter()
            .map(|a| a.mode)
            .chain([m.fallback.mode])
            .collect();
        for (i, d) in self.checked.scope.modes.decls.iter().enumerate() {
            if !yielded.contains(&(i as u32)) {
                out.push(warn(
                    "L009",
                    d.file,
                    d.span,
                    format!("mode `{}` is never the result of `resolve mode`", d.name),
                    "add an arm that yields it, or remove the mode",
                ));
            }
        }
    }
}

fn note_sym(
    lhs: &Operand,
    items: &[Operand],
    purposes: &mut HashSet<u32>,
    topics: &mut HashSet<u32>,
    classes: &mut HashSet<u32>,
) {
    let syms = || {
        items.iter().filter_map(|o| {
            if let Operand::Lit(Literal::Sym(s)) = o {
                Some(*s)
            } else {
                None
            }
        })
    };
    match lhs {
        Operand::Path(Path::Purpose) => purposes.extend(syms()),
        Operand::Path(Path::FeatureClass) => classes.extend(syms()),
        Operand::Path(Path::Consent(t)) => {
            topics.insert(*t);
        }
        _ => {}
    }
    for it in items {
        if let Operand::Path(Path::Consent(t)) = it {
            topics.insert(*t);
        }
    }
    if let (Operand::Lit(Literal::Sym(s)), [Operand::Path(p)]) = (lhs, items) {
        match p {
            Path::Purpose => {
                purposes.insert(*s);
            }
            Path::FeatureClass => {
                classes.insert(*s);
            }
            _ => {}
        }
    }
}

fn walk(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Not(x) => walk(x, f),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}
