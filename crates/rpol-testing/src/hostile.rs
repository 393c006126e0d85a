//! Hostile request shapes (issue 16): each as large as the engine accepts
//! (1 MiB, arrays of 100,000 items, nesting 32 deep), built to find anything
//! in parsing or deciding that is not linear. The `hostile` benchmark times
//! them and `tests/hostile_requests.rs` checks their verdicts.

use rpol_engine::model::PolicyModel;
use rpol_engine::{MAX_ARRAY_LEN, MAX_DEPTH, MAX_REQUEST_BYTES};

/// How many features [`widen`] adds: one array of the request's maximum length.
pub const EXTRA_FEATURES: usize = MAX_ARRAY_LEN;

/// `model` with [`EXTRA_FEATURES`] more registry features named `f0`, `f1`, …
/// (short, so that 100,000 distinct names fit in one request): even ones copy
/// `item_quality_score` (allowed for personalization), odd ones
/// `user_embedding` (needs consent and the personalized mode).
pub fn widen(mut model: PolicyModel) -> PolicyModel {
    let find = |name: &str| {
        model
            .features
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("the policy has no feature `{name}`"))
    };
    let (open, personal) = (find("item_quality_score"), find("user_embedding"));
    for i in 0..EXTRA_FEATURES {
        let mut f = if i % 2 == 0 {
            open.clone()
        } else {
            personal.clone()
        };
        f.name = format!("f{i}");
        model.features.push(f);
    }
    model
}

/// A valid request prefix (no route on `pdp`: every registry feature is decided).
pub const BASE: &str = r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{"user_id":"u1"},"consent":{"personalization":"granted"}"#;

/// `head`, then items `0, 1, …` separated by commas (at most `max`), then
/// `tail`, as long as the whole stays within [`MAX_REQUEST_BYTES`].
fn fill(head: &str, item: impl Fn(usize) -> String, max: usize, tail: &str) -> String {
    let mut out = String::with_capacity(MAX_REQUEST_BYTES);
    out.push_str(head);
    for i in 0..max {
        let it = item(i);
        if out.len() + it.len() + 1 + tail.len() > MAX_REQUEST_BYTES {
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(&it);
    }
    out.push_str(tail);
    out
}

/// One hostile request: its name and its JSON text.
pub struct Shape {
    pub name: &'static str,
    pub json: String,
}

/// Every shape, each at most 1 MiB, for a policy made by [`widen`] from the
/// home example.
pub fn shapes() -> Vec<Shape> {
    let nest = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
    let shape = |name, json| Shape { name, json };
    vec![
        // ~100,000 distinct unknown top-level keys: one error each.
        shape(
            "top_level_keys",
            fill(
                &format!("{BASE},"),
                |i| format!("\"k{i}\":0"),
                usize::MAX,
                "}",
            ),
        ),
        // ~80,000 distinct undeclared context fields.
        shape(
            "context_keys",
            fill(
                &format!("{BASE},\"context\":{{"),
                |i| format!("\"c{i}\":0"),
                usize::MAX,
                "}}",
            ),
        ),
        // ~70,000 distinct undeclared consent topics.
        shape(
            "consent_keys",
            fill(
                r#"{"tenant":"acme","surface":"pdp","purpose":"personalization","consent":{"#,
                |i| format!("\"t{i}\":\"granted\""),
                usize::MAX,
                "}}",
            ),
        ),
        // One context key repeated ~70,000 times: one duplicate error each.
        shape(
            "duplicate_keys",
            fill(
                &format!("{BASE},\"context\":{{"),
                |_| "\"region\":\"EU\"".to_string(),
                usize::MAX,
                "}}",
            ),
        ),
        // 100,000 distinct registry features.
        shape(
            "features_distinct",
            fill(
                &format!("{BASE},\"features\":["),
                |i| format!("\"f{i}\""),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // One feature 100,000 times.
        shape(
            "features_duplicate",
            fill(
                &format!("{BASE},\"features\":["),
                |_| "\"f1\"".to_string(),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // 100,000 distinct names not in the registry.
        shape(
            "features_unknown",
            fill(
                &format!("{BASE},\"features\":["),
                |i| format!("\"u{i}\""),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // 100,000 items of the wrong type: one error each.
        shape(
            "features_wrong_type",
            fill(
                &format!("{BASE},\"features\":["),
                |_| "0".to_string(),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // 100,000 distinct registry features, each name written with an
        // escape (`\u0066` is `f`): decoded by the scanner's first pass.
        shape(
            "features_escaped",
            fill(
                &format!("{BASE},\"features\":["),
                |i| format!("\"\\u0066{i}\""),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // ~70,000 numbers with fractions and exponents (serde_json's path).
        shape(
            "numbers",
            fill(
                &format!("{BASE},\"x\":["),
                |i| format!("{i}.5e-7"),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // ~100,000 distinct undeclared roles: one error each.
        shape(
            "roles_unknown",
            fill(
                &format!("{BASE},\"roles\":["),
                |i| format!("\"r{i}\""),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // One role 100,000 times.
        shape(
            "roles",
            fill(
                &format!("{BASE},\"roles\":["),
                |_| "\"sre\"".to_string(),
                MAX_ARRAY_LEN,
                "]}",
            ),
        ),
        // Arrays nested to the limit (the object and `x` take two levels).
        shape(
            "deep_at_limit",
            fill(
                &format!("{BASE},\"x\":["),
                |_| nest(MAX_DEPTH - 2),
                usize::MAX,
                "]}",
            ),
        ),
        // Half a million open brackets: refused at serde_json's depth limit.
        shape(
            "deep_over_limit",
            format!(
                "{BASE},\"x\":{}",
                "[".repeat(MAX_REQUEST_BYTES - BASE.len() - 8)
            ),
        ),
        // A tenant of almost 1 MiB.
        shape(
            "long_string",
            format!(
                r#"{{"tenant":"{}","surface":"pdp","purpose":"personalization"}}"#,
                "a".repeat(MAX_REQUEST_BYTES - 64)
            ),
        ),
        // A subject id of ~500,000 escapes (a string that cannot be borrowed
        // from the request text).
        shape(
            "escaped_string",
            format!(
                r#"{{"tenant":"acme","surface":"pdp","purpose":"personalization","subject":{{"user_id":"{}"}}}}"#,
                "\\n".repeat((MAX_REQUEST_BYTES - 128) / 2)
            ),
        ),
    ]
}
