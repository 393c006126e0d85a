//! The symbolic engine: `diff` and `verify` on decision diagrams instead of
//! a walk over every region.
//!
//! The regions are the same as the enumeration engine's ([`Space`]); a set
//! of regions is a multi-valued decision diagram ([`mdd`]) with one level per
//! axis, in an order taken from the policy's structure (the fields `resolve`
//! reads first, since every other decision depends on the mode; then fields
//! in the order conditions name them). Each decision is built only from the
//! fields it reads ([`decisions`]), so a space of 10^20 regions costs what
//! its decisions read, not its size. Answers (groups, counts, witnesses,
//! messages) are those of the enumeration engine, which the tests hold it to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rpol_engine::Compiled;
use rpol_engine::model::{Expr, PolicyModel};

pub mod decisions;
pub mod mdd;
pub mod query;

use decisions::{Decisions, MAX_CONE};
use mdd::{FALSE, Mdd, Node, TooBig};

use crate::diff::{Change, DiffReport, Group, difference, union};
use crate::error::AnalysisError;
use crate::literals::{self, Field};
use crate::regions::Space;
use crate::sweep::{Outcome, reason_codes};
use crate::verify::{
    Property, Tally, VerifyReport, consent_why, fail_safe_why, live_property, mode_why,
    newly_allowed, tallied, with_features,
};

/// Inner diagram nodes the engine may build (about 40 bytes each plus
/// their children): the memory bound behind E0704.
pub const MAX_NODES: usize = 8_000_000;

/// Why a diagram could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymError {
    Cone {
        fields: Vec<String>,
        leaves: Option<u64>,
    },
    Nodes(usize),
}

impl From<TooBig> for SymError {
    fn from(e: TooBig) -> SymError {
        SymError::Nodes(e.0)
    }
}

impl From<TooBig> for AnalysisError {
    fn from(e: TooBig) -> AnalysisError {
        SymError::from(e).into()
    }
}

impl From<SymError> for AnalysisError {
    fn from(e: SymError) -> AnalysisError {
        match e {
            SymError::Cone { fields, leaves } => AnalysisError::ConeTooBig {
                fields: fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                count: crate::error::RegionCount(leaves),
                bound: MAX_CONE,
            },
            SymError::Nodes(n) => AnalysisError::DiagramTooBig { bound: n as u64 },
        }
    }
}

/// The space, its diagram store and the level order.
pub struct Ctx<'s> {
    pub space: &'s Space,
    pub mdd: Mdd,
    /// Per axis, its level.
    pub level: Vec<usize>,
    /// Per level, its axis.
    axis_at: Vec<usize>,
    /// Per level, the plain class of its axis.
    plain: Vec<usize>,
    max_plain: HashMap<Node, Option<usize>>,
}

impl<'s> Ctx<'s> {
    /// Orders the levels by the structure of `models`: the fields `resolve`
    /// reads, then the fields of the other conditions in the order they
    /// appear, then purpose and surface, then the rest.
    pub fn new(space: &'s Space, models: &[&PolicyModel]) -> Ctx<'s> {
        let mut order: Vec<usize> = Vec::new();
        let push = |f: &Field, order: &mut Vec<usize>| {
            if let Some(a) = space.axes.iter().position(|a| &a.field == f)
                && !order.contains(&a)
            {
                order.push(a);
            }
        };
        for m in models {
            for e in m.resolve.iter().filter_map(|a| a.condition.as_ref()) {
                literals::fields_of(m, e)
                    .iter()
                    .for_each(|f| push(f, &mut order));
            }
        }
        for m in models {
            for e in m.conditions() {
                literals::fields_of(m, e)
                    .iter()
                    .for_each(|f| push(f, &mut order));
            }
        }
        for f in [Field::Purpose, Field::Surface] {
            push(&f, &mut order);
        }
        for a in 0..space.axes.len() {
            if !order.contains(&a) {
                order.push(a);
            }
        }
        let mut level = vec![0; space.axes.len()];
        for (l, &a) in order.iter().enumerate() {
            level[a] = l;
        }
        let sizes = order.iter().map(|&a| space.axes[a].classes.len()).collect();
        let plain = order.iter().map(|&a| space.axes[a].plain()).collect();
        Ctx {
            space,
            mdd: Mdd::new(sizes, MAX_NODES),
            level,
            axis_at: order,
            plain,
            max_plain: HashMap::new(),
        }
    }

    /// The axis of a field, if the space has one.
    pub fn axis(&self, f: &Field) -> Option<usize> {
        self.space.axes.iter().position(|a| &a.field == f)
    }

    /// The axes some of `conds` read.
    pub fn axes_of<'e>(
        &self,
        conds: impl IntoIterator<Item = &'e Expr>,
        m: &PolicyModel,
    ) -> Vec<usize> {
        let mut out: BTreeSet<usize> = BTreeSet::new();
        for e in conds {
            for f in literals::fields_of(m, e) {
                out.extend(self.axis(&f));
            }
        }
        out.into_iter().collect()
    }

    fn max_plain(&mut self, a: Node) -> Option<usize> {
        self.mdd.max_plain(a, &self.plain, &mut self.max_plain)
    }

    /// The best region of a non-empty set by [`Space::better`]: the most
    /// axes at their plain class, then the first in region order.
    pub fn best(&mut self, set: Node) -> Result<Vec<usize>, SymError> {
        let Some(target) = self.max_plain(set) else {
            return Ok(Vec::new());
        };
        let mut cur = set;
        let mut lost = 0;
        let mut choice = vec![0; self.space.axes.len()];
        for (axis, slot) in choice.iter_mut().enumerate() {
            let level = self.level[axis];
            let plain = self.plain[level];
            for class in 0..self.space.axes[axis].classes.len() {
                let r = self.mdd.restrict(cur, level, class)?;
                if r == FALSE {
                    continue;
                }
                // A fixed level no longer appears in `r`, so `max_plain`
                // counts it as plain; take off the fixed ones that are not.
                let miss = lost + usize::from(class != plain);
                if self
                    .max_plain(r)
                    .is_some_and(|p| p - miss.min(p) == target && p >= miss)
                {
                    *slot = class;
                    cur = r;
                    lost = miss;
                    break;
                }
            }
        }
        Ok(choice)
    }

    /// The regions of a non-empty set as a diff group: count, best region and
    /// the classes seen per axis.
    fn group(&mut self, set: Node) -> Result<Group, AnalysisError> {
        let regions = self.count(set)?;
        let first = self.best(set)?;
        let per_level = self.mdd.seen(set);
        let mut seen = vec![BTreeSet::new(); self.space.axes.len()];
        for (l, classes) in per_level.iter().enumerate() {
            seen[self.axis_at[l]] = classes
                .iter()
                .enumerate()
                .filter(|(_, s)| **s)
                .map(|(c, _)| c)
                .collect();
        }
        Ok(Group {
            regions,
            first,
            seen,
        })
    }

    fn count(&self, set: Node) -> Result<u64, AnalysisError> {
        self.mdd.count(set).ok_or(AnalysisError::CountOverflow)
    }

    /// Diagram sizes, for `--stats` and the docs.
    pub fn nodes(&self) -> usize {
        self.mdd.nodes()
    }
}

pub(crate) fn regions_of(space: &Space) -> Result<u64, AnalysisError> {
    space.count().ok_or(AnalysisError::CountOverflow)
}

/// [`crate::diff::diff`] on diagrams: the same groups, counts and witnesses.
pub fn diff(old: &Compiled, new: &Compiled) -> Result<DiffReport, AnalysisError> {
    diff_with_stats(old, new).map(|(r, _)| r)
}

/// [`diff`] and the number of diagram nodes it built.
pub fn diff_with_stats(
    old: &Compiled,
    new: &Compiled,
) -> Result<(DiffReport, usize), AnalysisError> {
    let (mo, mn) = (old.model(), new.model());
    let reads = literals::collect(&[mo, mn], &[])?;
    let space = Space::build(&[mo, mn], &reads)?;
    let regions = regions_of(&space)?;
    let mut ctx = Ctx::new(&space, &[mo, mn]);
    let mut dold = Decisions::new(&mut ctx, old)?;
    let mut dnew = Decisions::new(&mut ctx, new)?;
    let mut sets: BTreeMap<Change, Node> = BTreeMap::new();
    let m = &mut ctx.mdd;
    let gone = m.diff(dold.valid, dnew.valid)?;
    let came = m.diff(dnew.valid, dold.valid)?;
    sets.insert(Change::Validity { valid_before: true }, gone);
    sets.insert(
        Change::Validity {
            valid_before: false,
        },
        came,
    );
    let valid = m.and(dold.valid, dnew.valid)?;
    for (a, ma) in mo.modes.iter().enumerate() {
        for (b, mb) in mn.modes.iter().enumerate() {
            if ma.name != mb.name {
                let x = m.and(dold.modes[a], dnew.modes[b])?;
                let x = m.and(valid, x)?;
                sets.insert(
                    Change::Mode {
                        old: ma.name.clone(),
                        new: mb.name.clone(),
                    },
                    x,
                );
            }
        }
    }
    let (ro, rn) = (dold.routes(&mut ctx)?, dnew.routes(&mut ctx)?);
    let route_name = |m: &PolicyModel, i: usize| m.feature_sets.get(i).map(|f| f.name.clone());
    for (i, &x) in ro.iter().enumerate() {
        for (j, &y) in rn.iter().enumerate() {
            let (a, b) = (route_name(mo, i), route_name(mn, j));
            if a != b {
                let both = ctx.mdd.and(x, y)?;
                let both = ctx.mdd.and(valid, both)?;
                let e = sets
                    .entry(Change::Route { old: a, new: b })
                    .or_insert(FALSE);
                *e = ctx.mdd.or(*e, both)?;
            }
        }
    }
    let names = |m: &PolicyModel| -> (Vec<String>, Vec<String>) {
        (
            m.sources.iter().map(|s| s.name.clone()).collect(),
            m.features.iter().map(|f| f.name.clone()).collect(),
        )
    };
    let ((so, fo), (sn, fnew)) = (names(mo), names(mn));
    for (source, list) in [(true, union(&so, &sn)), (false, union(&fo, &fnew))] {
        for (name, i, j) in list {
            let mut allowed = |d: &mut Decisions<'_>, i: Option<usize>| match i {
                None => Ok::<Node, SymError>(FALSE),
                Some(i) if source => d.source(&mut ctx, i),
                Some(i) => d.feature(&mut ctx, i),
            };
            let (x, y) = (allowed(&mut dold, i)?, allowed(&mut dnew, j)?);
            if x == y {
                continue;
            }
            for allowed_now in [false, true] {
                let set = if allowed_now {
                    ctx.mdd.diff(y, x)?
                } else {
                    ctx.mdd.diff(x, y)?
                };
                let set = ctx.mdd.and(valid, set)?;
                let name = name.clone();
                let change = if source {
                    Change::Source { name, allowed_now }
                } else {
                    Change::Feature { name, allowed_now }
                };
                sets.insert(change, set);
            }
        }
    }
    let mut differences = Vec::new();
    for (change, set) in sets {
        if set == FALSE {
            continue;
        }
        let g = ctx.group(set)?;
        differences.push(difference(&space, &dold.bound, &dnew.bound, change, g));
    }
    let nodes = ctx.nodes();
    Ok((
        DiffReport {
            regions,
            differences,
        },
        nodes,
    ))
}

/// The regions of `set` as a tally: their count and the best of them, with
/// the words `why` gives for it.
fn tally(
    ctx: &mut Ctx<'_>,
    set: Node,
    why: impl FnOnce(&[usize]) -> (serde_json::Value, String),
) -> Result<Tally, AnalysisError> {
    if set == FALSE {
        return Ok(Tally::default());
    }
    let failing = ctx.count(set)?;
    let first = ctx.best(set)?;
    let (w, text) = why(&first);
    Ok(Tally {
        failing,
        first: Some((first, w, text)),
    })
}

/// [`crate::verify::verify`] on diagrams: the same verdicts, counts,
/// witnesses and words.
pub fn verify(c: &Compiled) -> Result<VerifyReport, AnalysisError> {
    verify_with_stats(c).map(|(r, _)| r)
}

/// [`verify`] and the number of diagram nodes it built.
pub fn verify_with_stats(c: &Compiled) -> Result<(VerifyReport, usize), AnalysisError> {
    let m = c.model();
    let reads = literals::collect(&[m], &[])?;
    let space = Space::build(&[m], &reads)?;
    let regions = regions_of(&space)?;
    let mut ctx = Ctx::new(&space, &[m]);
    let mut d = Decisions::new(&mut ctx, c)?;
    let valid = d.valid;
    let consent_axes = space.consent_axes();
    let outcome = |choice: &[usize], mode: Option<u32>| -> Option<Outcome> {
        let req = d_request(c, &space, choice)?;
        let mut o = Outcome::default();
        o.fill(c, &req, mode, &[]);
        Some(o)
    };
    // Every output's allowed set, per mode and overall.
    let (ns, nf) = (m.sources.len(), m.features.len());
    let mut per_mode: Vec<Vec<Node>> = Vec::with_capacity(ns + nf);
    let mut overall: Vec<Node> = Vec::with_capacity(ns + nf);
    for s in 0..ns {
        per_mode.push(d.source_in(&mut ctx, s)?);
        overall.push(d.source(&mut ctx, s)?);
    }
    for f in 0..nf {
        per_mode.push(d.feature_in(&mut ctx, f)?);
        overall.push(d.feature(&mut ctx, f)?);
    }

    // Consent monotonicity: a granted region fails on the first topic and
    // state whose lowering allows something; its witness is the lowered one.
    let mut earlier = FALSE;
    let mut witnesses = FALSE;
    for (axis, _) in &consent_axes {
        let level = ctx.level[*axis];
        let granted = ctx.mdd.literal(level, |k| k == 0)?;
        for lower in [1usize, 2] {
            let lowered_valid = ctx.mdd.restrict(valid, level, lower)?;
            let mut f = FALSE;
            for &a in &overall {
                let after = ctx.mdd.restrict(a, level, lower)?;
                if after == a {
                    continue;
                }
                let gained = ctx.mdd.diff(after, a)?;
                f = ctx.mdd.or(f, gained)?;
            }
            let f = ctx.mdd.and(f, granted)?;
            let f = ctx.mdd.and(f, valid)?;
            let f = ctx.mdd.and(f, lowered_valid)?;
            let first_here = ctx.mdd.diff(f, earlier)?;
            earlier = ctx.mdd.or(earlier, f)?;
            // The lowered regions of those counted here.
            let moved = ctx.mdd.restrict(first_here, level, 0)?;
            let at = ctx.mdd.literal(level, |k| k == lower)?;
            let moved = ctx.mdd.and(moved, at)?;
            witnesses = ctx.mdd.or(witnesses, moved)?;
        }
    }
    let consent_count = if earlier == FALSE {
        0
    } else {
        ctx.count(earlier)?
    };
    let consent = if witnesses == FALSE {
        Tally::default()
    } else {
        let w = ctx.best(witnesses)?;
        // The first topic and state that make `w` a counted witness.
        let mut found = None;
        'find: for (axis, topic) in &consent_axes {
            for (lower, state) in [(1usize, "denied"), (2, "unknown")] {
                if w[*axis] != lower {
                    continue;
                }
                let mut x = w.clone();
                x[*axis] = 0;
                if let (Some(here), Some(low)) = (outcome(&x, None), outcome(&w, None))
                    && let Some((source, i, was)) = newly_allowed(&here, &low)
                    && first_failing(&consent_axes, &x, &outcome) == Some((*axis, lower))
                {
                    found = Some((
                        with_features(space.witness(&w), m, source, i),
                        consent_why(m, topic, state, source, i, was),
                    ));
                    break 'find;
                }
            }
        }
        let (wj, why) = found.ok_or_else(|| {
            AnalysisError::Model(
                "the symbolic witness of consent monotonicity does not reproduce".into(),
            )
        })?;
        Tally {
            failing: consent_count,
            first: Some((w, wj, why)),
        }
    };

    // Fail-safe: every topic unknown and a mode granting a personal capability.
    let personal = crate::verify::personal_capabilities(m);
    let mut fs = valid;
    for (axis, _) in &consent_axes {
        let lit = ctx.mdd.literal(ctx.level[*axis], |k| k == 2)?;
        fs = ctx.mdd.and(fs, lit)?;
    }
    let mut risky = FALSE;
    for (i, mode) in m.modes.iter().enumerate() {
        if personal.iter().any(|p| mode.grants.contains(p)) {
            risky = ctx.mdd.or(risky, d.modes[i])?;
        }
    }
    let fs = ctx.mdd.and(fs, risky)?;
    let fail_safe = tally(&mut ctx, fs, |w| {
        let mode = outcome(w, None).map_or(0, |o| o.mode);
        let g = &m.modes[mode as usize].grants;
        let cap = personal
            .iter()
            .copied()
            .find(|p| g.contains(p))
            .unwrap_or(0);
        (space.witness(w), fail_safe_why(m, mode, cap))
    })?;

    // Mode monotonicity: a pair (a, b), grants(a) ⊆ grants(b), where `a`
    // allows what `b` denies.
    let pairs = crate::verify::mode_pairs(m);
    let mut mm = FALSE;
    for &(a, b) in &pairs {
        for v in &per_mode {
            let x = ctx.mdd.diff(v[a], v[b])?;
            mm = ctx.mdd.or(mm, x)?;
        }
    }
    let mm = ctx.mdd.and(mm, valid)?;
    let modes = tally(&mut ctx, mm, |w| {
        let forced: Vec<Outcome> = (0..m.modes.len())
            .filter_map(|i| outcome(w, Some(i as u32)))
            .collect();
        let hit = pairs.iter().find_map(|&(a, b)| {
            let (fa, fb) = (forced.get(a)?, forced.get(b)?);
            newly_allowed(fb, fa).map(|h| (a, b, h))
        });
        match hit {
            Some((a, b, (source, i, was))) => (
                with_features(space.witness(w), m, source, i),
                mode_why(m, a, b, source, i, was),
            ),
            None => (space.witness(w), String::new()),
        }
    })?;
    let mut properties = tallied(
        consent_axes.len(),
        pairs.len(),
        [consent, fail_safe, modes],
        regions,
    );
    properties.push(live_forbids(&mut ctx, c, valid, regions)?);
    Ok((
        VerifyReport {
            regions,
            properties,
        },
        ctx.nodes(),
    ))
}

/// The first topic (axis) and lowered state at which region `x` fails
/// consent monotonicity, as the enumeration visits them.
fn first_failing(
    consent_axes: &[(usize, String)],
    x: &[usize],
    outcome: &impl Fn(&[usize], Option<u32>) -> Option<Outcome>,
) -> Option<(usize, usize)> {
    let here = outcome(x, None)?;
    for (axis, _) in consent_axes {
        if x[*axis] != 0 {
            continue;
        }
        for lower in [1, 2] {
            let mut y = x.to_vec();
            y[*axis] = lower;
            let Some(low) = outcome(&y, None) else {
                continue;
            };
            if newly_allowed(&here, &low).is_some() {
                return Some((*axis, lower));
            }
        }
    }
    None
}

/// The engine request of a region.
fn d_request(c: &Compiled, space: &Space, choice: &[usize]) -> Option<rpol_engine::Request> {
    crate::sweep::Bound::new(space, c).request(choice)
}

/// A forbid rule is live when, in some valid region, it matches a source,
/// feature or reason that the policy without forbid rules allows: decided
/// per rule on a copy of the policy with that rule alone, like the
/// enumeration engine, but only for the outputs the rule can target.
fn live_forbids(
    ctx: &mut Ctx<'_>,
    c: &Compiled,
    valid: Node,
    regions: u64,
) -> Result<Property, AnalysisError> {
    let m = c.model();
    let build = |keep| crate::verify::forbids_only(m, keep);
    let free = build(None)?;
    let mut dfree = Decisions::new(ctx, &free)?;
    let codes = reason_codes(c);
    let mut live = vec![false; m.forbids.len()];
    for (i, rule) in m.forbids.iter().enumerate() {
        let targets_of = |count: usize| -> Vec<usize> {
            match &rule.targets {
                Some(t) => t.iter().map(|&x| x as usize).collect(),
                None => (0..count).collect(),
            }
        };
        // A rule that does not read `feature.*` fires for all its targets
        // alike: alone, it denies target `o` exactly where the policy
        // without forbid rules allows `o` and the rule fires (its `when`
        // true or unknown), so no copy of the policy is needed.
        let per_feature = rule.kind == rpol_engine::model::ForbidKind::Feature
            && rule.when.as_ref().is_some_and(Expr::reads_feature);
        if !per_feature {
            let cond = rule
                .when
                .as_ref()
                .map(rpol_engine::condition::Condition::new);
            let cone = ctx.axes_of(rule.when.iter(), m);
            let fires = dfree.tabulate(ctx, &cone, m.modes.len(), |c, req, out| {
                for mode in 0..c.model().modes.len() {
                    if cond
                        .as_ref()
                        .is_none_or(|w| w.eval(req, Some(mode as u32)) != Some(false))
                    {
                        out.push(mode);
                    }
                }
            })?;
            let (kind, count) = match rule.kind {
                rpol_engine::model::ForbidKind::Source => (0, m.sources.len()),
                rpol_engine::model::ForbidKind::Feature => (1, m.features.len()),
                rpol_engine::model::ForbidKind::Reason => (2, m.reasons.len()),
            };
            'targets: for o in targets_of(count) {
                let allowed = match kind {
                    0 => dfree.source_in(ctx, o)?,
                    1 => dfree.feature_in(ctx, o)?,
                    _ => dfree.reason_in(ctx, o, &codes[o])?,
                };
                for (mode, (&a, &f)) in allowed.iter().zip(&fires).enumerate() {
                    let x = ctx.mdd.and(a, f)?;
                    let x = ctx.mdd.and(x, dfree.modes[mode])?;
                    if ctx.mdd.and(x, valid)? != FALSE {
                        live[i] = true;
                        break 'targets;
                    }
                }
            }
            continue;
        }
        let alone = build(Some(i))?;
        let mut dalone = Decisions::new(ctx, &alone)?;
        let count = match rule.kind {
            rpol_engine::model::ForbidKind::Source => m.sources.len(),
            rpol_engine::model::ForbidKind::Feature => m.features.len(),
            rpol_engine::model::ForbidKind::Reason => m.reasons.len(),
        };
        for o in targets_of(count) {
            let (before, after) = match rule.kind {
                rpol_engine::model::ForbidKind::Source => {
                    (dfree.source(ctx, o)?, dalone.source(ctx, o)?)
                }
                rpol_engine::model::ForbidKind::Feature => {
                    (dfree.feature(ctx, o)?, dalone.feature(ctx, o)?)
                }
                rpol_engine::model::ForbidKind::Reason => {
                    let code = &codes[o];
                    let x = dfree.reason_in(ctx, o, code)?;
                    let y = dalone.reason_in(ctx, o, code)?;
                    let mut a = FALSE;
                    let mut b = FALSE;
                    for (mode, (&p, &q)) in dfree.modes.iter().zip(x.iter().zip(&y)) {
                        let p = ctx.mdd.and(*mode, p)?;
                        a = ctx.mdd.or(a, p)?;
                        let q = ctx.mdd.and(*mode, q)?;
                        b = ctx.mdd.or(b, q)?;
                    }
                    (a, b)
                }
            };
            let denied = ctx.mdd.diff(before, after)?;
            if ctx.mdd.and(denied, valid)? != FALSE {
                live[i] = true;
                break;
            }
        }
    }
    Ok(live_property(m, &live, regions))
}
