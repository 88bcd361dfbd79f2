/**
 * Operator commands for failed jobs (kept, with their error, for 7 days
 * after their last attempt):
 *
 *   npm run jobs -- failed [queue]    list failed jobs: id, attempts, error
 *   npm run jobs -- retry [queue]     move failed jobs back to waiting
 *   npm run jobs -- counts            job counts per queue and state
 */
import { loadConfig } from '../../config/index.js';
import { closeQueues, createQueues, QUEUE_NAMES, type QueueName } from '../jobs/queues.js';
import { bootOrExit } from '../lib/lifecycle.js';
import { closeRedis, createRedis } from '../lib/redis.js';

const USAGE = `usage: jobs <failed|retry|counts> [${QUEUE_NAMES.join('|')}]`;
const [command, only] = process.argv.slice(2);
if (
  !command ||
  !['failed', 'retry', 'counts'].includes(command) ||
  (only && !(QUEUE_NAMES as readonly string[]).includes(only))
) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const config = await bootOrExit(() => loadConfig());
const connection = createRedis(config, 'bullmq');
const queues = createQueues(config, connection);
const names = (only ? [only] : QUEUE_NAMES) as QueueName[];
const out = (line: string) => process.stdout.write(`${line}\n`);
try {
  for (const name of names) {
    const queue = queues[name];
    if (command === 'counts') {
      out(
        `${name}: ${JSON.stringify(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'))}`,
      );
    } else if (command === 'failed') {
      for (const job of await queue.getFailed(0, 999)) {
        out(
          `${name}\t${job.id}\tattempts=${job.attemptsMade}\t${new Date(job.finishedOn ?? job.timestamp).toISOString()}\t${job.failedReason}`,
        );
      }
    } else {
      const before = await queue.getFailedCount();
      if (before > 0) await queue.retryJobs({ state: 'failed' });
      out(`${name}: ${before} failed job(s) moved back to waiting`);
    }
  }
} finally {
  await closeQueues(queues);
  await closeRedis(connection);
}
