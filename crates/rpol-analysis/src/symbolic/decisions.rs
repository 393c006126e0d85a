//! A policy's decisions as diagrams, each built from its cone of influence.
//!
//! The policy's semantics stay in the engine: a decision (the mode, a source
//! or feature in a given mode, a reason) is evaluated by the engine on one
//! request per combination of the classes of the fields it reads, and only
//! those. A source whose `when` reads one consent topic is built from 3
//! requests per mode, whatever the size of the whole space. The whole-space
//! sets then come from diagram operations: "source `s` is allowed" is the
//! union over modes `m` of "the mode is `m`" and "`s` is allowed in `m`".

use std::collections::HashMap;

use rpol_engine::model::ForbidKind;
use rpol_engine::{Compiled, ReasonOutcome, Request};

use super::mdd::{FALSE, Node, TRUE};
use super::{Ctx, SymError};
use crate::literals::Field;
use crate::sweep::Bound;

/// Most requests a single decision may be evaluated on to build its diagram.
pub const MAX_CONE: u64 = 2_000_000;

/// One compiled policy's decisions over a shared store.
pub struct Decisions<'c> {
    pub c: &'c Compiled,
    pub bound: Bound<'c>,
    /// The requests valid for this policy.
    pub valid: Node,
    /// Per mode, the requests that resolve to it.
    pub modes: Vec<Node>,
    /// Per source, per mode: allowed when that mode is forced.
    source_in: HashMap<usize, Vec<Node>>,
    feature_in: HashMap<usize, Vec<Node>>,
    /// The axes `resolve` reads.
    pub mode_cone: Vec<usize>,
    /// The request the cone enumeration starts from (plain classes).
    base: Request,
}

impl<'c> Decisions<'c> {
    pub fn new(ctx: &mut Ctx<'_>, c: &'c Compiled) -> Result<Decisions<'c>, SymError> {
        let bound = Bound::new(ctx.space, c);
        let mut valid = TRUE;
        for (axis, a) in ctx.space.axes.iter().enumerate() {
            if (0..a.classes.len()).all(|k| bound.valid(axis, k)) {
                continue;
            }
            let level = ctx.level[axis];
            let lit = ctx.mdd.literal(level, |k| bound.valid(axis, k))?;
            valid = ctx.mdd.and(valid, lit)?;
        }
        let mut base = bound.base();
        for (axis, a) in ctx.space.axes.iter().enumerate() {
            bound.apply(axis, a.plain(), &mut base);
        }
        let m = c.model();
        let mode_cone = ctx.axes_of(m.resolve.iter().filter_map(|a| a.condition.as_ref()), m);
        let mut d = Decisions {
            c,
            bound,
            valid,
            modes: Vec::new(),
            source_in: HashMap::new(),
            feature_in: HashMap::new(),
            mode_cone: mode_cone.clone(),
            base,
        };
        let n = m.modes.len();
        d.modes = d.tabulate(ctx, &mode_cone, n, |c, req, out| {
            out.push(c.prepare(req).mode as usize)
        })?;
        Ok(d)
    }

    /// Per output `0..k`, the requests for which `eval` lists it, built by
    /// evaluating `eval` once per combination of the classes of `cone`.
    pub fn tabulate(
        &self,
        ctx: &mut Ctx<'_>,
        cone: &[usize],
        k: usize,
        eval: impl Fn(&Compiled, &Request, &mut Vec<usize>),
    ) -> Result<Vec<Node>, SymError> {
        let mut cone: Vec<usize> = cone.to_vec();
        cone.sort_by_key(|&a| ctx.level[a]);
        cone.dedup();
        let leaves = cone.iter().try_fold(1u64, |n, &a| {
            n.checked_mul(ctx.space.axes[a].classes.len() as u64)
        });
        if leaves.is_none_or(|n| n > MAX_CONE) {
            return Err(SymError::Cone {
                fields: cone
                    .iter()
                    .map(|&a| ctx.space.axes[a].field.display())
                    .collect(),
                leaves,
            });
        }
        let mut req = self.base.clone();
        let mut out = Vec::new();
        self.rec(ctx, &cone, k, &eval, &mut req, &mut out)
    }

    fn rec(
        &self,
        ctx: &mut Ctx<'_>,
        cone: &[usize],
        k: usize,
        eval: &impl Fn(&Compiled, &Request, &mut Vec<usize>),
        req: &mut Request,
        out: &mut Vec<usize>,
    ) -> Result<Vec<Node>, SymError> {
        let Some((&axis, rest)) = cone.split_first() else {
            out.clear();
            eval(self.c, req, out);
            let mut leaves = vec![FALSE; k];
            for &i in out.iter() {
                leaves[i] = TRUE;
            }
            return Ok(leaves);
        };
        let classes = ctx.space.axes[axis].classes.len();
        let mut kids: Vec<Vec<Node>> = vec![Vec::with_capacity(classes); k];
        for class in 0..classes {
            // An invalid class leaves the request as it was; the `valid` set
            // masks such regions out.
            self.bound.apply(axis, class, req);
            let below = self.rec(ctx, rest, k, eval, req, out)?;
            for (kid, b) in kids.iter_mut().zip(below) {
                kid.push(b);
            }
        }
        let level = ctx.level[axis];
        let mut nodes = Vec::with_capacity(k);
        for kid in &kids {
            nodes.push(ctx.mdd.make(level, kid)?);
        }
        Ok(nodes)
    }

    /// `per_mode[m]` within the requests that resolve to `m`, over all modes.
    fn by_mode(&self, ctx: &mut Ctx<'_>, per_mode: &[Node]) -> Result<Node, SymError> {
        let mut out = FALSE;
        for (&mode, &x) in self.modes.iter().zip(per_mode) {
            let both = ctx.mdd.and(mode, x)?;
            out = ctx.mdd.or(out, both)?;
        }
        Ok(out)
    }

    /// The axes of the forbid rules of `kind` that may target `id`.
    fn forbid_cone(&self, ctx: &Ctx<'_>, kind: ForbidKind, id: usize) -> Vec<usize> {
        let m = self.c.model();
        let conds = m
            .forbids
            .iter()
            .filter(|f| f.kind == kind)
            .filter(|f| f.targets.as_ref().is_none_or(|t| t.contains(&(id as u32))))
            .filter_map(|f| f.when.as_ref());
        ctx.axes_of(conds, m)
    }

    /// Per mode, where source `s` is allowed with that mode forced.
    pub fn source_in(&mut self, ctx: &mut Ctx<'_>, s: usize) -> Result<Vec<Node>, SymError> {
        if let Some(v) = self.source_in.get(&s) {
            return Ok(v.clone());
        }
        let m = self.c.model();
        let mut cone = self.forbid_cone(ctx, ForbidKind::Source, s);
        if let Some(w) = &m.sources[s].when {
            cone.extend(ctx.axes_of([w], m));
        }
        let Some(id) = self.c.source_at(s as u32) else {
            return Ok(vec![FALSE; m.modes.len()]);
        };
        let v = self.tabulate(ctx, &cone, m.modes.len(), |c, req, out| {
            for mode in 0..c.model().modes.len() {
                if c.check_source(&c.prepare_in(req, mode as u32), id)
                    .is_allowed()
                {
                    out.push(mode);
                }
            }
        })?;
        self.source_in.insert(s, v.clone());
        Ok(v)
    }

    /// Per mode, where feature `f` (registry position) is allowed with that mode forced.
    pub fn feature_in(&mut self, ctx: &mut Ctx<'_>, f: usize) -> Result<Vec<Node>, SymError> {
        if let Some(v) = self.feature_in.get(&f) {
            return Ok(v.clone());
        }
        let m = self.c.model();
        let cone = self.feature_cone(ctx, f);
        let Some(id) = self.c.feature_at(f as u32) else {
            return Ok(vec![FALSE; m.modes.len()]);
        };
        let v = self.tabulate(ctx, &cone, m.modes.len(), |c, req, out| {
            for mode in 0..c.model().modes.len() {
                if c.check_feature(&c.prepare_in(req, mode as u32), id)
                    .is_allowed()
                {
                    out.push(mode);
                }
            }
        })?;
        self.feature_in.insert(f, v.clone());
        Ok(v)
    }

    fn feature_cone(&self, ctx: &Ctx<'_>, f: usize) -> Vec<usize> {
        let m = self.c.model();
        let mut cone = self.forbid_cone(ctx, ForbidKind::Feature, f);
        cone.extend(ctx.axis(&Field::Purpose));
        if let Some(t) = m.features[f]
            .requires_consent
            .and_then(|t| m.consent_topics.get(t as usize))
        {
            cone.extend(ctx.axis(&Field::Consent(t.clone())));
        }
        cone
    }

    /// Per mode, where reason `r` is shown for `code` with that mode forced.
    pub fn reason_in(
        &self,
        ctx: &mut Ctx<'_>,
        r: usize,
        code: &str,
    ) -> Result<Vec<Node>, SymError> {
        let m = self.c.model();
        let mut cone = self.forbid_cone(ctx, ForbidKind::Reason, r);
        cone.extend(ctx.axis(&Field::Purpose));
        for &f in &m.reasons[r].from {
            cone.extend(self.feature_cone(ctx, f as usize));
        }
        self.tabulate(ctx, &cone, m.modes.len(), |c, req, out| {
            for mode in 0..c.model().modes.len() {
                let p = c.prepare_in(req, mode as u32);
                if matches!(c.explain(&p, code), ReasonOutcome::Shown(_)) {
                    out.push(mode);
                }
            }
        })
    }

    /// Where source `s` is allowed.
    pub fn source(&mut self, ctx: &mut Ctx<'_>, s: usize) -> Result<Node, SymError> {
        let v = self.source_in(ctx, s)?;
        self.by_mode(ctx, &v)
    }

    /// Where feature `f` is allowed.
    pub fn feature(&mut self, ctx: &mut Ctx<'_>, f: usize) -> Result<Node, SymError> {
        let v = self.feature_in(ctx, f)?;
        self.by_mode(ctx, &v)
    }

    /// Per feature set (then `None` last), the requests routed to it.
    pub fn routes(&self, ctx: &mut Ctx<'_>) -> Result<Vec<Node>, SymError> {
        let m = self.c.model();
        let n = m.feature_sets.len() + 1;
        let cone: Vec<usize> = ctx.axis(&Field::Surface).into_iter().collect();
        let mut out = vec![FALSE; n];
        for mode in 0..m.modes.len() {
            let per = self.tabulate(ctx, &cone, n, |c, req, o| {
                o.push(
                    c.route(req.surface, mode as u32)
                        .map_or(n - 1, |r| r as usize),
                )
            })?;
            for (o, p) in out.iter_mut().zip(per) {
                let x = ctx.mdd.and(self.modes[mode], p)?;
                *o = ctx.mdd.or(*o, x)?;
            }
        }
        Ok(out)
    }
}
