// The front end's house rules, read from the source: no import circles (static
// or lazy), every relative import resolves, one way to change the view state
// (core/store.js), and no init function longer than a screen.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../static/js/', import.meta.url));
const FILES = readdirSync(ROOT, { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => path.join(ROOT, f));

/** The source without comments (JSDoc's `import('./x.js')` types are not imports). */
export function code(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Relative modules a source imports: `import ... from`, `export ... from`, bare `import '...'` and `import('...')`. */
export function importsOf(src) {
  const out = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.\.?\/[^'"]+)\1/gm;
  for (const m of code(src).matchAll(re)) out.push(m[2]);
  return out;
}

/** The first cycle of a graph (file -> files), as a path that ends where it starts, or null. */
export function findCycle(graph) {
  const state = new Map(); // 1: on the path, 2: done
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node) || []) {
      if (state.get(next) === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

const graph = new Map(FILES.map((f) => [f, importsOf(readFileSync(f, 'utf8')).map((s) => path.resolve(path.dirname(f), s))]));
const rel = (f) => path.relative(ROOT, f);

test('the cycle finder finds a circle and passes a tree', () => {
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), null);
  assert.deepEqual(importsOf("import { x } from './a.js';\n// import('./b.js')\n/** @type {import('./c.js').T} */\nconst m = import('../d.js');\nexport { y } from './e.js';\nimport './f.js';"), ['./a.js', '../d.js', './e.js', './f.js']);
});

test('static/js has no import circle, static or lazy', () => {
  const cycle = findCycle(graph);
  assert.equal(cycle && cycle.map(rel).join(' -> '), null);
});

test('every relative import names a file that exists', () => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !existsSync(d)).map((d) => `${rel(f)} -> ${rel(d)}`));
  assert.deepEqual(missing, []);
});

test('the modules live in folders by role', () => {
  const loose = FILES.filter((f) => path.dirname(f) === path.resolve(ROOT)).map(rel);
  assert.deepEqual(loose, []);
  const roles = new Set(FILES.map((f) => rel(f).split(path.sep)[0]));
  assert.deepEqual([...roles].sort(), ['core', 'layers', 'model', 'pages', 'panels', 'room', 'view']);
});

// Besides the store, the URL is written only by the room (a follower's page is
// moved to the lecturer's view, then reads it back through "popstate") and by the
// embed, whose one changing value is the step (its view is otherwise read-only).
const HISTORY_WRITERS = ['core/store.js', 'room/boot.js', 'room/follow.js', 'pages/embed.js'];

// Every page with a view state (pages/main.js, pages/network.js, layers/stackpage.js,
// layers/digitspage.js) makes one store; Back and Forward are the store's to answer.
const STORE_PAGES = ['layers/digitspage.js', 'layers/stackpage.js', 'pages/main.js', 'pages/network.js'];

const STATE_RULES = [
  ['assigns app.state', /\bapp\.state\s*=(?!=)/],
  // A field changed in place: `app.state.x = `, `app.state.layers[i] = `, `app.state.layers.push(`.
  ['changes app.state in place', /\bapp\.state(?:\.\w+|\[[^\]]+\])+\s*(?:=(?!=)|\+\+|--|[-+*/]=)|\bapp\.state(?:\.\w+|\[[^\]]+\])*\.(?:push|pop|shift|unshift|splice|sort|reverse|fill)\(/],
  ['calls recompute', /\brecompute\s*\(/],
  ['writes history', /history\.(push|replace)State/],
];

test('the state rules catch what they are for', () => {
  const hits = (src) => STATE_RULES.filter(([, re]) => re.test(src)).map(([what]) => what);
  assert.deepEqual(hits('app.state = next;'), ['assigns app.state']);
  assert.deepEqual(hits('app.state.open = null;'), ['changes app.state in place']);
  assert.deepEqual(hits('app.state.layers[i] = l;'), ['changes app.state in place']);
  assert.deepEqual(hits('app.state.layers.splice(i, 1);'), ['changes app.state in place']);
  assert.deepEqual(hits("if (app.state.src === 'draw') recompute();"), ['calls recompute']);
  assert.deepEqual(hits("app.update({ open: null }); history.pushState(null, '', u);"), ['writes history']);
  assert.deepEqual(hits("app.update((s) => { s.layers.push(l); }); if (app.state.lang !== 'en') f(app.state.layers.length);"), []);
});

test('one way to change the state: only core/store.js assigns app.state, changes it, or computes', () => {
  const offenders = [];
  for (const f of FILES) {
    const name = rel(f).split(path.sep).join('/');
    if (name === 'core/store.js') continue;
    const src = code(readFileSync(f, 'utf8'));
    for (const [what, re] of STATE_RULES) {
      if (re.test(src) && !(what === 'writes history' && HISTORY_WRITERS.includes(name))) offenders.push(`${name} ${what}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('every page with a view state makes one store, and only the store answers Back', () => {
  const makers = [];
  const backs = [];
  for (const f of FILES) {
    const name = rel(f).split(path.sep).join('/');
    const src = code(readFileSync(f, 'utf8'));
    const made = src.match(/\bcreateStore\s*\(/g) || [];
    if (name !== 'core/store.js' && made.length) makers.push(`${name} x${made.length}`);
    // Listening is allowed (the room publishes, panels refresh); the state is read back
    // from the URL only by the store: no page outside it parses the query on popstate.
    if (name !== 'core/store.js' && /addEventListener\(\s*['"]popstate['"][\s\S]{0,200}?(fromQuery|\.load\()/.test(src)) backs.push(name);
  }
  assert.deepEqual(makers, STORE_PAGES.map((p) => `${p} x1`));
  assert.deepEqual(backs, []);
});

test('no init function is longer than 60 lines', () => {
  const long = [];
  for (const f of FILES) {
    const lines = readFileSync(f, 'utf8').split('\n');
    let start = -1;
    let name = '';
    lines.forEach((line, i) => {
      const m = /^(?:export )?(?:async )?function (\w+)/.exec(line);
      if (m) [start, name] = [i, m[1]];
      else if (line === '}' && start >= 0) {
        if (/^(init|mount|start|bind)/i.test(name) && i - start + 1 > 60) long.push(`${rel(f)} ${name}: ${i - start + 1} lines`);
        start = -1;
      }
    });
  }
  assert.deepEqual(long, []);
});
