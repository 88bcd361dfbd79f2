/**
 * A private redis-server the test can stop and start again, for outage tests.
 * When the run is against a Redis Cluster (REDIS_CLUSTER=true), it is a
 * one-node cluster owning every slot, so the code under test uses its cluster
 * client here too; its nodes.conf survives a restart, as a real node's does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisPing } from '../../scripts/net.mjs';
import { testConfig } from './env.js';

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir: string;
  private constructor(
    readonly port: number,
    readonly cluster: boolean,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allmine-private-redis-'));
  }

  static async create(cluster = testConfig().redis.cluster): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), cluster);
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ];
    // A lone node does not know its own address (CLUSTER SLOTS would name it ""): announce it.
    if (this.cluster)
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-announce-ip',
        '127.0.0.1',
      );
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await redisPing(this.port)) {
        if (this.cluster) await this.ownAllSlots();
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('private redis-server did not start');
  }

  /** First start: take every slot. After a restart nodes.conf already says so. Then wait for `cluster_state:ok`. */
  private async ownAllSlots(): Promise<void> {
    const admin = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await admin.connect();
      const info = async () => String(await admin.call('CLUSTER', 'INFO'));
      if (/cluster_slots_assigned:0\b/.test(await info())) await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (let i = 0; i < 200 && !/cluster_state:ok/.test(await info()); i++)
        await new Promise((r) => setTimeout(r, 50));
      if (!/cluster_state:ok/.test(await info()))
        throw new Error('private one-node cluster did not reach cluster_state:ok');
    } finally {
      admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** Stop for good and remove the data dir. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
