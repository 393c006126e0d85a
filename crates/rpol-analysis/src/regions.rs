//! The region split of the request space.
//!
//! Each field some condition reads becomes an [`Axis`] of classes: absent;
//! each literal it is compared with; the gaps between int and duration
//! thresholds; the strings starting with each tested prefix; the three
//! consent states; the sets of the roles tested. Every request falls in
//! exactly one class per axis, and requests in the same region (one class per
//! axis) are decided alike, so one concrete witness per region stands for all.

use std::collections::BTreeSet;
use std::ops::Range;

use rpol_engine::model::PolicyModel;
use serde_json::{Map, Value};

mod classes;

use classes::{axis, unread_required};

use crate::error::{AnalysisError, RegionCount};
use crate::literals::{Field, Reads};

/// The default bound on the number of regions (`--max-regions`).
pub const DEFAULT_MAX_REGIONS: u64 = 10_000_000;

/// Roles tested beyond this make 2^n role sets; refuse before allocating them.
const MAX_ROLES_SPLIT: usize = 24;

/// The tenant of a witness when no condition reads it.
const ANY_TENANT: &str = "acme";

/// One class of values of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// The JSON value of the witness; `None`: the field is absent.
    pub value: Option<Value>,
    /// What every request in the class has, in words: `is "ID"`, `is absent`,
    /// `< 18`, `starts with "u_"`, `is granted`.
    pub label: String,
}

/// A field with its classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub field: Field,
    pub classes: Vec<Class>,
    /// For classifying a value back into its class.
    kind: Kind,
}

/// How values map to classes.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Literal strings (classes `0..strs.len()`), then the fresh strings whose
    /// longest tested prefix is `fresh[i]` (`None`: no prefix).
    Str {
        strs: Vec<String>,
        prefixes: Vec<String>,
        fresh: Vec<Option<String>>,
    },
    /// Cuts sorted; class `i` holds the values with `i` cuts at or below them.
    Num {
        duration: bool,
        cuts: Vec<i64>,
    },
    Bool,
    /// Variants with a class of their own, then maybe one class for the rest.
    Enum {
        own: Vec<String>,
        rest: bool,
    },
    Consent,
    /// The roles tested; class `i` is the set whose bits are `i`.
    Roles(Vec<String>),
}

/// The request space of one or more policies.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    pub axes: Vec<Axis>,
}

impl Space {
    /// The axes of consent topics: each axis's index and its topic.
    pub fn consent_axes(&self) -> Vec<(usize, String)> {
        self.axes
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match &a.field {
                Field::Consent(t) => Some((i, t.clone())),
                _ => None,
            })
            .collect()
    }

    /// Splits the space by what `reads` says the policies compare.
    /// `models` give the declared vocabularies (a diff passes both).
    pub fn build(models: &[&PolicyModel], reads: &Reads) -> Result<Space, AnalysisError> {
        let mut axes = Vec::new();
        // Tenant, surface and purpose are required, so they always have a value.
        for f in [Field::Tenant, Field::Surface, Field::Purpose] {
            if !reads.contains_key(&f) {
                axes.push(unread_required(models, &f));
            }
        }
        for (field, uses) in reads {
            axes.push(axis(models, field, uses)?);
        }
        axes.sort_by(|a, b| a.field.cmp(&b.field));
        Ok(Space { axes })
    }

    /// The number of regions; `None` past `u64`.
    pub fn count(&self) -> Option<u64> {
        self.axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.classes.len() as u64))
    }

    /// The region count, or E0701 naming the biggest factors.
    pub fn check_bound(&self, bound: u64) -> Result<u64, AnalysisError> {
        match self.count() {
            Some(n) if n <= bound => Ok(n),
            count => {
                let mut factors: Vec<&Axis> =
                    self.axes.iter().filter(|a| a.classes.len() > 1).collect();
                factors.sort_by_key(|a| std::cmp::Reverse(a.classes.len()));
                let fields = factors
                    .iter()
                    .take(4)
                    .map(|a| format!("`{}` ({} classes)", a.field.display(), a.classes.len()))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(AnalysisError::TooManyRegions {
                    count: RegionCount(count),
                    bound,
                    fields,
                })
            }
        }
    }

    /// Calls `f` with every region (one class index per axis), in order.
    pub fn for_each(&self, f: impl FnMut(&[usize])) {
        let all: Vec<Range<usize>> = self.axes.iter().map(|a| 0..a.classes.len()).collect();
        self.for_each_in(&all, f);
    }

    /// Calls `f` with every region whose class on each axis is in its range,
    /// in order (the last axis turns fastest).
    pub fn for_each_in(&self, ranges: &[Range<usize>], mut f: impl FnMut(&[usize])) {
        if ranges.iter().any(|r| r.is_empty()) {
            return;
        }
        let mut choice: Vec<usize> = ranges.iter().map(|r| r.start).collect();
        loop {
            f(&choice);
            let mut i = ranges.len();
            loop {
                if i == 0 {
                    return;
                }
                i -= 1;
                choice[i] += 1;
                if choice[i] < ranges[i].end {
                    break;
                }
                choice[i] = ranges[i].start;
            }
        }
    }

    /// Up to `n` disjoint parts that cover the space, cut along the axis
    /// with the most classes.
    pub fn split(&self, n: usize) -> Vec<Vec<Range<usize>>> {
        let all: Vec<Range<usize>> = self.axes.iter().map(|a| 0..a.classes.len()).collect();
        let Some((axis, len)) = self
            .axes
            .iter()
            .map(|a| a.classes.len())
            .enumerate()
            .max_by_key(|(i, len)| (*len, std::cmp::Reverse(*i)))
        else {
            return vec![all];
        };
        let n = n.clamp(1, len.max(1));
        (0..n)
            .map(|k| {
                let mut part = all.clone();
                part[axis] = len * k / n..len * (k + 1) / n;
                part
            })
            .collect()
    }

    /// Whether region `a` is a better witness than `b`: plainer, or as plain
    /// and first in region order (so the answer does not depend on how a
    /// parallel sweep was cut).
    pub fn better(&self, a: &[usize], b: &[usize]) -> bool {
        let (pa, pb) = (self.plainness(a), self.plainness(b));
        pa > pb || (pa == pb && a < b)
    }

    /// The witness request of a region (spec 7.1 JSON).
    pub fn witness(&self, choice: &[usize]) -> Value {
        // serde_json sorts object keys; `witness_text` prints spec order.
        let mut out = Map::new();
        for (axis, &c) in self.axes.iter().zip(choice) {
            let Some(v) = axis.classes.get(c).and_then(|c| c.value.clone()) else {
                continue;
            };
            let (parent, key) = match &axis.field {
                Field::Tenant => (None, "tenant".to_string()),
                Field::Surface => (None, "surface".into()),
                Field::Purpose => (None, "purpose".into()),
                Field::UserId => (Some("subject"), "user_id".into()),
                Field::AnonymousId => (Some("subject"), "anonymous_id".into()),
                Field::Consent(t) => (Some("consent"), t.clone()),
                Field::ConsentVersion => (None, "consent_version".into()),
                Field::Context(n) => (Some("context"), n.clone()),
                Field::Roles => (None, "roles".into()),
            };
            let map = match parent {
                None => &mut out,
                Some(p) => match out.entry(p).or_insert_with(|| Value::Object(Map::new())) {
                    Value::Object(m) => m,
                    _ => continue,
                },
            };
            map.insert(key, v);
        }
        Value::Object(out)
    }

    /// A witness that names `features` in its `features` array, so that
    /// `rpol eval` shows their verdicts whatever the route.
    pub fn naming_features(mut witness: Value, features: &[&str]) -> Value {
        if !features.is_empty()
            && let Value::Object(o) = &mut witness
        {
            o.insert("features".into(), features.into());
        }
        witness
    }

    /// The region of a request (spec 7.1 JSON); `None` when a value is not of
    /// any class (a request of the wrong shape).
    pub fn classify(&self, req: &Value) -> Option<Vec<usize>> {
        self.axes
            .iter()
            .map(|a| a.classify(lookup(req, &a.field)))
            .collect()
    }

    /// How many axes of a region are at their plain class.
    pub fn plainness(&self, choice: &[usize]) -> usize {
        self.axes
            .iter()
            .zip(choice)
            .filter(|(a, c)| a.plain() == **c)
            .count()
    }

    /// The witness in spec 7.1 key order (`serde_json` sorts object keys).
    pub fn witness_text(w: &Value) -> String {
        let Value::Object(o) = w else {
            return w.to_string();
        };
        // The request keys in spec 7.1 order.
        let parts: Vec<String> = rpol_check::vocab::GIVEN_FIELDS
            .iter()
            .filter_map(|k| {
                o.get(*k)
                    .map(|v| format!("{}:{v}", Value::String((*k).into())))
            })
            .collect();
        format!("{{{}}}", parts.join(","))
    }

    /// What the regions of a set have in common, per axis: the classes seen
    /// when they are not all of the axis's (at most three, else nothing).
    pub fn describe(&self, seen: &[BTreeSet<usize>], skip: &[Field]) -> Vec<String> {
        self.axes
            .iter()
            .zip(seen)
            .filter(|(a, s)| s.len() < a.classes.len() && s.len() <= 3 && !skip.contains(&a.field))
            .filter_map(|(a, s)| {
                let labels: Vec<&str> = s
                    .iter()
                    .filter_map(|&c| a.classes.get(c).map(|c| c.label.as_str()))
                    .collect();
                let first = *labels.first()?;
                // `is "a" or "b"` rather than `is "a" or is "b"`.
                let rest: Vec<&str> = labels[1..]
                    .iter()
                    .map(|l| {
                        if first.starts_with("is ") {
                            l.strip_prefix("is ").unwrap_or(l)
                        } else {
                            l
                        }
                    })
                    .collect();
                let mut text = format!("`{}` {first}", a.field.display());
                for r in rest {
                    text.push_str(" or ");
                    text.push_str(r);
                }
                Some(text)
            })
            .collect()
    }
}

/// The value of a field in a request, if present.
fn lookup<'v>(req: &'v Value, f: &Field) -> Option<&'v Value> {
    match f {
        Field::Tenant => req.get("tenant"),
        Field::Surface => req.get("surface"),
        Field::Purpose => req.get("purpose"),
        Field::UserId => req.get("subject")?.get("user_id"),
        Field::AnonymousId => req.get("subject")?.get("anonymous_id"),
        Field::Consent(t) => req.get("consent")?.get(t),
        Field::ConsentVersion => req.get("consent_version"),
        Field::Context(n) => req.get("context")?.get(n),
        Field::Roles => req.get("roles"),
    }
}

impl Axis {
    /// The class of the plainest values: another string (no literal, no
    /// prefix), an absent optional value, unknown consent, no roles. Witnesses
    /// prefer it, so that they show only what matters.
    pub fn plain(&self) -> usize {
        match &self.kind {
            // A signed-in user is the typical request; other optional strings
            // are plainest absent.
            Kind::Str { .. } if self.optional() && self.field != Field::UserId => 0,
            Kind::Str { strs, fresh, .. } => fresh
                .iter()
                .position(Option::is_none)
                .map_or(0, |i| usize::from(self.optional()) + strs.len() + i),
            Kind::Consent => 2,
            _ => 0,
        }
    }

    fn optional(&self) -> bool {
        !matches!(
            self.field,
            Field::Tenant | Field::Surface | Field::Purpose | Field::Consent(_) | Field::Roles
        )
    }

    fn classify(&self, v: Option<&Value>) -> Option<usize> {
        let absent_first = usize::from(self.optional());
        let Some(v) = v else {
            return match self.kind {
                Kind::Consent => Some(2),
                Kind::Roles(_) => Some(0),
                _ if self.optional() => Some(0),
                _ => None,
            };
        };
        match &self.kind {
            Kind::Str {
                strs,
                prefixes,
                fresh,
            } => {
                let s = v.as_str()?;
                if let Some(i) = strs.iter().position(|x| x == s) {
                    return Some(absent_first + i);
                }
                let longest = prefixes
                    .iter()
                    .filter(|p| s.starts_with(p.as_str()))
                    .max_by_key(|p| p.len())
                    .cloned();
                let i = fresh.iter().position(|f| *f == longest)?;
                Some(absent_first + strs.len() + i)
            }
            Kind::Num { duration, cuts } => {
                let n = if *duration {
                    rpol_engine::parse_duration(v.as_str()?)?
                } else {
                    v.as_i64()?
                };
                Some(absent_first + cuts.partition_point(|&c| c <= n))
            }
            Kind::Bool => Some(absent_first + usize::from(!v.as_bool()?)),
            Kind::Enum { own, rest } => {
                let s = v.as_str()?;
                match own.iter().position(|x| x == s) {
                    Some(i) => Some(absent_first + i),
                    None if *rest => Some(absent_first + own.len()),
                    None => None,
                }
            }
            Kind::Consent => ["granted", "denied", "unknown"]
                .iter()
                .position(|x| Some(*x) == v.as_str()),
            Kind::Roles(tested) => {
                let mut bits = 0usize;
                for r in v.as_array()? {
                    if let Some(i) = tested.iter().position(|t| Some(t.as_str()) == r.as_str()) {
                        bits |= 1 << i;
                    }
                }
                Some(bits)
            }
        }
    }
}
