//! Whole-policy rules: feature sets (E0502, E0503) and reasons (E0504, E0505).

use rpol_diag::{Diagnostic, Label};

use crate::collect::{Cx, Decls, Lowered};

pub(crate) fn run(cx: &mut Cx<'_>, lowered: &Lowered, d: &Decls<'_>) {
    let mut diags = Vec::new();
    let s = &cx.scope;
    let features =
        crate::registry_check::model_features(cx, lowered).filter(|f| f.len() == s.features.len());

    // E0502: every feature of a route must be usable in each of its modes.
    if let Some(features) = &features {
        for decl in &d.feature_sets {
            let Some(Some(fs)) = lowered.feature_sets.get(decl.id as usize) else {
                continue;
            };
            for &m in &fs.modes {
                let Some(Some(mode)) = lowered.modes.get(m as usize) else {
                    continue;
                };
                for &f in &fs.features {
                    let feat = &features[f as usize];
                    let why = if !feat.allowed_modes.contains(&m) {
                        Some(format!(
                            "the registry does not allow it in mode `{}`",
                            mode.name
                        ))
                    } else {
                        let Some(Some(cls)) = lowered.classes.get(feat.class as usize) else {
                            continue;
                        };
                        let missing: Vec<&str> = cls
                            .requires
                            .iter()
                            .filter(|c| !mode.grants.contains(c))
                            .map(|c| s.capabilities.name(*c))
                            .collect();
                        (!missing.is_empty()).then(|| {
                            format!(
                                "mode `{}` does not grant `{}` required by class `{}`",
                                mode.name,
                                missing.join("`, `"),
                                cls.name
                            )
                        })
                    };
                    if let Some(why) = why {
                        let span = feature_span_in(cx, decl, &feat.name).unwrap_or(decl.item.span);
                        let mut dg = Diagnostic::error("E0502", decl.file, span, format!("feature `{}` in feature_set `{}` is not usable in mode `{}`: {why}", feat.name, fs.name, mode.name))
                            .with_help(format!("remove `{}` from the feature set or `{}` from its `modes`", feat.name, mode.name));
                        if let (Some(rf), Some(reg)) = (cx.registry_file, &cx.registry)
                            && let Some(entry) =
                                reg.features.iter().find(|e| e.name.value == feat.name)
                        {
                            dg = dg.with_secondary(
                                Label::new(rf, entry.name.span).with_message("registry entry"),
                            );
                        }
                        diags.push(dg);
                    }
                }
            }
        }
    }

    // E0503: at most one route may match a (surface, mode).
    let sets: Vec<_> = d
        .feature_sets
        .iter()
        .filter_map(|decl| {
            lowered
                .feature_sets
                .get(decl.id as usize)?
                .as_ref()
                .map(|fs| (decl, fs))
        })
        .collect();
    for (i, (da, a)) in sets.iter().enumerate() {
        for (db, b) in &sets[i + 1..] {
            let Some(&mode) = a.modes.iter().find(|m| b.modes.contains(m)) else {
                continue;
            };
            let surface = match (&a.surfaces, &b.surfaces) {
                (None, None) => Some("any surface".to_string()),
                (Some(x), None) | (None, Some(x)) => {
                    x.first().map(|s| format!("surface `{}`", s_name(cx, *s)))
                }
                (Some(x), Some(y)) => x
                    .iter()
                    .find(|s| y.contains(s))
                    .map(|s| format!("surface `{}`", s_name(cx, *s))),
            };
            if let Some(surface) = surface {
                diags.push(
                    Diagnostic::error("E0503", db.file, name_span(db), format!("feature sets `{}` and `{}` both match mode `{}` on {surface}", a.name, b.name, s.modes.name(mode)))
                        .with_secondary(Label::new(da.file, name_span(da)).with_message("the other feature set"))
                        .with_help("give them disjoint `modes` or `surfaces` so that each request has one route"),
                );
            }
        }
    }

    // E0504: an explanation may not draw on sensitive or hidden features.
    if let Some(features) = &features {
        for decl in &d.reasons {
            let Some(Some(r)) = lowered.reasons.get(decl.id as usize) else {
                continue;
            };
            for &f in &r.from {
                let feat = &features[f as usize];
                let Some(Some(cls)) = lowered.classes.get(feat.class as usize) else {
                    continue;
                };
                let why = if cls.sensitive {
                    Some(format!("its class `{}` is sensitive", cls.name))
                } else if feat.visibility == rpol_engine::model::Visibility::Hidden {
                    Some("its debug visibility is `hidden`".to_string())
                } else {
                    None
                };
                if let Some(why) = why {
                    let span = feature_span_in(cx, decl, &feat.name).unwrap_or(decl.item.span);
                    diags.push(
                        Diagnostic::error("E0504", decl.file, span, format!("reason `{}` draws from feature `{}`: {why}", r.name, feat.name))
                            .with_help("a user-facing explanation may never reveal a sensitive or hidden signal; remove it from `from`"),
                    );
                }
            }
        }
    }

    // E0505: each reason code maps to at most one reason.
    let reasons: Vec<_> = d
        .reasons
        .iter()
        .filter_map(|decl| {
            lowered
                .reasons
                .get(decl.id as usize)?
                .as_ref()
                .map(|r| (decl, r))
        })
        .collect();
    for (i, (da, a)) in reasons.iter().enumerate() {
        for (db, b) in &reasons[i + 1..] {
            'pairs: for pa in &a.codes {
                for pb in &b.codes {
                    if patterns_overlap(pa, pb) {
                        let span = string_span_in(cx, db, pb).unwrap_or(db.item.span);
                        diags.push(
                            Diagnostic::error("E0505", db.file, span, format!("pattern `{pb}` of reason `{}` can match the same code as `{pa}` of reason `{}`", b.name, a.name))
                                .with_secondary(Label::new(da.file, string_span_in(cx, da, pa).unwrap_or(da.item.span)).with_message("the other pattern"))
                                .with_help("make the patterns disjoint, e.g. with distinct prefixes, so each code has one explanation"),
                        );
                        break 'pairs;
                    }
                }
            }
        }
    }
    cx.diags.extend(diags);
}

fn s_name(cx: &Cx<'_>, id: u32) -> String {
    cx.scope.surfaces.name(id).to_string()
}

fn name_span(d: &crate::collect::Declared<'_>) -> rpol_diag::Span {
    match &d.item.kind {
        rpol_syntax::ast::ItemKind::Block { name, .. } => name.span,
        _ => d.item.keyword,
    }
}

/// The span of a feature name inside a block's lists, for precise labels.
fn feature_span_in(
    _cx: &Cx<'_>,
    d: &crate::collect::Declared<'_>,
    name: &str,
) -> Option<rpol_diag::Span> {
    let rpol_syntax::ast::ItemKind::Block { fields, .. } = &d.item.kind else {
        return None;
    };
    for f in &fields.fields {
        if let Some(rpol_syntax::ast::Expr {
            kind: rpol_syntax::ast::ExprKind::List(items),
            ..
        }) = crate::fields::as_expr(&f.value)
        {
            for it in items {
                if crate::fields::bare_name(it).is_some_and(|i| i.name == name) {
                    return Some(it.span);
                }
            }
        }
    }
    None
}

fn string_span_in(
    _cx: &Cx<'_>,
    d: &crate::collect::Declared<'_>,
    value: &str,
) -> Option<rpol_diag::Span> {
    let rpol_syntax::ast::ItemKind::Block { fields, .. } = &d.item.kind else {
        return None;
    };
    for f in &fields.fields {
        if let Some(rpol_syntax::ast::Expr {
            kind: rpol_syntax::ast::ExprKind::List(items),
            ..
        }) = crate::fields::as_expr(&f.value)
        {
            for it in items {
                if matches!(&it.kind, rpol_syntax::ast::ExprKind::Str(s) if s == value) {
                    return Some(it.span);
                }
            }
        }
    }
    None
}

/// Whether two patterns with at most one `*` each can match a common code.
pub fn patterns_overlap(a: &str, b: &str) -> bool {
    match (a.split_once('*'), b.split_once('*')) {
        (None, None) => a == b,
        (Some((p, s)), None) => matches_star(p, s, b),
        (None, Some((p, s))) => matches_star(p, s, a),
        // Both have a star: `P1 + x + S1` and `P2 + y + S2` share a code iff one
        // prefix extends the other and one suffix extends the other.
        (Some((p1, s1)), Some((p2, s2))) => {
            (p1.starts_with(p2) || p2.starts_with(p1)) && (s1.ends_with(s2) || s2.ends_with(s1))
        }
    }
}

fn matches_star(prefix: &str, suffix: &str, code: &str) -> bool {
    code.len() >= prefix.len() + suffix.len() && code.starts_with(prefix) && code.ends_with(suffix)
}

#[cfg(test)]
mod tests {
    use super::patterns_overlap;

    #[test]
    fn overlap_cases() {
        assert!(patterns_overlap("a", "a"));
        assert!(!patterns_overlap("a", "b"));
        assert!(patterns_overlap("user_*", "user_x"));
        assert!(!patterns_overlap("user_*", "item_x"));
        assert!(patterns_overlap("ab*", "a*"));
        assert!(patterns_overlap("*_x", "a*"));
        assert!(!patterns_overlap("a*x", "b*x"));
        assert!(!patterns_overlap("a*x", "a*y"));
        assert!(!patterns_overlap("ab*b", "ab"));
        assert!(patterns_overlap("ab*b", "abb"));
        assert!(patterns_overlap("*", "anything"));
    }
}
