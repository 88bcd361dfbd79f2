/**
 * Where a process's CPU time went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time summed by
 * origin — an npm package (by its name under node_modules), Node's own code (`node:`), our code (`src/`,
 * `bench/`), and V8's buckets (garbage collector, program). Idle time is left out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
}

function originOf(url: string, fn: string): string | undefined {
  if (!url) {
    if (fn === '(idle)') return undefined;
    if (fn === '(garbage collector)') return 'V8: garbage collector';
    if (fn === '(program)') return 'V8: program (parsing, compiling, native)';
    return `V8: ${fn || '(anonymous native)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node: (Node.js built-ins)';
  const own = /\/(src|bench)\/(.*)$/.exec(url);
  if (own) return own[1] === 'src' ? `our code: src/${own[2]!.split('/')[0]}` : 'bench code';
  return url;
}

/**
 * The largest profile in `dir`: the main thread's (tsx's loader thread writes a small one beside it; the
 * drain's worker, which ran longest, is the largest of the worker directory's).
 */
function mainProfile(dir: string): CpuProfile {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, size: statSync(path.join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(readFileSync(path.join(dir, files[0].f), 'utf8')) as CpuProfile;
}

/** Self CPU ms per key of each sample's frame (idle left out), for the main profile in `dir`. */
function selfTime(dir: string, keyOf: (frame: CpuProfile['nodes'][number]['callFrame']) => string | undefined) {
  const profile = mainProfile(dir);
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (const id of profile.samples) {
    const key = keyOf(byId.get(id)!.callFrame);
    if (key) out.set(key, (out.get(key) ?? 0) + msPerSample);
  }
  return out;
}

/** Self CPU ms by origin, for the main profile in `dir`. */
export function cpuByOrigin(dir: string): Map<string, number> {
  return selfTime(dir, (f) => originOf(f.url, f.functionName));
}

/** Self CPU ms by function (`name origin:line`), for the main profile in `dir`. */
export function cpuByFunction(dir: string): Map<string, number> {
  return selfTime(dir, (f) => {
    const origin = originOf(f.url, f.functionName);
    return origin && `${f.functionName || '(anonymous)'} ${origin}${f.url ? ` ${path.basename(f.url)}` : ''}`;
  });
}
