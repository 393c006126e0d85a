// The rpol extension: starts `rpol lsp` over stdio and hands .rpol files to it.
// Everything language-aware (diagnostics, hover, definition, completion, rename,
// formatting, quick fixes) lives in the server; this file only wires it up.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
/** Disposed of when the client stops. */
const disposables: vscode.Disposable[] = [];

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('rpol');
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand('rpol.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('rpol.path')) {
        void restart();
      }
    }),
  );

  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

/** The command from `rpol.path`: `~` expanded, a relative path with a
 * directory part resolved against the first workspace folder, a bare name left
 * for PATH lookup. */
function serverCommand(): string {
  const configured = vscode.workspace.getConfiguration('rpol').get<string>('path', 'rpol').trim();
  let cmd = configured === '' ? 'rpol' : configured;
  if (cmd === '~' || cmd.startsWith('~/')) {
    cmd = path.join(os.homedir(), cmd.slice(1));
  }
  const hasDir = cmd.includes('/') || cmd.includes('\\');
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (hasDir && !path.isAbsolute(cmd) && folder !== undefined && folder.uri.scheme === 'file') {
    cmd = path.resolve(folder.uri.fsPath, cmd);
  }
  return cmd;
}

/** Whether `cmd` names an executable file: a path as is, a bare name on PATH
 * (with PATHEXT on Windows). Checked before starting so that a missing binary
 * gets one clear message instead of the client's generic connection error. */
function isExecutable(cmd: string): boolean {
  const runnable = (file: string): boolean => {
    try {
      if (!fs.statSync(file).isFile()) {
        return false;
      }
      fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const exts =
    process.platform === 'win32'
      ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e !== '')]
      : [''];
  const candidates = (base: string): string[] => exts.map((e) => base + e);
  if (path.isAbsolute(cmd) || cmd.includes('/') || cmd.includes('\\')) {
    return candidates(cmd).some(runnable);
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  return dirs.some((d) => candidates(path.join(d, cmd)).some(runnable));
}

async function reportStartFailure(command: string, reason: string): Promise<void> {
  output?.appendLine(`Could not start \`${command} lsp\`: ${reason}`);
  const openSettings = 'Open Settings';
  const showLog = 'Show Log';
  const choice = await vscode.window.showErrorMessage(
    `rpol: could not start the language server \`${command} lsp\` (${reason}). ` +
      'Install the binary with `cargo install --path crates/rpol-cli`, or set `rpol.path` to its location.',
    openSettings,
    showLog,
  );
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'rpol.path');
  } else if (choice === showLog) {
    output?.show(true);
  }
}

async function start(): Promise<void> {
  const command = serverCommand();
  if (!isExecutable(command)) {
    const where = command.includes('/') || command.includes('\\') ? 'no executable file there' : 'not found on PATH';
    void reportStartFailure(command, where);
    return;
  }
  const serverOptions: ServerOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };

  // Policy files, and the registry YAML the policies point at: the server
  // re-checks when either changes on disk (spec section 11).
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{rpol,yaml,yml}');

  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'rpol' }],
    synchronize: { fileEvents: watcher },
    outputChannel: output,
    traceOutputChannel: output,
  };

  // The client id `rpol` makes vscode-languageclient honour `rpol.trace.server`.
  const c = new LanguageClient('rpol', 'rpol language server', serverOptions, clientOptions);
  client = c;
  try {
    await c.start();
  } catch (err) {
    client = undefined;
    watcher.dispose();
    const reason = err instanceof Error ? err.message : String(err);
    void reportStartFailure(command, reason);
    return;
  }
  // The watcher lives as long as this client.
  disposables.push(watcher);
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  try {
    if (c !== undefined) {
      await c.stop();
    }
  } catch (err) {
    output?.appendLine(`Error while stopping the language server: ${String(err)}`);
  } finally {
    while (disposables.length > 0) {
      disposables.pop()?.dispose();
    }
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
