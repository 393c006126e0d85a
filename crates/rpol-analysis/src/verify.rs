//! `rpol verify`: properties proved or refuted over every region, each
//! refutation with a witness request.

use rpol_engine::model::PolicyModel;
use rpol_engine::{Compiled, ReasonOutcome, Verdict};
use serde_json::{Value, json};

use crate::error::AnalysisError;
use crate::literals::{self, Cond};
use crate::query;
use crate::regions::Space;
use crate::sweep::{Bound, Outcome, reason_codes, sweep_par};

/// One property and its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// Stable id: `consent_monotonicity`, `fail_safe`, `mode_monotonicity`, `live_forbids`.
    pub name: &'static str,
    pub holds: bool,
    /// What was proved, or the first counterexample in words.
    pub summary: String,
    /// Regions where it fails.
    pub failing: u64,
    /// A request of the first failing region.
    pub witness: Option<Value>,
    /// Refuted but accepted by the policy, e.g. `fail_safe` under a
    /// `# rpol: allow(L003)` comment on `resolve`: why.
    pub accepted: Option<String>,
    /// `live_forbids` only: the indexes of the forbid rules that deny
    /// nothing (empty for the other properties).
    pub dead_forbids: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub regions: u64,
    pub properties: Vec<Property>,
}

impl VerifyReport {
    /// Whether every property holds or is accepted.
    pub fn holds(&self) -> bool {
        self.properties
            .iter()
            .all(|p| p.holds || p.accepted.is_some())
    }

    /// Marks a refuted property as accepted by the policy.
    pub fn accept(&mut self, name: &str, why: &str) {
        for p in &mut self.properties {
            if p.name == name && !p.holds {
                p.accepted = Some(why.to_string());
            }
        }
    }

    /// Accepts the dead forbid rules listed in `allowed` (each under a
    /// `# rpol: allow(live_forbids)` comment). `live_forbids` is accepted when
    /// every dead rule is; otherwise it stays refuted, naming only the others.
    pub fn accept_dead_forbids(&mut self, m: &PolicyModel, allowed: &[usize]) {
        let regions = self.regions;
        let Some(p) = self
            .properties
            .iter_mut()
            .find(|p| p.name == "live_forbids" && !p.holds)
        else {
            return;
        };
        let (ok, rest): (Vec<usize>, Vec<usize>) =
            p.dead_forbids.iter().partition(|i| allowed.contains(i));
        if ok.is_empty() {
            return;
        }
        let rules = |v: &[usize]| {
            v.iter()
                .map(|&i| format!("the forbid rule at {}", m.forbids[i].rule))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if rest.is_empty() {
            p.accepted = Some(format!(
                "{} {} nothing on purpose: `# rpol: allow(live_forbids)` is above {}",
                rules(&ok),
                if ok.len() == 1 { "denies" } else { "deny" },
                if ok.len() == 1 { "it" } else { "each" }
            ));
        } else {
            p.summary = format!(
                "{} denies nothing in any of the {regions} regions ({} more accepted by `# rpol: allow(live_forbids)`)",
                rules(&rest),
                ok.len()
            );
            p.failing = rest.len() as u64;
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "holds": self.holds(),
            "regions": self.regions,
            "properties": self.properties.iter().map(|p| json!({
                "name": p.name,
                "holds": p.holds,
                "summary": p.summary,
                "failing_regions": p.failing,
                "witness": p.witness,
                "accepted": p.accepted,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryReport {
    pub regions: u64,
    /// Regions where the query is `true`.
    pub satisfying: u64,
    pub witness: Option<Value>,
}

impl QueryReport {
    pub fn to_json(&self, text: &str) -> Value {
        json!({
            "query": text,
            "satisfiable": self.satisfying > 0,
            "regions": self.regions,
            "satisfying_regions": self.satisfying,
            "witness": self.witness,
        })
    }
}

/// How many regions fail, and the best witness among them ([`Space::better`]).
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) failing: u64,
    pub(crate) first: Option<(Vec<usize>, Value, String)>,
}

impl Tally {
    fn fail(&mut self, space: &Space, region: &[usize], witness: impl FnOnce() -> (Value, String)) {
        self.failing += 1;
        if self
            .first
            .as_ref()
            .is_none_or(|(r, _, _)| space.better(region, r))
        {
            let (w, why) = witness();
            self.first = Some((region.to_vec(), w, why));
        }
    }

    fn merge(mut self, other: Tally, space: &Space) -> Tally {
        self.failing += other.failing;
        if let Some((r, w, why)) = other.first
            && self
                .first
                .as_ref()
                .is_none_or(|(mine, _, _)| space.better(&r, mine))
        {
            self.first = Some((r, w, why));
        }
        self
    }

    pub(crate) fn into_property(
        self,
        name: &'static str,
        proved: String,
        regions: u64,
    ) -> Property {
        match self.first {
            None => Property {
                name,
                holds: true,
                summary: proved,
                failing: 0,
                witness: None,
                accepted: None,
                dead_forbids: Vec::new(),
            },
            Some((_, w, why)) => Property {
                name,
                holds: false,
                summary: format!(
                    "{why} ({} of {regions} region{} fail)",
                    self.failing,
                    if regions == 1 { "" } else { "s" }
                ),
                failing: self.failing,
                witness: Some(w),
                accepted: None,
                dead_forbids: Vec::new(),
            },
        }
    }
}

fn space_of(c: &Compiled, extra: &[Cond<'_>], max: u64) -> Result<(Space, u64), AnalysisError> {
    let m = c.model();
    let reads = literals::collect(&[m], extra)?;
    let space = Space::build(&[m], &reads)?;
    let n = space.check_bound(max)?;
    Ok((space, n))
}

/// The name of what a verdict index means, for messages.
pub(crate) fn what(m: &PolicyModel, source: bool, i: usize) -> String {
    if source {
        format!("source `{}`", m.sources[i].name)
    } else {
        format!("feature `{}`", m.features[i].name)
    }
}

/// The first source or feature allowed in `b` but denied in `a`.
pub(crate) fn newly_allowed(a: &Outcome, b: &Outcome) -> Option<(bool, usize, Verdict)> {
    let find = |x: &[Verdict], y: &[Verdict]| {
        x.iter()
            .zip(y)
            .position(|(p, q)| !p.is_allowed() && q.is_allowed())
    };
    if let Some(i) = find(&a.sources, &b.sources) {
        return Some((true, i, a.sources[i]));
    }
    find(&a.features, &b.features).map(|i| (false, i, a.features[i]))
}

pub(crate) fn with_features(w: Value, m: &PolicyModel, source: bool, i: usize) -> Value {
    if source {
        w
    } else {
        Space::naming_features(w, &[&m.features[i].name])
    }
}

pub(crate) fn code(v: Verdict) -> &'static str {
    v.code().map_or("allowed", |c| c.as_str())
}

pub(crate) fn consent_why(
    m: &PolicyModel,
    topic: &str,
    state: &str,
    source: bool,
    i: usize,
    was: Verdict,
) -> String {
    format!(
        "lowering `consent.{topic}` from granted to {state} allows {} (denied `{}` when granted)",
        what(m, source, i),
        code(was)
    )
}

pub(crate) fn fail_safe_why(m: &PolicyModel, mode: u32, cap: u32) -> String {
    format!(
        "with every consent topic unknown, mode `{}` is resolved and grants `{}`, which a personal class requires",
        m.modes[mode as usize].name, m.capabilities[cap as usize]
    )
}

pub(crate) fn mode_why(
    m: &PolicyModel,
    a: usize,
    b: usize,
    source: bool,
    i: usize,
    was: Verdict,
) -> String {
    format!(
        "mode `{}` grants a subset of `{}` but allows {}, which `{}` denies `{}`",
        m.modes[a].name,
        m.modes[b].name,
        what(m, source, i),
        m.modes[b].name,
        code(was)
    )
}

/// Proves or refutes the four properties of `rpol verify`.
pub fn verify(c: &Compiled, max_regions: u64) -> Result<VerifyReport, AnalysisError> {
    let m = c.model();
    let (space, regions) = space_of(c, &[], max_regions)?;
    let bound = Bound::new(&space, c);
    let consent_axes = space.consent_axes();
    let personal = personal_capabilities(m);
    let pairs = mode_pairs(m);

    /// One thread's part of the sweep.
    #[derive(Default)]
    struct State {
        consent: Tally,
        fail_safe: Tally,
        modes: Tally,
        here: Outcome,
        lowered: Outcome,
        forced: Vec<Outcome>,
        choice2: Vec<usize>,
    }
    let init = || State {
        forced: vec![Outcome::default(); m.modes.len()],
        ..State::default()
    };
    let visit = |st: &mut State, choice: &[usize], reqs: &[Option<&rpol_engine::Request>]| {
        let State {
            consent,
            fail_safe,
            modes,
            here,
            lowered,
            forced,
            choice2,
        } = st;
        let Some(req) = reqs[0] else { return };
        here.fill(c, req, None, &[]);
        // Consent monotonicity: granted → denied or unknown allows nothing new.
        'consent: for (axis, topic) in &consent_axes {
            if choice[*axis] != 0 {
                continue;
            }
            for (lower, state) in [(1usize, "denied"), (2, "unknown")] {
                choice2.clear();
                choice2.extend_from_slice(choice);
                choice2[*axis] = lower;
                let Some(r2) = bound.request(choice2) else {
                    continue;
                };
                lowered.fill(c, &r2, None, &[]);
                if let Some((source, i, was)) = newly_allowed(here, lowered) {
                    consent.fail(&space, choice2, || {
                        (
                            with_features(space.witness(choice2), m, source, i),
                            consent_why(m, topic, state, source, i, was),
                        )
                    });
                    // Count each granted region once.
                    break 'consent;
                }
            }
        }
        // Fail-safe: with every topic unknown, no personal capability is granted.
        if consent_axes.iter().all(|(a, _)| choice[*a] == 2) {
            let grants = &m.modes[here.mode as usize].grants;
            if let Some(cap) = personal.iter().find(|p| grants.contains(p)) {
                fail_safe.fail(&space, choice, || {
                    (space.witness(choice), fail_safe_why(m, here.mode, *cap))
                });
            }
        }
        // Mode monotonicity: a mode granting less never allows more.
        if !pairs.is_empty() {
            for (i, o) in forced.iter_mut().enumerate() {
                o.fill(c, req, Some(i as u32), &[]);
            }
            // One failing pair is enough to count the region.
            let first = pairs
                .iter()
                .find_map(|&(a, b)| newly_allowed(&forced[b], &forced[a]).map(|hit| (a, b, hit)));
            if let Some((a, b, (source, i, was))) = first {
                modes.fail(&space, choice, || {
                    (
                        with_features(space.witness(choice), m, source, i),
                        mode_why(m, a, b, source, i, was),
                    )
                });
            }
        }
    };
    let merge = |a: State, b: State| State {
        consent: a.consent.merge(b.consent, &space),
        fail_safe: a.fail_safe.merge(b.fail_safe, &space),
        modes: a.modes.merge(b.modes, &space),
        ..a
    };
    let State {
        consent,
        fail_safe,
        modes,
        ..
    } = sweep_par(&space, &[&bound], init, visit, merge);
    let mut properties = tallied(
        consent_axes.len(),
        pairs.len(),
        [consent, fail_safe, modes],
        regions,
    );
    properties.push(live_forbids(c, &space, regions)?);
    Ok(VerifyReport {
        regions,
        properties,
    })
}

/// The first three properties from their tallies.
pub(crate) fn tallied(
    topics: usize,
    pairs: usize,
    [consent, fail_safe, modes]: [Tally; 3],
    regions: u64,
) -> Vec<Property> {
    vec![
        consent.into_property(
            "consent_monotonicity",
            format!("lowering any of the {topics} consent topics read from granted to denied or unknown never allows a denied source or feature"),
            regions,
        ),
        fail_safe.into_property(
            "fail_safe",
            "with every consent topic unknown, no mode that is resolved grants a capability a personal class requires".into(),
            regions,
        ),
        modes.into_property(
            "mode_monotonicity",
            format!("of {pairs} mode pairs where one grants a subset of the other, the smaller never allows what the larger denies"),
            regions,
        ),
    ]
}

/// The policy with only forbid rule `keep`, or with none.
pub(crate) fn forbids_only(
    m: &PolicyModel,
    keep: Option<usize>,
) -> Result<Compiled, AnalysisError> {
    let mut model = m.clone();
    model.forbids = match keep.and_then(|i| m.forbids.get(i)) {
        Some(rule) => vec![rule.clone()],
        None => Vec::new(),
    };
    // The model passed the checker; removing forbid rules keeps it valid.
    Compiled::build(model).map_err(|e| AnalysisError::Model(e.to_string()))
}

/// A forbid rule is live when, in some region, it matches a source, feature
/// or reason that everything else allows. Each rule is decided alone, in a
/// copy of the policy without the other forbid rules.
fn live_forbids(c: &Compiled, space: &Space, regions: u64) -> Result<Property, AnalysisError> {
    let m = c.model();
    let free = forbids_only(m, None)?;
    let alone: Vec<Compiled> = (0..m.forbids.len())
        .map(|i| forbids_only(m, Some(i)))
        .collect::<Result<_, _>>()?;
    let codes = reason_codes(c);
    let bounds: Vec<Bound<'_>> = std::iter::once(&free)
        .chain(alone.iter())
        .map(|x| Bound::new(space, x))
        .collect();
    let refs: Vec<&Bound<'_>> = bounds.iter().collect();
    /// One thread's part: which rules were seen to deny something.
    struct State {
        live: Vec<bool>,
        base: Outcome,
        with: Outcome,
    }
    let init = || State {
        live: vec![false; m.forbids.len()],
        base: Outcome::default(),
        with: Outcome::default(),
    };
    let visit = |st: &mut State, _: &[usize], reqs: &[Option<&rpol_engine::Request>]| {
        let State { live, base, with } = st;
        let Some(req) = reqs[0] else { return };
        if live.iter().all(|l| *l) {
            return;
        }
        base.fill(&free, req, None, &codes);
        for (i, x) in alone.iter().enumerate() {
            if live[i] {
                continue;
            }
            with.fill(x, req, None, &codes);
            let denied = |a: &[Verdict], b: &[Verdict]| {
                a.iter()
                    .zip(b)
                    .any(|(p, q)| p.is_allowed() && !q.is_allowed())
            };
            let shown = |r: &ReasonOutcome| matches!(r, ReasonOutcome::Shown(_));
            live[i] = denied(&base.sources, &with.sources)
                || denied(&base.features, &with.features)
                || base
                    .reasons
                    .iter()
                    .zip(&with.reasons)
                    .any(|(p, q)| shown(p) && !shown(q));
        }
    };
    let merge = |mut a: State, b: State| {
        for (x, y) in a.live.iter_mut().zip(b.live) {
            *x |= y;
        }
        a
    };
    let live = sweep_par(space, &refs, init, visit, merge).live;
    Ok(live_property(m, &live, regions))
}

/// The `live_forbids` verdict from which rules were seen to deny something.
pub(crate) fn live_property(m: &PolicyModel, live: &[bool], regions: u64) -> Property {
    let dead_forbids: Vec<usize> = (0..live.len()).filter(|&i| !live[i]).collect();
    let dead: Vec<String> = dead_forbids
        .iter()
        .map(|&i| format!("the forbid rule at {}", m.forbids[i].rule))
        .collect();
    if dead.is_empty() {
        Property {
            name: "live_forbids",
            holds: true,
            summary: match m.forbids.len() {
                0 => "the policy has no forbid rule".to_string(),
                1 => "the forbid rule denies something in some region".to_string(),
                n => format!("each of the {n} forbid rules denies something in some region"),
            },
            failing: 0,
            witness: None,
            accepted: None,
            dead_forbids: Vec::new(),
        }
    } else {
        Property {
            name: "live_forbids",
            holds: false,
            summary: format!(
                "{} denies nothing in any of the {}",
                dead.join(", "),
                rpol_diag::plural(regions, "region")
            ),
            failing: dead.len() as u64,
            witness: None,
            accepted: None,
            dead_forbids,
        }
    }
}

/// The capabilities that personal classes require: a mode granting one is
/// personalizing (fail-safety).
pub(crate) fn personal_capabilities(m: &PolicyModel) -> Vec<u32> {
    m.classes
        .iter()
        .filter(|k| k.personal)
        .flat_map(|k| k.requires.iter().copied())
        .collect()
}

/// Mode pairs (a, b), a ≠ b, with grants(a) ⊆ grants(b): where `a` must not
/// allow what `b` denies (mode monotonicity).
pub(crate) fn mode_pairs(m: &PolicyModel) -> Vec<(usize, usize)> {
    (0..m.modes.len())
        .flat_map(|a| (0..m.modes.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| {
            a != b
                && m.modes[a]
                    .grants
                    .iter()
                    .all(|g| m.modes[b].grants.contains(g))
        })
        .collect()
}

/// Finds a request for which `q` is true, or proves there is none.
pub fn query(
    c: &Compiled,
    q: &query::CheckedQuery,
    max_regions: u64,
) -> Result<QueryReport, AnalysisError> {
    let m = c.model();
    let extra = q.conds(m);
    let (space, regions) = space_of(c, &extra, max_regions)?;
    let bound = Bound::new(&space, c);
    /// One thread's part: how many regions satisfy, and the best of them.
    struct State {
        outcome: Outcome,
        satisfying: u64,
        best: Option<Vec<usize>>,
    }
    let init = || State {
        outcome: Outcome::default(),
        satisfying: 0,
        best: None,
    };
    let visit = |st: &mut State, choice: &[usize], reqs: &[Option<&rpol_engine::Request>]| {
        let Some(req) = reqs[0] else { return };
        st.outcome.fill(c, req, None, &[]);
        if q.query.eval(req, &st.outcome) == Some(true) {
            st.satisfying += 1;
            if st.best.as_ref().is_none_or(|b| space.better(choice, b)) {
                st.best = Some(choice.to_vec());
            }
        }
    };
    let merge = |mut a: State, b: State| {
        a.satisfying += b.satisfying;
        if let Some(r) = b.best
            && a.best.as_ref().is_none_or(|mine| space.better(&r, mine))
        {
            a.best = Some(r);
        }
        a
    };
    let st = sweep_par(&space, &[&bound], init, visit, merge);
    let satisfying = st.satisfying;
    let names: Vec<&str> = q
        .features
        .iter()
        .map(|&f| m.features[f as usize].name.as_str())
        .collect();
    let witness = st
        .best
        .map(|choice| Space::naming_features(space.witness(&choice), &names));
    Ok(QueryReport {
        regions,
        satisfying,
        witness,
    })
}
