// `darezone smoke --base-url URL`: the post-deploy check. Walks the mobile app's main flows against a
// running deployment with a throwaway `smoke+…` account, one printed line per step, and stops at the
// first surprise. There is no account deletion, so it leaves the least it can: it leaves its
// challenge and logs every session out (docs/PRODUCTION_RUNBOOK.md, "Post-deploy smoke test").
//
// Budget: production limits per client IP per minute are auth 10, global 100 and upload 5; the walk
// makes 24 requests, 6 of them to auth routes and 1 upload, so it fits even where other traffic
// shares the operator's address. A 429 is reported with its Retry-After rather than retried.
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, type Command } from 'commander';
import { SmokeFailure, SmokeHttp, parseBaseUrl } from './smoke-http.js';
import { SmokeWalk } from './smoke-walk.js';

export interface SmokeOptions {
  baseUrl: string;
  timeoutMs: number;
  emailDomain: string;
}

const LABEL_WIDTH = 46;

/** Prints one line per step; the first failure names its step and stops the walk. */
class Steps {
  passed = 0;
  constructor(private readonly out: (line: string) => void) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const took = () => `${Math.round(performance.now() - started)} ms`;
    try {
      const result = await fn();
      this.passed++;
      this.out(`ok   ${name.padEnd(LABEL_WIDTH)} ${took()}`);
      return result;
    } catch (err) {
      this.out(`FAIL ${name.padEnd(LABEL_WIDTH)} ${took()}`);
      const reason = err instanceof SmokeFailure ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
      throw new SmokeFailure(`smoke failed at ${name}: ${reason}`);
    }
  }
}

/** Runs the walk; resolves with the number of steps passed, throws a SmokeFailure naming the failed one. */
export async function runSmoke(opts: SmokeOptions, out: (line: string) => void): Promise<number> {
  const steps = new Steps(out);
  const walk = new SmokeWalk(new SmokeHttp(parseBaseUrl(opts.baseUrl), opts.timeoutMs), (name, fn) => steps.run(name, fn), opts.emailDomain);
  try {
    await walk.all();
  } catch (err) {
    await walk.cleanUp();
    throw err;
  }
  return steps.passed;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer (milliseconds)');
  return n;
}

export function registerSmokeCommand(program: Command): void {
  program
    .command('smoke')
    .description("walk the mobile app's main flows against a running deployment with a throwaway account (the post-deploy check)")
    .requiredOption('--base-url <url>', 'the deployment, e.g. https://api.example.com')
    .option('--timeout-ms <ms>', 'time-out of each request', positiveInt, 10_000)
    .option('--email-domain <domain>', 'domain of the throwaway smoke+…@ address', 'example.com')
    .action(async (opts: SmokeOptions) => {
      // Not loadConfig(): this runs from anywhere (a laptop, CI) against any deployment.
      if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(opts.emailDomain)) {
        throw new Error(`--email-domain ${opts.emailDomain} is not a domain name with a dot (e.g. example.com)`);
      }
      const started = performance.now();
      const passed = await runSmoke(opts, (line) => process.stdout.write(`${line}\n`));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`smoke: ${passed} steps passed in ${seconds} s against ${parseBaseUrl(opts.baseUrl).href.replace(/\/$/, '')}\n`);
    });
}
