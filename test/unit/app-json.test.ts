/**
 * `app.json` (Heroku's app manifest: the Deploy button, review apps) against the config schema: a deploy
 * made from it boots, it names only keys the app reads, and it asks for every key production requires.
 * Pure: reads files, starts nothing.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, configKeys, loadConfig } from '../../config/index.js';

interface AppJsonVar {
  description?: string;
  value?: string;
  required?: boolean;
  generator?: string;
}

interface AppJson {
  buildpacks: { url: string }[];
  formation: Record<string, { quantity: number }>;
  addons: (string | { plan: string })[];
  scripts: Record<string, string>;
  env: Record<string, AppJsonVar>;
}

/** Config vars that Heroku add-ons set, by add-on. */
const ADDON_VARS: Record<string, Record<string, string>> = {
  'heroku-redis': { REDIS_URL: 'rediss://:p4ssw0rd@ec2-3-4-5-6.compute-1.amazonaws.com:12345' },
};

/** What an operator types into the deploy form for a required variable that has no value and no generator. */
const OPERATOR_INPUT: Record<string, string> = {
  MONGODB_URI: 'mongodb+srv://user:pw@cluster.example.net/app',
  TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'f'.repeat(32),
  TWILIO_MESSAGING_SERVICE_SID: `MG${'fedcba9876543210'.repeat(2)}`,
  SMTP_URL: 'smtps://mailer:secret@smtp.example.net:465',
};

const readAppJson = async (): Promise<AppJson> =>
  JSON.parse(await readFile(new URL('../../app.json', import.meta.url), 'utf8')) as AppJson;
const addonName = (a: AppJson['addons'][number]) => (typeof a === 'string' ? a : a.plan).split(':')[0]!;

/** The environment of a dyno deployed from app.json: generated secrets, fixed values, operator input, add-on vars. */
function deployedEnv(app: AppJson): Record<string, string> {
  const env: Record<string, string> = { PORT: '43210' }; // the router's port, set by Heroku
  for (const addon of app.addons) Object.assign(env, ADDON_VARS[addonName(addon)]);
  for (const [key, v] of Object.entries(app.env)) {
    // Heroku's "secret" generator: 32 random bytes as 64 hex characters.
    if (v.generator === 'secret') env[key] = randomBytes(32).toString('hex');
    else if (v.value !== undefined) env[key] = v.value;
    else if (v.required) {
      expect(OPERATOR_INPUT, `a sample operator input for the required ${key}`).to.have.property(key);
      env[key] = OPERATOR_INPUT[key]!;
    }
  }
  return env;
}

/** The keys a production config cannot do without: those `loadConfig` names when given only NODE_ENV=production. */
function requiredInProduction(): string[] {
  try {
    loadConfig({ NODE_ENV: 'production' });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => p.slice(0, p.indexOf(':')));
  }
  return expect.fail('a bare production config should be refused');
}

describe('app.json (Heroku)', () => {
  it('deploys: loadConfig accepts the environment a deploy from app.json has', async () => {
    const app = await readAppJson();
    const config = loadConfig(deployedEnv(app));
    expect(config).to.deep.include({
      nodeEnv: 'production',
      isProduction: true,
      mongodbUri: OPERATOR_INPUT.MONGODB_URI,
    });
    expect(config.http.trustProxy).to.equal(1);
    expect(config.redis).to.deep.include({ url: ADDON_VARS['heroku-redis']!.REDIS_URL, tlsRejectUnauthorized: false });
    expect(config.otp.exposeCode).to.equal(false);
    expect(config.sms.provider).to.equal('twilio');
    expect(config.mail.transport).to.equal('smtp');
    for (const key of ['JWT_SECRET', 'OTP_HMAC_SECRET', 'METRICS_TOKEN'])
      expect(app.env[key], key).to.deep.include({ generator: 'secret' });
  });

  it('names only keys the config schema knows', async () => {
    const known = new Set(configKeys());
    const unknown = Object.keys((await readAppJson()).env).filter((k) => !known.has(k));
    expect(unknown).to.deep.equal([]);
  });

  it('has an entry (or an add-on) for every key production requires', async () => {
    const app = await readAppJson();
    const provided = new Set([
      ...Object.keys(app.env),
      ...app.addons.flatMap((a) => Object.keys(ADDON_VARS[addonName(a)] ?? {})),
    ]);
    const required = requiredInProduction();
    expect(required).to.include.members(['MONGODB_URI', 'REDIS_URL', 'JWT_SECRET', 'OTP_HMAC_SECRET']);
    expect(required.filter((k) => !provided.has(k))).to.deep.equal([]);
  });

  it('runs the Procfile process types on the Node buildpack with Heroku Redis', async () => {
    const app = await readAppJson();
    const procfile = await readFile(new URL('../../Procfile', import.meta.url), 'utf8');
    const types = [...procfile.matchAll(/^([a-z]+):/gm)].map((m) => m[1]);
    expect(types).to.include.members(['web', 'worker', 'release']);
    expect(app.formation).to.deep.equal({ web: { quantity: 1 }, worker: { quantity: 1 } });
    expect(app.buildpacks).to.deep.equal([{ url: 'heroku/nodejs' }]);
    expect(app.addons.map(addonName)).to.deep.equal(['heroku-redis']);
  });
});
