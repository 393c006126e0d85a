//! Style of the policy text: L005 (a `forbid` without `because`), L006
//! (names are `snake_case`) and L010 (bidirectional control characters).

use rpol_diag::{Diagnostic, Span};

use super::{Linter, warn};

impl Linter<'_> {
    /// L005: a forbid rule should say why.
    pub(super) fn forbid_without_because(&self, out: &mut Vec<Diagnostic>) {
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
    pub(super) fn snake_case(&self, out: &mut Vec<Diagnostic>) {
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

    /// L010: Unicode bidirectional controls (Trojan Source, CVE-2021-42574)
    /// make an editor display text in another order than rpol reads it.
    /// Names are ASCII, so in a file that parsed they sit in strings or
    /// comments. One finding per line.
    pub(super) fn bidi_controls(&self, out: &mut Vec<Diagnostic>) {
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
