//! The verdict of every feature, source and reason in every mode (and, for
//! features, every purpose), computed by deciding one witness request per
//! region of the request space (docs/analysis.md) through the engine.
//!
//! A cell is a group of regions: those whose request resolves to the cell's
//! mode (and has its purpose). A cell with one outcome is that outcome for
//! every request of the group; a cell with several lists each with what its
//! regions have in common, and says whether that description is exact.

use rpol_analysis::AnalysisError;
use rpol_analysis::literals::{self, Cond};
use rpol_analysis::regions::Space;
use rpol_analysis::sweep::{Bound, Outcome as Decided, reason_codes, sweep, sweep_par};
use rpol_engine::model::{Expr, Literal, Operand, Path};
use rpol_engine::{Compiled, ReasonOutcome, Request, Verdict};
use serde_json::Value;

/// One outcome of a cell: `allowed`, `shown` or a deny code, and the forbid
/// rule (index in declaration order) when a rule decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub code: &'static str,
    pub rule: Option<u32>,
}

impl Key {
    pub fn of_verdict(v: Verdict) -> Key {
        match v {
            Verdict::Allowed => Key {
                code: "allowed",
                rule: None,
            },
            Verdict::Denied(c) => Key {
                code: c.as_str(),
                rule: None,
            },
            Verdict::Forbidden(r) => Key {
                code: "forbidden",
                rule: Some(r),
            },
        }
    }

    pub fn of_reason(o: ReasonOutcome) -> Key {
        match o {
            ReasonOutcome::Shown(_) => Key {
                code: "shown",
                rule: None,
            },
            ReasonOutcome::Suppressed(c) => Key {
                code: c.as_str(),
                rule: None,
            },
            ReasonOutcome::Forbidden(r) => Key {
                code: "forbidden",
                rule: Some(r),
            },
        }
    }

    /// Whether the item is allowed (or the reason shown).
    pub fn grants(self) -> bool {
        self.code == "allowed" || self.code == "shown"
    }
}

/// One outcome of a cell with the requests that get it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub key: Key,
    /// Regions of the cell with this outcome.
    pub regions: u64,
    /// What those regions have in common that the others of the cell lack,
    /// one phrase per request field (empty for a cell with one outcome).
    pub when: Vec<String>,
    /// Whether `when` describes exactly these regions (else: every region with
    /// this outcome satisfies it, but so do some with another outcome).
    pub exact: bool,
    /// A request (JSON) of the cell that gets this outcome.
    pub witness: Value,
}

/// A group of regions and their outcomes, most regions first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub regions: u64,
    pub outcomes: Vec<Outcome>,
}

impl Cell {
    /// No request lands in this cell (no request of the purpose resolves to the mode).
    pub fn unreachable(&self) -> bool {
        self.regions == 0
    }

    /// The one outcome of every request of the cell, if there is one.
    pub fn fixed(&self) -> Option<Key> {
        match self.outcomes.as_slice() {
            [o] => Some(o.key),
            _ => None,
        }
    }
}

/// Every cell of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub regions: u64,
    /// `features[f][mode][purpose]`.
    pub features: Vec<Vec<Vec<Cell>>>,
    /// `sources[s][mode]`, over every purpose.
    pub sources: Vec<Vec<Cell>>,
    /// `reasons[r][mode]`, over every purpose, for one code the reason's first pattern matches.
    pub reasons: Vec<Vec<Cell>>,
    /// The code asked of each reason.
    pub reason_codes: Vec<String>,
}

/// Per group while sweeping: which classes of each axis its regions had.
#[derive(Clone)]
struct Seen(Vec<Vec<bool>>);

impl Seen {
    fn new(space: &Space) -> Seen {
        Seen(
            space
                .axes
                .iter()
                .map(|a| vec![false; a.classes.len()])
                .collect(),
        )
    }
    fn mark(&mut self, choice: &[usize]) {
        for (axis, &c) in self.0.iter_mut().zip(choice) {
            axis[c] = true;
        }
    }
    fn merge(&mut self, other: &Seen) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            for (x, y) in a.iter_mut().zip(b) {
                *x |= *y;
            }
        }
    }
    fn contains(&self, choice: &[usize]) -> bool {
        self.0.iter().zip(choice).all(|(axis, &c)| axis[c])
    }
}

#[derive(Clone)]
struct Acc {
    key: Key,
    regions: u64,
    seen: Seen,
    /// The plainest region seen ([`Space::better`]) and its plainness.
    best: Vec<usize>,
    best_plain: usize,
}

/// A cell while sweeping: its outcomes (the cell's classes are their union).
#[derive(Clone, Default)]
struct Group {
    outcomes: Vec<Acc>,
}

impl Group {
    /// One region; `plain` is its [`Space::plainness`]. Regions come in
    /// increasing order within a sweep, so an as-plain region is never better.
    fn add(&mut self, space: &Space, key: Key, choice: &[usize], plain: usize) {
        match self.outcomes.iter_mut().find(|a| a.key == key) {
            Some(a) => {
                a.regions += 1;
                a.seen.mark(choice);
                if plain > a.best_plain {
                    a.best.copy_from_slice(choice);
                    a.best_plain = plain;
                }
            }
            None => {
                let mut seen = Seen::new(space);
                seen.mark(choice);
                self.outcomes.push(Acc {
                    key,
                    regions: 1,
                    seen,
                    best: choice.to_vec(),
                    best_plain: plain,
                });
            }
        }
    }

    fn merge(&mut self, space: &Space, other: Group) {
        for o in other.outcomes {
            match self.outcomes.iter_mut().find(|a| a.key == o.key) {
                Some(a) => {
                    a.regions += o.regions;
                    a.seen.merge(&o.seen);
                    if space.better(&o.best, &a.best) {
                        a.best = o.best;
                        a.best_plain = o.best_plain;
                    }
                }
                None => self.outcomes.push(o),
            }
        }
    }

    fn regions(&self) -> u64 {
        self.outcomes.iter().map(|o| o.regions).sum()
    }

    /// The classes of every region of the cell.
    fn seen(&self, space: &Space) -> Seen {
        let mut all = Seen::new(space);
        for o in &self.outcomes {
            all.merge(&o.seen);
        }
        all
    }
}

/// The group layout: features by (feature, mode, purpose), then sources by
/// (source, mode), then reasons by (reason, mode).
struct Layout {
    modes: usize,
    purposes: usize,
    features: usize,
    sources: usize,
    reasons: usize,
}

impl Layout {
    fn feature(&self, f: usize, mode: usize, purpose: usize) -> usize {
        (f * self.modes + mode) * self.purposes + purpose
    }
    fn source(&self, s: usize, mode: usize) -> usize {
        self.features * self.modes * self.purposes + s * self.modes + mode
    }
    fn reason(&self, r: usize, mode: usize) -> usize {
        self.source(self.sources, 0) + r * self.modes + mode
    }
    fn len(&self) -> usize {
        self.reason(self.reasons, 0)
    }
    /// The groups of one decided region, with each one's outcome.
    fn each(&self, d: &Decided, purpose: usize, mut f: impl FnMut(usize, Key)) {
        let mode = d.mode as usize;
        for (i, v) in d.features.iter().enumerate() {
            f(self.feature(i, mode, purpose), Key::of_verdict(*v));
        }
        for (i, v) in d.sources.iter().enumerate() {
            f(self.source(i, mode), Key::of_verdict(*v));
        }
        for (i, o) in d.reasons.iter().enumerate() {
            f(self.reason(i, mode), Key::of_reason(*o));
        }
    }
}

/// The request space of `c` with every purpose in a class of its own, so
/// that the matrix has a column per purpose even where the policy treats
/// purposes alike.
pub fn space(c: &Compiled, max_regions: u64) -> Result<(Space, u64), AnalysisError> {
    let m = c.model();
    let every_purpose = Expr::InList {
        lhs: Operand::Path(Path::Purpose),
        items: (0..m.purposes.len() as u32)
            .map(|p| Operand::Lit(Literal::Sym(p)))
            .collect(),
        negated: false,
    };
    let reads = literals::collect(
        &[m],
        &[Cond {
            model: m,
            expr: &every_purpose,
        }],
    )?;
    let space = Space::build(&[m], &reads)?;
    let n = space.check_bound(max_regions)?;
    Ok((space, n))
}

/// Decides every region and groups the outcomes into cells.
pub fn matrix(c: &Compiled, max_regions: u64) -> Result<Matrix, AnalysisError> {
    let m = c.model();
    let (space, regions) = space(c, max_regions)?;
    let bound = Bound::new(&space, c);
    let codes = reason_codes(c);
    let layout = Layout {
        modes: m.modes.len(),
        purposes: m.purposes.len(),
        features: m.features.len(),
        sources: m.sources.len(),
        reasons: m.reasons.len(),
    };
    let purpose_of = |req: &Request| req.purpose.map(|p| p as usize);
    struct State {
        groups: Vec<Group>,
        decided: Decided,
    }
    let init = || State {
        groups: vec![Group::default(); layout.len()],
        decided: Decided::default(),
    };
    let state = sweep_par(
        &space,
        &[&bound],
        init,
        |st, choice, reqs| {
            // An invalid region (a literal the policy cannot take) is no request.
            let Some(req) = reqs[0] else { return };
            let Some(purpose) = purpose_of(req) else {
                return;
            };
            st.decided.fill(c, req, None, &codes);
            let plain = space.plainness(choice);
            let groups = &mut st.groups;
            layout.each(&st.decided, purpose, |g, key| {
                groups[g].add(&space, key, choice, plain)
            });
        },
        |mut a, b| {
            for (x, y) in a.groups.iter_mut().zip(b.groups) {
                x.merge(&space, y);
            }
            a
        },
    );
    let mut groups = state.groups;
    for g in &mut groups {
        g.outcomes
            .sort_by(|a, b| b.regions.cmp(&a.regions).then(a.key.cmp(&b.key)));
    }
    let exact = exactness(c, &space, &bound, &layout, &groups, &codes);
    let mut cells: Vec<Cell> = groups
        .into_iter()
        .zip(exact)
        .enumerate()
        .map(|(gi, (g, exact))| cell(&space, m, &layout, gi, g, exact))
        .collect();
    let mut take = |n: usize| cells.drain(..n).collect::<Vec<Cell>>();
    let mut features = Vec::with_capacity(layout.features);
    for _ in 0..layout.features {
        let mut per_mode = Vec::with_capacity(layout.modes);
        for _ in 0..layout.modes {
            per_mode.push(take(layout.purposes));
        }
        features.push(per_mode);
    }
    let sources = (0..layout.sources).map(|_| take(layout.modes)).collect();
    let reasons = (0..layout.reasons).map(|_| take(layout.modes)).collect();
    Ok(Matrix {
        regions,
        features,
        sources,
        reasons,
        reason_codes: codes,
    })
}

/// Per group, per outcome: whether no region of the group with another
/// outcome lies in the outcome's box of classes. Only groups with several
/// outcomes need a second sweep.
fn exactness(
    c: &Compiled,
    space: &Space,
    bound: &Bound<'_>,
    layout: &Layout,
    groups: &[Group],
    codes: &[String],
) -> Vec<Vec<bool>> {
    let mut exact: Vec<Vec<bool>> = groups
        .iter()
        .map(|g| vec![true; g.outcomes.len()])
        .collect();
    if groups.iter().all(|g| g.outcomes.len() <= 1) {
        return exact;
    }
    let mut decided = Decided::default();
    sweep(space, &[bound], |choice, reqs| {
        let Some(req) = reqs[0] else { return };
        let Some(purpose) = req.purpose else { return };
        decided.fill(c, req, None, codes);
        layout.each(&decided, purpose as usize, |g, key| {
            let group = &groups[g];
            if group.outcomes.len() < 2 {
                return;
            }
            for (o, flag) in group.outcomes.iter().zip(exact[g].iter_mut()) {
                if o.key != key && *flag && o.seen.contains(choice) {
                    *flag = false;
                }
            }
        });
    });
    exact
}

fn cell(
    space: &Space,
    m: &rpol_engine::model::PolicyModel,
    layout: &Layout,
    gi: usize,
    g: Group,
    exact: Vec<bool>,
) -> Cell {
    let mixed = g.outcomes.len() > 1;
    let all = g.seen(space);
    let feature = (gi < layout.source(0, 0)).then(|| gi / (layout.modes * layout.purposes));
    let outcomes = g
        .outcomes
        .iter()
        .zip(exact)
        .map(|(o, exact)| {
            let mut witness = space.witness(&o.best);
            if let Some(f) = feature.and_then(|f| m.features.get(f)) {
                witness = Space::naming_features(witness, &[&f.name]);
            }
            Outcome {
                key: o.key,
                regions: o.regions,
                when: if mixed {
                    describe(space, &all, &o.seen)
                } else {
                    Vec::new()
                },
                exact: exact && mixed,
                witness,
            }
        })
        .collect();
    Cell {
        regions: g.regions(),
        outcomes,
    }
}

/// The axes on which an outcome's regions are narrower than the cell's, in words.
fn describe(space: &Space, cell: &Seen, outcome: &Seen) -> Vec<String> {
    space
        .axes
        .iter()
        .zip(cell.0.iter().zip(&outcome.0))
        .filter(|(_, (all, some))| all != some)
        .map(|(axis, (all, some))| {
            let labels = |pick: &dyn Fn(usize) -> bool| -> Vec<&str> {
                axis.classes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| pick(*i))
                    .map(|(_, c)| c.label.as_str())
                    .collect()
            };
            let field = axis.field.display();
            let yes = labels(&|i| some[i]);
            let no = labels(&|i| all[i] && !some[i]);
            // The classes it has when few, else those it lacks.
            if yes.len() <= 3 || yes.len() <= no.len() {
                format!("`{field}` {}", alternatives(&yes))
            } else {
                let bare: Vec<&str> = no
                    .iter()
                    .map(|l| l.strip_prefix("is ").unwrap_or(l))
                    .collect();
                match bare.as_slice() {
                    [one] => format!("`{field}` is not {one}"),
                    _ => format!("`{field}` is none of: {}", bare.join(", ")),
                }
            }
        })
        .collect()
}

/// `is "a" or "b"` rather than `is "a" or is "b"`.
fn alternatives(labels: &[&str]) -> String {
    let Some((first, rest)) = labels.split_first() else {
        return String::new();
    };
    let mut text = first.to_string();
    for l in rest {
        text.push_str(" or ");
        text.push_str(if first.starts_with("is ") {
            l.strip_prefix("is ").unwrap_or(l)
        } else {
            l
        });
    }
    text
}
