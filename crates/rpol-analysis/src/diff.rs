//! `rpol diff`: every difference in mode, route, allowed sources and allowed
//! features between two policies, over every region of their joint request
//! space, grouped by what changes, each group with one witness request.

use std::collections::{BTreeMap, BTreeSet};

use rpol_engine::{Compiled, Verdict};
use serde_json::{Value, json};

use crate::error::AnalysisError;
use crate::literals::{self, Field};
use crate::regions::Space;
use crate::sweep::{Bound, Outcome, sweep_par};

/// What changes for the requests of a group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Valid under one policy, invalid under the other.
    Validity {
        valid_before: bool,
    },
    Mode {
        old: String,
        new: String,
    },
    Route {
        old: Option<String>,
        new: Option<String>,
    },
    Source {
        name: String,
        allowed_now: bool,
    },
    Feature {
        name: String,
        allowed_now: bool,
    },
}

/// One group of regions with the same change.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub change: Change,
    /// In plain words, with the field values all its regions share.
    pub summary: String,
    pub regions: u64,
    /// A request of the first region of the group (spec 7.1); `rpol eval`
    /// on both policies shows the change.
    pub witness: Value,
    pub old: Value,
    pub new: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffReport {
    pub regions: u64,
    pub differences: Vec<Difference>,
}

impl DiffReport {
    pub fn equal(&self) -> bool {
        self.differences.is_empty()
    }

    /// `{"equal", "regions", "differences": [{"summary", "witness", "old", "new", "regions"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "equal": self.equal(),
            "regions": self.regions,
            "differences": self.differences.iter().map(|d| json!({
                "summary": d.summary,
                "regions": d.regions,
                "witness": d.witness,
                "old": d.old,
                "new": d.new,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A group being accumulated.
pub(crate) struct Group {
    pub(crate) regions: u64,
    /// The best witness region seen ([`Space::better`]).
    pub(crate) first: Vec<usize>,
    /// Per axis, the classes of the group's regions.
    pub(crate) seen: Vec<BTreeSet<usize>>,
}

/// Names present in either policy, each with its index in old and new.
pub(crate) fn union(old: &[String], new: &[String]) -> Vec<(String, Option<usize>, Option<usize>)> {
    let mut out: Vec<(String, Option<usize>, Option<usize>)> = old
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), Some(i), new.iter().position(|x| x == n)))
        .collect();
    for (j, n) in new.iter().enumerate() {
        if !old.contains(n) {
            out.push((n.clone(), None, Some(j)));
        }
    }
    out
}

fn allowed(vs: &[Verdict], i: Option<usize>) -> bool {
    i.and_then(|i| vs.get(i)).is_some_and(|v| v.is_allowed())
}

/// Compares `old` and `new` over every region of their joint request space.
pub fn diff(old: &Compiled, new: &Compiled, max_regions: u64) -> Result<DiffReport, AnalysisError> {
    let (mo, mn) = (old.model(), new.model());
    let reads = literals::collect(&[mo, mn], &[])?;
    let space = Space::build(&[mo, mn], &reads)?;
    let regions = space.check_bound(max_regions)?;
    let (bo, bn) = (Bound::new(&space, old), Bound::new(&space, new));
    let names = |m: &rpol_engine::model::PolicyModel| -> (Vec<String>, Vec<String>) {
        (
            m.sources.iter().map(|s| s.name.clone()).collect(),
            m.features.iter().map(|f| f.name.clone()).collect(),
        )
    };
    let ((so, fo), (sn, fnew)) = (names(mo), names(mn));
    let sources = union(&so, &sn);
    let features = union(&fo, &fnew);
    /// One thread's part of the sweep.
    struct State {
        groups: BTreeMap<Change, Group>,
        old: Outcome,
        new: Outcome,
        changes: Vec<Change>,
    }
    let init = || State {
        groups: BTreeMap::new(),
        old: Outcome::default(),
        new: Outcome::default(),
        changes: Vec::new(),
    };
    let visit = |st: &mut State, choice: &[usize], reqs: &[Option<&rpol_engine::Request>]| {
        let State {
            groups,
            old: oo,
            new: on,
            changes,
        } = st;
        changes.clear();
        match (reqs[0], reqs[1]) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => changes.push(Change::Validity {
                valid_before: reqs[0].is_some(),
            }),
            (Some(ro), Some(rn)) => {
                oo.fill(old, ro, None, &[]);
                on.fill(new, rn, None, &[]);
                let (a, b) = (
                    &mo.modes[oo.mode as usize].name,
                    &mn.modes[on.mode as usize].name,
                );
                if a != b {
                    changes.push(Change::Mode {
                        old: a.clone(),
                        new: b.clone(),
                    });
                }
                let route_o = oo.route.map(|r| mo.feature_sets[r as usize].name.clone());
                let route_n = on.route.map(|r| mn.feature_sets[r as usize].name.clone());
                if route_o != route_n {
                    changes.push(Change::Route {
                        old: route_o,
                        new: route_n,
                    });
                }
                for (name, i, j) in &sources {
                    let (x, y) = (allowed(&oo.sources, *i), allowed(&on.sources, *j));
                    if x != y {
                        changes.push(Change::Source {
                            name: name.clone(),
                            allowed_now: y,
                        });
                    }
                }
                for (name, i, j) in &features {
                    let (x, y) = (allowed(&oo.features, *i), allowed(&on.features, *j));
                    if x != y {
                        changes.push(Change::Feature {
                            name: name.clone(),
                            allowed_now: y,
                        });
                    }
                }
            }
        }
        for ch in changes.drain(..) {
            let g = groups.entry(ch).or_insert_with(|| Group {
                regions: 0,
                first: choice.to_vec(),
                seen: vec![BTreeSet::new(); choice.len()],
            });
            g.regions += 1;
            if space.better(choice, &g.first) {
                g.first.copy_from_slice(choice);
            }
            for (s, &c) in g.seen.iter_mut().zip(choice) {
                s.insert(c);
            }
        }
    };
    let merge = |mut a: State, b: State| {
        for (ch, gb) in b.groups {
            match a.groups.get_mut(&ch) {
                None => {
                    a.groups.insert(ch, gb);
                }
                Some(ga) => {
                    ga.regions += gb.regions;
                    if space.better(&gb.first, &ga.first) {
                        ga.first = gb.first;
                    }
                    for (x, y) in ga.seen.iter_mut().zip(gb.seen) {
                        x.extend(y);
                    }
                }
            }
        }
        a
    };
    let groups = sweep_par(&space, &[&bo, &bn], init, visit, merge).groups;
    let differences = groups
        .into_iter()
        .map(|(change, g)| difference(&space, &bo, &bn, change, g))
        .collect();
    Ok(DiffReport {
        regions,
        differences,
    })
}

pub(crate) fn difference(
    space: &Space,
    bo: &Bound<'_>,
    bn: &Bound<'_>,
    change: Change,
    g: Group,
) -> Difference {
    let witness = match &change {
        Change::Feature { name, .. } => Space::naming_features(space.witness(&g.first), &[name]),
        _ => space.witness(&g.first),
    };
    let old = side(bo, &g.first, &witness, &change);
    let new = side(bn, &g.first, &witness, &change);
    let purpose_axis = space.axes.iter().position(|a| a.field == Field::Purpose);
    // "for purpose `x`" reads better than "when `purpose` is `x`" for features.
    let purpose = match (&change, purpose_axis) {
        (Change::Feature { .. } | Change::Source { .. }, Some(i))
            if g.seen[i].len() == 1 && space.axes[i].classes.len() > 1 =>
        {
            g.seen[i].iter().next().and_then(|&c| {
                let label = &space.axes[i].classes[c].label;
                label.strip_prefix("is `").map(|rest| format!("`{rest}"))
            })
        }
        _ => None,
    };
    let skip: Vec<Field> = if purpose.is_some() {
        vec![Field::Purpose]
    } else {
        Vec::new()
    };
    let conds = space.describe(&g.seen, &skip);
    let mut summary = match &change {
        Change::Validity { valid_before: true } => {
            "requests valid under OLD are invalid under NEW".to_string()
        }
        Change::Validity {
            valid_before: false,
        } => "requests invalid under OLD are valid under NEW".to_string(),
        Change::Mode { old, new } => format!("mode changes from `{old}` to `{new}`"),
        Change::Route { old, new } => format!(
            "route changes from {} to {}",
            old.as_ref().map_or("none".into(), |r| format!("`{r}`")),
            new.as_ref().map_or("none".into(), |r| format!("`{r}`"))
        ),
        Change::Source { name, allowed_now } => format!(
            "source `{name}` newly {}",
            if *allowed_now { "allowed" } else { "denied" }
        ),
        Change::Feature { name, allowed_now } => format!(
            "feature `{name}` newly {}",
            if *allowed_now { "allowed" } else { "denied" }
        ),
    };
    if let Some(p) = purpose {
        summary.push_str(&format!(" for purpose {p}"));
    }
    if !conds.is_empty() {
        summary.push_str(" when ");
        summary.push_str(&conds.join(" and "));
    }
    summary.push_str(&format!(
        ": {} region{}",
        g.regions,
        if g.regions == 1 { "" } else { "s" }
    ));
    Difference {
        change,
        summary,
        regions: g.regions,
        witness,
        old,
        new,
    }
}

/// What one policy decides for the witness, as far as the change goes.
fn side(b: &Bound<'_>, choice: &[usize], witness: &Value, change: &Change) -> Value {
    let c = b.compiled;
    let m = c.model();
    let Some(req) = b.request(choice) else {
        // Invalid here: the engine's own validation errors.
        let errors: Vec<String> = match c.decide_json(&witness.to_string(), &[]) {
            Err((errs, _)) => errs.iter().map(ToString::to_string).collect(),
            Ok(_) => vec!["the request is valid when parsed".into()],
        };
        return json!({"valid": false, "errors": errors});
    };
    let mut o = Outcome::default();
    o.fill(c, &req, None, &[]);
    let mut v = json!({
        "valid": true,
        "mode": m.modes[o.mode as usize].name,
        "route": o.route.map(|r| m.feature_sets[r as usize].name.clone()),
    });
    let verdict = |vs: &[Verdict], i: Option<usize>| -> Value {
        match i.and_then(|i| vs.get(i)) {
            Some(Verdict::Allowed) => json!({"allowed": true}),
            Some(v) => json!({"allowed": false, "code": v.code().map(|c| c.as_str())}),
            None => json!({"allowed": false, "code": "unknown_feature"}),
        }
    };
    match change {
        Change::Source { name, .. } => {
            let i = m.sources.iter().position(|s| &s.name == name);
            let mut s = verdict(&o.sources, i);
            if i.is_none() {
                s = json!({"allowed": false, "declared": false});
            }
            v["source"] = json!({ name: s });
        }
        Change::Feature { name, .. } => {
            let i = m.features.iter().position(|f| &f.name == name);
            v["feature"] = json!({ name: verdict(&o.features, i) });
        }
        _ => {}
    }
    v
}
