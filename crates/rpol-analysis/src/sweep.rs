//! Visiting every region with its request bound to one or more compiled
//! policies, and what each policy decides there.
//!
//! A class value is resolved once per policy into an engine [`Request`] edit,
//! so a sweep builds no JSON and parses nothing per region; a test checks that
//! the bound request equals what `parse_request` makes of the witness.

use rpol_engine::model::{CONSENT_UNKNOWN, ContextType};
use rpol_engine::{Compiled, ReasonOutcome, Verdict};
use rpol_engine::{CtxVal, Request};
use std::ops::Range;

use serde_json::Value;

use crate::literals::Field;
use crate::regions::Space;

/// One class of one axis, as an edit of a policy's request.
#[derive(Debug, Clone)]
enum Set {
    Tenant(String),
    Surface(u32),
    Purpose(u32),
    UserId(Option<String>),
    AnonymousId(Option<String>),
    Consent(usize, u8),
    ConsentVersion(Option<String>),
    Context(usize, Option<CtxVal>),
    Roles(u64),
    /// The field is not in this policy's vocabulary and the class is absent.
    Nothing,
    /// A request in this class is invalid for this policy (spec 7.1).
    Invalid,
}

/// The space's classes resolved against one compiled policy.
pub struct Bound<'c> {
    pub compiled: &'c Compiled,
    sets: Vec<Vec<Set>>,
}

impl<'c> Bound<'c> {
    pub fn new(space: &Space, compiled: &'c Compiled) -> Bound<'c> {
        let sets = space
            .axes
            .iter()
            .map(|a| {
                a.classes
                    .iter()
                    .map(|c| resolve(compiled, &a.field, c.value.as_ref()))
                    .collect()
            })
            .collect();
        Bound { compiled, sets }
    }

    pub(crate) fn base(&self) -> Request {
        self.compiled.blank_request()
    }

    /// Applies class `class` of axis `axis`; false when it makes the request invalid.
    pub(crate) fn apply(&self, axis: usize, class: usize, req: &mut Request) -> bool {
        match &self.sets[axis][class] {
            Set::Tenant(s) => req.tenant = Some(s.clone()),
            Set::Surface(s) => req.surface = Some(*s),
            Set::Purpose(p) => req.purpose = Some(*p),
            Set::UserId(v) => req.user_id.clone_from(v),
            Set::AnonymousId(v) => req.anonymous_id.clone_from(v),
            Set::Consent(t, s) => req.consent[*t] = *s,
            Set::ConsentVersion(v) => req.consent_version.clone_from(v),
            Set::Context(f, v) => req.context[*f].clone_from(v),
            Set::Roles(r) => req.roles = *r,
            Set::Nothing => {}
            Set::Invalid => return false,
        }
        true
    }

    /// Whether class `class` of axis `axis` is valid for this policy.
    pub(crate) fn valid(&self, axis: usize, class: usize) -> bool {
        !matches!(self.sets[axis][class], Set::Invalid)
    }

    /// The request of one region, or `None` when it is invalid for this policy.
    pub fn request(&self, choice: &[usize]) -> Option<Request> {
        let mut req = self.base();
        choice
            .iter()
            .enumerate()
            .all(|(a, &c)| self.apply(a, c, &mut req))
            .then_some(req)
    }
}

fn resolve(c: &Compiled, field: &Field, value: Option<&Value>) -> Set {
    let m = c.model();
    let pos = |names: &[String], v: &str| names.iter().position(|n| n == v).map(|i| i as u32);
    let string = |v: Option<&Value>| match v {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    };
    let set = match field {
        Field::Tenant => value.and_then(Value::as_str).map(|s| Set::Tenant(s.into())),
        Field::Surface => value
            .and_then(Value::as_str)
            .and_then(|s| pos(&m.surfaces, s))
            .map(Set::Surface),
        Field::Purpose => value
            .and_then(Value::as_str)
            .and_then(|s| pos(&m.purposes, s))
            .map(Set::Purpose),
        Field::UserId => string(value).map(Set::UserId),
        Field::AnonymousId => string(value).map(Set::AnonymousId),
        Field::ConsentVersion => string(value).map(Set::ConsentVersion),
        Field::Consent(t) => match (pos(&m.consent_topics, t), value) {
            (_, None) => match pos(&m.consent_topics, t) {
                Some(i) => Some(Set::Consent(i as usize, CONSENT_UNKNOWN as u8)),
                None => Some(Set::Nothing),
            },
            (Some(i), Some(v)) => ["granted", "denied", "unknown"]
                .iter()
                .position(|s| Some(*s) == v.as_str())
                .map(|s| Set::Consent(i as usize, s as u8)),
            (None, Some(_)) => None,
        },
        Field::Context(name) => match (m.context.iter().position(|f| &f.name == name), value) {
            (Some(i), None) => Some(Set::Context(i, None)),
            (None, None) => Some(Set::Nothing),
            (None, Some(_)) => None,
            (Some(i), Some(v)) => {
                let cv = match (&m.context[i].ty, v) {
                    (ContextType::String, Value::String(s)) => Some(CtxVal::Str(s.clone())),
                    (ContextType::Int, Value::Number(n)) => n.as_i64().map(CtxVal::Int),
                    (ContextType::Bool, Value::Bool(b)) => Some(CtxVal::Bool(*b)),
                    (ContextType::Duration, Value::String(s)) => {
                        rpol_engine::parse_duration(s).map(CtxVal::Dur)
                    }
                    (ContextType::Enum(vs), Value::String(s)) => pos(vs, s).map(CtxVal::Enum),
                    _ => None,
                };
                cv.map(|cv| Set::Context(i, Some(cv)))
            }
        },
        Field::Roles => match value {
            None => Some(Set::Roles(0)),
            Some(Value::Array(rs)) => rs
                .iter()
                .try_fold(0u64, |acc, r| {
                    let i = pos(&m.roles, r.as_str()?)?;
                    (i < 64).then(|| acc | 1 << i)
                })
                .map(Set::Roles),
            Some(_) => None,
        },
    };
    set.unwrap_or(Set::Invalid)
}

/// Visits every region with its request under each policy (`None`: invalid
/// there).
pub fn sweep(space: &Space, bounds: &[&Bound<'_>], f: impl FnMut(&[usize], &[Option<&Request>])) {
    let all: Vec<Range<usize>> = space.axes.iter().map(|a| 0..a.classes.len()).collect();
    sweep_in(space, bounds, &all, f);
}

/// [`sweep`] over the regions within `ranges`. Only the axes that changed
/// since the last region are re-applied to the requests.
pub fn sweep_in(
    space: &Space,
    bounds: &[&Bound<'_>],
    ranges: &[Range<usize>],
    mut f: impl FnMut(&[usize], &[Option<&Request>]),
) {
    let mut reqs: Vec<Request> = bounds.iter().map(|b| b.base()).collect();
    // Per policy, per axis: whether the current class is invalid there.
    let mut invalid: Vec<Vec<bool>> = bounds
        .iter()
        .map(|_| vec![false; space.axes.len()])
        .collect();
    let mut prev: Option<Vec<usize>> = None;
    space.for_each_in(ranges, |choice| {
        for (a, &c) in choice.iter().enumerate() {
            if prev.as_ref().is_some_and(|p| p[a] == c) {
                continue;
            }
            for (i, b) in bounds.iter().enumerate() {
                invalid[i][a] = !b.apply(a, c, &mut reqs[i]);
            }
        }
        match &mut prev {
            Some(p) => p.copy_from_slice(choice),
            None => prev = Some(choice.to_vec()),
        }
        let views: Vec<Option<&Request>> = reqs
            .iter()
            .zip(&invalid)
            .map(|(r, inv)| (!inv.iter().any(|x| *x)).then_some(r))
            .collect();
        f(choice, &views);
    });
}

/// Below this many regions a sweep runs on one thread.
const PARALLEL_FROM: u64 = 20_000;

/// [`sweep`] on every core: each thread folds its part of the space into its
/// own state (`init`, `f`), and the states are merged in region order. The
/// result must not depend on the cut: merges keep the better witness by
/// [`Space::better`], never "the first one seen".
pub fn sweep_par<S: Send>(
    space: &Space,
    bounds: &[&Bound<'_>],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &[usize], &[Option<&Request>]) + Sync,
    merge: impl Fn(S, S) -> S,
) -> S {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let small = space.count().is_some_and(|n| n < PARALLEL_FROM);
    sweep_par_n(
        if small { 1 } else { threads },
        space,
        bounds,
        init,
        f,
        merge,
    )
}

/// [`sweep_par`] on exactly `threads` threads (at most one per class of the
/// widest axis); for tests that the answer does not depend on the cut.
pub fn sweep_par_n<S: Send>(
    threads: usize,
    space: &Space,
    bounds: &[&Bound<'_>],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &[usize], &[Option<&Request>]) + Sync,
    merge: impl Fn(S, S) -> S,
) -> S {
    let parts = space.split(threads);
    if parts.len() <= 1 {
        let mut s = init();
        sweep(space, bounds, |c, r| f(&mut s, c, r));
        return s;
    }
    let states: Vec<S> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .map(|ranges| {
                let (init, f) = (&init, &f);
                scope.spawn(move || {
                    let mut s = init();
                    sweep_in(space, bounds, ranges, |c, r| f(&mut s, c, r));
                    s
                })
            })
            .collect();
        handles
            .into_iter()
            // A panicking part re-raises its panic here: never a partial answer.
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut it = states.into_iter();
    let first = it.next().unwrap_or_else(&init);
    it.fold(first, merge)
}

/// What a policy decides for a request: the mode and everything it governs,
/// with every source, registry feature and reason decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub mode: u32,
    pub arm: Option<u32>,
    pub route: Option<u32>,
    pub sources: Vec<Verdict>,
    /// Every registry feature, registry order, whatever the route.
    pub features: Vec<Verdict>,
    /// Per reason, for one code its patterns match.
    pub reasons: Vec<ReasonOutcome>,
}

/// A code each reason's patterns match (two reasons never share one, E0505).
pub fn reason_codes(c: &Compiled) -> Vec<String> {
    c.model()
        .reasons
        .iter()
        .map(|r| {
            r.codes
                .first()
                .map(|p| p.replace('*', ""))
                .unwrap_or_default()
        })
        .collect()
}

impl Outcome {
    /// Decides `req` under `c`, in the resolved mode or in `mode`.
    pub fn fill(&mut self, c: &Compiled, req: &Request, mode: Option<u32>, codes: &[String]) {
        let p = match mode {
            Some(m) => c.prepare_in(req, m),
            None => c.prepare(req),
        };
        self.mode = p.mode;
        self.arm = p.arm;
        self.route = c.route(req.surface, p.mode);
        self.sources.clear();
        self.sources
            .extend(c.source_ids().map(|s| c.check_source(&p, s)));
        self.features.clear();
        self.features
            .extend(c.feature_ids().map(|f| c.check_feature(&p, f)));
        self.reasons.clear();
        self.reasons
            .extend(codes.iter().map(|code| c.explain(&p, code)));
    }
}
