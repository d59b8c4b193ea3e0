// Writes docs/configuration.md from src/config.ts: one row per environment variable of the
// valibot schema there, with its default, unit, accepted values and doc comment. The schema is the only
// place a setting is declared, so the page is derived from it rather than retyped (a retyped table
// drifted from the code before). It reads the source with the TypeScript compiler API instead of
// importing it: the defaults and ranges are written as literals there, and reading them needs no
// build.
//
//   node scripts/config-doc.mjs            rewrites docs/configuration.md (`npm run docs:config`)
//   node scripts/config-doc.mjs --stdout   prints it (the staleness test compares the two)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = path.join(root, 'src', 'config.ts');
const TARGET = path.join(root, 'docs', 'configuration.md');

/** Units by the naming convention the settings follow; a name without one of these suffixes has none. */
const UNIT_BY_SUFFIX = [
  ['_MS', 'ms'],
  ['_SECONDS', 's'],
  ['_BYTES', 'bytes'],
  ['_PER_MINUTE', 'per minute'],
  ['_PER_SECOND', 'per second'],
];

/** Evaluates the integer literals the schema writes defaults with (`60_000`, `16 * 1024 * 1024`, `2 * 1024 ** 3`). */
function integerExpression(text) {
  if (!/^[\d_\s*+]+$/.test(text)) return null;
  const power = (factor) =>
    factor
      .split('**')
      .map((n) => Number(n.trim()))
      .reduceRight((exponent, base) => base ** exponent);
  return text
    .replace(/_/g, '')
    .split('+')
    .reduce((sum, term) => sum + term.split(/(?<!\*)\*(?!\*)/).reduce((product, factor) => product * power(factor), 1), 0);
}

function literal(node, source) {
  if (ts.isStringLiteral(node)) return node.text;
  const text = node.getText(source);
  const n = integerExpression(text);
  return n === null ? text : String(n);
}

/** What a setting's schema (inside `v.optional`) accepts, in words, from the builder it is written with. */
function accepts(node, source) {
  const text = node.getText(source);
  if (text === 'bool') return '`true`/`false` (also `1`/`0`, `yes`/`no`)';
  if (text === 'positive') return 'a number > 0, at most 1000000';
  if (!ts.isCallExpression(node)) return 'text';
  const callee = node.expression.getText(source);
  const args = node.arguments;
  if (callee === 'int' || callee === 'number') {
    const [min, max] = args.map((a) => literal(a, source));
    return `${callee === 'int' ? 'an integer' : 'a number'} ${min}–${max}`;
  }
  if (callee === 'v.picklist') {
    return ts.isArrayLiteralExpression(args[0]) ? args[0].elements.map((e) => `\`${literal(e, source)}\``).join(', ') : text;
  }
  if (callee === 'url') {
    const protocol = /^\/\^([^$]+)\$\/$/.exec(args[0].getText(source))?.[1];
    return protocol ? `a URL (${protocol.replace('(ql)?', '').replace('s?', '(s)')}://…)` : 'a URL';
  }
  // v.pipe(v.string(), …): text, with its length bounds.
  if (callee === 'v.pipe') {
    const lengths = args.slice(1).filter((a) => ts.isCallExpression(a));
    const bound = (name) => lengths.find((a) => a.expression.getText(source) === name)?.arguments[0];
    const min = bound('v.minLength');
    const max = bound('v.maxLength');
    if (min) return `text, at least ${literal(min, source)} characters`;
    if (max) return `text, at most ${literal(max, source)} characters`;
  }
  return 'text';
}

/** A setting's default and what it accepts: `v.optional(schema, default)`, or `schema` alone (required). */
function describeEntry(initializer, source) {
  if (ts.isCallExpression(initializer) && initializer.expression.getText(source) === 'v.optional') {
    const [schema, fallback] = initializer.arguments;
    return { defaultValue: fallback ? literal(fallback, source) : null, accepts: accepts(schema, source) };
  }
  return { defaultValue: null, accepts: accepts(initializer, source) };
}

function docComment(property, sourceText) {
  const ranges = ts.getLeadingCommentRanges(sourceText, property.getFullStart()) ?? [];
  const jsdoc = ranges
    .map((r) => sourceText.slice(r.pos, r.end))
    .filter((c) => c.startsWith('/**'))
    .at(-1);
  if (!jsdoc) return null;
  return jsdoc
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/** Every setting of the schema in src/config.ts, in the order it declares them. */
export function readSettings(sourceText = readFileSync(SOURCE, 'utf8')) {
  const source = ts.createSourceFile('config.ts', sourceText, ts.ScriptTarget.ES2022, true);
  let shape = null;
  source.forEachChild((statement) => {
    if (!ts.isVariableStatement(statement)) return;
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      if (declaration.name.getText(source) === 'schema' && init && ts.isCallExpression(init)) {
        const [object] = init.arguments;
        if (object && ts.isObjectLiteralExpression(object)) shape = object;
      }
    }
  });
  if (!shape) throw new Error('src/config.ts: no `const schema = v.object({ … })` found');
  return shape.properties.map((property) => {
    if (!ts.isPropertyAssignment(property)) throw new Error(`src/config.ts: unexpected ${property.getText(source)}`);
    const name = property.name.getText(source);
    const doc = docComment(property, sourceText);
    if (!doc) throw new Error(`src/config.ts: ${name} has no doc comment (/** … */ above it); every setting needs one`);
    const unit = UNIT_BY_SUFFIX.find(([suffix]) => name.endsWith(suffix))?.[1] ?? null;
    return { name, doc, unit, ...describeEntry(property.initializer, source) };
  });
}

const cell = (text) => text.replace(/\|/g, '\\|');

export function renderConfigDoc(settings = readSettings()) {
  const rows = settings.map(
    (s) =>
      `| \`${s.name}\` | ${s.defaultValue === null ? '—' : `\`${cell(s.defaultValue)}\``} | ${s.unit ?? '—'} | ${cell(s.accepts)} | ${cell(s.doc)} |`,
  );
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; do not edit by hand (a test fails when it is stale). -->',
    '',
    'All configuration comes from environment variables, read and validated in one place (`src/config.ts`) at',
    "start-up; a bad value stops the process with the variable's name. An empty variable counts as unset.",
    '',
    "Each row below is generated from that file's schema: the default is the one the schema applies (`—`: unset",
    'unless the description says how it is derived), the unit follows from the name (`_MS`, `_SECONDS`, `_BYTES`,',
    "`_PER_MINUTE`, `_PER_SECOND`), and the description is the setting's doc comment. Where a setting has more to it,",
    "the [API guide](api.md) and the [operations guide](operations.md) say how it behaves, and the latter's",
    '[notes on some settings](operations.md#notes-on-some-settings) keep what does not fit a table cell.',
    '',
    '| Variable | Default | Unit | Accepts | Meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const doc = renderConfigDoc();
  if (process.argv.includes('--stdout')) process.stdout.write(doc);
  else writeFileSync(TARGET, doc);
}
