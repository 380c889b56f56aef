// Validate an AsyncAPI document with the official parser; print its diagnostics as JSON lines.
// Usage: node tools/asyncapi/validate.mjs docs/asyncapi.json   (exit 1 on any error)
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"));
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, path: d.path.join("."), message: d.message }));
}
const errors = diagnostics.filter((d) => d.severity === 0);
if (!document || errors.length) process.exit(1);
console.log(JSON.stringify({ ok: true, version: document.version(), channels: document.channels().length }));
