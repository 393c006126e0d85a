//! Prometheus metrics. Label values come only from the policy (its surfaces,
//! purposes, modes and forbid rules) or from fixed sets (deny codes, routes),
//! so the number of series is bounded by the policies loaded. Counting a
//! decision indexes pre-built counters by ids: no string is formatted or
//! hashed per request.

use std::sync::OnceLock;

use crate::histogram::DurationHistogram;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rpol_engine::{Compiled, Decision, DenyCode, ReasonOutcome, Verdict};

type L1 = [(&'static str, String); 1];
type L2 = [(&'static str, String); 2];
type L3 = [(&'static str, String); 3];

/// The label value of a surface or purpose that the request did not give
/// validly (an invalid request's fallback, or a field left out).
pub const NONE: &str = "-";

/// Every deny code, in `DenyCode` order, for the `code` label.
const CODES: [DenyCode; 11] = [
    DenyCode::CapabilityMissing,
    DenyCode::ConditionFalse,
    DenyCode::Forbidden,
    DenyCode::UnknownFeature,
    DenyCode::PurposeProhibited,
    DenyCode::PurposeNotAllowed,
    DenyCode::ModeNotAllowed,
    DenyCode::ConsentRequired,
    DenyCode::InvalidRequest,
    DenyCode::NoReasonForCode,
    DenyCode::FeatureDenied,
];

/// The routes of `rpol_http_request_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Decide,
    Batch,
    Opa,
    Policy,
    Health,
    Ready,
    Metrics,
    Other,
}

impl Route {
    const ALL: [Route; 8] = [
        Route::Decide,
        Route::Batch,
        Route::Opa,
        Route::Policy,
        Route::Health,
        Route::Ready,
        Route::Metrics,
        Route::Other,
    ];

    pub fn of(path: &str) -> Route {
        match path {
            "/v1/decide" => Route::Decide,
            "/v1/decide/batch" => Route::Batch,
            "/v1/data/rpol/decision" => Route::Opa,
            "/v1/policy" => Route::Policy,
            "/health" => Route::Health,
            "/health/ready" => Route::Ready,
            "/metrics" => Route::Metrics,
            _ => Route::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Route::Decide => "/v1/decide",
            Route::Batch => "/v1/decide/batch",
            Route::Opa => "/v1/data/rpol/decision",
            Route::Policy => "/v1/policy",
            Route::Health => "/health",
            Route::Ready => "/health/ready",
            Route::Metrics => "/metrics",
            Route::Other => "other",
        }
    }
}

/// Buckets of the engine-time histogram: 1 µs to 10 ms.
const DECISION_BUCKETS: [f64; 12] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2,
];
/// Buckets of the HTTP histogram: 25 µs to 1 s.
const HTTP_BUCKETS: [f64; 13] = [
    2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.25, 1.0,
];

fn http_histogram() -> DurationHistogram {
    DurationHistogram::new(&HTTP_BUCKETS)
}

/// The service's metrics (process-wide; survive reloads).
pub struct Metrics {
    registry: Registry,
    decisions: Family<L3, Counter>,
    fallback: Family<L1, Counter>,
    pub invalid: Counter,
    forbid: Family<L1, Counter>,
    personal: Family<L1, Counter>,
    pub decision_duration: DurationHistogram,
    policy_info: Family<L3, Gauge>,
    pub reload_ok: Counter,
    pub reload_refused: Counter,
    pub log_dropped: Counter,
    /// `[kind][code]`, kind 0 source, 1 feature, 2 reason.
    denied: [[Counter; 11]; 3],
    http: [DurationHistogram; 8],
    info_current: std::sync::Mutex<Option<L3>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let decisions = Family::<L3, Counter>::default();
        registry.register(
            "rpol_decisions",
            "Decisions served, by surface, purpose and mode",
            decisions.clone(),
        );
        let fallback = Family::<L1, Counter>::default();
        registry.register(
            "rpol_mode_fallback",
            "Decisions whose mode came from the `else` arm (consent unknown, fail-safe path), by surface",
            fallback.clone(),
        );
        let invalid = Counter::default();
        registry.register(
            "rpol_invalid_requests",
            "Invalid requests (served the fallback decision)",
            invalid.clone(),
        );
        let denied_family = Family::<L2, Counter>::default();
        registry.register(
            "rpol_denied",
            "Denied sources and features and suppressed reasons, by kind and deny code",
            denied_family.clone(),
        );
        let kinds = ["source", "feature", "reason"];
        let denied = kinds.map(|k| {
            CODES.map(|c| {
                denied_family
                    .get_or_create(&[("kind", k.to_string()), ("code", c.as_str().to_string())])
                    .clone()
            })
        });
        let forbid = Family::<L1, Counter>::default();
        registry.register(
            "rpol_forbid_fired",
            "Decisions in which a forbid rule denied something, by rule",
            forbid.clone(),
        );
        let personal = Family::<L1, Counter>::default();
        registry.register(
            "rpol_personal_feature_requested",
            "Features of a personal class asked for in a mode that does not allow them, by mode",
            personal.clone(),
        );
        let decision_duration = DurationHistogram::new(&DECISION_BUCKETS);
        registry.register(
            "rpol_decision_duration_seconds",
            "Engine time of one decision (request parse and decide), in seconds",
            decision_duration.clone(),
        );
        let http_family =
            Family::<L1, DurationHistogram, fn() -> DurationHistogram>::new_with_constructor(
                http_histogram,
            );
        registry.register(
            "rpol_http_request_duration_seconds",
            "HTTP request handling time, by route, in seconds",
            http_family.clone(),
        );
        let http = Route::ALL.map(|r| {
            http_family
                .get_or_create(&[("route", r.label().to_string())])
                .clone()
        });
        let policy_info = Family::<L3, Gauge>::default();
        registry.register(
            "rpol_policy_info",
            "The policy being served (value 1)",
            policy_info.clone(),
        );
        let reloads = Family::<L1, Counter>::default();
        registry.register(
            "rpol_policy_reloads",
            "Policy reloads, by result (ok or refused)",
            reloads.clone(),
        );
        let reload_ok = reloads.get_or_create(&[("result", "ok".into())]).clone();
        let reload_refused = reloads
            .get_or_create(&[("result", "refused".into())])
            .clone();
        let log_dropped = Counter::default();
        registry.register(
            "rpol_decision_log_dropped",
            "Decision log lines dropped because the writer fell behind",
            log_dropped.clone(),
        );
        Metrics {
            registry,
            decisions,
            fallback,
            invalid,
            forbid,
            personal,
            decision_duration,
            policy_info,
            reload_ok,
            reload_refused,
            log_dropped,
            denied,
            http,
            info_current: std::sync::Mutex::new(None),
        }
    }

    pub fn http(&self, route: Route) -> &DurationHistogram {
        // `Route::ALL` has every route, in declaration order, so the index
        // of any `Route` is in range.
        #[allow(clippy::indexing_slicing)]
        &self.http[route as usize]
    }

    /// Counts one denial of `kind` (0 source, 1 feature, 2 reason) with `code`
    /// (a code outside the table, `policy_mismatch`, is never in a decision).
    fn denied(&self, kind: usize, code: DenyCode) {
        if let Some(c) = self.denied.get(kind).and_then(|k| k.get(code as usize)) {
            c.inc();
        }
    }

    /// The text exposition (OpenMetrics text, which Prometheus reads).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Points `rpol_policy_info` at `c` (the previous policy's series is removed).
    pub fn set_policy(&self, c: &Compiled) {
        let m = c.model();
        let labels: L3 = [
            ("name", m.name.clone()),
            ("version", m.version.clone()),
            ("digest", c.digest().to_string()),
        ];
        let mut cur = self
            .info_current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = cur.take() {
            self.policy_info.remove(&old);
        }
        self.policy_info.get_or_create(&labels).set(1);
        *cur = Some(labels);
    }

    /// Pre-builds the per-policy counters of `c`.
    pub fn for_policy(&self, c: &Compiled) -> PolicyCounters {
        let m = c.model();
        let (ns, np, nm, nf) = (
            m.surfaces.len() + 1,
            m.purposes.len() + 1,
            m.modes.len(),
            m.features.len(),
        );
        let name = label;
        let fallback = (0..ns)
            .map(|s| {
                self.fallback
                    .get_or_create(&[("surface", name(&m.surfaces, s))])
                    .clone()
            })
            .collect();
        let forbid = m
            .forbids
            .iter()
            .map(|f| {
                self.forbid
                    .get_or_create(&[("rule", f.rule.clone())])
                    .clone()
            })
            .collect();
        let personal = m
            .modes
            .iter()
            .map(|md| {
                self.personal
                    .get_or_create(&[("mode", md.name.clone())])
                    .clone()
            })
            .collect();
        // A feature of a personal class is not allowed in a mode when the
        // feature does not list the mode, or the mode does not grant every
        // capability its class requires.
        let mut personal_disallowed = vec![false; nm * nf];
        for (mi, mode) in m.modes.iter().enumerate() {
            for (fi, f) in m.features.iter().enumerate() {
                let Some(class) = m.classes.get(f.class as usize) else {
                    continue;
                };
                if !class.personal {
                    continue;
                }
                let granted = class.requires.iter().all(|r| mode.grants.contains(r));
                let listed = f.allowed_modes.contains(&(mi as u32));
                if let Some(slot) = personal_disallowed.get_mut(mi * nf + fi) {
                    *slot = !(granted && listed);
                }
            }
        }
        PolicyCounters {
            surfaces: ns,
            purposes: np,
            modes: nm,
            features: nf,
            decisions: (0..ns * np * nm).map(|_| OnceLock::new()).collect(),
            fallback,
            forbid,
            personal,
            personal_disallowed,
            forbid_seen: m.forbids.len(),
        }
    }
}

/// The label value of a surface or purpose: [`NONE`] for index 0, else the
/// name of `names[i - 1]`.
fn label(names: &[String], i: usize) -> String {
    match i.checked_sub(1).and_then(|i| names.get(i)) {
        Some(n) => n.clone(),
        None => NONE.to_string(),
    }
}

/// Counters of one policy, indexed by the ids of its surfaces, purposes,
/// modes and rules.
pub struct PolicyCounters {
    surfaces: usize,
    purposes: usize,
    modes: usize,
    features: usize,
    /// `[(surface + 1) × purposes' + (purpose + 1)] × modes + mode`; created
    /// on first use so that unused combinations add no series.
    decisions: Vec<OnceLock<Counter>>,
    fallback: Vec<Counter>,
    forbid: Vec<Counter>,
    personal: Vec<Counter>,
    personal_disallowed: Vec<bool>,
    forbid_seen: usize,
}

/// What the metrics need to know about the request beside its decision.
pub struct Asked {
    pub surface: Option<u32>,
    pub purpose: Option<u32>,
    /// Whether the request listed `features` itself (asked for them).
    pub listed_features: bool,
}

impl PolicyCounters {
    /// Counts one served decision (a fallback too: `invalid` says so).
    pub fn record(&self, metrics: &Metrics, c: &Compiled, asked: &Asked, d: &Decision) {
        let idx = |v: Option<u32>, n: usize| v.map_or(0, |x| (x as usize + 1).min(n - 1));
        let (s, p, mode) = (
            idx(asked.surface, self.surfaces),
            idx(asked.purpose, self.purposes),
            d.mode as usize,
        );
        if mode < self.modes {
            let i = (s * self.purposes + p) * self.modes + mode;
            if let Some(cell) = self.decisions.get(i) {
                cell.get_or_init(|| {
                    let m = c.model();
                    let name = label;
                    metrics
                        .decisions
                        .get_or_create(&[
                            ("surface", name(&m.surfaces, s)),
                            ("purpose", name(&m.purposes, p)),
                            (
                                "mode",
                                m.modes
                                    .get(mode)
                                    .map_or_else(String::new, |md| md.name.clone()),
                            ),
                        ])
                        .clone()
                })
                .inc();
            }
        }
        if d.arm.is_none()
            && let Some(c) = self.fallback.get(s)
        {
            c.inc();
        }
        // Each rule counts once per decision however much it denied.
        let mut fired_small = 0u64;
        let mut fired_more: Vec<u32> = Vec::new();
        let mut fire = |r: u32| {
            if r < 64 {
                fired_small |= 1 << r;
            } else if !fired_more.contains(&r) {
                fired_more.push(r);
            }
        };
        for v in &d.sources {
            count_verdict(metrics, 0, *v, &mut fire);
        }
        let check_personal = asked.listed_features && mode < self.modes;
        for (f, v) in &d.features {
            count_verdict(metrics, 1, *v, &mut fire);
            if check_personal
                && self
                    .personal_disallowed
                    .get(mode * self.features + *f as usize)
                    .copied()
                    .unwrap_or(false)
                && let Some(c) = self.personal.get(mode)
            {
                c.inc();
            }
        }
        for _ in &d.unknown_features {
            metrics.denied(1, DenyCode::UnknownFeature);
        }
        for (_, o) in &d.reasons {
            match o {
                ReasonOutcome::Shown(_) => {}
                ReasonOutcome::Suppressed(code) => {
                    metrics.denied(2, *code);
                }
                ReasonOutcome::Forbidden(r) => {
                    metrics.denied(2, DenyCode::Forbidden);
                    fire(*r);
                }
            }
        }
        while fired_small != 0 {
            let r = fired_small.trailing_zeros() as usize;
            fired_small &= fired_small - 1;
            if r < self.forbid_seen
                && let Some(c) = self.forbid.get(r)
            {
                c.inc();
            }
        }
        for r in fired_more {
            if let Some(c) = self.forbid.get(r as usize) {
                c.inc();
            }
        }
    }
}

fn count_verdict(metrics: &Metrics, kind: usize, v: Verdict, fire: &mut impl FnMut(u32)) {
    match v {
        Verdict::Allowed => {}
        Verdict::Denied(code) => {
            metrics.denied(kind, code);
        }
        Verdict::Forbidden(r) => {
            metrics.denied(kind, DenyCode::Forbidden);
            fire(r);
        }
    }
}
