// Builds portal.css (NL Design System components and theme, and the portal's own layout) into one
// minified file, ../dist/portal.css, and prints its size; copies htmx beside it.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "portal.css");
const LIMIT_GZIP = 80 * 1024;

const result = await build({
  entryPoints: [join(here, "portal.css")],
  bundle: true,
  minify: true,
  legalComments: "none",
  charset: "utf8",
  write: false,
  loader: { ".css": "css" },
  banner: { css: "/*! Virtuele Assistent portal | EUPL-1.2 | NL Design System (EUPL-1.2) */" },
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
// htmx, as published (partial updates: a crawl's progress); pages work without it
copyFileSync(join(here, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(here, "..", "dist", "htmx.min.js"));
console.log(`dist/portal.css: ${code.length} bytes raw, ${gzipped} bytes gzipped (limit ${LIMIT_GZIP})`);
if (gzipped > LIMIT_GZIP) {
  console.error("The portal stylesheet is larger than 80 KB gzipped.");
  process.exit(1);
}
