/**
 * What the tests know about their environment: the config the test command
 * gave them (real MongoDB-wire server and Redis URLs), and the environment
 * to hand to child processes (web, worker) the tests start.
 */
import { loadConfig, type Config } from '../../config/index.js';

type Env = Record<string, string | undefined>;

/** The config of the test run, with optional overrides (e.g. a shortened window). */
export function testConfig(overrides: Env = {}): Config {
  return loadConfig({ ...process.env, NODE_ENV: 'test' }, overrides);
}

/** Environment for a child process of the app, in test mode, with overrides. */
export function childEnv(overrides: Env = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: 'test', ...overrides };
}

/** The classpath of the embedded MongoDB server the stack script built, when it started one (not with an external MONGODB_URI). */
export function embeddedMongoClasspath(): string | undefined {
  return process.env.MONGO_SERVER_CLASSPATH || undefined;
}
