//! Embedding the rpol engine in a ranking service (docs/embedding.md).
//!
//! Run: `cargo run -p rpol-engine --example embed`

use std::path::Path;
use std::sync::Arc;

use rpol_engine::{AllowedSet, Compiled, DenyCode, Engine, FeatureId, ReasonOutcome, Verdict};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. At deploy time, `rpol compile policies/home -o home.rpolc` writes a
    //    verified artifact. Here we compile in-process from the sources.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = rpol_check::load::read_policy(&root.join("policies/home"))?;
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let policy = checked
        .policy
        .ok_or("the policy has errors: run `rpol check`")?;
    let artifact = Compiled::build(policy.model)?.to_artifact();

    // 2. At service start, load the artifact (its checksum is verified) into an
    //    `Engine` shared by every request thread.
    let engine = Arc::new(Engine::new(Compiled::from_artifact(&artifact)?));

    // 3. Per request: parse strictly, then decide.
    let body = r#"{"tenant":"acme","surface":"home","purpose":"personalization",
                   "subject":{"user_id":"u123"},"consent":{"personalization":"granted"}}"#;
    let policy = engine.load(); // one policy for the whole request, even during a swap
    let request = match policy.parse_request(body) {
        Ok(r) => r,
        Err(errors) => {
            // Serve the fallback decision, never more.
            let (_, fallback) = policy.decide_json(body, &[]).expect_err("invalid");
            eprintln!("invalid request: {errors}");
            println!("{}", fallback.to_json(&policy));
            return Ok(());
        }
    };
    let decision = policy.decide(&request, &["user_embedding_nn_7"]);
    println!(
        "mode = {}",
        policy.model().modes[decision.mode as usize].name
    );
    println!("cache scope = {}", decision.cache_scope);

    // 4. Hot path: prepare once, then check single features with no allocation.
    //    A `FeatureId` is tied to the registry that resolved it, a `Prepared`
    //    to the policy that prepared it: resolve names at start-up.
    let prepared = policy.prepare(&request);
    let embedding: FeatureId = policy
        .feature_id("user_embedding")
        .ok_or("not in the registry")?;
    match policy.check_feature(&prepared, embedding) {
        Verdict::Allowed => println!("user_embedding: fetch it"),
        denied => println!("user_embedding: {:?}", denied.code()),
    }
    if let ReasonOutcome::Shown(r) = policy.explain(&prepared, "user_embedding_nn_7") {
        println!("reason: {}", policy.model().reasons[r as usize].text);
    }
    println!(
        "keep raw events {} s",
        policy.retention("raw_behavior_events")?
    );
    println!(
        "sre sees user_embedding in debug: {}",
        policy.debug_visible("sre", embedding)
    );

    // 5. Only the allowed set, into buffers reused across requests (one
    //    `AllowedSet` and one JSON `String` per worker thread).
    let mut allowed = AllowedSet::new();
    policy.decide_allowed_scoped(&request, &mut allowed);
    assert_eq!(allowed.cache_scope(), decision.cache_scope);
    for f in allowed.allowed_features() {
        println!("allowed: {}", policy.model().features[f as usize].name);
    }
    let mut out = String::new();
    decision.write_json(&policy, &mut out); // appends; the same bytes as `to_json`

    // 6. A new policy version: swap atomically while other threads decide.
    engine.swap(Compiled::from_artifact(&artifact)?);
    //    Ids resolved before the swap keep working when the new registry has
    //    the same features in the same order. Otherwise every check with them
    //    is denied `policy_mismatch` (never another feature's verdict):
    //    resolve the names again against the new policy.
    let policy = engine.load();
    let request = policy.parse_request(body)?;
    let prepared = policy.prepare(&request);
    let verdict = match policy.check_feature(&prepared, embedding) {
        Verdict::Denied(DenyCode::PolicyMismatch) => {
            let embedding = policy.feature_id("user_embedding").ok_or("gone")?;
            policy.check_feature(&prepared, embedding)
        }
        v => v,
    };
    println!("after the swap, user_embedding: {verdict:?}");
    Ok(())
}
