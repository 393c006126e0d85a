//! Phrases both renderers share: outcomes and their conditions in words
//! (with `code` in backticks, which each renderer turns into its own markup).

use rpol_analysis::regions::Space;

use crate::matrix::{Key, Outcome};

/// Whitespace runs (newlines included) as one space.
pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Seconds in policy notation: `90d`, `24h`, `15m`, `10s`.
pub(crate) fn duration(seconds: i64) -> String {
    // `24h` stays hours, as a policy writes it.
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds != 0 && seconds % n == 0 && (unit != "d" || seconds > 86_400) {
            return format!("{}{unit}", seconds / n);
        }
    }
    format!("{seconds}s")
}

/// `allowed`, `consent_required`, `forbidden F3`.
pub fn key_label(k: Key) -> String {
    match k.rule {
        Some(r) => format!("{} {}", k.code, crate::Sheet::rule_label(r)),
        None => k.code.to_string(),
    }
}

/// [`key_label`] with the code in backticks: `` `forbidden` F3 ``.
pub fn code_label(k: Key) -> String {
    match k.rule {
        Some(r) => format!("`{}` {}", k.code, crate::Sheet::rule_label(r)),
        None => format!("`{}`", k.code),
    }
}

/// One outcome of a cell with several: the outcome and when it happens.
pub fn outcome_sentence(o: &Outcome) -> String {
    let label = code_label(o.key);
    let example = Space::witness_text(&o.witness);
    if o.when.is_empty() {
        return format!("{label} in some requests (e.g. `{example}`)");
    }
    let when = o.when.join(" and ");
    if o.exact {
        format!("{label} when {when}")
    } else {
        format!("{label} in some requests where {when} (e.g. `{example}`)")
    }
}
