//! What `rpol check` guarantees of a model, re-established on a model read
//! from an artifact. A checksum only says the bytes are the ones that were
//! written; anyone who can edit the file can recompute it. So the loader trusts
//! nothing the checker would have refused: a forged artifact can at most hold a
//! policy that *some* checked source would compile to (only a signature says
//! which one, see `artifact.rs`).
//!
//! [`crate::Compiled::build`] already refuses ids out of range for the tables it
//! derives; this adds the rest: a fail-safe `else` mode, one route per
//! (surface, mode), well-typed conditions whose symbols are in range, paths only
//! where they may be read, unique names, a well-formed digest.

use std::collections::HashSet;
use std::fmt;

use crate::model::{CmpOp, ContextType, Expr, ForbidKind, Literal, Operand, Path, PolicyModel};

/// Why a model read from an artifact was refused. Each names the offending
/// thing in backticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The `else` mode grants a capability a personal class requires (L003).
    UnsafeFallback {
        mode: String,
        capability: String,
        class: String,
    },
    /// Two feature sets route the same (surface, mode) (E0503).
    RouteConflict {
        surface: String,
        mode: String,
        first: String,
        second: String,
    },
    /// A name declared twice in one namespace.
    Duplicate { kind: &'static str, name: String },
    /// An empty name, or one with control characters (terminal escapes).
    BadName { kind: &'static str, name: String },
    /// An id or symbol outside its declaration list.
    OutOfRange { place: String, what: String },
    /// A condition the type checker would have refused (E0301).
    IllTyped { place: String, what: String },
    /// A path read where it has no value (`mode` in `resolve`, `feature.*`
    /// outside `forbid feature`).
    Misplaced { place: String, path: &'static str },
    /// A retention kind with a negative duration.
    NegativeRetention { kind: String },
    /// The digest is not 64 lower-case hex digits.
    BadDigest,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::UnsafeFallback {
                mode,
                capability,
                class,
            } => write!(
                f,
                "not fail-safe: the `else` mode `{mode}` grants `{capability}`, which personal class `{class}` requires (L003)"
            ),
            Refusal::RouteConflict {
                surface,
                mode,
                first,
                second,
            } => write!(
                f,
                "feature sets `{first}` and `{second}` both route surface `{surface}` in mode `{mode}` (E0503)"
            ),
            Refusal::Duplicate { kind, name } => write!(f, "{kind} `{name}` is declared twice"),
            Refusal::BadName { kind, name } => write!(
                f,
                "{kind} name `{}` is empty or has control characters",
                name.escape_debug()
            ),
            Refusal::OutOfRange { place, what } => write!(f, "{what} in {place} is out of range"),
            Refusal::IllTyped { place, what } => {
                write!(f, "ill-typed condition in {place}: {what}")
            }
            Refusal::Misplaced { place, path } => {
                write!(f, "{place} reads `{path}`, which has no value there")
            }
            Refusal::NegativeRetention { kind } => {
                write!(f, "retention kind `{kind}` has a negative duration")
            }
            Refusal::BadDigest => f.write_str("the `digest` is not 64 lower-case hex digits"),
        }
    }
}

impl std::error::Error for Refusal {}

/// The check, in the order a reader would look: names, digest, fallback,
/// routes, conditions.
pub(crate) fn check(m: &PolicyModel) -> Result<(), Refusal> {
    names(m)?;
    if m.digest.len() != 64
        || !m
            .digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Refusal::BadDigest);
    }
    for (kind, secs) in &m.retention {
        if *secs < 0 {
            return Err(Refusal::NegativeRetention { kind: kind.clone() });
        }
    }
    fallback(m)?;
    routes(m)?;
    conditions(m)
}

fn names(m: &PolicyModel) -> Result<(), Refusal> {
    fn list<'a>(
        kind: &'static str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Refusal> {
        let mut seen = HashSet::new();
        for n in names {
            if n.is_empty() || n.chars().any(char::is_control) {
                return Err(Refusal::BadName {
                    kind,
                    name: n.to_string(),
                });
            }
            if !seen.insert(n) {
                return Err(Refusal::Duplicate {
                    kind,
                    name: n.to_string(),
                });
            }
        }
        Ok(())
    }
    fn s(v: &[String]) -> impl Iterator<Item = &str> {
        v.iter().map(String::as_str)
    }
    list("policy", [m.name.as_str()])?;
    list("purpose", s(&m.purposes))?;
    list("consent topic", s(&m.consent_topics))?;
    list("capability", s(&m.capabilities))?;
    list("role", s(&m.roles))?;
    list("surface", s(&m.surfaces))?;
    list("context field", m.context.iter().map(|c| c.name.as_str()))?;
    for c in &m.context {
        if let ContextType::Enum(v) = &c.ty {
            list("context variant", s(v))?;
        }
    }
    list("mode", m.modes.iter().map(|x| x.name.as_str()))?;
    list("class", m.classes.iter().map(|x| x.name.as_str()))?;
    list("source", m.sources.iter().map(|x| x.name.as_str()))?;
    list("feature", m.features.iter().map(|x| x.name.as_str()))?;
    list(
        "feature set",
        m.feature_sets.iter().map(|x| x.name.as_str()),
    )?;
    list("reason", m.reasons.iter().map(|x| x.name.as_str()))?;
    list("retention kind", m.retention.iter().map(|x| x.0.as_str()))?;
    // Rule locations are printed in decisions; they need not be unique.
    for rule in m
        .resolve
        .iter()
        .chain([&m.fallback])
        .map(|a| &a.rule)
        .chain(m.forbids.iter().map(|f| &f.rule))
    {
        list("rule location", [rule.as_str()])?;
    }
    let mut roles = HashSet::new();
    for (r, _) in &m.debug {
        let name = m
            .roles
            .get(*r as usize)
            .ok_or_else(|| Refusal::OutOfRange {
                place: "`debug`".into(),
                what: format!("role id `{r}`"),
            })?;
        if !roles.insert(*r) {
            return Err(Refusal::Duplicate {
                kind: "debug clearance of role",
                name: name.clone(),
            });
        }
    }
    Ok(())
}

/// L003 on the `else` arm, on the compiled form: the fallback mode may grant no
/// capability that a personal class requires. The fallback decision of every
/// invalid request is served in this mode with consent unknown (spec 3.1), so
/// this holds whatever the `when` arms say; `# rpol: allow(L003)` waives the
/// lint for `when` arms (which the loader leaves to the author), never this.
fn fallback(m: &PolicyModel) -> Result<(), Refusal> {
    let Some(mode) = m.modes.get(m.fallback.mode as usize) else {
        return Err(Refusal::OutOfRange {
            place: "the `else` arm".into(),
            what: format!("mode id `{}`", m.fallback.mode),
        });
    };
    for class in m.classes.iter().filter(|c| c.personal) {
        if let Some(cap) = class.requires.iter().find(|r| mode.grants.contains(r)) {
            let capability =
                m.capabilities
                    .get(*cap as usize)
                    .ok_or_else(|| Refusal::OutOfRange {
                        place: format!("class `{}`", class.name),
                        what: format!("capability id `{cap}`"),
                    })?;
            return Err(Refusal::UnsafeFallback {
                mode: mode.name.clone(),
                capability: capability.clone(),
                class: class.name.clone(),
            });
        }
    }
    Ok(())
}

/// One feature set per (surface, mode), as E0503 guarantees; `build` would
/// silently take the first.
// Every id is checked against its list just before it indexes (`owner` has
// one slot per surface × mode; `first` is a feature-set position).
#[allow(clippy::indexing_slicing)]
fn routes(m: &PolicyModel) -> Result<(), Refusal> {
    let (ns, nm) = (m.surfaces.len(), m.modes.len());
    let mut owner: Vec<Option<usize>> = vec![None; ns * nm];
    for (i, fs) in m.feature_sets.iter().enumerate() {
        let place = || format!("feature set `{}`", fs.name);
        let all: Vec<u32>;
        let surfaces = match &fs.surfaces {
            Some(s) => s,
            None => {
                all = (0..ns as u32).collect();
                &all
            }
        };
        for &md in &fs.modes {
            if md as usize >= nm {
                return Err(Refusal::OutOfRange {
                    place: place(),
                    what: format!("mode id `{md}`"),
                });
            }
            for &s in surfaces {
                if s as usize >= ns {
                    return Err(Refusal::OutOfRange {
                        place: place(),
                        what: format!("surface id `{s}`"),
                    });
                }
                let slot = &mut owner[s as usize * nm + md as usize];
                match *slot {
                    Some(first) if first != i => {
                        return Err(Refusal::RouteConflict {
                            surface: m.surfaces[s as usize].clone(),
                            mode: m.modes[md as usize].name.clone(),
                            first: m.feature_sets[first].name.clone(),
                            second: fs.name.clone(),
                        });
                    }
                    _ => *slot = Some(i),
                }
            }
        }
    }
    Ok(())
}

/// The type of an operand; `Sym` types carry their domain size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Bool,
    Duration,
    /// A finite domain: its kind (context enums by field id) and size.
    Named(Domain, usize),
    /// A bare name resolved to this index; typed by the other operand.
    Sym(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Surface,
    Purpose,
    Mode,
    Feature,
    Class,
    Consent,
    Enum(u32),
}

fn describe(t: Ty) -> String {
    match t {
        Ty::Str => "a string".into(),
        Ty::Int => "an int".into(),
        Ty::Bool => "a bool".into(),
        Ty::Duration => "a duration".into(),
        Ty::Named(d, _) => format!("a {}", domain_name(d)),
        Ty::Sym(v) => format!("the name `#{v}`"),
    }
}

fn domain_name(d: Domain) -> String {
    match d {
        Domain::Surface => "surface".into(),
        Domain::Purpose => "purpose".into(),
        Domain::Mode => "mode".into(),
        Domain::Feature => "feature".into(),
        Domain::Class => "class".into(),
        Domain::Consent => "consent state".into(),
        Domain::Enum(f) => format!("variant of context field #{f}"),
    }
}

fn path_name(p: Path) -> &'static str {
    match p {
        Path::Tenant => "tenant",
        Path::Surface => "surface",
        Path::Purpose => "purpose",
        Path::UserId => "subject.user_id",
        Path::AnonymousId => "subject.anonymous_id",
        Path::Consent(_) => "consent.*",
        Path::ConsentVersion => "consent_version",
        Path::Context(_) => "context.*",
        Path::Mode => "mode",
        Path::FeatureName => "feature.name",
        Path::FeatureClass => "feature.class",
        Path::FeatureEntity => "feature.entity",
        Path::FeaturePersonal => "feature.personal",
        Path::FeatureSensitive => "feature.sensitive",
        Path::FeatureRetention => "feature.retention",
    }
}

/// Where a condition sits, which decides the paths it may read.
struct Place<'a> {
    name: String,
    m: &'a PolicyModel,
    mode_ok: bool,
    feature_ok: bool,
}

impl Place<'_> {
    fn out_of_range(&self, what: String) -> Refusal {
        Refusal::OutOfRange {
            place: self.name.clone(),
            what,
        }
    }

    fn ill_typed(&self, what: String) -> Refusal {
        Refusal::IllTyped {
            place: self.name.clone(),
            what,
        }
    }

    fn path(&self, p: Path) -> Result<Ty, Refusal> {
        let m = self.m;
        if (p == Path::Mode && !self.mode_ok) || (p.is_feature() && !self.feature_ok) {
            return Err(Refusal::Misplaced {
                place: self.name.clone(),
                path: path_name(p),
            });
        }
        Ok(match p {
            Path::Tenant
            | Path::UserId
            | Path::AnonymousId
            | Path::ConsentVersion
            | Path::FeatureEntity => Ty::Str,
            Path::Surface => Ty::Named(Domain::Surface, m.surfaces.len()),
            Path::Purpose => Ty::Named(Domain::Purpose, m.purposes.len()),
            Path::Mode => Ty::Named(Domain::Mode, m.modes.len()),
            Path::FeatureName => Ty::Named(Domain::Feature, m.features.len()),
            Path::FeatureClass => Ty::Named(Domain::Class, m.classes.len()),
            Path::Consent(t) => {
                if t as usize >= m.consent_topics.len() {
                    return Err(self.out_of_range(format!("consent topic id `{t}`")));
                }
                Ty::Named(Domain::Consent, 3)
            }
            Path::Context(f) => match m.context.get(f as usize).map(|c| &c.ty) {
                None => return Err(self.out_of_range(format!("context field id `{f}`"))),
                Some(ContextType::String) => Ty::Str,
                Some(ContextType::Int) => Ty::Int,
                Some(ContextType::Bool) => Ty::Bool,
                Some(ContextType::Duration) => Ty::Duration,
                Some(ContextType::Enum(v)) => Ty::Named(Domain::Enum(f), v.len()),
            },
            Path::FeaturePersonal | Path::FeatureSensitive => Ty::Bool,
            Path::FeatureRetention => Ty::Duration,
        })
    }

    fn operand(&self, o: &Operand) -> Result<Ty, Refusal> {
        Ok(match o {
            Operand::Path(p) => self.path(*p)?,
            Operand::Lit(Literal::Str(_)) => Ty::Str,
            Operand::Lit(Literal::Int(_)) => Ty::Int,
            Operand::Lit(Literal::Bool(_)) => Ty::Bool,
            Operand::Lit(Literal::Duration(_)) => Ty::Duration,
            Operand::Lit(Literal::Sym(v)) => Ty::Sym(*v),
        })
    }

    fn compare(&self, op: CmpOp, lhs: &Operand, rhs: &Operand) -> Result<(), Refusal> {
        let (a, b) = (self.operand(lhs)?, self.operand(rhs)?);
        let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let ty = match (a, b) {
            (Ty::Named(d, n), Ty::Sym(v)) | (Ty::Sym(v), Ty::Named(d, n)) => {
                if v as usize >= n {
                    return Err(self.out_of_range(format!(
                        "symbol `{v}` of {} ({n} declared)",
                        domain_name(d)
                    )));
                }
                a
            }
            (x, y) if x == y && !matches!(x, Ty::Sym(_)) => x,
            (x, y) => {
                return Err(self.ill_typed(format!(
                    "{} compared with {}",
                    describe(x),
                    describe(y)
                )));
            }
        };
        if ordering && !matches!(ty, Ty::Int | Ty::Duration) {
            return Err(self.ill_typed(format!("{} compared by order", describe(ty))));
        }
        Ok(())
    }

    fn expr(&self, e: &Expr) -> Result<(), Refusal> {
        match e {
            Expr::Bool(_) => Ok(()),
            Expr::Not(x) => self.expr(x),
            Expr::And(xs) | Expr::Or(xs) => xs.iter().try_for_each(|x| self.expr(x)),
            Expr::Compare { op, lhs, rhs } => self.compare(*op, lhs, rhs),
            Expr::InList { lhs, items, .. } => items
                .iter()
                .try_for_each(|i| self.compare(CmpOp::Eq, lhs, i)),
            Expr::HasRole { role, .. } => {
                if (*role as usize) < self.m.roles.len() {
                    Ok(())
                } else {
                    Err(self.out_of_range(format!("role id `{role}`")))
                }
            }
            Expr::Exists(p) => self.path(*p).map(drop),
            Expr::Truthy(p) => match self.path(*p)? {
                Ty::Bool => Ok(()),
                t => Err(self.ill_typed(format!("{} used as a condition", describe(t)))),
            },
            Expr::StartsWith(a, b) => {
                for o in [a, b] {
                    let t = self.operand(o)?;
                    if t != Ty::Str {
                        return Err(self.ill_typed(format!("`starts_with` of {}", describe(t))));
                    }
                }
                Ok(())
            }
        }
    }
}

fn conditions(m: &PolicyModel) -> Result<(), Refusal> {
    let place = |name: String, mode_ok: bool, feature_ok: bool| Place {
        name,
        m,
        mode_ok,
        feature_ok,
    };
    for arm in &m.resolve {
        if let Some(c) = &arm.condition {
            place(format!("resolve arm `{}`", arm.rule), false, false).expr(c)?;
        }
    }
    for s in &m.sources {
        if let Some(c) = &s.when {
            place(format!("source `{}`", s.name), true, false).expr(c)?;
        }
    }
    for f in &m.forbids {
        if let Some(c) = &f.when {
            place(
                format!("forbid rule `{}`", f.rule),
                true,
                f.kind == ForbidKind::Feature,
            )
            .expr(c)?;
        }
    }
    Ok(())
}
