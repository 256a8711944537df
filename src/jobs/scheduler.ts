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
const WAITING_RECHECK_MS = 200;
const MAX_SLOTS_PER_TICK = 100;

export class UnknownJobError extends Error {}
export class JobBusyError extends Error {}

interface Scheduled {
  def: JobDefinition;
  cron: Cron;
  lastSlot?: number;
  /** Due slots not yet claimed (normally empty; holds a slot while its job is still running). */
  queue: Date[];
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
  private shutdown = new AbortController();

  constructor(private readonly deps: SchedulerDeps) {
    for (const def of deps.jobs) {
      const pattern = deps.overrides?.[def.name] ?? def.schedule;
      this.jobs.set(def.name, { def, cron: new Cron(pattern, { timezone: 'UTC', paused: true }), queue: [] });
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
    if (this.shutdown.signal.aborted) this.shutdown = new AbortController();
    this.loop();
  }

  /**
   * Stops ticking and interrupts runs in progress: an attempt is aborted (its open transaction rolls
   * back) and a retry waiting its delay is dropped, each run recorded as failed "interrupted by
   * shutdown", so a deploy never waits minutes on a backup or a retry delay.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.shutdown.abort();
    await Promise.allSettled([...this.running]);
  }

  private loop(): void {
    if (this.stopped) return;
    void this.tick()
      .catch((err: unknown) => this.deps.log.error({ err }, 'scheduler tick failed'))
      .then(() => {
        if (this.stopped) return;
        const now = this.deps.clock.now().getTime();
        const next = Math.min(
          ...[...this.jobs.values()].map(({ cron }) => (cron.nextRun(new Date(now))?.getTime() ?? now + MAX_SLEEP_MS) - now),
          this.waiting() ? WAITING_RECHECK_MS : MAX_SLEEP_MS,
        );
        this.timer = setTimeout(() => this.loop(), Math.max(20, next + 5));
        this.timer.unref();
      });
  }

  /**
   * Claims and starts every due slot; resolves when the claims are made (`done` when runs finish).
   * A slot that finds its job still running (an earlier slot or a manual run, on any instance) stays
   * queued and is claimed as soon as that run ends, so slots never overlap and none is lost; one
   * that waits past its catch-up window is recorded as skipped.
   */
  async tick(): Promise<{ job: string; done: Promise<RunFinished> }[]> {
    const now = this.deps.clock.now();
    const started: { job: string; done: Promise<RunFinished> }[] = [];
    for (const entry of this.jobs.values()) {
      const latest = entry.cron.previousRuns(1, new Date(now.getTime() + 1))[0];
      if (latest && entry.lastSlot !== latest.getTime()) {
        // Every slot since the last one seen (a late timer must not lose one); at start, the latest.
        const slots =
          entry.lastSlot === undefined
            ? [latest]
            : entry.cron.nextRuns(MAX_SLOTS_PER_TICK, new Date(entry.lastSlot)).filter((d) => d <= latest);
        entry.lastSlot = latest.getTime();
        for (const slot of slots) {
          if (now.getTime() - slot.getTime() <= entry.def.catchUpMs) entry.queue.push(slot);
        }
      }
      while (entry.queue.length > 0) {
        const slot = entry.queue[0]!;
        if (now.getTime() - slot.getTime() > entry.def.catchUpMs) {
          await this.deps.db.withSystem((tx) => recordSkipped(tx, entry.def.name, slot, this.instance, now, 'waited past its catch-up window'));
          entry.queue.shift();
          continue;
        }
        const claimed = await this.claim(entry.def, slot);
        if (claimed === 'busy') break;
        entry.queue.shift();
        if (claimed !== 'taken') started.push({ job: entry.def.name, done: claimed.done });
      }
    }
    return started;
  }

  /** True while some slot waits for its job's previous run to end (the loop then ticks sooner). */
  private waiting(): boolean {
    return [...this.jobs.values()].some((e) => e.queue.length > 0);
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
      return { runId: id, done: this.track(executeRun(def, { id, scheduledFor: slot, trigger: 'manual' }, this.runDeps())) };
    }
    throw new JobBusyError(name);
  }

  private async claim(def: JobDefinition, slot: Date): Promise<{ done: Promise<RunFinished> } | 'taken' | 'busy'> {
    const now = this.deps.clock.now();
    const claimed = await this.deps.db.withSystem(async (tx) => {
      await failAbandoned(tx, def.name, new Date(now.getTime() - def.timeoutMs - ABANDON_GRACE_MS), now);
      return claimSlot(tx, { job: def.name, scheduledFor: slot, trigger: 'schedule', instance: this.instance, now });
    });
    if (typeof claimed === 'string') return claimed;
    const { id } = claimed;
    return { done: this.track(executeRun(def, { id, scheduledFor: slot, trigger: 'schedule' }, this.runDeps())) };
  }

  private runDeps() {
    return { ...this.deps, shutdown: this.shutdown.signal };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }
}
