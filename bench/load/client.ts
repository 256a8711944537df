// The virtual users' HTTP client: node:http over one keep-alive agent (as a reverse proxy keeps its
// upstream connections open), every request carrying the user's own client address in
// X-Forwarded-For and `X-Forwarded-Proto: https` as the TLS-terminating proxy in front of a
// production server would send. The server trusts 127.0.0.1 (TRUST_PROXY), so it counts each user
// under their own IP exactly as it would behind the proxy.
import http from 'node:http';
import type { Recorder } from './stats.js';

export const BENCH_HOST = 'api.bench.test';
const TIMEOUT_MS = 30_000;

export interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

export class Client {
  private readonly agent = new http.Agent({ keepAlive: true, timeout: 20_000 });

  constructor(
    private readonly port: number,
    readonly recorder: Recorder,
  ) {}

  /** One request; resolves with status 0 on a network error or timeout (never rejects). */
  send(method: string, path: string, opts: { ip: string; token?: string; json?: unknown }): Promise<Answer> {
    const body = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
    const headers: http.OutgoingHttpHeaders = {
      host: BENCH_HOST,
      accept: 'application/json',
      'x-forwarded-for': opts.ip,
      'x-forwarded-proto': 'https',
    };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    const started = performance.now();
    return new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent, timeout: TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms });
        });
        res.on('error', () => resolve({ status: 0, body: 'response error', ms: performance.now() - started }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: err.message, ms: performance.now() - started }));
      req.end(body);
    });
  }

  /**
   * A measured call: recorded under `route` (the template), an error unless the status is one of
   * `expect`; `tolerated` statuses are expected answers that are not successes (a repeated check-in).
   */
  async call(route: string, path: string, opts: { ip: string; token?: string; json?: unknown; expect: number[]; tolerated?: number[] }): Promise<Answer> {
    const [method] = route.split(' ');
    const answer = await this.send(method!, path, opts);
    let error: string | null = null;
    if (opts.tolerated?.includes(answer.status)) this.recorder.expectedAnswer(route);
    else if (!opts.expect.includes(answer.status)) error = answer.status === 0 ? `network: ${String(answer.body)}` : `HTTP ${answer.status}${code(answer.body)}`;
    this.recorder.record({ route, ms: answer.ms, error });
    return answer;
  }

  close(): void {
    this.agent.destroy();
  }
}

function code(body: unknown): string {
  return typeof body === 'object' && body !== null && 'code' in body ? ` ${String((body).code)}` : '';
}
