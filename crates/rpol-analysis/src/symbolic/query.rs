//! `rpol verify --query` on diagrams: the query compiled to the set of
//! regions where it is true, intersected with the valid ones.
//!
//! A query is three-valued like a condition (a missing optional field makes
//! a comparison unknown), so each part is compiled to two sets, where it is
//! true and where it is false; unknown is neither. `not` swaps them, `and`
//! and `or` combine them as Kleene's logic does, which is what the engine's
//! `all` and `any` compute.

use rpol_engine::Compiled;
use rpol_engine::condition::Condition;

use super::decisions::Decisions;
use super::mdd::{FALSE, Node, TRUE};
use super::{Ctx, SymError, regions_of};
use crate::error::AnalysisError;
use crate::literals;
use crate::query::{self, Query};
use crate::regions::Space;
use crate::verify::QueryReport;

/// Where a query is true and where it is false.
#[derive(Clone, Copy)]
struct Truth {
    yes: Node,
    no: Node,
}

/// [`crate::verify::query`] on diagrams: the same count and witness.
pub fn query(c: &Compiled, q: &query::CheckedQuery) -> Result<QueryReport, AnalysisError> {
    query_with_stats(c, q).map(|(r, _)| r)
}

/// [`query()`] and the number of diagram nodes it built.
pub fn query_with_stats(
    c: &Compiled,
    q: &query::CheckedQuery,
) -> Result<(QueryReport, usize), AnalysisError> {
    let m = c.model();
    let extra = q.conds(m);
    let reads = literals::collect(&[m], &extra)?;
    let space = Space::build(&[m], &reads)?;
    let regions = regions_of(&space)?;
    let mut ctx = Ctx::new(&space, &[m]);
    let mut d = Decisions::new(&mut ctx, c)?;
    let t = truth(&mut ctx, &mut d, &q.query, &q.conditions)?;
    let sat = ctx.mdd.and(t.yes, d.valid)?;
    let (satisfying, witness) = if sat == FALSE {
        (0, None)
    } else {
        let names: Vec<&str> = q
            .features
            .iter()
            .map(|&f| m.features[f as usize].name.as_str())
            .collect();
        let best = ctx.best(sat)?;
        (
            ctx.count(sat)?,
            Some(Space::naming_features(space.witness(&best), &names)),
        )
    };
    Ok((
        QueryReport {
            regions,
            satisfying,
            witness,
        },
        ctx.nodes(),
    ))
}

/// The truth sets of `q`; `conds` are the typed expressions of its plain
/// conditions, so that each is sliced on the fields it reads.
fn truth(
    ctx: &mut Ctx<'_>,
    d: &mut Decisions<'_>,
    q: &Query,
    conds: &[rpol_engine::model::Expr],
) -> Result<Truth, AnalysisError> {
    Ok(match q {
        Query::Cond(cond, i) => {
            let m = d.c.model();
            let cone = match conds.get(*i) {
                Some(e) => ctx.axes_of([e], m),
                // Not so for a query from `query::check`; every axis is
                // then the cone, which is exact but slower.
                None => (0..ctx.space.axes.len()).collect(),
            };
            condition(ctx, d, cond, &cone)?
        }
        Query::Feature(f) => {
            let yes = d.feature(ctx, *f as usize)?;
            Truth {
                yes,
                no: ctx.mdd.not(yes)?,
            }
        }
        Query::Source(s) => {
            let yes = d.source(ctx, *s as usize)?;
            Truth {
                yes,
                no: ctx.mdd.not(yes)?,
            }
        }
        Query::Not(x) => {
            let t = truth(ctx, d, x, conds)?;
            Truth {
                yes: t.no,
                no: t.yes,
            }
        }
        Query::And(xs) | Query::Or(xs) => {
            let and = matches!(q, Query::And(_));
            // `and`: true when all are, false when one is; `or` the dual.
            let (mut all, mut one) = (TRUE, FALSE);
            for x in xs {
                let t = truth(ctx, d, x, conds)?;
                let (a, o) = if and { (t.yes, t.no) } else { (t.no, t.yes) };
                all = ctx.mdd.and(all, a)?;
                one = ctx.mdd.or(one, o)?;
            }
            if and {
                Truth { yes: all, no: one }
            } else {
                Truth { yes: one, no: all }
            }
        }
    })
}

/// A plain condition, which may read `mode`: evaluated by the engine per
/// mode on the classes of the fields it reads, then joined with where each
/// mode is resolved.
fn condition(
    ctx: &mut Ctx<'_>,
    d: &mut Decisions<'_>,
    cond: &Condition,
    cone: &[usize],
) -> Result<Truth, SymError> {
    let modes = d.c.model().modes.len();
    // Outputs 2m and 2m + 1: true, false with mode `m`.
    let per = d.tabulate(ctx, cone, 2 * modes, |_, req, out| {
        for mode in 0..modes {
            match cond.eval(req, Some(mode as u32)) {
                Some(true) => out.push(2 * mode),
                Some(false) => out.push(2 * mode + 1),
                None => {}
            }
        }
    })?;
    let (mut yes, mut no) = (FALSE, FALSE);
    for (mode, pair) in per.chunks(2).enumerate() {
        let at = d.modes[mode];
        let y = ctx.mdd.and(at, pair[0])?;
        yes = ctx.mdd.or(yes, y)?;
        let n = ctx.mdd.and(at, pair[1])?;
        no = ctx.mdd.or(no, n)?;
    }
    Ok(Truth { yes, no })
}
