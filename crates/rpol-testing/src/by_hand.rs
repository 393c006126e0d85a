//! The hand-written limit of the generated workload (issue 18): the same
//! decision as the engine (every feature's verdict, the sources, the cache
//! scope) computed by code that knows this one policy: per-(purpose, mode)
//! verdict columns and bit sets, word-level deny codes, one SHA-256 and the
//! cache-scope string. Nothing is interpreted; it is what a team would write
//! by hand for this policy, and the floor the engine is measured against in
//! the same run. A test holds its output equal to the engine's.

use rpol_engine::model::{CONSENT_GRANTED, PolicyModel};
use rpol_engine::{CtxVal, DenyCode, Request, Verdict};
use sha2::{Digest, Sha256};

use crate::workload;

/// A feature rule of the workload: its index and features (64 per word).
struct Rule {
    index: u32,
    words: Vec<u64>,
}

pub struct ByHand {
    nf: usize,
    nm: usize,
    /// Per (purpose × modes + mode): every feature's verdict of steps 2–5 …
    columns: Vec<Vec<(u32, Verdict)>>,
    /// … and the features passing them.
    pass: Vec<Vec<u64>>,
    /// Per consent topic: the features that need it.
    topics: Vec<Vec<u64>>,
    grants: Vec<u64>,
    personal_caps: u64,
    /// Modes of the four `resolve` outcomes.
    non_personalized: u32,
    personalized: u32,
    contextual_only: u32,
    personalization_topic: usize,
    ads_purpose: u32,
    region: usize,
    sensitive: Rule,
    /// Per class: its tenants and its block rule.
    class_blocks: Vec<(Vec<String>, Rule)>,
    eu_retention: Rule,
    source_requires: Vec<u64>,
    geo_source: usize,
    two_tower: (usize, u32),
    model: PolicyModel,
}

/// Output buffers, reused across calls.
#[derive(Default)]
pub struct HandDecision {
    pub mode: u32,
    pub sources: Vec<Verdict>,
    pub features: Vec<(u32, Verdict)>,
    pub allowed: Vec<u64>,
    bytes: Vec<u8>,
    pub cache_scope: String,
}

fn mask(ids: &[u32]) -> u64 {
    ids.iter().fold(0, |m, &i| m | 1 << i)
}

fn index(names: &[String], name: &str) -> usize {
    names.iter().position(|n| n == name).unwrap_or(usize::MAX)
}

impl ByHand {
    pub fn new(model: &PolicyModel) -> ByHand {
        let m = model;
        let (nf, np, nm) = (m.features.len(), m.purposes.len(), m.modes.len());
        let words = nf.div_ceil(64);
        let grants: Vec<u64> = m.modes.iter().map(|md| mask(&md.grants)).collect();
        let class_caps: Vec<u64> = m.classes.iter().map(|c| mask(&c.requires)).collect();
        let set = |pred: &dyn Fn(usize) -> bool| {
            let mut w = vec![0u64; words];
            for f in (0..nf).filter(|&f| pred(f)) {
                w[f / 64] |= 1 << (f % 64);
            }
            w
        };
        let mut columns = Vec::new();
        let mut pass = Vec::new();
        for p in 0..np as u32 {
            for (md, &granted) in grants.iter().enumerate() {
                let verdict = |f: usize| {
                    let ft = &m.features[f];
                    let code = if ft.prohibited_purposes.contains(&p) {
                        DenyCode::PurposeProhibited
                    } else if !ft.allowed_purposes.contains(&p) {
                        DenyCode::PurposeNotAllowed
                    } else if !ft.allowed_modes.contains(&(md as u32)) {
                        DenyCode::ModeNotAllowed
                    } else if class_caps[ft.class as usize] & !granted != 0 {
                        DenyCode::CapabilityMissing
                    } else {
                        return Verdict::Allowed;
                    };
                    Verdict::Denied(code)
                };
                columns.push((0..nf).map(|f| (f as u32, verdict(f))).collect());
                pass.push(set(&|f| verdict(f) == Verdict::Allowed));
            }
        }
        let topics = (0..m.consent_topics.len() as u32)
            .map(|t| set(&|f| m.features[f].requires_consent == Some(t)))
            .collect();
        let rule_of = |text: &str| {
            m.forbids
                .iter()
                .position(|r| r.because.as_deref() == Some(text))
                .unwrap_or(usize::MAX) as u32
        };
        let class_of = |name: &str| {
            index(
                &m.classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                name,
            )
        };
        let mode_of = |name: &str| {
            index(
                &m.modes.iter().map(|md| md.name.clone()).collect::<Vec<_>>(),
                name,
            ) as u32
        };
        let class_blocks = workload::CLASSES
            .iter()
            .enumerate()
            .map(|(c, class)| {
                let ci = class_of(class) as u32;
                (
                    workload::blocked_tenants(c),
                    Rule {
                        index: rule_of(&workload::block_reason(class)),
                        words: set(&|f| m.features[f].class == ci),
                    },
                )
            })
            .collect();
        let sensitive_classes: Vec<u32> = (0..m.classes.len() as u32)
            .filter(|&c| m.classes[c as usize].sensitive)
            .collect();
        let source = |name: &str| {
            index(
                &m.sources.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
                name,
            )
        };
        ByHand {
            nf,
            nm,
            columns,
            pass,
            topics,
            personal_caps: m
                .classes
                .iter()
                .zip(&class_caps)
                .filter(|(c, _)| c.personal)
                .fold(0, |a, (_, r)| a | r),
            grants,
            non_personalized: mode_of("non_personalized"),
            personalized: mode_of("personalized"),
            contextual_only: mode_of("contextual_only"),
            personalization_topic: index(&m.consent_topics, "personalization"),
            ads_purpose: index(&m.purposes, "ads_targeting") as u32,
            region: index(
                &m.context.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
                "region",
            ),
            sensitive: Rule {
                index: rule_of(workload::SENSITIVE_REASON),
                words: set(&|f| sensitive_classes.contains(&m.features[f].class)),
            },
            class_blocks,
            eu_retention: Rule {
                index: rule_of(workload::EU_REASON),
                words: set(&|f| m.features[f].retention_days.is_some_and(|d| d > 180)),
            },
            source_requires: m.sources.iter().map(|s| mask(&s.requires)).collect(),
            geo_source: source("geo_popular"),
            two_tower: (source("two_tower"), rule_of(workload::TWO_TOWER_REASON)),
            model: m.clone(),
        }
    }

    /// The mode `resolve` picks (the workload's four arms, by hand).
    fn mode(&self, req: &Request) -> u32 {
        let consent = req.consent.get(self.personalization_topic).copied();
        if req.user_id.is_none() {
            self.non_personalized
        } else if consent == Some(CONSENT_GRANTED as u8) {
            self.personalized
        } else if consent == Some(rpol_engine::model::CONSENT_DENIED as u8) {
            self.non_personalized
        } else {
            self.contextual_only
        }
    }

    /// The allowed features of `req` into `out.allowed`; with `codes`, every
    /// feature's verdict into `out.features` (the column, patched word by word).
    pub fn decide(&self, req: &Request, out: &mut HandDecision, codes: bool) {
        let mode = self.mode(req);
        out.mode = mode;
        let pm = req.purpose.unwrap_or(0) as usize * self.nm + mode as usize;
        out.allowed.clear();
        out.allowed.extend_from_slice(&self.pass[pm]);
        out.features.clear();
        if codes {
            out.features.extend_from_slice(&self.columns[pm]);
        }
        let deny = |words: &[u64], v: Verdict, out: &mut HandDecision| {
            for (w, (a, &m)) in out.allowed.iter_mut().zip(words).enumerate() {
                let mut hit = *a & m;
                *a &= !hit;
                if codes {
                    while hit != 0 {
                        out.features[w * 64 + hit.trailing_zeros() as usize].1 = v;
                        hit &= hit - 1;
                    }
                }
            }
        };
        for (t, words) in self.topics.iter().enumerate() {
            if req.consent.get(t).copied() != Some(CONSENT_GRANTED as u8) {
                deny(words, Verdict::Denied(DenyCode::ConsentRequired), out);
            }
        }
        if req.purpose == Some(self.ads_purpose) {
            deny(
                &self.sensitive.words,
                Verdict::Forbidden(self.sensitive.index),
                out,
            );
        }
        let tenant = req.tenant.as_deref().unwrap_or("");
        for (tenants, rule) in &self.class_blocks {
            if tenants.iter().any(|t| t == tenant) {
                deny(&rule.words, Verdict::Forbidden(rule.index), out);
            }
        }
        // An absent region is unknown, and unknown forbids.
        let region = req.context.get(self.region).and_then(Option::as_ref);
        if region.is_none_or(|r| *r == CtxVal::Str("EU".into())) {
            deny(
                &self.eu_retention.words,
                Verdict::Forbidden(self.eu_retention.index),
                out,
            );
        }
        // Sources: capabilities, geo's `when`, two_tower's tenant block.
        out.sources.clear();
        for (s, &requires) in self.source_requires.iter().enumerate() {
            let v = if requires & !self.grants[mode as usize] != 0 {
                Verdict::Denied(DenyCode::CapabilityMissing)
            } else if s == self.geo_source && region.is_none() {
                Verdict::Denied(DenyCode::ConditionFalse)
            } else if s == self.two_tower.0 && (tenant == "t3" || tenant == "t8") {
                Verdict::Forbidden(self.two_tower.1)
            } else {
                Verdict::Allowed
            };
            out.sources.push(v);
        }
    }

    /// [`ByHand::decide`] and the cache scope: the bitmaps' SHA-256 and the string.
    pub fn decide_scoped(&self, req: &Request, out: &mut HandDecision, codes: bool) {
        self.decide(req, out, codes);
        let m = &self.model;
        out.bytes.clear();
        let sources = out.sources.iter().enumerate();
        out.bytes
            .push(sources.fold(0, |b, (s, v)| b | u8::from(v.is_allowed()) << s));
        for w in &out.allowed {
            out.bytes.extend_from_slice(&w.to_le_bytes());
        }
        out.bytes.truncate(1 + self.nf.div_ceil(8));
        let hash = Sha256::digest(&out.bytes);
        let subject = if self.grants[out.mode as usize] & self.personal_caps == 0 {
            "*"
        } else {
            req.user_id
                .as_deref()
                .or(req.anonymous_id.as_deref())
                .unwrap_or("-")
        };
        let s = &mut out.cache_scope;
        s.clear();
        s.push_str(req.tenant.as_deref().unwrap_or("-"));
        s.push('/');
        s.push_str(req.surface.map_or("-", |x| &m.surfaces[x as usize]));
        s.push('/');
        s.push_str(&m.modes[out.mode as usize].name);
        s.push('/');
        s.push_str(subject);
        s.push('/');
        s.push_str(req.consent_version.as_deref().unwrap_or("-"));
        s.push('/');
        s.push_str(&m.digest[..12]);
        s.push('/');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in &hash[..4] {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written decision is the engine's, on the whole request stream.
    #[test]
    fn by_hand_equals_the_engine() {
        let c = workload::compiled(2_000);
        let hand = ByHand::new(c.model());
        let mut out = HandDecision::default();
        for text in workload::requests(416) {
            let req = c.parse_request(&text).unwrap();
            let d = c.decide(&req, &[]);
            hand.decide_scoped(&req, &mut out, true);
            assert_eq!(out.mode, d.mode, "{text}");
            assert_eq!(out.sources, d.sources, "{text}");
            assert_eq!(out.features, d.features, "{text}");
            assert_eq!(out.cache_scope, d.cache_scope, "{text}");
        }
    }
}
