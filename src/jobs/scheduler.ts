// The scheduler: every instance ticks, each due slot is claimed with an INSERT into job_runs whose
// (job, scheduled_for) key only one instance can win, so every slot runs once across instances and
// embedded mode runs the same code. Ticks are driven by the clock, so tests call tick() directly.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';
import type { Clock } from '../plugins/core.js';
import { claimSlot, failAbandoned, recordSkipped } from './repository.js';
import { executeRun, type RunFinished } from './runner.js';
import type { JobDefinition } from './types.js';

const ABANDON_GRACE_MS = 60_000;
const MAX_SLEEP_MS = 60_000;

export class UnknownJobError extends Error {}
export class JobBusyError extends Error {}

interface Scheduled {
  def: JobDefinition;
  cron: Cron;
  lastSlot?: number;
}

export interface SchedulerDeps {
  db: Database;
  clock: Clock;
  log: FastifyBaseLogger;
  jobs: JobDefinition[];
  /** name → cron, from JOB_SCHEDULES. */
  overrides?: Record<string, string>;
}

export class Scheduler {
  readonly instance = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly jobs = new Map<string, Scheduled>();
  private timer: NodeJS.Timeout | undefined;
  private running = new Set<Promise<unknown>>();
  private stopped = true;

  constructor(private readonly deps: SchedulerDeps) {
    for (const def of deps.jobs) {
      const pattern = deps.overrides?.[def.name] ?? def.schedule;
      this.jobs.set(def.name, { def, cron: new Cron(pattern, { timezone: 'UTC', paused: true }) });
    }
  }

  list() {
    return [...this.jobs.values()].map(({ def, cron }) => ({
      def,
      schedule: cron.getPattern() ?? def.schedule,
      nextRun: cron.nextRun(this.deps.clock.now()),
    }));
  }

  get(name: string): JobDefinition | undefined {
    return this.jobs.get(name)?.def;
  }

  start(): void {
    this.stopped = false;
    this.loop();
  }

  /** Stops ticking and waits for runs in progress (they are bounded by their time-outs). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.running]);
  }

  private loop(): void {
    if (this.stopped) return;
    this.tick().catch((err: unknown) => this.deps.log.error({ err }, 'scheduler tick failed'));
    const now = this.deps.clock.now().getTime();
    const next = Math.min(
      ...[...this.jobs.values()].map(({ cron }) => (cron.nextRun(new Date(now))?.getTime() ?? now + MAX_SLEEP_MS) - now),
      MAX_SLEEP_MS,
    );
    this.timer = setTimeout(() => this.loop(), Math.max(50, next + 5));
    this.timer.unref();
  }

  /** Claims and starts every due slot; resolves when the claims are made (`done` when runs finish). */
  async tick(): Promise<{ job: string; done: Promise<RunFinished> }[]> {
    const now = this.deps.clock.now();
    const started: { job: string; done: Promise<RunFinished> }[] = [];
    for (const entry of this.jobs.values()) {
      const slot = entry.cron.previousRuns(1, new Date(now.getTime() + 1))[0];
      if (!slot || entry.lastSlot === slot.getTime()) continue;
      entry.lastSlot = slot.getTime();
      if (now.getTime() - slot.getTime() > entry.def.catchUpMs) continue; // too late: the next slot covers it
      const claimed = await this.claim(entry.def, slot, 'schedule');
      if (claimed) started.push({ job: entry.def.name, done: claimed.done });
    }
    return started;
  }

  /** Admin trigger: runs now (slot = now). Throws JobBusyError while the job runs anywhere. */
  async trigger(name: string): Promise<{ runId: string; done: Promise<RunFinished> }> {
    const def = this.get(name);
    if (!def) throw new UnknownJobError(name);
    const now = this.deps.clock.now();
    // A manual run's slot is the trigger time; two triggers in the same millisecond get the next one.
    for (let offset = 0; offset < 100; offset++) {
      const slot = new Date(now.getTime() + offset);
      const claimed = await this.deps.db.withSystem(async (tx) => {
        await failAbandoned(tx, def.name, new Date(now.getTime() - def.timeoutMs - ABANDON_GRACE_MS), now);
        return claimSlot(tx, { job: def.name, scheduledFor: slot, trigger: 'manual', instance: this.instance, now });
      });
      if (claimed === 'busy') throw new JobBusyError(name);
      if (claimed === 'taken') continue;
      const { id } = claimed;
      return { runId: id, done: this.track(executeRun(def, { id, scheduledFor: slot, trigger: 'manual' }, this.deps)) };
    }
    throw new JobBusyError(name);
  }

  private async claim(def: JobDefinition, slot: Date, trigger: 'schedule'): Promise<{ done: Promise<RunFinished> } | undefined> {
    const now = this.deps.clock.now();
    const claimed = await this.deps.db.withSystem(async (tx) => {
      await failAbandoned(tx, def.name, new Date(now.getTime() - def.timeoutMs - ABANDON_GRACE_MS), now);
      const result = await claimSlot(tx, { job: def.name, scheduledFor: slot, trigger, instance: this.instance, now });
      if (result === 'busy') await recordSkipped(tx, def.name, slot, this.instance, now, 'previous run still in progress');
      return result;
    });
    if (typeof claimed === 'string') return undefined;
    const { id } = claimed;
    return { done: this.track(executeRun(def, { id, scheduledFor: slot, trigger }, this.deps)) };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }
}
