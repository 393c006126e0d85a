//! What can never happen: L007 (a registry feature no purpose and mode can
//! allow) and L008 (a source no mode can run).

use rpol_diag::Diagnostic;

use super::{Linter, warn};

impl Linter<'_> {
    /// L007: a registry feature that no purpose and mode can allow.
    pub(super) fn dead_features(&self, out: &mut Vec<Diagnostic>) {
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
    pub(super) fn ungrantable_sources(&self, out: &mut Vec<Diagnostic>) {
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
}
