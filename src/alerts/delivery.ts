// Sends alert notices (e-mail over SMTP, Slack incoming webhook) and heartbeat pings in the
// background: a send never blocks a request or the evaluation that produced it. A failed send is
// logged and retried with doubling delays (ALERT_DELIVERY_RETRY_MS, capped at 5 min) up to
// ALERT_DELIVERY_ATTEMPTS times, then dropped with an error line; nothing here can throw into
// the caller or crash the process. Pending sends are abandoned (logged) when the app closes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { renderNotice, type Notice } from './messages.js';

const MAX_DELAY_MS = 300_000;
const HTTP_TIMEOUT_MS = 10_000;
const SMTP_TIMEOUT_MS = 10_000;

export interface Channel {
  name: string;
  send(notice: Notice): Promise<void>;
}

export function emailChannel(config: Config): Channel | undefined {
  if (!config.smtpConfigured) return undefined;
  const transport = nodemailer.createTransport({
    url: config.SMTP_URL,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  const to = config.ALERT_EMAIL_TO!.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    name: 'email',
    async send(notice) {
      const { subject, text } = renderNotice(notice, config.RUNBOOK_BASE_URL);
      await transport.sendMail({ from: config.ALERT_EMAIL_FROM, to, subject, text });
    },
  };
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

export function slackChannel(config: Config): Channel | undefined {
  const url = config.SLACK_WEBHOOK_URL;
  if (!url) return undefined;
  return {
    name: 'slack',
    send: (notice) => postJson(url, { text: renderNotice(notice, config.RUNBOOK_BASE_URL).text }),
  };
}

/** Where an error message could carry a webhook or SMTP URL with credentials, keep only the host. */
const safeMessage = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/[a-z]+:\/\/[^\s]+/gi, '[url]');

export class Delivery {
  private readonly pending = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly policy: { attempts: number; firstDelayMs: number },
  ) {}

  /** Starts a background send with retries; returns at once. */
  enqueue(what: Record<string, unknown>, send: () => Promise<void>): void {
    const p = this.withRetries(what, send).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves when every send in flight has succeeded or given up (tests). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.pending.size > 0) this.log.warn({ event: 'alert_delivery_abandoned', pending: this.pending.size }, 'closing with alert deliveries still retrying');
    this.abort.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async withRetries(what: Record<string, unknown>, send: () => Promise<void>): Promise<void> {
    const { attempts, firstDelayMs } = this.policy;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.abort.signal.aborted) return;
      try {
        await send();
        if (attempt > 1) this.log.info({ event: 'alert_delivery_recovered', ...what, attempt }, 'alert delivery succeeded after retrying');
        return;
      } catch (err) {
        const last = attempt === attempts;
        this.log[last ? 'error' : 'warn'](
          { event: last ? 'alert_delivery_failed' : 'alert_delivery_retry', ...what, attempt, attempts, err_message: safeMessage(err) },
          last ? 'alert delivery failed; giving up' : 'alert delivery failed; will retry',
        );
        if (last) return;
        const delay = Math.min(firstDelayMs * 2 ** (attempt - 1), MAX_DELAY_MS);
        try {
          await sleep(delay, undefined, { signal: this.abort.signal, ref: false });
        } catch {
          return; // closing
        }
      }
    }
  }
}

/** GET with a short timeout; any 2xx is a successful ping (healthchecks.io, Better Stack, ...). */
export async function ping(url: string): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}
