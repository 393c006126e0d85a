//! The check run: parse, declare every name, load the registry, then run each
//! pass over the shared context ([`crate::context`]). Errors are collected,
//! never thrown, so one run reports them all.

use std::cell::OnceCell;
use std::path::Path;

use rpol_diag::{Diagnostic, SourceMap};

use crate::context::Cx;
use crate::resolution::Resolution;
use crate::scope::Scope;
use crate::{Checked, CheckedPolicy, ReadFile, SourceInput};

pub(crate) fn run(
    files: Vec<SourceInput>,
    registry_override: Option<&Path>,
    read: ReadFile<'_>,
    cache: Option<&crate::RegistryCache>,
) -> Checked {
    let mut sm = SourceMap::new();
    let mut diags = Vec::new();
    let mut asts = Vec::new();
    for f in files {
        let id = sm.add(f.name, f.text);
        match rpol_syntax::parse(id, &sm.get(id).text.clone()) {
            Ok(a) => asts.push((id, a)),
            Err(d) => diags.push(d),
        }
    }
    let mut checked = Checked {
        sources: sm,
        diagnostics: diags,
        asts,
        registry_file: None,
        registry: None,
        scope: Scope::default(),
        resolution: Resolution::default(),
        policy: None,
    };
    // A syntax error leaves names undeclared; checking on would only add noise.
    if checked.errors() > 0 {
        return checked;
    }
    let mut sm = std::mem::take(&mut checked.sources);
    let asts = std::mem::take(&mut checked.asts);

    // The registry is read before the rest so that its file id exists for labels.
    let header = crate::declare::find_policy_block(&asts, &mut checked.diagnostics);
    let registry_text = header.and_then(|(file, fields)| {
        crate::registry_path::load_registry_text(
            &mut sm,
            file,
            fields,
            registry_override,
            read,
            &mut checked.diagnostics,
        )
    });

    let mut cx = Cx {
        sm: &sm,
        diags: std::mem::take(&mut checked.diagnostics),
        scope: Scope::default(),
        resolution: Resolution::default(),
        registry: None,
        registry_file: None,
        model_features: OnceCell::new(),
    };
    if let Some((rfile, text)) = &registry_text {
        cx.registry_file = Some(*rfile);
        let loaded = match cache {
            Some(c) => c.load(*rfile, text),
            None => rpol_registry::load(*rfile, text),
        };
        match loaded {
            Ok(r) => cx.registry = Some(r),
            Err(ds) => cx.diags.extend(ds),
        }
    }
    let decl = crate::declare::declare(&mut cx, &asts);
    crate::declare::check_set_limits(&mut cx);
    let lowered = crate::items::lower(&mut cx, &asts, &decl, header);
    crate::registry_check::run(&mut cx, &lowered);
    crate::registry_check::record_uses(&mut cx);
    crate::rules::run(&mut cx, &lowered, &decl);
    let tests = crate::tests_check::run(&mut cx, &asts);

    let errors = cx.diags.iter().any(|d| d.is_error());
    let policy = if errors {
        None
    } else {
        registry_text.as_ref().and_then(|(_, rtext)| {
            let texts: Vec<&str> = asts.iter().map(|(f, _)| &*cx.sm.get(*f).text).collect();
            let digest = crate::digest(texts, rtext);
            crate::model_build::into_model(lowered, &mut cx, digest).map(|(model, spans)| {
                CheckedPolicy {
                    model,
                    spans,
                    tests,
                }
            })
        })
    };
    let mut diagnostics = cx.diags;
    if cx.registry.is_none() {
        // Without a registry every feature name is unresolved; those errors
        // would only repeat the registry's own.
        diagnostics.retain(|d| !(d.code == "E0201" && d.message.starts_with("unknown feature `")));
    }
    let scope = cx.scope;
    let resolution = cx.resolution;
    let registry = cx.registry.take();
    let registry_file = cx.registry_file;
    sort_diagnostics(&mut diagnostics);
    Checked {
        sources: sm,
        diagnostics,
        asts,
        registry_file,
        registry,
        scope,
        resolution,
        policy,
    }
}

/// Diagnostics in file order, then position, so output is stable.
fn sort_diagnostics(d: &mut [Diagnostic]) {
    d.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.code));
}
