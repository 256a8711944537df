// media.orphans: unused uploads older than 24 h and stored objects without a row are removed; what
// a check-in or a profile uses, recent uploads and foreign objects are kept; a second run changes
// nothing.
import { randomUUID } from 'node:crypto';
import { utimesSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { JOBS } from '../../src/jobs/registry.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createTestApp, type TestContext, type TestUser } from '../helpers/app.js';
import { checkIn, createChallenge, HABITS, refreshed } from '../modules/challenges/fixtures.js';
import { jpeg, mp4, tempDataDir, upload } from '../modules/media/helpers.js';

let t: TestContext;
let s: Scheduler;
let dataDir: string;
let alice: TestUser;

beforeAll(async () => {
  dataDir = tempDataDir();
  t = await createTestApp({ env: { DATA_DIR: dataDir } });
  s = new Scheduler({ db: t.db, clock: t.clock, log: t.app.log, jobs: JOBS });
  alice = await t.users.create();
});
afterAll(() => t.close());

const run = async () => (await (await s.trigger('media.orphans')).done);
const ids = () => t.db.withSystem(async (tx) => (await tx.query<{ id: string }>(sql`select id from media order by id`)).map((r) => r.id));
const keyOf = (id: string) => t.db.withSystem(async (tx) => (await tx.one<{ storage_key: string }>(sql`select storage_key from media where id = ${id}`))!.storage_key);
const uploaded = async (kind: 'photo' | 'avatar' | 'video') => {
  const res = await upload(t, alice, kind, kind === 'video' ? mp4(10_000) : await jpeg());
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
};

describe('media.orphans', () => {
  it('is registered as a daily job with a 24 h catch-up', () => {
    const job = JOBS.find((j) => j.name === 'media.orphans')!;
    expect(job.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(job.catchUpMs).toBe(24 * 3600_000);
  });

  it('removes unused media older than 24 h and stray objects; keeps used, recent and foreign ones; idempotent', async () => {
    const challenge = await createChallenge(t, alice);
    const unusedPhoto = await uploaded('photo');
    const usedPhoto = await uploaded('photo');
    const usedVideo = await uploaded('video');
    const profileAvatar = await uploaded('avatar');
    const replacedAvatar = await uploaded('avatar');
    expect((await checkIn(t, alice, { challenge_id: challenge.id, habit_id: HABITS.exercise, photo_media_id: usedPhoto })).statusCode).toBe(201);
    expect((await checkIn(t, alice, { challenge_id: challenge.id, habit_id: HABITS.water, video_media_id: usedVideo })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: alice.auth, payload: { avatar_media_id: profileAvatar } })).statusCode).toBe(200);
    const unusedKeys = [await keyOf(unusedPhoto), await keyOf(replacedAvatar)];

    t.clock.advance(25 * 3600_000);
    alice = await refreshed(t, alice); // access tokens live 15 minutes
    const recentPhoto = await uploaded('photo'); // unused, but only just uploaded

    // Objects no row describes: one old (a crash between "stored" and "row inserted"), one recent
    // (an upload in flight), and one old object that is not a media key at all (left alone).
    const storage = t.app.storage;
    const stray = `${randomUUID()}/${randomUUID()}.jpg`;
    const inFlight = `${randomUUID()}/${randomUUID()}.mp4`;
    for (const k of [stray, inFlight]) await storage.put(k, Buffer.from('orphan'), { contentType: 'image/jpeg', size: 6 });
    const oldTime = new Date(t.clock.now().getTime() - 30 * 3600_000);
    utimesSync(path.join(dataDir, 'media', stray), oldTime, oldTime);
    utimesSync(path.join(dataDir, 'media', inFlight), t.clock.now(), t.clock.now());
    await storage.put('backups/2026-06-14.tar', Buffer.from('not media'), { contentType: 'application/x-tar', size: 9 });
    utimesSync(path.join(dataDir, 'media', 'backups/2026-06-14.tar'), oldTime, oldTime);

    const first = await run();
    expect(first.status).toBe('success');
    expect(await ids()).toEqual([usedPhoto, usedVideo, profileAvatar, recentPhoto].sort());
    for (const k of unusedKeys) expect(await storage.exists(k)).toBe(false);
    for (const id of [usedPhoto, usedVideo, profileAvatar, recentPhoto]) expect(await storage.exists(await keyOf(id))).toBe(true);
    expect(await storage.exists(stray)).toBe(false);
    expect(await storage.exists(inFlight)).toBe(true);
    expect(await storage.exists('backups/2026-06-14.tar')).toBe(true);
    const runs = await t.db.withSystem((tx) => tx.query<{ result: Record<string, number> }>(sql`select result from job_runs where job = 'media.orphans' order by started_at`));
    expect(runs.at(-1)!.result).toEqual({ rows_deleted: 2, objects_deleted: 2, stray_objects_deleted: 1 });

    const second = await run();
    expect(second.status).toBe('success');
    expect(await ids()).toEqual([usedPhoto, usedVideo, profileAvatar, recentPhoto].sort());
    const again = await t.db.withSystem((tx) => tx.query<{ result: Record<string, number> }>(sql`select result from job_runs where job = 'media.orphans' order by started_at`));
    expect(again.at(-1)!.result).toEqual({ rows_deleted: 0, objects_deleted: 0, stray_objects_deleted: 0 });
  });
});
