#!/usr/bin/env node
// Tokenizes every line of every policy under policies/ (the repository's
// example policies) with the extension's TextMate grammar, through the same
// engine VS Code uses (vscode-textmate + vscode-oniguruma). Fails when the
// tokenizer throws, stops early, marks something in a valid policy as
// `invalid.illegal`, or leaves a multi-line region open at the end of a file.
//
//   node test/smoke.js            check policies/**/*.rpol
//   node test/smoke.js FILE|DIR…  check these instead
//   node test/smoke.js --dump F   print each token of F with its scopes

'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const extensionDir = path.resolve(__dirname, '..');
const repoRoot = path.resolve(extensionDir, '..', '..');
const grammarPath = path.join(extensionDir, 'syntaxes', 'rpol.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.rpol') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
    },
  });
  const grammar = await registry.loadGrammar('source.rpol');
  if (!grammar) throw new Error(`could not load ${grammarPath}`);
  return grammar;
}

function rpolFiles(p) {
  const st = fs.statSync(p);
  if (st.isFile()) return [p];
  const out = [];
  for (const entry of fs.readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(p, entry.name);
    if (entry.isDirectory()) out.push(...rpolFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.rpol')) out.push(full);
  }
  return out;
}

function tokenizeFile(grammar, file, onToken) {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  let stack = vsctm.INITIAL;
  const problems = [];
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack, 5000);
    if (r.stoppedEarly) problems.push(`${file}:${i + 1}: tokenization stopped early`);
    for (const t of r.tokens) {
      const text = line.substring(t.startIndex, t.endIndex);
      if (t.scopes.some((s) => s.startsWith('invalid'))) {
        problems.push(`${file}:${i + 1}:${t.startIndex + 1}: \`${text}\` is scoped ${t.scopes.join(' ')}`);
      }
      if (onToken) onToken(i + 1, t, text);
    }
    stack = r.ruleStack;
  });
  // After the last line no begin/end region (string, list, expect line) may be open.
  const base = grammar.tokenizeLine('', vsctm.INITIAL).ruleStack;
  if (!stack.equals(base)) problems.push(`${file}: a region is still open at the end of the file`);
  return { lines: lines.length, problems };
}

async function main() {
  const args = process.argv.slice(2);
  const grammar = await loadGrammar();

  if (args[0] === '--dump') {
    for (const file of args.slice(1)) {
      tokenizeFile(grammar, file, (line, t, text) => {
        console.log(`${line}:${t.startIndex + 1}\t${JSON.stringify(text)}\t${t.scopes.slice(1).join(' ')}`);
      });
    }
    return;
  }

  const roots = args.length > 0 ? args : [path.join(repoRoot, 'policies')];
  const files = roots.flatMap((r) => rpolFiles(r));
  if (files.length === 0) throw new Error(`no .rpol files under ${roots.join(', ')}`);

  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const rel = path.relative(process.cwd(), file);
    try {
      const { lines, problems } = tokenizeFile(grammar, file);
      if (problems.length > 0) {
        failed++;
        console.log(`FAIL ${rel}`);
        for (const p of problems) console.log(`  ${p}`);
      } else {
        passed++;
        console.log(`ok   ${rel} (${lines} lines)`);
      }
    } catch (err) {
      failed++;
      console.log(`FAIL ${rel}: ${err && err.stack ? err.stack : err}`);
    }
  }
  console.log(`smoke: ${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
