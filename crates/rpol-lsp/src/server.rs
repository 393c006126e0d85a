//! The protocol front: capabilities, the watched-files registration, and each
//! request forwarded to the synchronous [`Session`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::session::{Publish, Session};

pub struct Backend {
    client: Client,
    session: Mutex<Session>,
    /// The client can register `workspace/didChangeWatchedFiles` dynamically.
    watch: AtomicBool,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Backend {
            client,
            session: Mutex::new(Session::new()),
            watch: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the session. A panic (a bug, never expected) must not take
    /// the editor's server down: it is caught and the request answers empty.
    fn with<T>(&self, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        let mut guard = self.session.lock().unwrap_or_else(|e| e.into_inner());
        catch_unwind(AssertUnwindSafe(|| f(&mut guard))).ok()
    }

    async fn publish(&self, publishes: Option<Vec<Publish>>) {
        for p in publishes.unwrap_or_default() {
            self.client
                .publish_diagnostics(p.uri, p.diagnostics, p.version)
                .await;
        }
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
        // watcher is how the server hears of them (spec 11).
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
        let doc = params.text_document;
        let out = self.with(|s| s.change(&doc.uri, change.text, doc.version));
        self.publish(out).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
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
