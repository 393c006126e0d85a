//! A generator of wide policies: many consent topics, tenants named in forbid
//! rules, sources, features and surfaces, the shape real policies grow into.
//! The symbolic engine's tests and benches analyse them, and
//! `cargo run -p rpol-analysis --example wide_policy` writes one to disk.

use std::fmt::Write as _;

/// The size of a generated policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Consent topics (at least 2: `personalization` and `training`).
    pub topics: usize,
    /// Tenants named in `forbid source` rules, one rule each.
    pub tenants: usize,
    pub sources: usize,
    /// Registry features.
    pub features: usize,
    pub surfaces: usize,
    /// Thresholds `context.age` is compared with in `resolve`.
    pub thresholds: usize,
}

impl Shape {
    /// The size of issue 21's target: 30 topics, 200 tenants, 50 sources,
    /// 5,000 features, 6 surfaces.
    pub const TARGET: Shape = Shape {
        topics: 30,
        tenants: 200,
        sources: 50,
        features: 5_000,
        surfaces: 6,
        thresholds: 2,
    };
}

/// A generated policy: its one `.rpol` file and its registry.
#[derive(Debug, Clone)]
pub struct Wide {
    pub policy: String,
    pub registry: String,
}

fn topic(i: usize) -> String {
    match i {
        0 => "personalization".into(),
        1 => "training".into(),
        _ => format!("topic_{i}"),
    }
}

/// The source each tenant's forbid rule targets.
pub fn forbidden_source(tenant: usize, shape: &Shape) -> usize {
    (tenant * 7) % shape.sources.max(1)
}

/// The index into the generator's mode lists of a non-personal feature.
fn mode_of(i: usize) -> usize {
    (i / 4 + 2) % 3
}

/// Non-personal and allowed in every mode (feature 0 always is).
fn usable_everywhere(i: usize) -> bool {
    i % 4 < 2 && mode_of(i) == 2
}

/// Generates the policy; `drop_forbid` leaves out the rule of that tenant
/// (for a diff that must find exactly that difference).
pub fn generate(shape: &Shape, drop_forbid: Option<usize>) -> Wide {
    let topics = shape.topics.max(2);
    let mut p = String::new();
    p.push_str("policy wide {\n  version: \"1\"\n  registry: \"features.yaml\"\n}\n\n");
    p.push_str("purposes [personalization, quality_monitoring, ads_targeting, training]\n");
    let names: Vec<String> = (0..topics).map(topic).collect();
    let _ = writeln!(p, "consent [{}]", names.join(", "));
    p.push_str("capabilities [behavior, profile, context, coarse_context]\nroles [sre, privacy_engineer]\n");
    let surfaces: Vec<String> = (0..shape.surfaces.max(1))
        .map(|i| format!("surface_{i}"))
        .collect();
    let _ = writeln!(p, "surfaces [{}]\n", surfaces.join(", "));
    p.push_str("context {\n  region: string\n  age: int\n  device: [mobile, desktop, tv]\n}\n\n");
    p.push_str(
        "mode personalized     { grants: [behavior, profile, context, coarse_context] }\n\
         mode contextual_only  { grants: [context, coarse_context] }\n\
         mode non_personalized { grants: [coarse_context] }\n\n",
    );
    p.push_str("resolve mode {\n  when not exists(subject.user_id) => non_personalized\n");
    for k in 0..shape.thresholds {
        let _ = writeln!(
            p,
            "  when context.age < {} => {}",
            13 + 3 * k,
            if k == 0 {
                "non_personalized"
            } else {
                "contextual_only"
            }
        );
    }
    p.push_str(
        "  when consent.personalization == granted => personalized\n\
         \x20 when consent.personalization == denied => non_personalized\n\
         \x20 else => contextual_only\n}\n\n",
    );
    p.push_str(
        "class public_catalog { }\n\
         class contextual { requires: [coarse_context] }\n\
         class behavioral_personal { requires: [behavior] personal: true }\n\
         class sensitive_inferred { requires: [behavior, profile] personal: true sensitive: true }\n\n",
    );
    let caps = [
        "[behavior]",
        "[context]",
        "[coarse_context]",
        "[]",
        "[behavior, profile]",
    ];
    for s in 0..shape.sources {
        let _ = write!(p, "source src_{s} {{ requires: {}", caps[s % caps.len()]);
        if s % 5 != 3 {
            let _ = write!(p, ", when: consent.{} == granted", topic(s % topics));
        }
        p.push_str(" }\n");
    }
    p.push('\n');
    let feature = |i: usize| format!("f_{i}");
    for (u, s) in surfaces.iter().enumerate() {
        let n = shape.features.max(1);
        // Personalized routes take any feature; contextual ones only
        // features usable in every mode (non-personal, all modes allowed).
        let usable: Vec<usize> = (0..n).filter(|&i| usable_everywhere(i)).collect();
        let pick = |k: usize| -> Vec<String> {
            let mut ids: Vec<usize> = (0..8)
                .map(|j| {
                    if k == 0 {
                        (u * 13 + j * 31) % n
                    } else {
                        usable[(u * 8 + j) % usable.len().max(1)]
                    }
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().map(feature).collect()
        };
        let _ = writeln!(
            p,
            "feature_set personalized_{u} {{ modes: [personalized], surfaces: [{s}], features: [{}] }}",
            pick(0).join(", ")
        );
        let _ = writeln!(
            p,
            "feature_set contextual_{u} {{ modes: [contextual_only, non_personalized], surfaces: [{s}], features: [{}] }}",
            pick(1).join(", ")
        );
    }
    p.push('\n');
    for t in 0..shape.tenants {
        if drop_forbid == Some(t) {
            continue;
        }
        let _ = writeln!(
            p,
            "forbid source src_{} when tenant == \"tenant_{t}\"",
            forbidden_source(t, shape)
        );
    }
    p.push_str(
        "forbid feature when feature.sensitive and purpose == ads_targeting\n\
         forbid feature when purpose == training and consent.training != granted\n\n",
    );
    p.push_str(
        "reason similar_recent { text: \"Similar to items you viewed\" requires: [behavior] codes: [\"nn_*\"] }\n\
         reason editors_pick { text: \"Picked by our editors\" codes: [\"editorial\"] }\n",
    );
    let mut r = String::from("features:\n");
    let classes = [
        "public_catalog",
        "contextual",
        "behavioral_personal",
        "sensitive_inferred",
    ];
    let modes = [
        "[personalized]",
        "[personalized, contextual_only]",
        "[personalized, contextual_only, non_personalized]",
    ];
    let purposes = [
        "[personalization, quality_monitoring]",
        "[personalization, ads_targeting, training]",
        "[personalization, quality_monitoring, ads_targeting, training]",
    ];
    for i in 0..shape.features {
        let class = classes[i % classes.len()];
        let _ = writeln!(
            r,
            "  - name: {}\n    entity: {}\n    privacy_class: {class}\n    allowed_privacy_modes: {}\n    allowed_purposes: {}",
            feature(i),
            if i % 2 == 0 { "user" } else { "item" },
            if class.ends_with("personal") || class == "sensitive_inferred" {
                modes[0]
            } else {
                modes[mode_of(i)]
            },
            purposes[(i / 3) % purposes.len()],
        );
        if class.ends_with("personal") || class == "sensitive_inferred" {
            let _ = writeln!(r, "    requires_consent: {}", topic((i / 4) % topics));
        }
        if i % 11 == 5 && (i / 3) % purposes.len() == 0 {
            r.push_str("    prohibited_purposes: [ads_targeting]\n");
        }
    }
    Wide {
        policy: p,
        registry: r,
    }
}

impl Wide {
    /// Writes `wide.rpol` and `features.yaml` into `dir` (created).
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("wide.rpol"), &self.policy)?;
        std::fs::write(dir.join("features.yaml"), &self.registry)
    }
}
