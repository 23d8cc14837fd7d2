// Renders TeX to HTML with the katex npm package, for the book's build (book/_ext/sgdbook_site/katex.py).
// Protocol: one JSON object per line on stdin {"tex": ..., "display": bool, "macros": {...}};
// one JSON object per line on stdout: {"html": ...} or {"error": ...}.
"use strict";
const path = require("path");
const readline = require("readline");
const katexDir = process.argv[2] || path.join(__dirname, "..", "..", "node_modules", "katex");
const katex = require(katexDir);

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let reply;
  try {
    const req = JSON.parse(line);
    const html = katex.renderToString(req.tex, {
      displayMode: !!req.display,
      throwOnError: true,
      strict: "ignore",   // CJK text inside \text{} is fine in this book
      trust: false,
      output: "htmlAndMathml",  // MathML for screen readers, HTML for display
      macros: Object.assign({}, req.macros || {}),
    });
    reply = { html };
  } catch (err) {
    reply = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
