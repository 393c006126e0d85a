//! The protocol front: capabilities, the watched-files registration, and each
//! request forwarded to the synchronous [`Session`].

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::session::{Publish, Session};

/// How long typing must pause before an edited policy is checked again: quick
/// edits are checked once, on the latest text (a request checks at once).
pub const DEBOUNCE: Duration = Duration::from_millis(100);

pub struct Backend {
    client: Client,
    session: Arc<Mutex<Session>>,
    /// The client can register `workspace/didChangeWatchedFiles` dynamically.
    watch: AtomicBool,
    /// `shutdown` was answered: an `exit` now ends the server cleanly.
    shut_down: AtomicBool,
    /// The latest edit of each document; a debounce timer whose edit is no
    /// longer the latest does nothing (the later one's timer will check).
    generations: Arc<Mutex<HashMap<Uri, u64>>>,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Backend {
            client,
            session: Arc::new(Mutex::new(Session::new())),
            watch: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            generations: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether `shutdown` was answered (the exit status depends on it).
    pub fn was_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Relaxed)
    }

    /// Runs `f` on the session. A panic (a bug, never expected) must not take
    /// the editor's server down: it is caught and the request answers empty.
    fn with<T>(&self, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        with_session(&self.session, f)
    }

    async fn publish(&self, publishes: Option<Vec<Publish>>) {
        publish(&self.client, publishes).await;
    }

    /// Checks every pending edit now and publishes the result: called before
    /// each request, so an answer never comes from text older than the edits
    /// sent before it.
    pub async fn flush_pending(&self) {
        let out = self.with(|s| s.has_pending().then(|| s.flush(None)));
        self.publish(out.flatten()).await;
    }
}

fn with_session<T>(session: &Mutex<Session>, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
    let mut guard = session.lock().unwrap_or_else(|e| e.into_inner());
    catch_unwind(AssertUnwindSafe(|| f(&mut guard))).ok()
}

async fn publish(client: &Client, publishes: Option<Vec<Publish>>) {
    for p in publishes.unwrap_or_default() {
        client
            .publish_diagnostics(p.uri, p.diagnostics, p.version)
            .await;
    }
}

fn internal() -> Error {
    Error::internal_error()
}

fn refused(message: String) -> Error {
    Error {
        code: tower_lsp_server::jsonrpc::ErrorCode::InvalidRequest,
        message: message.into(),
        data: None,
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let dynamic = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.watch.store(dynamic, Ordering::Relaxed);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some([".", "[", ",", ">", ":"].map(String::from).to_vec()),
                    ..CompletionOptions::default()
                }),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "rpol".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if !self.watch.load(Ordering::Relaxed) {
            return;
        }
        // Registry edits happen outside the editor as often as inside; the
        // watcher is how the server hears of them (docs/editors.md).
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*.{yaml,yml,rpol}".to_string()),
                kind: None,
            }],
        };
        let registration = Registration {
            id: "rpol-watched-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            self.client
                .log_message(
                    MessageType::WARNING,
                    format!("rpol: cannot watch the registry for changes: {e}"),
                )
                .await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.shut_down.store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let out = self.with(|s| s.open(d.uri, &d.language_id, d.text, d.version));
        self.publish(out).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        if self.with(|s| s.edit(&uri, change.text, version)) != Some(true) {
            return;
        }
        let generation = {
            let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
            let n = g.entry(uri.clone()).or_default();
            *n += 1;
            *n
        };
        // The check runs on its own task so the next edit is read at once.
        let (client, session, generations) = (
            self.client.clone(),
            self.session.clone(),
            self.generations.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            let latest = generations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&uri)
                .copied();
            if latest != Some(generation) {
                return;
            }
            let out = with_session(&session, |s| s.flush(Some(&uri)));
            publish(&client, out).await;
        });
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.generations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&params.text_document.uri);
        let out = self.with(|s| s.close(&params.text_document.uri));
        self.publish(out).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let uris: Vec<Uri> = params.changes.into_iter().map(|c| c.uri).collect();
        let out = self.with(|s| s.files_changed(&uris));
        self.publish(out).await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.with(|s| s.hover(&p.text_document.uri, p.position))
            .ok_or_else(internal)
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.with(|s| s.definition(&p.text_document.uri, p.position))
            .map(|l| l.map(GotoDefinitionResponse::Scalar))
            .ok_or_else(internal)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let include = params.context.include_declaration;
        self.with(|s| s.references(&p.text_document.uri, p.position, include))
            .map(Some)
            .ok_or_else(internal)
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.with(|s| s.completion(&p.text_document.uri, p.position))
            .ok_or_else(internal)
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.with(|s| s.prepare_rename(&params.text_document.uri, params.position))
            .ok_or_else(internal)?
            .map_err(refused)
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        self.with(|s| s.rename(&p.text_document.uri, p.position, &params.new_name))
            .ok_or_else(internal)?
            .map_err(refused)
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.with(|s| s.document_symbols(&params.text_document.uri))
            .ok_or_else(internal)
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.with(|s| s.formatting(&params.text_document.uri))
            .ok_or_else(internal)
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.with(|s| s.code_actions(&params.text_document.uri, params.range))
            .map(Some)
            .ok_or_else(internal)
    }
}
