//! The decision value and its JSON (spec 7.2).

use std::sync::Arc;

use crate::DenyCode;
use crate::compile::Compiled;
use crate::decide::{ReasonOutcome, Verdict};
use crate::json::write_str;

/// A decision. Names are ids into the compiled policy that made it; render it
/// with [`Decision::to_json`] against that same policy.
///
/// A decision is also a reusable buffer: [`Compiled::decide_into`] clears and
/// refills one in place, so that deciding again allocates nothing once its
/// vectors have grown.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The digest of the policy that decided.
    pub digest: Arc<str>,
    pub mode: u32,
    /// The `when` arm that decided the mode (`None`: `else`, or a fallback).
    pub arm: Option<u32>,
    pub route: Option<u32>,
    /// Per source, declaration order.
    pub sources: Vec<Verdict>,
    /// Covered registry features with their verdicts, registry order.
    pub features: Vec<(u32, Verdict)>,
    /// Names in the request's `features` that are not in the registry
    /// (denied `unknown_feature`), request order.
    pub unknown_features: crate::NameList,
    pub reasons: Vec<(String, ReasonOutcome)>,
    pub reasons_asked: bool,
    pub cache_scope: String,
    /// Working buffers of [`Compiled::decide_into`], kept between calls
    /// (small: at most a bit per registry feature and source, twice, and a
    /// set of the asked reason codes when there were many).
    pub(crate) scratch: Scratch,
}

/// The working buffers of a decision: no part of its value (every decision
/// equals every other in them, and they print as nothing).
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    /// The cache scope's two bitmaps, when they do not fit on the stack.
    pub bits: Vec<u8>,
    /// Allowed registry features, 64 per word.
    pub allowed: Vec<u64>,
    /// The features of a long feature list, 64 per word.
    pub covered: Vec<u64>,
    /// Keyed hash of an asked reason code → its first position, for
    /// de-duplicating many codes (made on first use: a decision asked few
    /// codes never seeds a hasher).
    pub seen: Option<std::collections::HashMap<u64, u32, foldhash::fast::RandomState>>,
    /// The reason strings of positions past the last decision's reasons
    /// (the next position last), reused by the next decision.
    pub spare: Vec<String>,
}

impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

impl Default for Decision {
    /// An empty decision, to be filled by [`Compiled::decide_into`].
    fn default() -> Decision {
        // One empty digest for every new buffer: making one is then no
        // allocation (`decide_into` puts the policy's digest in).
        static EMPTY: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from(""));
        Decision::with_digest(EMPTY.clone())
    }
}

impl Decision {
    pub(crate) fn with_digest(digest: Arc<str>) -> Decision {
        Decision {
            digest,
            mode: 0,
            arm: None,
            route: None,
            sources: Vec::new(),
            features: Vec::new(),
            unknown_features: crate::NameList::new(),
            reasons: Vec::new(),
            reasons_asked: false,
            cache_scope: String::new(),
            scratch: Scratch::default(),
        }
    }

    /// An empty decision ([`Decision::default`]), to be filled by
    /// [`Compiled::decide_into`].
    pub fn new() -> Decision {
        Decision::default()
    }

    /// The verdict of registry feature `f`, if the decision covers it.
    pub fn feature_verdict(&self, f: u32) -> Option<Verdict> {
        // `features` is in registry order, without duplicates.
        self.features
            .binary_search_by_key(&f, |(i, _)| *i)
            .ok()
            .and_then(|k| self.features.get(k))
            .map(|x| x.1)
    }

    pub fn allowed_features(&self) -> impl Iterator<Item = u32> + '_ {
        self.features
            .iter()
            .filter(|(_, v)| v.is_allowed())
            .map(|(i, _)| *i)
    }

    /// Compact JSON ([`Decision::write_json`] into a new string).
    pub fn to_json(&self, c: &Compiled) -> String {
        let mut out = String::with_capacity(1024);
        self.write_json(c, &mut out);
        out
    }

    /// Compact JSON through the tree renderer of [`Decision::to_json_pretty`]:
    /// the reference that [`Decision::write_json`] is tested against.
    #[doc(hidden)]
    pub fn to_json_via_tree(&self, c: &Compiled) -> String {
        let mut out = String::with_capacity(1024);
        self.tree(c).write(&mut out, None, 0);
        out
    }

    /// JSON indented by two spaces.
    pub fn to_json_pretty(&self, c: &Compiled) -> String {
        let mut out = String::with_capacity(2048);
        self.tree(c).write(&mut out, Some(2), 0);
        out
    }

    fn tree(&self, c: &Compiled) -> Node {
        let m = c.model();
        let grants = c.mode_grants.get(self.mode as usize).copied().unwrap_or(0);
        let mode_name = m
            .modes
            .get(self.mode as usize)
            .map_or("", |x| x.name.as_str());
        let caps = |mask: u64| -> String {
            m.capabilities
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Every id is looked up with `get`: a decision rendered against a
        // policy that did not make it must not panic (it renders blanks).
        let forbidden = |r: u32| -> Node {
            let rule = m.forbids.get(r as usize);
            let mut o = vec![
                ("code".into(), Node::s("forbidden")),
                ("rule".into(), Node::s(rule.map_or("", |x| x.rule.as_str()))),
            ];
            if let Some(b) = rule.and_then(|x| x.because.as_ref()) {
                o.push(("because".into(), Node::s(b)));
            }
            Node::Obj(o)
        };
        let denied = |code: DenyCode, detail: String| {
            Node::Obj(vec![
                ("code".into(), Node::s(code.as_str())),
                ("detail".into(), Node::Str(detail)),
            ])
        };

        let mut src_allowed = Vec::new();
        let mut src_denied = Vec::new();
        for (i, v) in self.sources.iter().enumerate() {
            let Some(s) = m.sources.get(i) else {
                continue;
            };
            match v {
                Verdict::Allowed => src_allowed.push(Node::s(&s.name)),
                Verdict::Forbidden(r) => src_denied.push((s.name.clone(), forbidden(*r))),
                Verdict::Denied(code) => {
                    let detail = match code {
                        DenyCode::CapabilityMissing => format!(
                            "mode {mode_name} does not grant {}",
                            caps(c.source_requires.get(i).copied().unwrap_or(0) & !grants)
                        ),
                        DenyCode::ConditionFalse => {
                            format!("the `when` condition of source {} is not true", s.name)
                        }
                        other => other.as_str().to_string(),
                    };
                    src_denied.push((s.name.clone(), denied(*code, detail)));
                }
            }
        }
        let mut f_allowed = Vec::new();
        let mut f_denied = Vec::new();
        let unknown = self.unknown_features.iter().map(|n| {
            (
                None,
                n.to_string(),
                Verdict::Denied(DenyCode::UnknownFeature),
            )
        });
        let known = self.features.iter().filter_map(|(i, v)| {
            let f = m.features.get(*i as usize)?;
            Some((Some(f), f.name.clone(), *v))
        });
        for (feat, name, v) in known.chain(unknown) {
            let v = &v;
            match v {
                Verdict::Allowed => f_allowed.push(Node::Str(name)),
                Verdict::Forbidden(r) => f_denied.push((name, forbidden(*r))),
                Verdict::Denied(code) => {
                    let detail = match (code, feat) {
                        (DenyCode::UnknownFeature, _) => {
                            format!("feature {name} is not in the registry")
                        }
                        (DenyCode::PurposeProhibited, _) => {
                            format!("the request's purpose is prohibited for feature {name}")
                        }
                        (DenyCode::PurposeNotAllowed, _) => format!(
                            "the request's purpose is not an allowed purpose of feature {name}"
                        ),
                        (DenyCode::ModeNotAllowed, _) => {
                            format!("feature {name} is not allowed in mode {mode_name}")
                        }
                        (DenyCode::CapabilityMissing, Some(ft)) => format!(
                            "mode {mode_name} does not grant {} required by class {}",
                            caps(
                                c.class_requires
                                    .get(ft.class as usize)
                                    .copied()
                                    .unwrap_or(0)
                                    & !grants
                            ),
                            m.classes
                                .get(ft.class as usize)
                                .map_or("", |x| x.name.as_str())
                        ),
                        (DenyCode::ConsentRequired, Some(ft)) => {
                            let topic = ft
                                .requires_consent
                                .and_then(|t| m.consent_topics.get(t as usize))
                                .map_or("", String::as_str);
                            format!("feature {name} requires consent {topic} to be granted")
                        }
                        (DenyCode::InvalidRequest, _) => {
                            "the request's purpose is invalid".to_string()
                        }
                        (other, _) => other.as_str().to_string(),
                    };
                    f_denied.push((name, denied(*code, detail)));
                }
            }
        }
        let mut top = vec![
            ("policy".to_string(), Node::s(&m.name)),
            ("version".into(), Node::s(&m.version)),
            ("digest".into(), Node::s(&self.digest)),
            ("mode".into(), Node::s(mode_name)),
            (
                "mode_rule".into(),
                Node::s(
                    self.arm
                        .and_then(|a| m.resolve.get(a as usize))
                        .map_or(&m.fallback.rule, |x| &x.rule),
                ),
            ),
            (
                "route".into(),
                self.route
                    .and_then(|r| m.feature_sets.get(r as usize))
                    .map_or(Node::Null, |x| Node::s(&x.name)),
            ),
            (
                "sources".into(),
                Node::Obj(vec![
                    ("allowed".into(), Node::Arr(src_allowed)),
                    ("denied".into(), Node::Obj(src_denied)),
                ]),
            ),
            (
                "features".into(),
                Node::Obj(vec![
                    ("allowed".into(), Node::Arr(f_allowed)),
                    ("denied".into(), Node::Obj(f_denied)),
                ]),
            ),
        ];
        if self.reasons_asked {
            let reasons = self
                .reasons
                .iter()
                .map(|(code, o)| {
                    let v = match o {
                        ReasonOutcome::Shown(r) => {
                            let r = m.reasons.get(*r as usize);
                            Node::Obj(vec![
                                ("shown".into(), Node::s(r.map_or("", |x| x.name.as_str()))),
                                ("text".into(), Node::s(r.map_or("", |x| x.text.as_str()))),
                            ])
                        }
                        ReasonOutcome::Suppressed(c) => {
                            Node::Obj(vec![("suppressed".into(), Node::s(c.as_str()))])
                        }
                        ReasonOutcome::Forbidden(_) => {
                            Node::Obj(vec![("suppressed".into(), Node::s("forbidden"))])
                        }
                    };
                    (code.clone(), v)
                })
                .collect();
            top.push(("reasons".into(), Node::Obj(reasons)));
        }
        top.push(("cache_scope".into(), Node::s(&self.cache_scope)));
        Node::Obj(top)
    }
}

/// A JSON tree that keeps key order.
enum Node {
    Null,
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

impl Node {
    fn s(s: &str) -> Node {
        Node::Str(s.to_string())
    }

    fn write(&self, out: &mut String, indent: Option<usize>, level: usize) {
        let nl = |out: &mut String, level: usize| {
            if let Some(w) = indent {
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', w * level));
            }
        };
        match self {
            Node::Null => out.push_str("null"),
            Node::Str(s) => write_str(out, s),
            Node::Arr(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, level + 1);
                    it.write(out, indent, level + 1);
                }
                nl(out, level);
                out.push(']');
            }
            Node::Obj(fields) => {
                if fields.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, level + 1);
                    write_str(out, k);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, level + 1);
                }
                nl(out, level);
                out.push('}');
            }
        }
    }
}
