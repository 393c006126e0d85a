//! The classes of each field: how an axis of the region split is built from
//! what the policies compare the field with.

use std::collections::BTreeSet;

use rpol_engine::model::{ContextType, PolicyModel};
use serde_json::Value;

use super::{ANY_TENANT, Axis, Class, Kind, MAX_ROLES_SPLIT};
use crate::error::{AnalysisError, RegionCount};
use crate::literals::{Field, Uses};

fn absent() -> Class {
    Class {
        value: None,
        label: "is absent".into(),
    }
}

/// Tenant, surface or purpose when nothing reads it: one class.
pub(super) fn unread_required(models: &[&PolicyModel], f: &Field) -> Axis {
    let (value, label) = match f {
        Field::Surface => {
            let s = first_common(models, |m| &m.surfaces);
            (s.clone(), format!("is any surface (e.g. `{s}`)"))
        }
        Field::Purpose => {
            let p = first_common(models, |m| &m.purposes);
            (p.clone(), format!("is any purpose (e.g. `{p}`)"))
        }
        _ => (ANY_TENANT.to_string(), "is any tenant".to_string()),
    };
    Axis {
        field: f.clone(),
        classes: vec![Class {
            value: Some(Value::String(value.clone())),
            label,
        }],
        kind: match f {
            Field::Tenant => Kind::Str {
                strs: Vec::new(),
                prefixes: Vec::new(),
                fresh: vec![None],
            },
            _ => Kind::Enum {
                own: Vec::new(),
                rest: true,
            },
        },
    }
}

/// The first name declared in every model (else the first of the first model).
fn first_common(models: &[&PolicyModel], names: impl Fn(&PolicyModel) -> &Vec<String>) -> String {
    let first = models.first().map(|m| names(m).clone()).unwrap_or_default();
    first
        .iter()
        .find(|n| models.iter().all(|m| names(m).contains(n)))
        .or(first.first())
        .cloned()
        .unwrap_or_default()
}

/// The declared variants of a field's enum over all models: names in the
/// order first seen, and those not declared in every model.
fn variants(models: &[&PolicyModel], field: &Field) -> (Vec<String>, BTreeSet<String>) {
    let mut all: Vec<String> = Vec::new();
    let mut partial = BTreeSet::new();
    let per: Vec<Vec<String>> = models
        .iter()
        .map(|m| match field {
            Field::Surface => m.surfaces.clone(),
            Field::Purpose => m.purposes.clone(),
            Field::Context(n) => match m.context.iter().find(|c| &c.name == n).map(|c| &c.ty) {
                Some(ContextType::Enum(v)) => v.clone(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        })
        .collect();
    for vs in &per {
        for v in vs {
            if !all.contains(v) {
                all.push(v.clone());
            }
        }
    }
    for v in &all {
        if per.iter().any(|vs| !vs.contains(v)) {
            partial.insert(v.clone());
        }
    }
    (all, partial)
}

/// Enum classes: every variant named (or not declared everywhere) alone, the
/// rest together.
fn enum_axis(models: &[&PolicyModel], field: &Field, uses: &Uses, optional: bool) -> Axis {
    let (all, partial) = variants(models, field);
    let own: Vec<String> = all
        .iter()
        .filter(|v| uses.syms.contains(*v) || partial.contains(*v))
        .cloned()
        .collect();
    let rest: Vec<&String> = all.iter().filter(|v| !own.contains(v)).collect();
    let mut classes = Vec::new();
    if optional {
        classes.push(absent());
    }
    classes.extend(own.iter().map(|v| Class {
        value: Some(Value::String(v.clone())),
        label: format!("is `{v}`"),
    }));
    if let Some(first) = rest.first() {
        let label = if rest.len() == 1 {
            format!("is `{first}`")
        } else {
            let names: Vec<String> = rest.iter().map(|r| format!("`{r}`")).collect();
            format!("is one of {}", names.join(", "))
        };
        classes.push(Class {
            value: Some(Value::String((*first).clone())),
            label,
        });
    }
    Axis {
        field: field.clone(),
        classes,
        kind: Kind::Enum {
            own,
            rest: !rest.is_empty(),
        },
    }
}

/// The declared type of a context field (the first model that declares it).
fn context_type(models: &[&PolicyModel], name: &str) -> Option<ContextType> {
    models.iter().find_map(|m| {
        m.context
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.ty.clone())
    })
}

pub(super) fn axis(
    models: &[&PolicyModel],
    field: &Field,
    uses: &Uses,
) -> Result<Axis, AnalysisError> {
    Ok(match field {
        Field::Tenant => str_axis(field, uses, false),
        Field::UserId | Field::AnonymousId | Field::ConsentVersion => str_axis(field, uses, true),
        Field::Surface | Field::Purpose => enum_axis(models, field, uses, false),
        Field::Consent(_) => Axis {
            field: field.clone(),
            classes: vec![
                Class {
                    value: Some(Value::String("granted".into())),
                    label: "is granted".into(),
                },
                Class {
                    value: Some(Value::String("denied".into())),
                    label: "is denied".into(),
                },
                // Missing means unknown, and is valid whatever the topics.
                Class {
                    value: None,
                    label: "is unknown".into(),
                },
            ],
            kind: Kind::Consent,
        },
        Field::Roles => roles_axis(field, uses)?,
        Field::Context(name) => match context_type(models, name) {
            Some(ContextType::String) | None => str_axis(field, uses, true),
            Some(ContextType::Int) => num_axis(field, uses, false),
            Some(ContextType::Duration) => num_axis(field, uses, true),
            Some(ContextType::Bool) => Axis {
                field: field.clone(),
                classes: vec![
                    absent(),
                    Class {
                        value: Some(Value::Bool(true)),
                        label: "is true".into(),
                    },
                    Class {
                        value: Some(Value::Bool(false)),
                        label: "is false".into(),
                    },
                ],
                kind: Kind::Bool,
            },
            Some(ContextType::Enum(_)) => enum_axis(models, field, uses, true),
        },
    })
}

fn roles_axis(field: &Field, uses: &Uses) -> Result<Axis, AnalysisError> {
    let tested: Vec<String> = uses.syms.iter().cloned().collect();
    if tested.len() > MAX_ROLES_SPLIT {
        return Err(AnalysisError::TooManyRegions {
            count: RegionCount(1u64.checked_shl(tested.len() as u32)),
            bound: 1 << MAX_ROLES_SPLIT,
            fields: format!("`roles` (2^{} role sets)", tested.len()),
        });
    }
    let classes = (0..1usize << tested.len())
        .map(|bits| {
            let set: Vec<&String> = tested
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> i & 1 == 1)
                .map(|(_, r)| r)
                .collect();
            if set.is_empty() {
                let none = tested
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Class {
                    value: None,
                    label: format!("has none of {none}"),
                }
            } else {
                Class {
                    value: Some(Value::Array(
                        set.iter().map(|r| Value::String((*r).clone())).collect(),
                    )),
                    label: format!(
                        "has exactly {} of the roles tested",
                        set.iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
        })
        .collect();
    Ok(Axis {
        field: field.clone(),
        classes,
        kind: Kind::Roles(tested),
    })
}

/// A string that starts with `prefix` (if any), is none of `strs`, and starts
/// with no tested prefix longer than `prefix`.
fn fresh_string(
    prefix: Option<&str>,
    hint: &str,
    strs: &[String],
    prefixes: &[String],
) -> Option<String> {
    let base = prefix.unwrap_or("");
    let ok = |s: &str| {
        !strs.iter().any(|x| x == s)
            && prefixes
                .iter()
                .filter(|p| s.starts_with(p.as_str()))
                .all(|p| prefix.is_some_and(|q| p.len() <= q.len()))
    };
    if prefix.is_none() {
        for s in [hint, ""] {
            if ok(s) {
                return Some(s.to_string());
            }
        }
    }
    // Finitely many literals and prefixes block finitely many candidates.
    let chars = ('a'..='z')
        .chain('0'..='9')
        .chain(['_', '-', '.', '~'])
        .chain((0x21u32..0x3000).filter_map(char::from_u32));
    for c in chars {
        for k in 1..=3 {
            let mut s = base.to_string();
            s.extend(std::iter::repeat_n(c, k));
            if ok(&s) {
                return Some(s);
            }
        }
    }
    None
}

fn str_axis(field: &Field, uses: &Uses, optional: bool) -> Axis {
    let strs: Vec<String> = uses.strs.iter().cloned().collect();
    let prefixes: Vec<String> = uses.prefixes.iter().cloned().collect();
    let mut classes = Vec::new();
    if optional {
        classes.push(absent());
    }
    classes.extend(strs.iter().map(|s| Class {
        value: Some(Value::String(s.clone())),
        label: format!("is {}", quote(s)),
    }));
    let mut fresh = Vec::new();
    let candidates = std::iter::once(None).chain(prefixes.iter().map(|p| Some(p.as_str())));
    for p in candidates {
        let hint = match field {
            Field::Tenant => ANY_TENANT,
            Field::UserId => "user_1",
            Field::AnonymousId => "anon_1",
            Field::ConsentVersion => "v1",
            _ => "other",
        };
        let Some(w) = fresh_string(p, hint, &strs, &prefixes) else {
            continue;
        };
        let label = match (p, strs.is_empty(), prefixes.is_empty()) {
            (None, true, true) if optional => "is present".to_string(),
            (None, true, true) => "is any string".to_string(),
            (None, false, true) => format!("is another string (e.g. {})", quote(&w)),
            (None, _, false) => format!(
                "starts with none of {} (e.g. {})",
                list(&prefixes),
                quote(&w)
            ),
            (Some(p), _, _) => format!("is another string starting with {}", quote(p)),
        };
        classes.push(Class {
            value: Some(Value::String(w)),
            label,
        });
        fresh.push(p.map(str::to_string));
    }
    Axis {
        field: field.clone(),
        classes,
        kind: Kind::Str {
            strs,
            prefixes,
            fresh,
        },
    }
}

fn num_axis(field: &Field, uses: &Uses, duration: bool) -> Axis {
    // A request duration is never negative, so cuts at or below 0 split nothing.
    let min = if duration { 0 } else { i64::MIN };
    let cuts: Vec<i64> = uses.cuts.iter().copied().filter(|&c| c > min).collect();
    let show = |n: i64| if duration { dur(n) } else { n.to_string() };
    let value = |n: i64| {
        if duration {
            Value::String(dur(n))
        } else {
            Value::from(n)
        }
    };
    let mut classes = vec![absent()];
    if cuts.is_empty() {
        classes.push(Class {
            value: Some(value(0)),
            label: "is any value".into(),
        });
    }
    // Interval i is [cuts[i-1], cuts[i]), unbounded at both ends.
    for i in 0..cuts.len() + usize::from(!cuts.is_empty()) {
        let lo = i.checked_sub(1).map(|j| cuts[j]);
        let hi = cuts.get(i).copied();
        let (w, label) = match (lo, hi) {
            (None, Some(h)) => (h - 1, format!("< {}", show(h))),
            (Some(l), None) => (l, format!(">= {}", show(l))),
            (Some(l), Some(h)) if h - l == 1 => (l, format!("== {}", show(l))),
            (Some(l), Some(h)) => (l, format!("is in {}..{}", show(l), show(h - 1))),
            (None, None) => (0, "is any value".into()),
        };
        classes.push(Class {
            value: Some(value(w)),
            label,
        });
    }
    Axis {
        field: field.clone(),
        classes,
        kind: Kind::Num { duration, cuts },
    }
}

/// A duration in seconds as the largest unit that divides it (`"90d"`).
fn dur(secs: i64) -> String {
    for (unit, n) in [('w', 604_800), ('d', 86_400), ('h', 3_600), ('m', 60)] {
        if secs != 0 && secs % n == 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ")
}
