//! The edge between byte spans and the protocol: positions go through
//! `rpol_diag` (its `SourceMap::range` / `Diagnostic::locate` are the one
//! conversion, UTF-16 included), URIs through `ls_types::Uri`.

use std::path::Path;
use std::str::FromStr;

use rpol_check::load;
use rpol_diag::{FileId, SourceMap};
use tower_lsp_server::ls_types as lsp;

use crate::complete::CandidateKind;
use crate::index::Kind;
use crate::outline::OutlineKind;

/// The name the checker gives a document: its `/`-separated path for a
/// `file:` URI, else the URI itself.
pub fn name_of(uri: &lsp::Uri) -> String {
    if is_file(uri)
        && let Some(p) = uri.to_file_path()
    {
        return load::display(&p);
    }
    uri.as_str().to_string()
}

pub fn is_file(uri: &lsp::Uri) -> bool {
    uri.scheme().as_str().eq_ignore_ascii_case("file")
}

/// The URI of a name given by [`name_of`] (or by the checker for a registry).
pub fn uri_of(name: &str) -> Option<lsp::Uri> {
    let p = Path::new(name);
    if p.is_absolute() {
        return lsp::Uri::from_file_path(p);
    }
    lsp::Uri::from_str(name).ok()
}

pub fn range(r: rpol_diag::Range) -> lsp::Range {
    lsp::Range::new(
        lsp::Position::new(r.utf16_start.0, r.utf16_start.1),
        lsp::Position::new(r.utf16_end.0, r.utf16_end.1),
    )
}

/// The byte offset of a protocol position in a file (clamped to the text).
pub fn offset(sm: &SourceMap, file: FileId, pos: lsp::Position) -> usize {
    sm.get(file).offset_of_utf16(pos.line, pos.character)
}

/// A checker diagnostic for the protocol. The help line (with its
/// did-you-mean) is part of the message, where every editor shows it.
pub fn diagnostic(d: &rpol_diag::Diagnostic, sm: &SourceMap) -> lsp::Diagnostic {
    let located = d.locate(sm);
    let message = match &located.help {
        Some(h) => format!("{}\nhelp: {h}", located.message),
        None => located.message.clone(),
    };
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter(|l| (l.file.0 as usize) < sm.len())
        .filter_map(|l| {
            let uri = uri_of(&sm.get(l.file).name)?;
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri, range(sm.range(l.file, l.span))),
                message: l.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    // Unused declarations and modes no arm yields are dead code.
    let tags = matches!(d.code, "L001" | "L009").then(|| vec![lsp::DiagnosticTag::UNNECESSARY]);
    lsp::Diagnostic {
        range: range(located.range),
        severity: Some(if d.is_error() {
            lsp::DiagnosticSeverity::ERROR
        } else {
            lsp::DiagnosticSeverity::WARNING
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some("rpol".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags,
        data: None,
    }
}

pub fn symbol_kind(k: OutlineKind) -> lsp::SymbolKind {
    use OutlineKind as O;
    match k {
        O::Policy => lsp::SymbolKind::NAMESPACE,
        O::Vocabulary => lsp::SymbolKind::ENUM,
        O::VocabularyName => lsp::SymbolKind::ENUM_MEMBER,
        O::Table => lsp::SymbolKind::STRUCT,
        O::Field => lsp::SymbolKind::FIELD,
        O::Mode => lsp::SymbolKind::CONSTANT,
        O::Class => lsp::SymbolKind::CLASS,
        O::Source => lsp::SymbolKind::FUNCTION,
        O::FeatureSet => lsp::SymbolKind::ARRAY,
        O::Reason => lsp::SymbolKind::STRING,
        O::Resolve => lsp::SymbolKind::OPERATOR,
        O::Arm => lsp::SymbolKind::EVENT,
        O::Forbid => lsp::SymbolKind::EVENT,
        O::Test => lsp::SymbolKind::METHOD,
    }
}

pub fn completion_kind(k: CandidateKind) -> lsp::CompletionItemKind {
    match k {
        CandidateKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CandidateKind::Field => lsp::CompletionItemKind::FIELD,
        CandidateKind::Value => lsp::CompletionItemKind::VALUE,
        CandidateKind::Name(k) => match k {
            Kind::Feature => lsp::CompletionItemKind::FIELD,
            Kind::Variant => lsp::CompletionItemKind::ENUM_MEMBER,
            Kind::Mode | Kind::Class => lsp::CompletionItemKind::CLASS,
            Kind::Source => lsp::CompletionItemKind::FUNCTION,
            Kind::ContextField => lsp::CompletionItemKind::PROPERTY,
            _ => lsp::CompletionItemKind::CONSTANT,
        },
    }
}
