// Checkpoint integrity: a manifest of every file's size and SHA-256 written with the checkpoint,
// checked before it is loaded, so a truncated or bit-flipped weights file (a full disk, a copy
// cut short, a sync tool) is reported as what it is instead of as a shape error deep in tfjs,
// or worse, loaded as garbage weights that train on silently.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MANIFEST = 'checksums.json';
/** Files every checkpoint has; a stage's optimizer files are listed in the manifest when present. */
export const REQUIRED_FILES = ['model.json', 'tokenizer.json', 'config.json', 'state.json'];

interface FileEntry {
  bytes: number;
  sha256: string;
}

interface Manifest {
  version: 1;
  files: Record<string, FileEntry>;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Writes the manifest of every file in `dir` (call it last, once the files are complete). */
export function writeManifest(dir: string): void {
  const files: Record<string, FileEntry> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    if (name === MANIFEST) continue;
    const file = path.join(dir, name);
    files[name] = { bytes: fs.statSync(file).size, sha256: sha256(file) };
  }
  const manifest: Manifest = { version: 1, files };
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 1));
}

/**
 * What is wrong with the checkpoint in `dir`, one line per problem; empty when it is intact.
 * With a manifest every listed file must have its size and hash; without one (checkpoints from
 * before manifests) the JSON files must parse and each weights file must hold its tensors' bytes.
 */
export function checkpointProblems(dir: string): string[] {
  const problems: string[] = [];
  for (const name of REQUIRED_FILES) {
    if (!fs.existsSync(path.join(dir, name))) problems.push(`${name} is missing`);
  }
  const manifestFile = path.join(dir, MANIFEST);
  if (fs.existsSync(manifestFile)) {
    const manifest = parseJson(manifestFile, problems) as Manifest | undefined;
    if (manifest && (typeof manifest.files !== 'object' || manifest.files === null)) {
      problems.push(`${MANIFEST} has no "files"`);
    } else if (manifest) {
      for (const [name, want] of Object.entries(manifest.files)) problems.push(...fileProblems(dir, name, want));
    }
  }
  if (problems.length > 0) return problems;
  // Hashes match (or there are none): the JSON must still parse, and the weights add up.
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json') && n !== MANIFEST)) {
    parseJson(path.join(dir, name), problems);
  }
  if (problems.length > 0) return problems;
  for (const name of ['model.json', optimizerManifest(dir)]) {
    if (name) problems.push(...weightSizeProblems(dir, name));
  }
  return problems;
}

function fileProblems(dir: string, name: string, want: FileEntry): string[] {
  const file = path.join(dir, name);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return [`${name} is missing`];
  }
  if (size < want.bytes) return [`${name} is truncated: ${size} bytes, expected ${want.bytes}`];
  if (size !== want.bytes) return [`${name} has ${size} bytes, expected ${want.bytes}`];
  if (sha256(file) !== want.sha256) return [`${name} is corrupted: its SHA-256 does not match ${MANIFEST}`];
  return [];
}

function parseJson(file: string, problems: string[]): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`${path.basename(file)} is not valid JSON (${(err as Error).message})`);
    return undefined;
  }
}

function optimizerManifest(dir: string): string | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { optimizer?: unknown };
    return typeof state.optimizer === 'string' ? state.optimizer : undefined;
  } catch {
    return undefined;
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** Checks that the shards of a tfjs weights manifest hold exactly the bytes its specs need. */
function weightSizeProblems(dir: string, manifestName: string): string[] {
  let groups: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, manifestName), 'utf8')) as { weightsManifest?: unknown };
    if (!Array.isArray(json.weightsManifest)) return [`${manifestName} has no "weightsManifest" list`];
    groups = json.weightsManifest as typeof groups;
  } catch (err) {
    return [`${manifestName} cannot be read (${(err as Error).message})`];
  }
  const problems: string[] = [];
  for (const g of groups) {
    if (!Array.isArray(g?.paths) || !Array.isArray(g?.weights)) {
      problems.push(`${manifestName}: a weights group lacks "paths" or "weights"`);
      continue;
    }
    let want = 0;
    for (const w of g.weights) {
      const per = DTYPE_BYTES[w?.dtype];
      if (!per || !Array.isArray(w.shape))
        return [`${manifestName}: weight "${w?.name}" has an unknown dtype or shape`];
      want += per * w.shape.reduce((a, b) => a * b, 1);
    }
    let have = 0;
    for (const p of g.paths) {
      try {
        have += fs.statSync(path.join(dir, p)).size;
      } catch {
        problems.push(`${p} is missing`);
      }
    }
    if (problems.length === 0 && have !== want) {
      problems.push(
        `${g.paths.join(', ')}: ${have} bytes, but ${manifestName} describes ${want} (truncated or corrupted)`,
      );
    }
  }
  return problems;
}
