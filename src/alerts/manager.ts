// Evaluates the rules and turns changes into notices. Every instance evaluates on its own ticker
// (not as a scheduled job: a job slot runs on ONE instance, but the request-based rules must judge
// each instance's own traffic). The alerts table decides who notifies (alerts/repository.ts), so
// however many instances evaluate, each transition is notified once:
//   condition seen, no firing row  -> fire (insert wins once)      -> "firing"
//   condition seen, row firing     -> refresh; reminder every ALERT_REMINDER_HOURS, or escalation
//   condition gone, row firing     -> resolve unless another instance still sees it -> "resolved"
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Clock } from '../plugins/core.js';
import type { Delivery, Channel } from './delivery.js';
import type { Notice } from './messages.js';
import { fire, firingRules, refresh, resolve, type AlertRow } from './repository.js';
import { evaluateRules, type Evaluation, type RuleContext } from './rules.js';

/** Another instance's sighting counts this long (2.5 evaluation intervals): then it is presumed gone. */
const STALE_INTERVALS = 2.5;

export interface ManagerDeps {
  db: Database;
  clock: Clock;
  config: Config;
  log: FastifyBaseLogger;
  instance: string;
  channels: Channel[];
  delivery: Delivery;
  context: Omit<RuleContext, 'now' | 'config' | 'db'>;
}

export class AlertManager {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Notice[]> | undefined;
  private stopped = true;

  constructor(private readonly deps: ManagerDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.evaluate()
        .catch((err: unknown) => this.deps.log.error({ err }, 'alert evaluation failed'))
        .finally(() => this.schedule());
    }, this.deps.config.ALERT_EVALUATION_INTERVAL_SECONDS * 1000);
    this.timer.unref();
  }

  /** One evaluation of every rule; returns the notices it sent (tests). Never overlaps itself. */
  evaluate(): Promise<Notice[]> {
    this.running ??= this.evaluateOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async evaluateOnce(): Promise<Notice[]> {
    const { db, clock, config, context } = this.deps;
    const now = clock.now();
    const firing = await db.withSystem((tx) => firingRules(tx));
    const evaluations = await evaluateRules({ ...context, now, config, db }, firing);
    const notices: Notice[] = [];
    for (const e of evaluations) {
      try {
        const notice = await this.apply(e, firing, now);
        if (notice) notices.push(notice);
      } catch (err) {
        this.deps.log.error({ err, rule: e.rule }, 'alert state update failed');
      }
    }
    for (const n of notices) this.notify(n);
    return notices;
  }

  private async apply(e: Evaluation, firing: Set<string>, now: Date): Promise<Notice | undefined> {
    const { db, config, instance, log } = this.deps;
    if ('unknown' in e) {
      log.warn({ event: 'alert_rule_unknown', rule: e.rule, reason: e.reason }, 'alert rule could not be evaluated');
      return undefined;
    }
    const notice = (kind: Notice['kind'], alert: AlertRow): Notice => ({ kind, alert, instance, at: now });
    if (e.breaching) {
      return db.withSystem(async (tx) => {
        const fired = await fire(tx, e, instance, now);
        if (fired) return notice('firing', fired);
        const refreshed = await refresh(tx, e, instance, now, config.ALERT_REMINDER_HOURS * 3_600_000);
        return refreshed?.notify ? notice(refreshed.notify, refreshed.row) : undefined;
      });
    }
    if (!firing.has(e.rule)) return undefined; // nothing to resolve (the common case: no write)
    const staleBefore = new Date(now.getTime() - STALE_INTERVALS * config.ALERT_EVALUATION_INTERVAL_SECONDS * 1000);
    const resolved = await db.withSystem((tx) => resolve(tx, e.rule, e.value, instance, now, staleBefore));
    return resolved ? notice('resolved', resolved) : undefined;
  }

  private notify(n: Notice): void {
    const { log, channels, delivery } = this.deps;
    log[n.kind === 'resolved' ? 'info' : n.alert.severity === 'critical' ? 'error' : 'warn'](
      { event: `alert_${n.kind}`, rule: n.alert.rule, severity: n.alert.severity, value: n.alert.value, threshold: n.alert.threshold },
      `alert ${n.kind}: ${n.alert.rule}: ${n.alert.message}`,
    );
    for (const channel of channels) delivery.enqueue({ channel: channel.name, rule: n.alert.rule, kind: n.kind }, () => channel.send(n));
  }
}
