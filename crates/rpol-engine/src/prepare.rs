//! Preparing a request without evaluating conditions: every `resolve` arm
//! and forbid condition (or partially evaluated residual) that reads a single
//! request field is tabulated when the policy is compiled, over the values
//! that field can take as far as the condition can tell apart: absent, each
//! string literal the conditions compare it with (or each declared symbol),
//! and "any other value". A request then costs one lookup per field (its
//! value mapped to a row once) and an OR of that row's bit sets, whatever
//! the number of rules: `tenant in ["t1", "t2"]` in five rules is one map
//! lookup, not fifteen string comparisons.
//!
//! The rows are computed by evaluating the very same condition on a request
//! that holds each value, so the three-valued result (an absent field is
//! unknown, and unknown forbids) is exactly that of evaluating it per
//! request. Conditions over several fields, roles, `starts_with` or
//! ordered numbers are evaluated per request as before; a hand-built request
//! whose value does not have its field's declared type is prepared by
//! evaluating everything ([`Compiled::prepare_evaluated`]).

use crate::compile::{Compiled, NO_INSTANCE};
use crate::decide::Prepared;
use crate::eval::{CExpr, Env, Lit, Op, Tri};
use crate::model::{CONSENT_GRANTED, CONSENT_UNKNOWN, ContextType, Path, PolicyModel};
use crate::names::NameMap;
use crate::request::{CtxVal, Request};

/// A field's domain larger than this is not tabulated (its conditions are
/// evaluated per request), so that compiling stays linear in the policy.
const MAX_ROWS: usize = 4096;

/// Row 0 of every table: the field is absent.
const ABSENT: usize = 0;
/// Row 1: a value no tabulated condition names.
const OTHER: usize = 1;

/// A request field a condition can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Tenant,
    UserId,
    AnonymousId,
    ConsentVersion,
    Surface,
    Purpose,
    Consent(u32),
    Context(u32),
    Mode,
}

/// How a slot's values map to rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Strings: rows 2.. are the literals conditions compare it with.
    Str,
    /// Symbols `0..n`: row `2 + v`.
    Sym(u32),
    /// Booleans: row 2 false, row 3 true.
    Bool,
}

/// What a tabulated row says: which entries and rules fire, which arms are true.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Row {
    entries: u64,
    rules: u64,
    arms: u64,
}

impl Row {
    #[inline(always)]
    fn or(&mut self, r: &Row) {
        self.entries |= r.entries;
        self.rules |= r.rules;
        self.arms |= r.arms;
    }
}

#[derive(Debug)]
struct Table {
    slot: Slot,
    kind: Kind,
    /// String literals (row `2 + i`): a short list is scanned, a long one hashed.
    literals: Vec<Box<str>>,
    lookup: Option<NameMap>,
    rows: Vec<Row>,
}

/// A forbid condition that could not be tabulated, by position.
#[derive(Debug)]
struct Evaluated {
    bit: u32,
    when: CExpr,
}

/// The compiled plan of [`Compiled::prepare`].
#[derive(Debug, Default)]
pub(crate) struct PreparePlan {
    /// Bits set whatever the request (no condition, or a constant one).
    always: Row,
    /// Tables of every field but the mode, then (last, if any) the mode's.
    tables: Vec<Table>,
    mode_table: Option<Table>,
    /// Arms 0..64 that are tabulated (the others are evaluated in order).
    tabulated_arms: u64,
    all_arms_tabulated: bool,
    entries_eval: Vec<Evaluated>,
    rules_eval: Vec<Evaluated>,
}

/// Which of the three targets a condition belongs to.
#[derive(Clone, Copy)]
enum Target {
    Entry,
    Rule,
    Arm,
}

/// The slot a path reads, with its kind; `Err(())` for a field that is not
/// tabulated (ordered numbers, undeclared ids). Feature paths read nothing
/// outside a feature (they are absent here, as when evaluated in `prepare`).
fn slot_of(p: Path, m: &PolicyModel) -> Result<Option<(Slot, Kind)>, ()> {
    let n = |len: usize| u32::try_from(len).map_err(|_| ());
    Ok(Some(match p {
        Path::Tenant => (Slot::Tenant, Kind::Str),
        Path::UserId => (Slot::UserId, Kind::Str),
        Path::AnonymousId => (Slot::AnonymousId, Kind::Str),
        Path::ConsentVersion => (Slot::ConsentVersion, Kind::Str),
        Path::Surface => (Slot::Surface, Kind::Sym(n(m.surfaces.len())?)),
        Path::Purpose => (Slot::Purpose, Kind::Sym(n(m.purposes.len())?)),
        Path::Consent(t) => (Slot::Consent(t), Kind::Sym(3)),
        Path::Mode => (Slot::Mode, Kind::Sym(n(m.modes.len())?)),
        Path::Context(f) => {
            let kind = match m.context.get(f as usize).map(|c| &c.ty) {
                Some(ContextType::String) => Kind::Str,
                Some(ContextType::Bool) => Kind::Bool,
                Some(ContextType::Enum(vs)) => Kind::Sym(n(vs.len())?),
                _ => return Err(()),
            };
            (Slot::Context(f), kind)
        }
        _ => return Ok(None),
    }))
}

/// The one slot `e` reads (`None`: it reads none), or `Err(())` when it
/// cannot be tabulated: two slots, roles, `starts_with` over a request
/// string, a symbol literal outside the slot's domain.
fn single_slot(e: &CExpr, m: &PolicyModel) -> Result<Option<(Slot, Kind)>, ()> {
    let mut found: Option<(Slot, Kind)> = None;
    let mut max_sym: Option<u32> = None;
    let mut starts_with = false;
    let mut add = |o: &Op, found: &mut Option<(Slot, Kind)>| -> Result<(), ()> {
        match o {
            Op::Path(p) => {
                if let Some(s) = slot_of(*p, m)? {
                    match found {
                        Some(f) if *f != s => return Err(()),
                        _ => *found = Some(s),
                    }
                }
            }
            Op::Lit(Lit::Sym(v)) => max_sym = max_sym.max(Some(*v)),
            Op::Lit(_) => {}
        }
        Ok(())
    };
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match e {
            CExpr::Const(_) => {}
            CExpr::Not(x) => stack.push(x),
            CExpr::And(xs) | CExpr::Or(xs) => stack.extend(xs.iter()),
            CExpr::Cmp { lhs, rhs, .. } => {
                add(lhs, &mut found)?;
                add(rhs, &mut found)?;
            }
            CExpr::In { lhs, items, .. } => {
                add(lhs, &mut found)?;
                for i in items.iter() {
                    add(i, &mut found)?;
                }
            }
            CExpr::HasRole { .. } => return Err(()),
            CExpr::Exists(p) | CExpr::Truthy(p) => add(&Op::Path(*p), &mut found)?,
            CExpr::StartsWith(a, b) => {
                starts_with = true;
                add(a, &mut found)?;
                add(b, &mut found)?;
            }
        }
    }
    match found {
        // Only equality tells strings apart; a prefix test sees more.
        Some((_, Kind::Str)) if starts_with => Err(()),
        // Every value past the domain must read as one "other" value.
        Some((_, Kind::Sym(n))) if max_sym.is_some_and(|v| v >= n) => Err(()),
        _ => Ok(found),
    }
}

/// The string literals of `e` (those a string slot is compared with).
fn string_literals<'a>(e: &'a CExpr, out: &mut Vec<&'a str>) {
    let mut add = |o: &'a Op| {
        if let Op::Lit(Lit::Str(s)) = o {
            out.push(s);
        }
    };
    match e {
        CExpr::Const(_) | CExpr::HasRole { .. } | CExpr::Exists(_) | CExpr::Truthy(_) => {}
        CExpr::Not(x) => string_literals(x, out),
        CExpr::And(xs) | CExpr::Or(xs) => xs.iter().for_each(|x| string_literals(x, out)),
        CExpr::Cmp { lhs, rhs, .. } => {
            add(lhs);
            add(rhs);
        }
        CExpr::In { lhs, items, .. } => {
            add(lhs);
            items.iter().for_each(add);
        }
        CExpr::StartsWith(a, b) => {
            add(a);
            add(b);
        }
    }
}

/// A request whose slot holds the value of `row` (everything else blank),
/// and the mode to evaluate with.
fn request_for(
    c: &Compiled,
    slot: Slot,
    kind: Kind,
    row: usize,
    literals: &[Box<str>],
    other: &str,
) -> (Request, Option<u32>) {
    let mut req = c.blank_request();
    let string = match row {
        ABSENT => None,
        OTHER => Some(other.to_string()),
        r => literals.get(r - 2).map(|s| s.to_string()),
    };
    // A value outside every domain ("other" for symbols).
    let sym = match row {
        ABSENT => None,
        OTHER => Some(u32::MAX),
        r => Some(r as u32 - 2),
    };
    let mut mode = None;
    match (slot, kind) {
        (Slot::Tenant, _) => req.tenant = string,
        (Slot::UserId, _) => req.user_id = string,
        (Slot::AnonymousId, _) => req.anonymous_id = string,
        (Slot::ConsentVersion, _) => req.consent_version = string,
        (Slot::Surface, _) => req.surface = sym,
        (Slot::Purpose, _) => req.purpose = sym,
        (Slot::Mode, _) => mode = sym,
        (Slot::Consent(t), _) => {
            if let Some(b) = req.consent.get_mut(t as usize) {
                *b = sym.map_or(u8::MAX, |v| u8::try_from(v).unwrap_or(u8::MAX));
            }
        }
        (Slot::Context(f), kind) => {
            let v = match kind {
                Kind::Str => string.map(CtxVal::Str),
                Kind::Sym(_) => sym.map(CtxVal::Enum),
                Kind::Bool => match row {
                    ABSENT => None,
                    r => Some(CtxVal::Bool(r == 3)),
                },
            };
            if let Some(slot) = req.context.get_mut(f as usize) {
                *slot = v;
            }
        }
    }
    (req, mode)
}

impl Table {
    /// The row of this request's value; `None` when the value does not have
    /// the field's declared type (a hand-built request): evaluate instead.
    #[inline]
    fn row(&self, req: &Request, mode: u32) -> Option<usize> {
        let sym = |v: Option<u32>, n: u32| match v {
            None => ABSENT,
            Some(v) if v < n => 2 + v as usize,
            Some(_) => OTHER,
        };
        Some(match (self.slot, self.kind) {
            (Slot::Tenant, _) => self.string_row(req.tenant.as_deref()),
            (Slot::UserId, _) => self.string_row(req.user_id.as_deref()),
            (Slot::AnonymousId, _) => self.string_row(req.anonymous_id.as_deref()),
            (Slot::ConsentVersion, _) => self.string_row(req.consent_version.as_deref()),
            (Slot::Surface, Kind::Sym(n)) => sym(req.surface, n),
            (Slot::Purpose, Kind::Sym(n)) => sym(req.purpose, n),
            (Slot::Mode, Kind::Sym(n)) => sym(Some(mode), n),
            (Slot::Consent(t), Kind::Sym(n)) => {
                let v = req
                    .consent
                    .get(t as usize)
                    .copied()
                    .unwrap_or(CONSENT_UNKNOWN as u8);
                sym(Some(u32::from(v)), n)
            }
            (Slot::Context(f), kind) => match (kind, req.context.get(f as usize)) {
                (_, None | Some(None)) => ABSENT,
                (Kind::Str, Some(Some(CtxVal::Str(s)))) => self.string_row(Some(s)),
                (Kind::Sym(n), Some(Some(CtxVal::Enum(v)))) => sym(Some(*v), n),
                (Kind::Bool, Some(Some(CtxVal::Bool(b)))) => 2 + usize::from(*b),
                _ => return None,
            },
            _ => return None,
        })
    }

    #[inline]
    fn string_row(&self, s: Option<&str>) -> usize {
        let Some(s) = s else { return ABSENT };
        match &self.lookup {
            Some(map) => map.get(s).map_or(OTHER, |&i| 2 + i as usize),
            None => self
                .literals
                .iter()
                .position(|l| l.len() == s.len() && **l == *s)
                .map_or(OTHER, |i| 2 + i),
        }
    }
}

/// A condition to place in the plan.
struct Cond<'a> {
    target: Target,
    bit: u32,
    when: &'a CExpr,
}

impl PreparePlan {
    pub(crate) fn build(c: &Compiled) -> PreparePlan {
        let m = &c.model;
        let mut plan = PreparePlan::default();
        let mut conds: Vec<Cond<'_>> = Vec::new();
        for (i, arm) in c.arms.iter().enumerate().take(64) {
            conds.push(Cond {
                target: Target::Arm,
                bit: i as u32,
                when: arm,
            });
        }
        for (i, (w, &other)) in c.forbid_when.iter().zip(&c.forbid_other).enumerate() {
            if i >= 64 || !other {
                continue;
            }
            match w {
                None => plan.always.rules |= 1 << i,
                Some(w) => conds.push(Cond {
                    target: Target::Rule,
                    bit: i as u32,
                    when: w,
                }),
            }
        }
        for (i, e) in c.entries.iter().enumerate().take(64) {
            match &e.when {
                None => plan.always.entries |= 1 << i,
                Some(w) => conds.push(Cond {
                    target: Target::Entry,
                    bit: i as u32,
                    when: w,
                }),
            }
        }
        // Group the tabulable conditions by slot.
        let mut groups: Vec<(Slot, Kind, Vec<&Cond<'_>>)> = Vec::new();
        let blank = c.blank_request();
        for cond in &conds {
            let slot = match single_slot(cond.when, m) {
                // The mode is not known while the arms are being resolved.
                Ok(Some((Slot::Mode, _))) if matches!(cond.target, Target::Arm) => Err(()),
                other => other,
            };
            match slot {
                Ok(None) => {
                    // Reads no request field: a constant.
                    let env = Env {
                        req: &blank,
                        mode: None,
                        feature: None,
                    };
                    plan.set(&mut Row::default(), cond, cond.when.eval(&env), true);
                }
                Ok(Some((slot, kind))) => match groups.iter_mut().find(|g| g.0 == slot) {
                    Some(g) => g.2.push(cond),
                    None => groups.push((slot, kind, vec![cond])),
                },
                Err(()) => plan.evaluate(cond),
            }
        }
        for (slot, kind, group) in groups {
            let mut literals: Vec<&str> = Vec::new();
            if kind == Kind::Str {
                group
                    .iter()
                    .for_each(|g| string_literals(g.when, &mut literals));
                literals.sort_unstable();
                literals.dedup();
            }
            let rows = match kind {
                Kind::Str => 2 + literals.len(),
                Kind::Sym(n) => 2 + n as usize,
                Kind::Bool => 4,
            };
            if rows > MAX_ROWS {
                group.into_iter().for_each(|g| plan.evaluate(g));
                continue;
            }
            // A string no condition names (any such reads the same).
            let mut other = String::from("\u{1}");
            while literals.contains(&other.as_str()) {
                other.push('\u{1}');
            }
            let literals: Vec<Box<str>> = literals.into_iter().map(Box::from).collect();
            let mut table_rows = vec![Row::default(); rows];
            for (r, row) in table_rows.iter_mut().enumerate() {
                let (req, mode) = request_for(c, slot, kind, r, &literals, &other);
                for g in &group {
                    let env = Env {
                        req: &req,
                        mode: if matches!(g.target, Target::Arm) {
                            None
                        } else {
                            mode
                        },
                        feature: None,
                    };
                    plan.set(row, g, g.when.eval(&env), false);
                }
            }
            let lookup = (literals.len() > 8).then(|| {
                let mut map = NameMap::default();
                for (i, l) in literals.iter().enumerate() {
                    map.insert(l.to_string(), i as u32);
                }
                map
            });
            let table = Table {
                slot,
                kind,
                literals,
                lookup,
                rows: table_rows,
            };
            for g in &group {
                if matches!(g.target, Target::Arm) {
                    plan.tabulated_arms |= 1 << g.bit;
                }
            }
            if slot == Slot::Mode {
                plan.mode_table = Some(table);
            } else {
                plan.tables.push(table);
            }
        }
        plan.all_arms_tabulated =
            c.arms.len() <= 64 && (0..c.arms.len()).all(|i| plan.tabulated_arms >> i & 1 == 1);
        plan
    }

    /// Records `t` for `cond` in `row` (or in `always` when `constant`):
    /// an arm when true, a forbid when true or unknown.
    fn set(&mut self, row: &mut Row, cond: &Cond<'_>, t: Tri, constant: bool) {
        let row = if constant { &mut self.always } else { row };
        let bit = 1u64 << cond.bit;
        match cond.target {
            Target::Arm => {
                if t == Tri::T {
                    row.arms |= bit;
                }
                if constant {
                    self.tabulated_arms |= bit;
                }
            }
            Target::Rule if t != Tri::F => row.rules |= bit,
            Target::Entry if t != Tri::F => row.entries |= bit,
            _ => {}
        }
    }

    fn evaluate(&mut self, cond: &Cond<'_>) {
        let e = Evaluated {
            bit: cond.bit,
            when: cond.when.clone(),
        };
        match cond.target {
            // Arms that are not tabulated are evaluated from `Compiled::arms`.
            Target::Arm => {}
            Target::Rule => self.rules_eval.push(e),
            Target::Entry => self.entries_eval.push(e),
        }
    }
}

impl Compiled {
    /// Prepares `req` in `mode` (resolved here when `None`) from the plan.
    pub(crate) fn prepare_planned<'r>(&self, req: &'r Request, mode: Option<u32>) -> Prepared<'r> {
        let plan = &self.plan;
        let mut acc = plan.always;
        for t in &plan.tables {
            match t.row(req, 0).and_then(|r| t.rows.get(r)) {
                Some(row) => acc.or(row),
                None => return self.prepare_evaluated(req, mode),
            }
        }
        let (mode, arm) = match mode {
            Some(m) => (m, None),
            None => self.resolve_planned(req, acc.arms),
        };
        if let Some(t) = &plan.mode_table
            && let Some(row) = t.row(req, mode).and_then(|r| t.rows.get(r))
        {
            acc.or(row);
        }
        let env = Env {
            req,
            mode: Some(mode),
            feature: None,
        };
        for e in &plan.entries_eval {
            if e.when.eval(&env) != Tri::F {
                acc.entries |= 1 << e.bit;
            }
        }
        for e in &plan.rules_eval {
            if e.when.eval(&env) != Tri::F {
                acc.rules |= 1 << e.bit;
            }
        }
        self.prepared(req, mode, arm, acc.rules, acc.entries)
    }

    /// The first arm true for `req`: tabulated ones from `arms`, the others
    /// (and every arm from 64 on) evaluated.
    fn resolve_planned(&self, req: &Request, arms: u64) -> (u32, Option<u32>) {
        let plan = &self.plan;
        // Every arm tabulated: the first true one is the lowest bit.
        if self.arms.len() <= 64 && plan.all_arms_tabulated {
            return match self.model.resolve.get(arms.trailing_zeros() as usize) {
                Some(a) => (a.mode, Some(arms.trailing_zeros())),
                None => (self.model.fallback.mode, None),
            };
        }
        let env = Env {
            req,
            mode: None,
            feature: None,
        };
        for (i, c) in self.arms.iter().enumerate() {
            let true_here = if i < 64 && plan.tabulated_arms >> i & 1 == 1 {
                arms >> i & 1 == 1
            } else {
                c.eval(&env) == Tri::T
            };
            if true_here {
                let mode = self.model.resolve.get(i).map_or(0, |a| a.mode);
                return (mode, Some(i as u32));
            }
        }
        (self.model.fallback.mode, None)
    }

    /// Prepares `req` by evaluating every condition (the reference the plan
    /// is held equal to, and the path of a request whose values do not have
    /// their declared types).
    #[doc(hidden)]
    pub fn prepare_evaluated<'r>(&self, req: &'r Request, mode: Option<u32>) -> Prepared<'r> {
        if req.vocabulary != self.tags.vocabulary {
            return self.foreign(req);
        }
        let (mode, arm) = match mode {
            Some(m) => (m, None),
            None => self.resolve(req),
        };
        let env = Env {
            req,
            mode: Some(mode),
            feature: None,
        };
        let fires = |w: &Option<CExpr>| w.as_ref().is_none_or(|w| w.eval(&env) != Tri::F);
        let mut fired_mask = 0u64;
        for (i, (w, &other)) in self.forbid_when.iter().zip(&self.forbid_other).enumerate() {
            if i < 64 && other && fires(w) {
                fired_mask |= 1 << i;
            }
        }
        let mut entries_fired = 0u64;
        for (i, e) in self.entries.iter().take(64).enumerate() {
            if fires(&e.when) {
                entries_fired |= 1 << i;
            }
        }
        self.prepared(req, mode, arm, fired_mask, entries_fired)
    }

    /// The prepared request from its fired rules and entries below 64
    /// (those from 64 on are evaluated here; most policies have none).
    fn prepared<'r>(
        &self,
        req: &'r Request,
        mode: u32,
        arm: Option<u32>,
        fired_mask: u64,
        entries_fired: u64,
    ) -> Prepared<'r> {
        let env = Env {
            req,
            mode: Some(mode),
            feature: None,
        };
        let fires = |w: &Option<CExpr>| w.as_ref().is_none_or(|w| w.eval(&env) != Tri::F);
        // Most policies have fewer than 64 of each: no iterator to run.
        let fired_more: Vec<bool> = if self.forbid_when.len() > 64 {
            let rules = self.forbid_when.iter().zip(&self.forbid_other);
            rules.skip(64).map(|(w, &o)| o && fires(w)).collect()
        } else {
            Vec::new()
        };
        let entries_more: Vec<bool> = if self.entries.len() > 64 {
            self.entries
                .iter()
                .skip(64)
                .map(|e| fires(&e.when))
                .collect()
        } else {
            Vec::new()
        };
        let mut granted_mask = 0u64;
        for (i, &c) in req.consent.iter().take(64).enumerate() {
            granted_mask |= u64::from(c == CONSENT_GRANTED as u8) << i;
        }
        let (np, nm) = (self.model.purposes.len(), self.model.modes.len());
        let pm = match req.purpose {
            Some(p) if (p as usize) < np && (mode as usize) < nm => {
                Some(p as usize * nm + mode as usize)
            }
            _ => None,
        };
        Prepared {
            req,
            policy: if req.vocabulary == self.tags.vocabulary {
                self.tags.instance
            } else {
                NO_INSTANCE
            },
            pm,
            mode,
            arm,
            grants: self.mode_grants.get(mode as usize).copied().unwrap_or(0),
            fired_more,
            fired_mask,
            entries_fired,
            entries_more,
            granted_mask,
        }
    }
}
