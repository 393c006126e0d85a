//! Cross-checks of the registry against the policy (E0402–E0407). Diagnostics
//! point into the YAML, with the policy declaration concerned as a second label.

use rpol_diag::{Diagnostic, Label};
use rpol_engine::model::{self, Visibility};
use rpol_registry::{DebugVisibility, RegFeature, Sp};

use crate::context::{Cx, Lowered};
use crate::names::Names;

fn vis(v: DebugVisibility) -> Visibility {
    match v {
        DebugVisibility::Open => Visibility::Open,
        DebugVisibility::Restricted => Visibility::Restricted,
        DebugVisibility::Hidden => Visibility::Hidden,
    }
}

fn rank(v: Visibility) -> u8 {
    match v {
        Visibility::Open => 0,
        Visibility::Restricted => 1,
        Visibility::Hidden => 2,
    }
}

fn vis_name(v: Visibility) -> &'static str {
    match v {
        Visibility::Open => "open",
        Visibility::Restricted => "restricted",
        Visibility::Hidden => "hidden",
    }
}

/// The language's identifier rule (docs/reference.md, Lexical structure): `[A-Za-z_][A-Za-z0-9_]*`.
fn is_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// What is wrong with a feature name; non-ASCII is escaped so that a
/// look-alike letter shows as what it is.
fn name_problem(name: &str) -> String {
    if name.is_empty() {
        return "a feature name is empty".into();
    }
    let shown = name.escape_default();
    match name.chars().find(|c| !c.is_ascii()) {
        Some(c) => format!(
            "feature name `{shown}` holds the non-ASCII character U+{:04X}; it is not an identifier",
            c as u32
        ),
        None => format!("feature name `{shown}` is not an identifier"),
    }
}

fn decl_label(names: &Names, id: u32, msg: impl Into<String>) -> Label {
    let d = &names.decls[id as usize];
    Label::new(d.file, d.span).with_message(msg)
}

pub(crate) fn run(cx: &mut Cx<'_>, lowered: &Lowered) {
    let (Some(reg), Some(rfile)) = (cx.registry.as_ref(), cx.registry_file) else {
        return;
    };
    let mut diags = Vec::new();
    let s = &cx.scope;
    for f in &reg.features {
        let name = f.name.value.as_str();
        if !is_identifier(name) {
            diags.push(
                Diagnostic::error(
                    "E0304",
                    rfile,
                    f.name.span,
                    name_problem(name),
                )
                .with_help("a feature name is written in policies, so it follows the identifier rule `[A-Za-z_][A-Za-z0-9_]*`: ASCII letters, digits and `_`, no spaces, no look-alike letters from other scripts"),
            );
            continue;
        }
        // The names were declared in registry order (`collect::declare`):
        // the declaration is the first entry of this name.
        let span0 = s
            .features
            .get(name)
            .map(|id| s.features.decls[id as usize].span);
        if let Some(span0) = span0.filter(|sp| *sp != f.name.span) {
            diags.push(
                Diagnostic::error(
                    "E0406",
                    rfile,
                    f.name.span,
                    format!("feature `{name}` appears twice in the registry"),
                )
                .with_secondary(Label::new(rfile, span0).with_message("first entry"))
                .with_help("merge the two entries; a feature has exactly one set of rules"),
            );
            continue;
        }
        let undeclared = |kind: &str, names: &Names, v: &Sp<String>| -> Option<Diagnostic> {
            if names.get(&v.value).is_some() {
                return None;
            }
            let d = crate::names::unknown_name(kind, &v.value, rfile, v.span, names.names());
            Some(Diagnostic {
                code: "E0402",
                message: format!(
                    "registry entry `{name}` names undeclared {kind} `{}`",
                    v.value
                ),
                ..d
            })
        };
        diags.extend(undeclared("class", &s.classes, &f.privacy_class));
        for m in &f.allowed_privacy_modes.value {
            diags.extend(undeclared("mode", &s.modes, m));
        }
        for p in &f.allowed_purposes.value {
            diags.extend(undeclared("purpose", &s.purposes, p));
        }
        for p in f.prohibited_purposes.iter().flat_map(|l| &l.value) {
            diags.extend(undeclared("purpose", &s.purposes, p));
            if let Some(a) = f.allowed_purposes.value.iter().find(|a| a.value == p.value) {
                diags.push(
                    Diagnostic::error(
                        "E0403",
                        rfile,
                        p.span,
                        format!(
                            "purpose `{}` is both allowed and prohibited for feature `{name}`",
                            p.value
                        ),
                    )
                    .with_secondary(Label::new(rfile, a.span).with_message("allowed here"))
                    .with_help(
                        "remove it from one of the two lists; a prohibition must be unambiguous",
                    ),
                );
            }
        }
        if let Some(c) = &f.requires_consent {
            diags.extend(undeclared("consent topic", &s.consent, c));
        }
        // One retention is either out of range above or not positive, never both.
        if let Some(r) = &f.retention_days {
            let out_of_range = if r.value > model::MAX_RETENTION_DAYS {
                Some((
                    format!(
                        "`retention_days` of feature `{name}` is `{}`, over the maximum of {} days (100 years)",
                        r.value,
                        model::MAX_RETENTION_DAYS
                    ),
                    "give the number of days the feature's data is actually kept; data kept for ever cannot be given a retention",
                ))
            } else if r.value <= 0 {
                Some((
                    format!(
                        "`retention_days` of feature `{name}` must be positive, found `{}`",
                        r.value
                    ),
                    "give the number of days the feature's data is kept, such as `90`",
                ))
            } else {
                None
            };
            if let Some((message, help)) = out_of_range {
                diags.push(Diagnostic::error("E0304", rfile, r.span, message).with_help(help));
            }
        }
        let Some(class) = s.classes.get(&f.privacy_class.value) else {
            continue;
        };
        let Some(Some(cls)) = lowered.classes.get(class as usize) else {
            continue;
        };
        for m in &f.allowed_privacy_modes.value {
            let Some(mode) = s.modes.get(&m.value) else {
                continue;
            };
            let Some(Some(md)) = lowered.modes.get(mode as usize) else {
                continue;
            };
            let missing = s.missing_capabilities(cls, md);
            if !missing.is_empty() {
                diags.push(
                    Diagnostic::error(
                        "E0404",
                        rfile,
                        m.span,
                        format!(
                            "feature `{name}` is allowed in mode `{}`, which does not grant `{}` required by class `{}`",
                            m.value,
                            missing.join("`, `"),
                            cls.name
                        ),
                    )
                    .with_secondary(decl_label(&s.modes, mode, "mode declared here"))
                    .with_secondary(decl_label(&s.classes, class, "class declared here"))
                    .with_help(format!("remove `{}` from `allowed_privacy_modes` or grant the capability in the mode", m.value)),
                );
            }
        }
        if let (Some(r), Some(Some((max, _, _)))) = (
            &f.retention_days,
            lowered.class_max_retention.get(class as usize),
        ) && r.value.checked_mul(86_400).is_none_or(|secs| secs > *max)
        {
            diags.push(
                Diagnostic::error(
                    "E0405",
                    rfile,
                    r.span,
                    format!("feature `{name}` keeps data {}, longer than the `max_retention` of class `{}`", rpol_diag::plural(r.value, "day"), cls.name),
                )
                .with_secondary(decl_label(&s.classes, class, format!("`max_retention` is {}", rpol_diag::plural(max / 86_400, "day"))))
                .with_help(format!("lower `retention_days` to at most {}", max / 86_400)),
            );
        }
        if let Some(v) = &f.debug_visibility
            && rank(vis(v.value)) < rank(cls.debug)
        {
            diags.push(
                Diagnostic::error(
                    "E0407",
                    rfile,
                    v.span,
                    format!(
                        "feature `{name}` has `debug_visibility: {}`, lower than `{}` of its class `{}`",
                        vis_name(vis(v.value)),
                        vis_name(cls.debug),
                        cls.name
                    ),
                )
                .with_secondary(decl_label(&s.classes, class, "class declared here"))
                .with_help(format!("use `{}` or stricter, or drop the key to inherit the class's visibility", vis_name(cls.debug))),
            );
        }
    }
    cx.diags.extend(diags);
}

/// The registry features as model features, indexed by feature id (the
/// first entry of each name, in registry order); an entry with an error is
/// `None`, so that later passes still check every well-formed feature (an
/// undeclared class on one entry must not hide an E0502 on another). `None`
/// as a whole when the registry did not load. Built on first use and kept in
/// `cx`.
pub(crate) fn model_features<'c>(
    cx: &'c Cx<'_>,
    lowered: &Lowered,
) -> Option<&'c Vec<Option<model::Feature>>> {
    cx.model_features
        .get_or_init(|| build_model_features(cx, lowered))
        .as_ref()
}

fn build_model_features(cx: &Cx<'_>, lowered: &Lowered) -> Option<Vec<Option<model::Feature>>> {
    let reg = cx.registry.as_ref()?;
    let s = &cx.scope;
    let ids = |names: &Names, v: &[Sp<String>]| -> Option<Vec<u32>> {
        v.iter().map(|x| names.get(&x.value)).collect()
    };
    let first_entry = |f: &&RegFeature| {
        s.features
            .get(&f.name.value)
            .is_some_and(|id| s.features.decls[id as usize].span == f.name.span)
    };
    let built = reg
        .features
        .iter()
        .filter(first_entry)
        .map(|f: &RegFeature| {
            let class = s.classes.get(&f.privacy_class.value)?;
            let cls = lowered.classes.get(class as usize)?.as_ref()?;
            Some(model::Feature {
                name: f.name.value.clone(),
                entity: f.entity.value.clone(),
                class,
                allowed_modes: ids(&s.modes, &f.allowed_privacy_modes.value)?,
                allowed_purposes: ids(&s.purposes, &f.allowed_purposes.value)?,
                prohibited_purposes: match &f.prohibited_purposes {
                    Some(p) => ids(&s.purposes, &p.value)?,
                    None => vec![],
                },
                retention_days: f.retention_days.as_ref().map(|r| r.value),
                requires_consent: match &f.requires_consent {
                    Some(c) => Some(s.consent.get(&c.value)?),
                    None => None,
                },
                visibility: f
                    .debug_visibility
                    .as_ref()
                    .map_or(cls.debug, |v| vis(v.value)),
            })
        })
        .collect::<Vec<_>>();
    // Ids are the first entries' positions among declared names.
    (built.len() == s.features.len()).then_some(built)
}

/// Records the policy names the registry's entries use (class, modes,
/// purposes, consent topic), every entry included: a repeated or misnamed
/// entry still points at declared names.
pub(crate) fn record_uses(cx: &mut Cx<'_>) {
    let (Some(reg), Some(rfile)) = (cx.registry.as_ref(), cx.registry_file) else {
        return;
    };
    let s = &cx.scope;
    let res = &mut cx.resolution;
    let mut refer = |names: &Names, v: &Sp<String>| {
        if let Some(id) = names.get(&v.value) {
            let span = crate::declare::yaml_name_span(cx.sm, rfile, v.span, &v.value);
            names.record(id, rfile, span, res);
        }
    };
    for f in &reg.features {
        refer(&s.classes, &f.privacy_class);
        for m in &f.allowed_privacy_modes.value {
            refer(&s.modes, m);
        }
        for p in f
            .allowed_purposes
            .value
            .iter()
            .chain(f.prohibited_purposes.iter().flat_map(|p| &p.value))
        {
            refer(&s.purposes, p);
        }
        if let Some(c) = &f.requires_consent {
            refer(&s.consent, c);
        }
    }
}
