/**
 * Process lifecycle shared by the web and the worker: one `shutdown(reason)`
 * that is safe to call any number of times (Heroku may send SIGTERM twice),
 * runs the steps in order, and exits 0 before the configured deadline
 * (Heroku sends SIGKILL 30 s after SIGTERM). Process-level errors go through
 * the same logger and the same shutdown.
 */
import type { Logger } from './logger.js';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

export interface Lifecycle {
  shutdown: (reason: string, exitCode?: number) => Promise<void>;
  readonly shuttingDown: boolean;
}

export function installLifecycle(options: {
  logger: Logger;
  timeoutMs: number;
  steps: () => ShutdownStep[];
  exit?: (code: number) => void;
}): Lifecycle {
  const { logger, timeoutMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;

  const shutdown = (reason: string, exitCode = 0): Promise<void> => {
    if (running) {
      logger.info({ reason }, 'shutdown already in progress');
      return running;
    }
    logger.info({ reason }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown deadline passed; exiting');
      exit(1);
    }, timeoutMs);
    deadline.unref();

    running = (async () => {
      let code = exitCode;
      for (const step of options.steps()) {
        try {
          await step.run();
          logger.debug({ step: step.name }, 'shutdown step done');
        } catch (err) {
          code = code || 1;
          logger.error({ err, step: step.name }, 'shutdown step failed');
        }
      }
      clearTimeout(deadline);
      logger.info({ exitCode: code }, 'shutdown complete');
      logger.flush();
      exit(code);
    })();
    return running;
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled rejection');
    void shutdown('unhandledRejection', 1);
  });

  return {
    shutdown,
    get shuttingDown() {
      return running !== undefined;
    },
  };
}

/** Loads config or prints every problem and exits 1 (before any logger exists). */
export async function bootOrExit<T>(load: () => T): Promise<T> {
  try {
    return load();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
