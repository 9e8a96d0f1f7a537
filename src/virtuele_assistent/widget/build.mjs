// Builds src/index.ts into one self-contained file, dist/widget.js, and prints its size.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "widget.js");
const { version } = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const LIMIT_GZIP = 50 * 1024;

const result = await build({
  entryPoints: [join(here, "src", "index.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  write: false,
  define: { __VERSION__: JSON.stringify(version) },
  banner: { js: `/*! Virtuele Assistent widget ${version} | EUPL-1.2 */` },
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`dist/widget.js: ${code.length} bytes raw, ${gzipped} bytes gzipped (limit ${LIMIT_GZIP})`);
if (gzipped > LIMIT_GZIP) {
  console.error("The widget is larger than 50 KB gzipped.");
  process.exit(1);
}
