//! The server's state and every request, synchronously: open documents, the
//! analysis of each policy (current and last parsed), and what to publish.
//! The async [`crate::server`] only forwards to it, so this is what the
//! benchmark times and what tests can drive without a transport.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use rpol_check::RegistryCache;
use rpol_diag::{FileId, Span};
use tower_lsp_server::ls_types as lsp;

use crate::analysis::{Analysis, analyze};
use crate::convert::{self, name_of, uri_of};
use crate::index::{Loc, Occurrence};
use crate::outline::Outline;
use crate::view::{Place, View};
use crate::workspace::{self, Overlay, Root};
use crate::{complete, hover, outline, rename};

#[derive(Debug)]
struct Doc {
    uri: lsp::Uri,
    text: String,
    version: i32,
    /// The policy a `.rpol` document belongs to; `None` for other files
    /// (a registry YAML opened in the editor).
    root: Option<Root>,
}

#[derive(Debug)]
struct Policy {
    /// The policy's registry, parsed once while its text is unchanged.
    registry: RegistryCache,
    current: Arc<Analysis>,
    /// The last analysis in which every file parsed (the current one when it did).
    good: Option<Arc<Analysis>>,
    /// Names of the files this policy last published diagnostics for.
    published: BTreeSet<String>,
}

/// Diagnostics for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub uri: lsp::Uri,
    pub diagnostics: Vec<lsp::Diagnostic>,
    pub version: Option<i32>,
}

#[derive(Debug, Default)]
pub struct Session {
    docs: HashMap<String, Doc>,
    policies: BTreeMap<Root, Policy>,
    /// Documents edited since their policy was last checked (see [`Session::edit`]).
    pending: BTreeSet<String>,
}

impl Session {
    pub fn new() -> Self {
        Session::default()
    }

    fn overlay(&self) -> Overlay {
        Overlay {
            texts: self
                .docs
                .iter()
                .map(|(n, d)| (n.clone(), d.text.clone()))
                .collect(),
        }
    }

    pub fn open(
        &mut self,
        uri: lsp::Uri,
        language: &str,
        text: String,
        version: i32,
    ) -> Vec<Publish> {
        let name = name_of(&uri);
        let is_policy = workspace::is_policy_file(Path::new(&name)) || language == "rpol";
        let mut doc = Doc {
            uri,
            text,
            version,
            root: None,
        };
        if is_policy {
            let path = Path::new(&name);
            let root = if !convert::is_file(&doc.uri) {
                Root::Buffer(name.clone())
            } else if !workspace::is_policy_file(path) {
                // Not a `.rpol` file, so no directory listing would include it.
                Root::File(path.to_path_buf())
            } else {
                // The buffer may hold a header the disk does not have yet.
                let mut overlay = self.overlay();
                overlay.texts.insert(name.clone(), doc.text.clone());
                workspace::root_of(path, &overlay)
            };
            doc.root = Some(root.clone());
            self.docs.insert(name, doc);
            self.analyze(&root)
        } else {
            self.docs.insert(name.clone(), doc);
            self.reanalyze_readers(&[name])
        }
    }

    /// Full-text change, checked at once: [`Session::edit`] then [`Session::flush`].
    pub fn change(&mut self, uri: &lsp::Uri, text: String, version: i32) -> Vec<Publish> {
        if !self.edit(uri, text, version) {
            return Vec::new();
        }
        self.flush(Some(uri))
    }

    /// Records a full-text change without re-checking: the server debounces
    /// quick edits and checks once typing pauses (or a request needs the
    /// result). A change older than the text already held is ignored (the
    /// protocol numbers versions; a late notification must not win). Returns
    /// whether the text was taken.
    pub fn edit(&mut self, uri: &lsp::Uri, text: String, version: i32) -> bool {
        let name = name_of(uri);
        let Some(doc) = self.docs.get_mut(&name) else {
            return false;
        };
        if version < doc.version {
            return false;
        }
        doc.text = text;
        doc.version = version;
        self.pending.insert(name);
        true
    }

    /// Whether edits wait for a check.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Checks what edits are pending: those of `uri` only, or all of them.
    /// Each policy is checked once however many of its files were edited, on
    /// the latest texts, so nothing stale is ever published.
    pub fn flush(&mut self, uri: Option<&lsp::Uri>) -> Vec<Publish> {
        let names: Vec<String> = match uri {
            Some(u) => self.pending.take(&name_of(u)).into_iter().collect(),
            None => std::mem::take(&mut self.pending).into_iter().collect(),
        };
        let mut roots = BTreeSet::new();
        let mut others = Vec::new();
        for name in names {
            match self.docs.get(&name).map(|d| d.root.clone()) {
                Some(Some(root)) => {
                    roots.insert(root);
                }
                Some(None) => others.push(name),
                None => {}
            }
        }
        // Other edited files of these policies are checked along with them.
        let docs = &self.docs;
        self.pending.retain(|n| {
            docs.get(n)
                .and_then(|d| d.root.as_ref())
                .is_none_or(|r| !roots.contains(r))
        });
        let mut out = Vec::new();
        for root in roots {
            merge(&mut out, self.analyze(&root));
        }
        if !others.is_empty() {
            merge(&mut out, self.reanalyze_readers(&others));
        }
        out
    }

    pub fn close(&mut self, uri: &lsp::Uri) -> Vec<Publish> {
        let name = name_of(uri);
        let Some(doc) = self.docs.remove(&name) else {
            return Vec::new();
        };
        let Some(root) = doc.root else {
            return self.reanalyze_readers(&[name]);
        };
        if self.docs.values().any(|d| d.root.as_ref() == Some(&root)) {
            // Others of its files are open: the closed one now reads from disk.
            return self.analyze(&root);
        }
        // No file of the policy is open any more: forget it and clear what it
        // published (keeping what other policies say about shared files).
        let Some(p) = self.policies.remove(&root) else {
            return Vec::new();
        };
        p.published
            .iter()
            .filter_map(|n| self.publish_one(n))
            .collect()
    }

    /// Files changed on disk (`workspace/didChangeWatchedFiles`): re-check every
    /// policy that holds one of them or reads it as its registry.
    pub fn files_changed(&mut self, uris: &[lsp::Uri]) -> Vec<Publish> {
        let names: Vec<String> = uris.iter().map(name_of).collect();
        self.reanalyze_readers(&names)
    }

    fn reanalyze_readers(&mut self, names: &[String]) -> Vec<Publish> {
        let roots: Vec<Root> = self
            .policies
            .iter()
            .filter(|(root, p)| {
                names
                    .iter()
                    .any(|n| root.contains(n) || p.current.file_named(n).is_some())
            })
            .map(|(r, _)| r.clone())
            .collect();
        let mut out = Vec::new();
        for r in roots {
            merge(&mut out, self.analyze(&r));
        }
        out
    }

    /// Re-checks a policy and says what to publish.
    fn analyze(&mut self, root: &Root) -> Vec<Publish> {
        let overlay = self.overlay();
        let files = workspace::inputs(root, &overlay);
        if files.is_empty() {
            let Some(p) = self.policies.remove(root) else {
                return Vec::new();
            };
            return p
                .published
                .iter()
                .filter_map(|n| self.publish_one(n))
                .collect();
        }
        let read = |p: &Path| overlay.read_registry(p);
        let (a, p) = match self.policies.get_mut(root) {
            Some(p) => (Arc::new(analyze(files, &read, &p.registry)), p),
            None => {
                let registry = RegistryCache::new();
                let a = Arc::new(analyze(files, &read, &registry));
                let p = self.policies.entry(root.clone()).or_insert(Policy {
                    registry,
                    current: a.clone(),
                    good: None,
                    published: BTreeSet::new(),
                });
                (a, p)
            }
        };
        let names: BTreeSet<String> = a
            .checked
            .sources
            .files()
            .map(|(_, f)| f.name.clone())
            .collect();
        if a.parsed {
            p.good = Some(a.clone());
        }
        p.current = a;
        let stale: Vec<String> = p.published.difference(&names).cloned().collect();
        p.published = names.clone();
        names
            .iter()
            .chain(&stale)
            .filter_map(|n| self.publish_one(n))
            .collect()
    }

    /// Every policy's diagnostics for one file (a registry may be shared).
    fn publish_one(&self, name: &str) -> Option<Publish> {
        let uri = self.uri_for(name)?;
        let mut diagnostics: Vec<lsp::Diagnostic> = Vec::new();
        for p in self.policies.values() {
            let a = &p.current;
            let Some(fid) = a.file_named(name) else {
                continue;
            };
            let sm = &a.checked.sources;
            for d in a.diagnostics.iter().filter(|d| d.primary.file == fid) {
                let d = convert::diagnostic(d, sm);
                if !diagnostics.contains(&d) {
                    diagnostics.push(d);
                }
            }
        }
        Some(Publish {
            uri,
            diagnostics,
            version: self.docs.get(name).map(|d| d.version),
        })
    }

    fn uri_for(&self, name: &str) -> Option<lsp::Uri> {
        match self.docs.get(name) {
            Some(d) => Some(d.uri.clone()),
            None => uri_of(name),
        }
    }

    /// The analyses that answer for a document, and its id in the current one.
    fn view(&self, uri: &lsp::Uri) -> Option<(View<'_>, FileId, String)> {
        let name = name_of(uri);
        let policy = match self.docs.get(&name).and_then(|d| d.root.as_ref()) {
            Some(root) => self.policies.get(root)?,
            // A registry YAML: any policy that reads it.
            None => self
                .policies
                .values()
                .find(|p| p.current.file_named(&name).is_some())?,
        };
        let view = View::new(&policy.current, policy.good.as_deref());
        let fid = view.cur.file_named(&name)?;
        Some((view, fid, name))
    }

    /// Whether `fid` is the registry YAML (open in the editor): completion,
    /// formatting and the outline are for policy files only.
    fn is_registry(view: &View<'_>, fid: FileId) -> bool {
        view.cur.checked.registry_file == Some(fid)
    }

    /// The symbol occurrence under the cursor, in the answering analysis.
    fn occurrence<'v>(view: &View<'v>, fid: FileId, pos: lsp::Position) -> Option<&'v Occurrence> {
        let off = convert::offset(&view.cur.checked.sources, fid, pos);
        let at = view.to_base(fid, off)?;
        view.base.index.at(at.file, at.span.start)
    }

    fn location(&self, place: Place) -> Option<lsp::Location> {
        Some(lsp::Location::new(
            self.uri_for(&place.name)?,
            convert::range(place.range),
        ))
    }

    pub fn hover(&self, uri: &lsp::Uri, pos: lsp::Position) -> Option<lsp::Hover> {
        let (view, fid, _) = self.view(uri)?;
        let occ = Self::occurrence(&view, fid, pos)?;
        let md = hover::markdown(view.base, occ.symbol)?;
        let range = view
            .place(Loc {
                file: occ.file,
                span: occ.span,
            })
            .map(|p| convert::range(p.range));
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: md,
            }),
            range,
        })
    }

    pub fn definition(&self, uri: &lsp::Uri, pos: lsp::Position) -> Option<lsp::Location> {
        let (view, fid, _) = self.view(uri)?;
        let occ = Self::occurrence(&view, fid, pos)?;
        let sym = view.base.index.symbol(occ.symbol)?;
        self.location(view.place(sym.decl)?)
    }

    pub fn references(
        &self,
        uri: &lsp::Uri,
        pos: lsp::Position,
        include_declaration: bool,
    ) -> Vec<lsp::Location> {
        let Some((view, fid, _)) = self.view(uri) else {
            return Vec::new();
        };
        let Some(occ) = Self::occurrence(&view, fid, pos) else {
            return Vec::new();
        };
        view.base
            .index
            .occurrences_of(occ.symbol)
            .filter(|o| include_declaration || !o.is_decl)
            .filter_map(|o| {
                view.place(Loc {
                    file: o.file,
                    span: o.span,
                })
            })
            .filter_map(|p| self.location(p))
            .collect()
    }

    pub fn completion(
        &self,
        uri: &lsp::Uri,
        pos: lsp::Position,
    ) -> Option<lsp::CompletionResponse> {
        let (view, fid, _) = self.view(uri)?;
        if Self::is_registry(&view, fid) {
            return None;
        }
        let sm = &view.cur.checked.sources;
        let text = view.cur.text(fid)?;
        let off = convert::offset(sm, fid, pos);
        let c = complete::complete(text, off, view.base);
        let range = convert::range(sm.range(fid, c.replace));
        let items = c
            .items
            .into_iter()
            .map(|it| lsp::CompletionItem {
                kind: Some(convert::completion_kind(it.kind)),
                detail: it.detail,
                text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
                    range,
                    it.label.clone(),
                ))),
                label: it.label,
                ..lsp::CompletionItem::default()
            })
            .collect();
        Some(lsp::CompletionResponse::Array(items))
    }

    /// The symbol under `pos` that a rename would start from; `Err` when the
    /// policy does not parse (a rename then could not see every use).
    fn rename_site(
        &self,
        uri: &lsp::Uri,
        pos: lsp::Position,
    ) -> Result<Option<(View<'_>, &Occurrence)>, String> {
        let Some((view, fid, _)) = self.view(uri) else {
            return Ok(None);
        };
        if !view.cur.parsed {
            return Err("the policy has a syntax error; fix it before renaming".into());
        }
        Ok(Self::occurrence(&view, fid, pos).map(|occ| (view, occ)))
    }

    /// `Err` carries a message for the user (why this cannot be renamed).
    pub fn prepare_rename(
        &self,
        uri: &lsp::Uri,
        pos: lsp::Position,
    ) -> Result<Option<lsp::PrepareRenameResponse>, String> {
        let Some((view, occ)) = self.rename_site(uri, pos)? else {
            return Ok(None);
        };
        rename::can_rename(&view.base.index, occ.symbol)?;
        let name = view
            .base
            .index
            .symbol(occ.symbol)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let range = view.cur.checked.sources.range(occ.file, occ.span);
        Ok(Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: convert::range(range),
            placeholder: name,
        }))
    }

    pub fn rename(
        &self,
        uri: &lsp::Uri,
        pos: lsp::Position,
        new_name: &str,
    ) -> Result<Option<lsp::WorkspaceEdit>, String> {
        let Some((view, occ)) = self.rename_site(uri, pos)? else {
            return Ok(None);
        };
        let locs = rename::rename(&view.base.index, occ.symbol, new_name)?;
        let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
        for l in locs {
            let Some(place) = view.place(l) else { continue };
            let Some(uri) = self.uri_for(&place.name) else {
                continue;
            };
            changes.entry(uri).or_default().push(lsp::TextEdit::new(
                convert::range(place.range),
                new_name.to_string(),
            ));
        }
        Ok(Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..lsp::WorkspaceEdit::default()
        }))
    }

    pub fn document_symbols(&self, uri: &lsp::Uri) -> Option<lsp::DocumentSymbolResponse> {
        let (view, fid, name) = self.view(uri)?;
        if Self::is_registry(&view, fid) {
            return None;
        }
        let symbols = match (view.cur.ast(fid), view.cur.text(fid)) {
            (Some(ast), Some(text)) => {
                let sm = &view.cur.checked.sources;
                to_symbols(outline::outline(ast, text), &|s| {
                    Some(convert::range(sm.range(fid, s)))
                })
            }
            // The file does not parse now: its last parsed outline, mapped.
            _ => {
                let bfid = view.base.file_named(&name)?;
                let ast = view.base.ast(bfid)?;
                let text = view.base.text(bfid)?;
                to_symbols(outline::outline(ast, text), &|s| {
                    view.place(Loc {
                        file: bfid,
                        span: s,
                    })
                    .map(|p| convert::range(p.range))
                })
            }
        };
        Some(lsp::DocumentSymbolResponse::Nested(symbols))
    }

    pub fn formatting(&self, uri: &lsp::Uri) -> Option<Vec<lsp::TextEdit>> {
        let (view, fid, _) = self.view(uri)?;
        if Self::is_registry(&view, fid) {
            return None;
        }
        let text = view.cur.text(fid)?;
        let formatted = rpol_fmt::format(text).ok()?;
        if formatted == text {
            return Some(Vec::new());
        }
        let whole = view
            .cur
            .checked
            .sources
            .range(fid, Span::new(0, text.len()));
        Some(vec![lsp::TextEdit::new(convert::range(whole), formatted)])
    }

    /// Quick fixes for the diagnostics under `range` that carry a did-you-mean.
    pub fn code_actions(&self, uri: &lsp::Uri, range: lsp::Range) -> Vec<lsp::CodeActionOrCommand> {
        let Some((view, fid, _)) = self.view(uri) else {
            return Vec::new();
        };
        let a = view.cur;
        let sm = &a.checked.sources;
        let mut out = Vec::new();
        for d in &a.diagnostics {
            let Some(s) = &d.suggestion else { continue };
            if d.primary.file != fid || s.file != fid {
                continue;
            }
            let diag = convert::diagnostic(d, sm);
            let (ds, de) = (diag.range.start, diag.range.end);
            let before =
                |a: lsp::Position, b: lsp::Position| (a.line, a.character) < (b.line, b.character);
            if before(de, range.start) || before(range.end, ds) {
                continue;
            }
            let old = sm.get(fid).slice(s.span).to_string();
            let edit =
                lsp::TextEdit::new(convert::range(sm.range(fid, s.span)), s.replacement.clone());
            let mut changes = HashMap::new();
            changes.insert(uri.clone(), vec![edit]);
            out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: format!("Replace `{old}` with `{}`", s.replacement),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag]),
                edit: Some(lsp::WorkspaceEdit {
                    changes: Some(changes),
                    ..lsp::WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..lsp::CodeAction::default()
            }));
        }
        out
    }
}

/// Adds publishes, the later one winning for a document published twice.
fn merge(out: &mut Vec<Publish>, more: Vec<Publish>) {
    for p in more {
        out.retain(|q| q.uri != p.uri);
        out.push(p);
    }
}

/// Outline entries as protocol symbols; an entry whose span has no place in
/// the current text (inside the edit being typed) is left out with its children.
fn to_symbols(
    items: Vec<Outline>,
    range: &dyn Fn(Span) -> Option<lsp::Range>,
) -> Vec<lsp::DocumentSymbol> {
    items
        .into_iter()
        .filter_map(|o| {
            let children = to_symbols(o.children, range);
            #[allow(deprecated)] // `deprecated` is a required field of the struct.
            Some(lsp::DocumentSymbol {
                name: o.name,
                detail: o.detail,
                kind: convert::symbol_kind(o.kind),
                tags: None,
                deprecated: None,
                range: range(o.span)?,
                selection_range: range(o.selection)?,
                children: (!children.is_empty()).then_some(children),
            })
        })
        .collect()
}
