import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { Scheduler, JobBusyError } from '../../src/jobs/scheduler.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ clock: undefined });
});
afterAll(() => t.close());

const base = { description: 'test job', schedule: '0 * * * *', timeoutMs: 2000, catchUpMs: 30 * 60_000, retries: { attempts: 1, delayMs: 10 } };

function scheduler(jobs: JobDefinition[]) {
  return new Scheduler({ db: t.db, clock: t.clock, log: t.app.log, jobs });
}

const runs = (job: string) =>
  t.db.withSystem((tx) => tx.query<{ status: string; attempt: number; error: string | null; trigger: string; scheduled_for: Date; result: unknown }>(
    sql`select status, attempt, error, trigger, scheduled_for, result from job_runs where job = ${job} order by started_at`));

describe('scheduler', () => {
  it('runs a due slot once, records it, and does not run it again', async () => {
    let count = 0;
    const s = scheduler([{ ...base, name: 'test.once', run: async () => { count++; return { result: { n: count } }; } }]);
    t.clock.set('2026-06-15T10:00:30Z');
    const [started] = await s.tick();
    expect((await started!.done).status).toBe('success');
    expect(await s.tick()).toEqual([]);
    const rows = await runs('test.once');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'success', trigger: 'schedule', attempt: 1, result: { n: 1 } });
    expect(rows[0]!.scheduled_for.toISOString()).toBe('2026-06-15T10:00:00.000Z');
    // A second instance on the same database gets nothing for the same slot.
    expect(await scheduler([{ ...base, name: 'test.once', run: async () => { count++; } }]).tick()).toEqual([]);
    expect(count).toBe(1);
  });

  it('skips a slot later than its catch-up window, runs one within it', async () => {
    let count = 0;
    const job = { ...base, name: 'test.catchup', catchUpMs: 5 * 60_000, run: async () => { count++; } };
    t.clock.set('2026-06-15T11:10:00Z'); // 10 min after the 11:00 slot
    expect(await scheduler([job]).tick()).toEqual([]);
    t.clock.set('2026-06-15T12:04:00Z');
    const started = await scheduler([job]).tick();
    await started[0]!.done;
    expect(count).toBe(1);
  });

  it('a job that throws is recorded failed with its error after its retries', async () => {
    let calls = 0;
    const s = scheduler([{ ...base, name: 'test.fails', retries: { attempts: 3, delayMs: 5 }, run: async () => { calls++; throw new Error('upstream exploded'); } }]);
    t.clock.set('2026-06-15T13:00:01Z');
    const [started] = await s.tick();
    const finished = await started!.done;
    expect(finished.status).toBe('failed');
    expect(calls).toBe(3);
    expect((await runs('test.fails'))[0]).toMatchObject({ status: 'failed', attempt: 3, error: 'Error: upstream exploded' });
  });

  it('a retry that succeeds is recorded success with its attempt number', async () => {
    let calls = 0;
    const s = scheduler([{ ...base, name: 'test.flaky', retries: { attempts: 3, delayMs: 5 }, run: async () => { if (++calls < 2) throw new Error('blip'); } }]);
    t.clock.set('2026-06-15T14:00:01Z');
    await (await s.tick())[0]!.done;
    expect((await runs('test.flaky'))[0]).toMatchObject({ status: 'success', attempt: 2, error: null });
  });

  it('a job over its time-out is recorded timed_out and its unfinished work is rolled back', async () => {
    const s = scheduler([{
      ...base,
      name: 'test.slow',
      timeoutMs: 150,
      run: async (ctx) => {
        await ctx.withSystem(async (tx) => {
          await tx.execute(sql`insert into job_runs (job, scheduled_for, status) values ('test.slow.side-effect', now(), 'success')`);
          await new Promise((r) => setTimeout(r, 400));
        });
      },
    }]);
    t.clock.set('2026-06-15T15:00:01Z');
    const finished = await (await s.tick())[0]!.done;
    expect(finished.status).toBe('timed_out');
    await new Promise((r) => setTimeout(r, 500)); // let the aborted transaction reach its end
    expect((await runs('test.slow'))[0]).toMatchObject({ status: 'timed_out', error: expect.stringContaining('timed out') });
    expect(await runs('test.slow.side-effect')).toHaveLength(0);
  });

  it('a manual trigger while the job runs is refused; a slot arriving meanwhile waits and runs after it, never overlapping', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const s = scheduler([{ ...base, name: 'test.busy', run: async () => { if (++calls === 1) await gate; } }]);
    t.clock.set('2026-06-15T15:59:00Z');
    const first = await s.trigger('test.busy');
    await expect(s.trigger('test.busy')).rejects.toBeInstanceOf(JobBusyError);
    t.clock.set('2026-06-15T16:00:01Z');
    expect(await s.tick()).toEqual([]); // the 16:00 slot waits
    release();
    expect((await first.done).status).toBe('success');
    const [queued] = await s.tick();
    expect((await queued!.done).status).toBe('success');
    const rows = await runs('test.busy');
    expect(rows.map((r) => [r.trigger, r.status, r.scheduled_for.toISOString()])).toEqual([
      ['manual', 'success', '2026-06-15T15:59:00.000Z'],
      ['schedule', 'success', '2026-06-15T16:00:00.000Z'],
    ]);
  });

  it('a slot that waits past its catch-up window is recorded skipped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = scheduler([{ ...base, name: 'test.late', catchUpMs: 60_000, run: () => gate }]);
    t.clock.set('2026-06-15T16:59:30Z');
    const first = await s.trigger('test.late');
    t.clock.set('2026-06-15T17:00:10Z');
    expect(await s.tick()).toEqual([]);
    t.clock.set('2026-06-15T17:02:00Z');
    expect(await s.tick()).toEqual([]);
    release();
    await first.done;
    const rows = await runs('test.late');
    expect(rows.map((r) => [r.trigger, r.status])).toEqual([['manual', 'success'], ['schedule', 'skipped']]);
    expect(rows[1]!.error).toMatch(/catch-up window/);
  });

  it('a run left "running" by a dead instance is marked failed once its time-out has passed', async () => {
    await t.db.withSystem((tx) => tx.execute(sql`insert into job_runs (job, scheduled_for, status, started_at, instance)
      values ('test.orphan', '2026-06-15T16:00:00Z', 'running', '2026-06-15T16:00:00Z', 'dead-instance')`));
    const s = scheduler([{ ...base, name: 'test.orphan', run: async () => undefined }]);
    t.clock.set('2026-06-15T16:30:00Z');
    const { done } = await s.trigger('test.orphan');
    await done;
    const rows = await runs('test.orphan');
    expect(rows.map((r) => r.status)).toEqual(['failed', 'success']);
    expect(rows[0]!.error).toMatch(/abandoned/);
  });
  it('stop() does not wait out a retry delay: the run ends failed "not retried", at once', async () => {
    const s = scheduler([{ ...base, name: 'test.retry-wait', retries: { attempts: 2, delayMs: 5 * 60_000 }, run: async () => { throw new Error('busy now'); } }]);
    t.clock.set('2026-06-15T18:00:01Z');
    const [started] = await s.tick();
    await new Promise((r) => setTimeout(r, 100)); // the first attempt fails, the 5-minute retry wait begins
    const before = performance.now();
    await s.stop();
    expect(performance.now() - before).toBeLessThan(5_000);
    expect((await started!.done).status).toBe('failed');
    expect((await runs('test.retry-wait'))[0]).toMatchObject({ status: 'failed', attempt: 1, error: expect.stringMatching(/busy now.*not retried: interrupted by shutdown/) });
  });

  it('stop() interrupts a running attempt: rolled back, recorded failed, not retried', async () => {
    let calls = 0;
    const s = scheduler([{
      ...base,
      name: 'test.interrupted',
      timeoutMs: 60_000,
      retries: { attempts: 3, delayMs: 5 },
      run: async (ctx) => {
        calls++;
        await ctx.withSystem(async (tx) => {
          await tx.execute(sql`insert into job_runs (job, scheduled_for, status) values ('test.interrupted.side-effect', now(), 'success')`);
          await new Promise((r) => setTimeout(r, 400));
        });
      },
    }]);
    t.clock.set('2026-06-15T19:00:01Z');
    const [started] = await s.tick();
    await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    expect((await started!.done).status).toBe('failed');
    await new Promise((r) => setTimeout(r, 500)); // let the aborted transaction reach its end
    expect(calls).toBe(1);
    expect((await runs('test.interrupted'))[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('interrupted by shutdown') });
    expect(await runs('test.interrupted.side-effect')).toHaveLength(0);
  });
});
