// Preloaded into the web and worker processes by the soak benchmark only (node --expose-gc --import):
// on SIGUSR2, a full garbage collection, then the process's memory figures written to
// `$BENCH_MEMORY_DIR/<pid>.json` (written whole, then renamed). The live heap after a forced
// collection does not swing with the collector's timing as RSS does, so two samples minutes apart compare.
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.env.BENCH_MEMORY_DIR;
if (dir && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    globalThis.gc();
    const file = path.join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ at: Date.now(), ...process.memoryUsage() }));
    renameSync(`${file}.tmp`, file);
  });
}
