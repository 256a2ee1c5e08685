// Parse every Mermaid diagram of the given Markdown files with Mermaid's own parser (mermaid.parse), as GitHub's
// renderer would before drawing it. Mermaid needs a DOM even to parse (DOMPurify is set up at import), so jsdom
// provides one. Prints one JSON line per diagram ({file, index, ok, type | error}); exits 1 if any diagram fails.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  for (const [index, block] of blocks.entries()) {
    try {
      const result = await mermaid.parse(block);
      console.log(JSON.stringify({ file, index, ok: true, type: result.diagramType }));
    } catch (error) {
      failed += 1;
      console.log(JSON.stringify({ file, index, ok: false, error: String(error.message || error).split('\n').slice(0, 4).join(' ') }));
    }
  }
}
process.exit(failed ? 1 : 0);
