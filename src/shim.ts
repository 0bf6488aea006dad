// The bundle is ESM (the @actions/* majors are ESM-only), but a few CommonJS dependencies (ssh2's
// poly1305 loader) still read `__dirname`. Give them the bundle's own directory. Imported first.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const g = globalThis as { __dirname?: string; __filename?: string };
g.__filename ??= fileURLToPath(import.meta.url);
g.__dirname ??= path.dirname(g.__filename);

// docker-modem still calls url.parse(), which Node 24 flags on every run (DEP0169): a warning
// about a dependency that a user of the action can do nothing about.
process.noDeprecation = true;
