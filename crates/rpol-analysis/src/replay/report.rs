//! The replay report: counts and the first examples of each kind of change,
//! merged from chunks in log order so that it does not depend on threads.

use std::collections::BTreeMap;

use rpol_engine::LOG_DENY_CODES;
use serde_json::{Value, json};

/// What may change for a logged decision. A line may change in several kinds
/// at once (a mode change usually changes the sources too); each kind counts
/// the lines in which it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Mode,
    Route,
    /// The number of allowed sources.
    SourcesAllowed,
    /// The number of denied sources.
    SourcesDenied,
    /// The denied count of at least one deny code of the sources.
    SourcesCodes,
    /// The set of allowed source names (even with the same count).
    SourcesSet,
    FeaturesAllowed,
    FeaturesDenied,
    FeaturesCodes,
    FeaturesSet,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 10] = [
        ChangeKind::Mode,
        ChangeKind::Route,
        ChangeKind::SourcesAllowed,
        ChangeKind::SourcesDenied,
        ChangeKind::SourcesCodes,
        ChangeKind::SourcesSet,
        ChangeKind::FeaturesAllowed,
        ChangeKind::FeaturesDenied,
        ChangeKind::FeaturesCodes,
        ChangeKind::FeaturesSet,
    ];

    /// The key of this kind in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Mode => "mode",
            ChangeKind::Route => "route",
            ChangeKind::SourcesAllowed => "sources_allowed",
            ChangeKind::SourcesDenied => "sources_denied",
            ChangeKind::SourcesCodes => "sources_codes",
            ChangeKind::SourcesSet => "sources_set",
            ChangeKind::FeaturesAllowed => "features_allowed",
            ChangeKind::FeaturesDenied => "features_denied",
            ChangeKind::FeaturesCodes => "features_codes",
            ChangeKind::FeaturesSet => "features_set",
        }
    }

    /// Words for a human report.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Mode => "mode",
            ChangeKind::Route => "route",
            ChangeKind::SourcesAllowed => "allowed sources (count)",
            ChangeKind::SourcesDenied => "denied sources (count)",
            ChangeKind::SourcesCodes => "source deny codes",
            ChangeKind::SourcesSet => "allowed sources (set)",
            ChangeKind::FeaturesAllowed => "allowed features (count)",
            ChangeKind::FeaturesDenied => "denied features (count)",
            ChangeKind::FeaturesCodes => "feature deny codes",
            ChangeKind::FeaturesSet => "allowed features (set)",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One changed line of one kind. `old` is what the log recorded, `new` what
/// the policy decides now; for a set change they are the 16-hex set hashes
/// and `detail` lists the names allowed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// 1-based line number in the log.
    pub line: u64,
    pub id: String,
    pub old: Seen,
    pub new: Seen,
    pub detail: Option<String>,
}

/// One side of a change: a name or hash, a count, or counts per deny code.
/// Counts stay numbers so that the JSON report carries numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Text(String),
    Count(u32),
    Codes([u32; LOG_DENY_CODES.len()]),
}

impl Seen {
    /// A name or hash as a string, a count as a number, deny codes as an
    /// object of the codes that occur (`{}` for none), in log order.
    pub fn to_json(&self) -> Value {
        match self {
            Seen::Text(s) => json!(s),
            Seen::Count(n) => json!(n),
            Seen::Codes(counts) => Value::Object(
                LOG_DENY_CODES
                    .iter()
                    .zip(counts)
                    .filter(|(_, n)| **n > 0)
                    .map(|(c, n)| (c.as_str().to_string(), json!(n)))
                    .collect(),
            ),
        }
    }
}

impl std::fmt::Display for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seen::Text(s) => f.write_str(s),
            Seen::Count(n) => write!(f, "{n}"),
            Seen::Codes(counts) => f.write_str(&super::compare::codes_text(counts)),
        }
    }
}

/// The lines of one kind of change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindChanges {
    pub count: u64,
    /// For `mode` and `route`: how many lines went from one value to another
    /// (`none` for no route). Empty for the other kinds.
    pub transitions: BTreeMap<(String, String), u64>,
    /// The first examples, in log order.
    pub examples: Vec<Example>,
}

/// A line that is not a decision-log line (replay exits 2 when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: u64,
    pub message: String,
}

/// Why well-formed JSON was still refused as a log line; each is also a
/// [`Malformed`] line, counted here by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refused {
    /// A key no log line has (a forged or foreign line).
    pub unknown_key: u64,
    /// A `time` that is not an RFC 3339 date-time.
    pub bad_time: u64,
    /// A subject id that is not a pseudonym (`hmac:` and 32 hex digits): a
    /// log must never hold raw user ids.
    pub raw_subject_id: u64,
}

impl Refused {
    pub fn total(&self) -> u64 {
        self.unknown_key + self.bad_time + self.raw_subject_id
    }
}

/// A logged request that the policy rejects now (a service would serve the
/// fallback decision instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NowInvalid {
    pub line: u64,
    pub id: String,
    pub errors: Vec<String>,
}

/// A logged request that cannot be decided again faithfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecidable {
    pub line: u64,
    pub id: String,
    pub reason: String,
}

/// A count and the first few of something, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issues<T> {
    pub count: u64,
    pub first: Vec<T>,
}

impl<T> Default for Issues<T> {
    fn default() -> Self {
        Issues {
            count: 0,
            first: Vec::new(),
        }
    }
}

impl<T> Issues<T> {
    pub(crate) fn push(&mut self, max: usize, item: impl FnOnce() -> T) {
        self.count += 1;
        if self.first.len() < max {
            self.first.push(item());
        }
    }

    fn merge(&mut self, other: Issues<T>, max: usize) {
        self.count += other.count;
        let room = max.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }
}

/// What replaying a log found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// The digest of the policy the log was replayed under.
    pub digest: String,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Empty lines, skipped.
    pub blank_lines: u64,
    /// Well-formed log lines.
    pub decisions: u64,
    /// Decisions decided again and compared (the rest are malformed, now
    /// invalid or undecidable).
    pub redecided: u64,
    /// Of those, lines that logged an invalid request: their fallback decision
    /// was decided again.
    pub logged_invalid: u64,
    /// Re-decided decisions with at least one change.
    pub changed: u64,
    /// Decisions logged under another digest than [`ReplayReport::digest`].
    pub other_digest: u64,
    /// Distinct logged digests with their line counts, in order of first
    /// appearance (at most [`MAX_DIGESTS`]; `more_digests` counts the others).
    pub digests: Vec<(String, u64)>,
    pub more_digests: u64,
    pub malformed: Issues<Malformed>,
    /// Of the malformed lines, those refused for a cause worth its own count.
    pub refused: Refused,
    pub now_invalid: Issues<NowInvalid>,
    pub undecidable: Issues<Undecidable>,
    /// One entry per [`ChangeKind`], in [`ChangeKind::ALL`] order.
    pub changes: Vec<KindChanges>,
}

/// How many distinct digests a report lists.
pub const MAX_DIGESTS: usize = 10;

impl ReplayReport {
    pub(crate) fn empty() -> ReplayReport {
        ReplayReport {
            changes: vec![KindChanges::default(); ChangeKind::ALL.len()],
            ..ReplayReport::default()
        }
    }

    pub fn kind(&self, k: ChangeKind) -> &KindChanges {
        &self.changes[k.index()]
    }

    /// Whether every logged decision was decided again and none changed: the
    /// only outcome that may be reported as "nothing would change".
    pub fn unchanged(&self) -> bool {
        self.changed == 0
            && self.now_invalid.count == 0
            && self.undecidable.count == 0
            && self.malformed.count == 0
    }

    pub(crate) fn count_digest(&mut self, digest: &str, n: u64) {
        if let Some(d) = self.digests.iter_mut().find(|(d, _)| d == digest) {
            d.1 += n;
        } else if self.digests.len() < MAX_DIGESTS {
            self.digests.push((digest.to_string(), n));
        } else {
            self.more_digests += n;
        }
    }

    /// Adds the report of the next chunk of the log.
    pub(crate) fn merge(&mut self, other: ReplayReport, max: usize) {
        self.lines += other.lines;
        self.blank_lines += other.blank_lines;
        self.decisions += other.decisions;
        self.redecided += other.redecided;
        self.logged_invalid += other.logged_invalid;
        self.changed += other.changed;
        self.other_digest += other.other_digest;
        for (d, n) in other.digests {
            self.count_digest(&d, n);
        }
        self.more_digests += other.more_digests;
        self.malformed.merge(other.malformed, max);
        self.refused.unknown_key += other.refused.unknown_key;
        self.refused.bad_time += other.refused.bad_time;
        self.refused.raw_subject_id += other.refused.raw_subject_id;
        self.now_invalid.merge(other.now_invalid, max);
        self.undecidable.merge(other.undecidable, max);
        for (mine, theirs) in self.changes.iter_mut().zip(other.changes) {
            mine.count += theirs.count;
            for (k, n) in theirs.transitions {
                *mine.transitions.entry(k).or_default() += n;
            }
            let room = max.saturating_sub(mine.examples.len());
            mine.examples.extend(theirs.examples.into_iter().take(room));
        }
    }

    /// The report as JSON (documented in docs/decision-logs.md).
    pub fn to_json(&self) -> Value {
        let changes: serde_json::Map<String, Value> = ChangeKind::ALL
            .iter()
            .map(|k| {
                let c = self.kind(*k);
                let mut o = json!({
                    "count": c.count,
                    "examples": c.examples.iter().map(|e| {
                        let mut x = json!({"line": e.line, "id": e.id, "old": e.old.to_json(), "new": e.new.to_json()});
                        if let Some(d) = &e.detail {
                            x["detail"] = json!(d);
                        }
                        x
                    }).collect::<Vec<_>>(),
                });
                if matches!(k, ChangeKind::Mode | ChangeKind::Route) {
                    o["transitions"] = c
                        .transitions
                        .iter()
                        .map(|((from, to), n)| json!({"from": from, "to": to, "count": n}))
                        .collect();
                }
                (k.as_str().to_string(), o)
            })
            .collect();
        json!({
            "unchanged": self.unchanged(),
            "digest": self.digest,
            "lines": self.lines,
            "blank_lines": self.blank_lines,
            "decisions": self.decisions,
            "redecided": self.redecided,
            "logged_invalid": self.logged_invalid,
            "changed": self.changed,
            "other_digest": self.other_digest,
            "digests": self.digests.iter().map(|(d, n)| json!({"digest": d, "count": n})).collect::<Vec<_>>(),
            "more_digests": self.more_digests,
            "malformed": {
                "count": self.malformed.count,
                "first": self.malformed.first.iter().map(|m| json!({"line": m.line, "message": m.message})).collect::<Vec<_>>(),
                "refused": {
                    "unknown_key": self.refused.unknown_key,
                    "bad_time": self.refused.bad_time,
                    "raw_subject_id": self.refused.raw_subject_id,
                },
            },
            "now_invalid": {
                "count": self.now_invalid.count,
                "first": self.now_invalid.first.iter().map(|m| json!({"line": m.line, "id": m.id, "errors": m.errors})).collect::<Vec<_>>(),
            },
            "undecidable": {
                "count": self.undecidable.count,
                "first": self.undecidable.first.iter().map(|m| json!({"line": m.line, "id": m.id, "reason": m.reason})).collect::<Vec<_>>(),
            },
            "changes": changes,
        })
    }
}
