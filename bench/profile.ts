/**
 * Where a process's CPU time went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time summed by
 * origin — an npm package (by its name under node_modules), Node's own code (`node:`), our code (`src/`,
 * `bench/`), and V8's buckets (garbage collector, program). Idle time is left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

/** Self CPU ms by origin, for the one profile in `dir`. */
export function cpuByOrigin(dir: string): Map<string, number> {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    const origin = originOf(node.callFrame.url, node.callFrame.functionName);
    if (origin) out.set(origin, (out.get(origin) ?? 0) + msPerSample);
  }
  return out;
}
