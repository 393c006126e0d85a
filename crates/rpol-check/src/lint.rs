//! Lints L001–L010 (spec 5, and L010 from issue 16): legal but dangerous or dead policy.
//! L003 (not fail-safe) is an error unless allowed.

use std::collections::{HashMap, HashSet};

use rpol_diag::{Diagnostic, FileId, Severity, Span, did_you_mean};
use rpol_engine::model::{Expr, Literal, Operand, Path, PolicyModel};

use crate::abstract_eval::{Abstract, Consent, T};
use crate::{Checked, CheckedPolicy};

/// Runs every lint on a policy that checked clean; allowed lints are dropped.
pub fn lint(checked: &Checked) -> Vec<Diagnostic> {
    let Some(policy) = &checked.policy else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let l = Linter {
        checked,
        policy,
        model: &policy.model,
    };
    l.unused(&mut out);
    l.resolve_arms(&mut out);
    l.fail_safe(&mut out);
    l.constant_conditions(&mut out);
    l.forbid_without_because(&mut out);
    l.snake_case(&mut out);
    l.dead_features(&mut out);
    l.ungrantable_sources(&mut out);
    l.unused_modes(&mut out);
    l.bidi_controls(&mut out);
    // One answer per (file, item, code): thousands of lints inside one item
    // would otherwise each walk the comment lines above it.
    let mut memo: HashMap<(FileId, usize, &'static str), bool> = HashMap::new();
    out.retain(|d| {
        let at = allow_anchor(checked, d.primary.file, d.primary.span);
        !*memo
            .entry((d.primary.file, at, d.code))
            .or_insert_with(|| allowed_at(checked, d.code, d.primary.file, at))
    });
    // The allows that silenced something, for L012.
    let used: HashSet<(FileId, usize, &str)> = memo
        .into_iter()
        .filter(|(_, allowed)| *allowed)
        .map(|(k, _)| k)
        .collect();
    out.extend(unneeded_allows(checked, &used));
    out.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.code));
    out
}

/// What `rpol check` (`with_lints == false`) or `rpol lint` reports for a
/// checked policy: its errors, then the lints. Shared by the CLI and the
/// language server so that both show the same findings.
pub fn reported(checked: &Checked, with_lints: bool) -> Vec<Diagnostic> {
    let mut diags: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if with_lints {
        diags.extend(lint(checked));
    }
    diags
}

struct Linter<'a> {
    checked: &'a Checked,
    policy: &'a CheckedPolicy,
    model: &'a PolicyModel,
}

fn warn(code: &'static str, file: FileId, span: Span, msg: String, help: &str) -> Diagnostic {
    Diagnostic::warning(code, file, span, msg).with_help(help.to_string())
}

impl Linter<'_> {
    fn text(&self, file: FileId, span: Span) -> String {
        let s = self.checked.sources.get(file).slice(span);
        let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if one.len() > 80 {
            format!(
                "{}…",
                &one[..one.char_indices().nth(77).map_or(one.len(), |(i, _)| i)]
            )
        } else {
            one
        }
    }

    /// L001: declared but never referred to.
    fn unused(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let mut purposes = HashSet::new();
        let mut topics = HashSet::new();
        let mut caps = HashSet::new();
        let mut roles = HashSet::new();
        let mut classes = HashSet::new();
        for f in &m.features {
            purposes.extend(
                f.allowed_purposes
                    .iter()
                    .chain(&f.prohibited_purposes)
                    .copied(),
            );
            topics.extend(f.requires_consent);
            classes.insert(f.class);
        }
        for md in &m.modes {
            caps.extend(md.grants.iter().copied());
        }
        for c in &m.classes {
            caps.extend(c.requires.iter().copied());
        }
        for s in &m.sources {
            caps.extend(s.requires.iter().copied());
        }
        for r in &m.reasons {
            caps.extend(r.requires.iter().copied());
        }
        roles.extend(m.debug.iter().map(|(r, _)| *r));
        for e in self.model.conditions() {
            walk(e, &mut |e| match e {
                Expr::HasRole { role, .. } => {
                    roles.insert(*role);
                }
                Expr::Compare { lhs, rhs, .. } => note_sym(
                    lhs,
                    std::slice::from_ref(rhs),
                    &mut purposes,
                    &mut topics,
                    &mut classes,
                ),
                Expr::InList { lhs, items, .. } => {
                    note_sym(lhs, items, &mut purposes, &mut topics, &mut classes)
                }
                Expr::Exists(Path::Consent(t)) | Expr::Truthy(Path::Consent(t)) => {
                    topics.insert(*t);
                }
                _ => {}
            });
        }
        let s = &self.checked.scope;
        let mut report = |names: &crate::names::Names, used: &HashSet<u32>| {
            for (i, d) in names.decls.iter().enumerate() {
                if !used.contains(&(i as u32)) {
                    out.push(warn(
                        "L001",
                        d.file,
                        d.span,
                        format!(
                            "{} `{}` is declared but nothing refers to it",
                            names.kind, d.name
                        ),
                        "remove it, or use it; an unused name often hides a typo elsewhere",
                    ));
                }
            }
        };
        report(&s.purposes, &purposes);
        report(&s.consent, &topics);
        report(&s.capabilities, &caps);
        report(&s.roles, &roles);
        report(&s.classes, &classes);
    }

    /// L002: a `resolve` arm that can never be the first true arm.
    fn resolve_arms(&self, out: &mut Vec<Diagnostic>) {
        let a = Abstract {
            model: self.model,
            consent: Consent::Free,
        };
        let arms = &self.model.resolve;
        let spans = &self.policy.spans.arms;
        let mut always: Option<usize> = None;
        // Earlier conditions by their printed form (the model's expressions
        // are not `Hash`): comparing each arm with every earlier one took 21 s
        // for 10,000 arms.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, arm) in arms.iter().enumerate() {
            let (file, span) = spans[i];
            let cond = arm.condition.as_ref();
            if let Some(j) = always {
                out.push(warn(
                    "L002",
                    file,
                    span,
                    format!(
                        "unreachable arm: the arm on line {} is always true",
                        self.line(spans[j])
                    ),
                    "remove this arm or narrow the earlier one",
                ));
                continue;
            }
            let key = format!("{cond:?}");
            if let Some(&j) = seen.get(&key) {
                out.push(warn(
                    "L002",
                    file,
                    span,
                    format!(
                        "unreachable arm: same condition as the arm on line {}",
                        self.line(spans[j])
                    ),
                    "remove the duplicate arm",
                ));
            } else {
                seen.insert(key, i);
            }
            if cond.is_some_and(|c| a.eval(c) == T) {
                always = Some(i);
            }
        }
        if let Some(j) = always {
            let (file, span) = self.policy.spans.fallback;
            out.push(warn(
                "L002",
                file,
                span,
                format!(
                    "unreachable `else`: the arm on line {} is always true",
                    self.line(spans[j])
                ),
                "make the always-true arm the `else` arm",
            ));
        }
    }

    fn line(&self, (file, span): (FileId, Span)) -> usize {
        self.checked.sources.get(file).line_col(span.start).line
    }

    /// L003: with every consent topic unknown, can `resolve` yield a mode that
    /// grants a capability a personal class requires?
    fn fail_safe(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let a = Abstract {
            model: m,
            consent: Consent::AllUnknown,
        };
        let mut candidates: Vec<(u32, (FileId, Span), String)> = Vec::new();
        let mut blocked = false;
        for (i, arm) in m.resolve.iter().enumerate() {
            let Some(c) = &arm.condition else { continue };
            let set = a.eval(c);
            if set & T != 0 {
                let span = self.policy.spans.arms[i];
                candidates.push((arm.mode, span, self.text(span.0, span.1)));
                if set == T {
                    blocked = true;
                    break;
                }
            }
        }
        if !blocked {
            let span = self.policy.spans.fallback;
            candidates.push((m.fallback.mode, span, self.text(span.0, span.1)));
        }
        for (mode, (file, span), text) in candidates {
            let grants = &m.modes[mode as usize].grants;
            let hit = m.classes.iter().filter(|c| c.personal).find_map(|c| {
                c.requires
                    .iter()
                    .find(|r| grants.contains(r))
                    .map(|r| (c, *r))
            });
            if let Some((class, cap)) = hit {
                out.push(
                    Diagnostic {
                        severity: Severity::Error,
                        ..warn(
                            "L003",
                            file,
                            span,
                            format!(
                                "not fail-safe: with every consent topic `unknown`, arm `{text}` can resolve to mode `{}`, which grants `{}` required by personal class `{}`",
                                m.modes[mode as usize].name, m.capabilities[cap as usize], class.name
                            ),
                            "require granted consent in this arm (e.g. `consent.<topic> == granted`), or add `# rpol: allow(L003)` above `resolve` if this is intended",
                        )
                    },
                );
            }
        }
    }

    /// L004: a `when` that is always true or never true.
    fn constant_conditions(&self, out: &mut Vec<Diagnostic>) {
        let a = Abstract {
            model: self.model,
            consent: Consent::Free,
        };
        let m = self.model;
        let sp = &self.policy.spans;
        let mut check = |e: &Expr, (file, span): (FileId, Span), what: &str| {
            let set = a.eval(e);
            let verdict = if set == T {
                "always true"
            } else if set & T == 0 {
                "never true"
            } else {
                return;
            };
            out.push(warn(
                "L004",
                file,
                span,
                format!("the `when` condition of {what} is {verdict}"),
                "remove the condition or fix it so that it depends on the request",
            ));
        };
        for (i, arm) in m.resolve.iter().enumerate() {
            if let Some(c) = &arm.condition {
                check(c, sp.arms[i], "this `resolve` arm");
            }
        }
        for (i, s) in m.sources.iter().enumerate() {
            if let Some(c) = &s.when {
                check(c, sp.sources[i], &format!("source `{}`", s.name));
            }
        }
        for (i, f) in m.forbids.iter().enumerate() {
            if let Some(c) = &f.when {
                check(c, sp.forbids[i], "this `forbid` rule");
            }
        }
    }

    /// L005: a forbid rule should say why.
    fn forbid_without_because(&self, out: &mut Vec<Diagnostic>) {
        for (i, f) in self.model.forbids.iter().enumerate() {
            if f.because.is_none() {
                let (file, span) = self.policy.spans.forbids[i];
                out.push(warn(
                    "L005",
                    file,
                    span,
                    "`forbid` rule without `because`".into(),
                    "add `because \"…\"`: the text is shown in decisions and reviews",
                ));
            }
        }
    }

    /// L006: names are `snake_case`.
    fn snake_case(&self, out: &mut Vec<Diagnostic>) {
        let s = &self.checked.scope;
        for names in [
            &s.purposes,
            &s.consent,
            &s.capabilities,
            &s.roles,
            &s.surfaces,
            &s.context,
            &s.modes,
            &s.classes,
            &s.sources,
            &s.feature_sets,
            &s.reasons,
            &s.retention,
        ] {
            for d in &names.decls {
                if !is_snake_case(&d.name) {
                    out.push(warn(
                        "L006",
                        d.file,
                        d.span,
                        format!("{} `{}` is not snake_case", names.kind, d.name),
                        &format!("rename it to `{}`", to_snake_case(&d.name)),
                    ));
                }
            }
        }
    }

    /// L007: a registry feature that no purpose and mode can allow.
    fn dead_features(&self, out: &mut Vec<Diagnostic>) {
        let (Some(reg), Some(rfile)) = (&self.checked.registry, self.checked.registry_file) else {
            return;
        };
        let m = self.model;
        for (f, entry) in m.features.iter().zip(&reg.features) {
            let purpose_ok = f
                .allowed_purposes
                .iter()
                .any(|p| !f.prohibited_purposes.contains(p));
            let requires = &m.classes[f.class as usize].requires;
            let mode_ok = f.allowed_modes.iter().any(|md| {
                requires
                    .iter()
                    .all(|c| m.modes[*md as usize].grants.contains(c))
            });
            if !purpose_ok || !mode_ok {
                let why = if !purpose_ok {
                    "it has no allowed purpose that is not prohibited"
                } else {
                    "none of its allowed modes grants what its class requires"
                };
                out.push(warn(
                    "L007",
                    rfile,
                    entry.name.span,
                    format!("feature `{}` can never be allowed: {why}", f.name),
                    "fix its purposes or modes, or remove it from the registry",
                ));
            }
        }
    }

    /// L008: a source whose `requires` no mode grants.
    fn ungrantable_sources(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        for (i, s) in m.sources.iter().enumerate() {
            if !m
                .modes
                .iter()
                .any(|md| s.requires.iter().all(|c| md.grants.contains(c)))
            {
                let (file, span) = self.policy.spans.sources[i];
                out.push(warn(
                    "L008",
                    file,
                    span,
                    format!(
                        "source `{}` can never run: no mode grants all of its `requires`",
                        s.name
                    ),
                    "grant the capabilities in a mode, or drop the source",
                ));
            }
        }
    }

    /// L010: Unicode bidirectional controls (Trojan Source, CVE-2021-42574)
    /// make an editor display text in another order than rpol reads it.
    /// Names are ASCII, so in a file that parsed they sit in strings or
    /// comments. One finding per line.
    fn bidi_controls(&self, out: &mut Vec<Diagnostic>) {
        for (file, ast) in &self.checked.asts {
            let f = self.checked.sources.get(*file);
            let mut last_line = None;
            for (i, &b) in f.text.as_bytes().iter().enumerate() {
                // Every bidi control is encoded starting E2 or D8.
                if b != 0xe2 && b != 0xd8 {
                    continue;
                }
                let Some(ch) = f.text.get(i..).and_then(|t| t.chars().next()) else {
                    continue;
                };
                let Some(name) = bidi_name(ch) else { continue };
                let line = f.line_index(i);
                if last_line == Some(line) {
                    continue;
                }
                last_line = Some(line);
                let k = ast.comments.partition_point(|c| c.span.start <= i);
                let place = match k.checked_sub(1).map(|k| ast.comments[k].span) {
                    Some(c) if i < c.end => "a comment",
                    _ => "a string",
                };
                out.push(warn(
                    "L010",
                    *file,
                    Span::new(i, i + ch.len_utf8()),
                    format!(
                        "bidirectional control character `U+{:04X}` ({name}) in {place}: editors may show the code around it in another order than rpol reads it",
                        ch as u32
                    ),
                    "remove it; if a string really needs it, write it as a `\\u{…}` escape so that it is visible",
                ));
            }
        }
    }

    /// L009: a mode no `resolve` arm yields.
    fn unused_modes(&self, out: &mut Vec<Diagnostic>) {
        let m = self.model;
        let yielded: HashSet<u32> = m
            .resolve
            .iter()
            .map(|a| a.mode)
            .chain([m.fallback.mode])
            .collect();
        for (i, d) in self.checked.scope.modes.decls.iter().enumerate() {
            if !yielded.contains(&(i as u32)) {
                out.push(warn(
                    "L009",
                    d.file,
                    d.span,
                    format!("mode `{}` is never the result of `resolve mode`", d.name),
                    "add an arm that yields it, or remove the mode",
                ));
            }
        }
    }
}

fn note_sym(
    lhs: &Operand,
    items: &[Operand],
    purposes: &mut HashSet<u32>,
    topics: &mut HashSet<u32>,
    classes: &mut HashSet<u32>,
) {
    let syms = || {
        items.iter().filter_map(|o| {
            if let Operand::Lit(Literal::Sym(s)) = o {
                Some(*s)
            } else {
                None
            }
        })
    };
    match lhs {
        Operand::Path(Path::Purpose) => purposes.extend(syms()),
        Operand::Path(Path::FeatureClass) => classes.extend(syms()),
        Operand::Path(Path::Consent(t)) => {
            topics.insert(*t);
        }
        _ => {}
    }
    for it in items {
        if let Operand::Path(Path::Consent(t)) = it {
            topics.insert(*t);
        }
    }
    if let (Operand::Lit(Literal::Sym(s)), [Operand::Path(p)]) = (lhs, items) {
        match p {
            Path::Purpose => {
                purposes.insert(*s);
            }
            Path::FeatureClass => {
                classes.insert(*s);
            }
            _ => {}
        }
    }
}

fn walk(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Not(x) => walk(x, f),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

pub fn is_snake_case(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.contains("__")
        && !s.ends_with('_')
}

/// The Unicode bidirectional formatting characters, by name.
fn bidi_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202A}' => "left-to-right embedding",
        '\u{202B}' => "right-to-left embedding",
        '\u{202C}' => "pop directional formatting",
        '\u{202D}' => "left-to-right override",
        '\u{202E}' => "right-to-left override",
        '\u{2066}' => "left-to-right isolate",
        '\u{2067}' => "right-to-left isolate",
        '\u{2068}' => "first strong isolate",
        '\u{2069}' => "pop directional isolate",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{061C}' => "arabic letter mark",
        _ => return None,
    })
}

fn to_snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    let trimmed: String = out
        .trim_matches('_')
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if trimmed.is_empty() {
        "name".into()
    } else {
        trimmed
    }
}

/// The `rpol verify` properties an allow comment may name (docs/analysis.md).
pub const PROPERTIES: &[&str] = &[
    "consent_monotonicity",
    "fail_safe",
    "mode_monotonicity",
    "live_forbids",
];

/// One name in a `# rpol: allow(…)` comment.
#[derive(Debug, Clone)]
pub struct AllowName {
    pub file: FileId,
    /// The name as written, and where.
    pub name: String,
    pub span: Span,
    /// The start of the item the comment covers: the item on the first line
    /// after the comment lines that hold it; `None` when no item starts there.
    pub item: Option<usize>,
}

/// Every name of every `# rpol: allow(…)` comment of the policy's files.
pub fn allow_names(checked: &Checked) -> Vec<AllowName> {
    let mut out = Vec::new();
    for (file_id, ast) in &checked.asts {
        let file = checked.sources.get(*file_id);
        for c in &ast.comments {
            let text = file.slice(c.span);
            let Some(open) = text.find("rpol: allow(") else {
                continue;
            };
            let inner_start = open + "rpol: allow(".len();
            let inner = &text[inner_start..];
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            // The first line below the comment block.
            let mut line = file.line_index(c.span.start) + 1;
            loop {
                let next = file
                    .slice(Span::new(file.line_start(line), file.line_start(line + 1)))
                    .trim();
                if next.starts_with('#') && file.line_start(line) < file.text.len() {
                    line += 1;
                } else {
                    break;
                }
            }
            let item = ast
                .items
                .iter()
                .map(|i| i.span.start)
                .find(|&s| file.line_index(s) == line && s >= file.line_start(line));
            let mut at = c.span.start + inner_start;
            for part in inner.split(',') {
                let lead = part.len() - part.trim_start().len();
                let name = part.trim();
                if !name.is_empty() {
                    out.push(AllowName {
                        file: *file_id,
                        name: name.to_string(),
                        span: Span::new(at + lead, at + lead + name.len()),
                        item,
                    });
                }
                at += part.len() + 1;
            }
        }
    }
    out
}

/// L011 (an allow naming no lint or property) and L012 (an allow of a lint
/// that the item below does not raise, or above no item). `used` holds the
/// (file, item start, code) of every allow that silenced a lint.
fn unneeded_allows(checked: &Checked, used: &HashSet<(FileId, usize, &str)>) -> Vec<Diagnostic> {
    let lints: Vec<&str> = rpol_diag::codes::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| c.starts_with('L'))
        .collect();
    let mut out = Vec::new();
    for a in allow_names(checked) {
        let is_lint = lints.contains(&a.name.as_str());
        if !is_lint && !PROPERTIES.contains(&a.name.as_str()) {
            let known = lints.iter().chain(PROPERTIES).copied();
            let mut d = Diagnostic::warning(
                "L011",
                a.file,
                a.span,
                format!(
                    "`{}` in `# rpol: allow(…)` is neither a lint code nor a `verify` property",
                    a.name
                ),
            )
            .with_label("allows nothing");
            d = match did_you_mean(&a.name, known) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")).with_suggestion(s),
                None => d.with_help("name a lint code such as `L005`, or a property: `consent_monotonicity`, `fail_safe`, `mode_monotonicity`, `live_forbids`"),
            };
            out.push(d);
            continue;
        }
        // Properties are judged by `rpol verify`; L011 and L012 would judge themselves.
        if !is_lint || a.name == "L011" || a.name == "L012" {
            continue;
        }
        let message = match a.item {
            None => format!(
                "`# rpol: allow({})` is above no item, so it suppresses nothing",
                a.name
            ),
            Some(start) if !used.contains(&(a.file, start, a.name.as_str())) => format!(
                "`# rpol: allow({})` suppresses nothing: the item below does not raise {}",
                a.name, a.name
            ),
            Some(_) => continue,
        };
        out.push(
            Diagnostic::warning("L012", a.file, a.span, message)
                .with_label("nothing to allow")
                .with_help("remove the allow, so that a reader does not take the item for an accepted exception"),
        );
    }
    out
}

/// `# rpol: allow(L00N)` in the comment lines directly above the item holding
/// the diagnostic (policy files), or above the registry entry (YAML).
/// Whether a `# rpol: allow(CODE)` comment covers the item at `span`
/// (`rpol verify` honours an allowed L003 on the `resolve` block).
pub fn is_allowed(checked: &Checked, code: &'static str, file: FileId, span: Span) -> bool {
    allowed_at(checked, code, file, allow_anchor(checked, file, span))
}

/// Where the allow comments for a finding at `span` sit above: the start of
/// the item holding it (policy files), or the span itself (the registry).
pub fn allow_anchor(checked: &Checked, file: FileId, span: Span) -> usize {
    let at = span.start;
    if Some(file) == checked.registry_file {
        return at;
    }
    let Some((_, ast)) = checked.asts.iter().find(|(f, _)| *f == file) else {
        return at;
    };
    // Items are in source order: the last one starting at or before `at`.
    let i = ast.items.partition_point(|i| i.span.start <= at);
    match i.checked_sub(1).map(|i| &ast.items[i]) {
        Some(item) if at < item.span.end.max(item.span.start + 1) => item.span.start,
        _ => at,
    }
}

fn allowed_at(checked: &Checked, code: &str, file_id: FileId, start: usize) -> bool {
    let file = checked.sources.get(file_id);
    let mut line = file.line_index(start);
    while line > 0 {
        line -= 1;
        let text = file
            .slice(Span::new(file.line_start(line), file.line_start(line + 1)))
            .trim();
        if !text.starts_with('#') {
            return false;
        }
        if let Some(rest) = text.split("rpol: allow(").nth(1)
            && rest
                .split(')')
                .next()
                .is_some_and(|codes| codes.split(',').any(|c| c.trim() == code))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert!(is_snake_case("user_cf"));
        assert!(is_snake_case("item2vec"));
        assert!(!is_snake_case("UserCF"));
        assert!(!is_snake_case("user__cf"));
        assert!(!is_snake_case("_x"));
        assert_eq!(to_snake_case("UserCf"), "user_cf");
    }
}
