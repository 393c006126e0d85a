//! Whole-policy rules: feature sets (E0502, E0503) and reasons (E0504, E0505).

use std::collections::{BTreeMap, HashMap, HashSet};

use rpol_diag::{Diagnostic, Label};

use crate::context::{Cx, Decls, Lowered};

pub(crate) fn run(cx: &mut Cx<'_>, lowered: &Lowered, d: &Decls<'_>) {
    let mut diags = Vec::new();
    let s = &cx.scope;
    let features = crate::registry_check::model_features(cx, lowered);

    // E0502: every feature of a route must be usable in each of its modes.
    let entries: HashMap<&str, rpol_diag::Span> = match (&features, &cx.registry) {
        (Some(_), Some(reg)) => reg
            .features
            .iter()
            .rev()
            .map(|e| (e.name.value.as_str(), e.name.span))
            .collect(),
        _ => HashMap::new(),
    };
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
                    // An entry with its own registry error is not judged again.
                    let Some(Some(feat)) = features.get(f as usize) else {
                        continue;
                    };
                    let why = if !feat.allowed_modes.contains(&m) {
                        Some(format!(
                            "the registry does not allow it in mode `{}`",
                            mode.name
                        ))
                    } else {
                        let Some(Some(cls)) = lowered.classes.get(feat.class as usize) else {
                            continue;
                        };
                        let missing = s.missing_capabilities(cls, mode);
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
                        let span = feature_span_in(decl, &feat.name).unwrap_or(decl.item.span);
                        let mut dg = Diagnostic::error("E0502", decl.file, span, format!("feature `{}` in feature_set `{}` is not usable in mode `{}`: {why}", feat.name, fs.name, mode.name))
                            .with_help(format!("remove `{}` from the feature set or `{}` from its `modes`", feat.name, mode.name));
                        if let (Some(rf), Some(&span)) =
                            (cx.registry_file, entries.get(feat.name.as_str()))
                        {
                            dg = dg.with_secondary(
                                Label::new(rf, span).with_message("registry entry"),
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
    // Each set is reported once, with the first earlier set it overlaps
    // (found through maps from (mode, surface) to the first set that routes
    // it), and the sets that overlap one earlier set form one diagnostic:
    // 1,000 identical sets gave 499,500 errors before.
    let mut first_mode: HashMap<u32, usize> = HashMap::new();
    let mut first_any: HashMap<u32, usize> = HashMap::new();
    let mut first_on: HashMap<(u32, u32), usize> = HashMap::new();
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (j, (_, b)) in sets.iter().enumerate() {
        if b.surfaces.as_ref().is_some_and(|x| x.is_empty()) {
            continue;
        }
        let mut hit: Option<usize> = None;
        for &m in &b.modes {
            let found = match &b.surfaces {
                None => first_mode.get(&m).copied(),
                Some(x) => x
                    .iter()
                    .filter_map(|s| first_on.get(&(m, *s)))
                    .chain(first_any.get(&m))
                    .min()
                    .copied(),
            };
            hit = hit.into_iter().chain(found).min();
        }
        if let Some(a) = hit {
            groups.entry(a).or_default().push(j);
        }
        for &m in &b.modes {
            first_mode.entry(m).or_insert(j);
            match &b.surfaces {
                None => {
                    first_any.entry(m).or_insert(j);
                }
                Some(x) => {
                    for &s in x {
                        first_on.entry((m, s)).or_insert(j);
                    }
                }
            }
        }
    }
    for (a, later) in groups {
        let (da, fa) = sets[a];
        let (db, fb) = sets[later[0]];
        let (mode, surface) = shared_route(cx, fa, fb);
        let mode = s.modes.name(mode);
        let help = "give them disjoint `modes` or `surfaces` so that each request has one route";
        let d = if later.len() == 1 {
            Diagnostic::error(
                "E0503",
                db.file,
                name_span(db),
                format!(
                    "feature sets `{}` and `{}` both match mode `{mode}` on {surface}",
                    fa.name, fb.name
                ),
            )
            .with_secondary(
                Label::new(da.file, name_span(da)).with_message("the other feature set"),
            )
        } else {
            let names: Vec<&str> = later.iter().map(|&j| sets[j].1.name.as_str()).collect();
            let mut d = Diagnostic::error("E0503", db.file, name_span(db), format!("feature set `{}` and {} later feature sets can match the same surface and mode: {}", fa.name, later.len(), first_few(&names)))
                .with_label(format!("matches mode `{mode}` on {surface}, like `{}`", fa.name))
                .with_secondary(Label::new(da.file, name_span(da)).with_message("the first feature set"));
            for &j in later.iter().skip(1).take(GROUP_LABELS - 1) {
                let dj = sets[j].0;
                d = d.with_secondary(
                    Label::new(dj.file, name_span(dj))
                        .with_message(format!("overlaps `{}` too", fa.name)),
                );
            }
            d
        };
        diags.push(d.with_help(help));
    }

    // E0504: an explanation may not draw on sensitive or hidden features.
    if let Some(features) = &features {
        for decl in &d.reasons {
            let Some(Some(r)) = lowered.reasons.get(decl.id as usize) else {
                continue;
            };
            for &f in &r.from {
                let Some(Some(feat)) = features.get(f as usize) else {
                    continue;
                };
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
                    let span = feature_span_in(decl, &feat.name).unwrap_or(decl.item.span);
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
    // The distinct patterns in order of first use, each with the reasons that
    // list it: identical patterns are one diagnostic naming their reasons (400
    // copies gave 79,800 errors), and overlaps between distinct patterns are
    // found without comparing every pair (see `patterns`).
    let mut distinct: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (ri, (_, r)) in reasons.iter().enumerate() {
        for code in &r.codes {
            let k = *index.entry(code.as_str()).or_insert_with(|| {
                distinct.push((code.as_str(), Vec::new()));
                distinct.len() - 1
            });
            let owners = &mut distinct[k].1;
            if owners.last() != Some(&ri) {
                owners.push(ri);
            }
        }
    }
    let pattern_span = |ri: usize, pat: &str| {
        let d = reasons[ri].0;
        (d.file, string_span_in(d, pat).unwrap_or(d.item.span))
    };
    let help =
        "make the patterns disjoint, e.g. with distinct prefixes, so each code has one explanation";
    for (pat, owners) in &distinct {
        let [first, second, ..] = owners[..] else {
            continue;
        };
        let (fa, sa) = pattern_span(first, pat);
        let (fb, sb) = pattern_span(second, pat);
        let (a, b) = (&reasons[first].1.name, &reasons[second].1.name);
        let d = if owners.len() == 2 {
            Diagnostic::error("E0505", fb, sb, format!("pattern `{pat}` of reason `{b}` can match the same code as `{pat}` of reason `{a}`"))
                .with_secondary(Label::new(fa, sa).with_message("the other pattern"))
        } else {
            let names: Vec<&str> = owners.iter().map(|&r| reasons[r].1.name.as_str()).collect();
            let mut d = Diagnostic::error(
                "E0505",
                fb,
                sb,
                format!(
                    "pattern `{pat}` appears in {} reasons: {}",
                    owners.len(),
                    first_few(&names)
                ),
            )
            .with_label("used again here")
            .with_secondary(Label::new(fa, sa).with_message("first used here"));
            for &r in owners.iter().skip(2).take(GROUP_LABELS - 1) {
                let (f, sp) = pattern_span(r, pat);
                d = d.with_secondary(Label::new(f, sp).with_message("and here"));
            }
            d
        };
        diags.push(d.with_help(help));
    }
    let pats: Vec<&str> = distinct.iter().map(|(p, _)| *p).collect();
    // Two patterns of one reason may overlap; patterns of different reasons may not.
    let differ = |i: usize, j: usize| {
        let (x, y) = (&distinct[i].1, &distinct[j].1);
        x.len() > 1 || y.len() > 1 || x[0] != y[0]
    };
    let mut reported = HashSet::new();
    for (k, partner) in crate::patterns::partners(&pats, differ)
        .into_iter()
        .enumerate()
    {
        let Some(j) = partner else { continue };
        let (i, j) = (k.min(j), k.max(j));
        // Two different reasons, one listing each pattern (`differ` made sure
        // there are).
        let (oi, oj) = (&distinct[i].1, &distinct[j].1);
        let pair = oj
            .iter()
            .find(|&&y| y != oi[0])
            .map(|&y| (oi[0], y))
            .or_else(|| oi.iter().find(|&&x| x != oj[0]).map(|&x| (x, oj[0])));
        let Some((ra, rb)) = pair else {
            continue;
        };
        let (ra, rb, pa, pb) = if ra < rb {
            (ra, rb, pats[i], pats[j])
        } else {
            (rb, ra, pats[j], pats[i])
        };
        if !reported.insert((ra, rb)) {
            continue;
        }
        let (fa, sa) = pattern_span(ra, pa);
        let (fb, sb) = pattern_span(rb, pb);
        diags.push(
            Diagnostic::error("E0505", fb, sb, format!("pattern `{pb}` of reason `{}` can match the same code as `{pa}` of reason `{}`", reasons[rb].1.name, reasons[ra].1.name))
                .with_secondary(Label::new(fa, sa).with_message("the other pattern"))
                .with_help(help),
        );
    }
    cx.diags.extend(diags);
}

/// Secondary labels of a grouped diagnostic (the rest are only counted).
const GROUP_LABELS: usize = 3;

/// `a`, `b`, `c` and 7 more.
fn first_few(names: &[&str]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(GROUP_LABELS)
        .map(|n| format!("`{n}`"))
        .collect();
    match names.len().saturating_sub(GROUP_LABELS) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// A mode and a surface that two overlapping feature sets share, for messages.
fn shared_route(
    cx: &Cx<'_>,
    a: &rpol_engine::model::FeatureSet,
    b: &rpol_engine::model::FeatureSet,
) -> (u32, String) {
    let mode = a
        .modes
        .iter()
        .copied()
        .find(|m| b.modes.contains(m))
        .unwrap_or_default();
    let surface = match (&a.surfaces, &b.surfaces) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => x.first(),
        (Some(x), Some(y)) => x.iter().find(|s| y.contains(s)),
    };
    let surface = surface.map_or_else(
        || "any surface".to_string(),
        |s| format!("surface `{}`", s_name(cx, *s)),
    );
    (mode, surface)
}

fn s_name(cx: &Cx<'_>, id: u32) -> String {
    cx.scope.surfaces.name(id).to_string()
}

fn name_span(d: &crate::context::Declared<'_>) -> rpol_diag::Span {
    match &d.item.kind {
        rpol_syntax::ast::ItemKind::Block { name, .. } => name.span,
        _ => d.item.keyword,
    }
}

/// The span of a feature name inside a block's lists, for precise labels.
fn feature_span_in(d: &crate::context::Declared<'_>, name: &str) -> Option<rpol_diag::Span> {
    list_item_span(d, |it| {
        crate::fields::bare_name(it).is_some_and(|i| i.name == name)
    })
}

/// The span of a string inside a block's lists.
fn string_span_in(d: &crate::context::Declared<'_>, value: &str) -> Option<rpol_diag::Span> {
    list_item_span(
        d,
        |it| matches!(&it.kind, rpol_syntax::ast::ExprKind::Str(s) if s == value),
    )
}

/// The first item of any list field of a block that `is` accepts.
fn list_item_span(
    d: &crate::context::Declared<'_>,
    is: impl Fn(&rpol_syntax::ast::Expr) -> bool,
) -> Option<rpol_diag::Span> {
    let rpol_syntax::ast::ItemKind::Block { fields, .. } = &d.item.kind else {
        return None;
    };
    for f in &fields.fields {
        if let Some(rpol_syntax::ast::Expr {
            kind: rpol_syntax::ast::ExprKind::List(items),
            ..
        }) = crate::fields::as_expr(&f.value)
            && let Some(it) = items.iter().find(|it| is(it))
        {
            return Some(it.span);
        }
    }
    None
}
