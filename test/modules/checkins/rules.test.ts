// The §3 check-in rules, one test each: membership, habit, active window, evidence, duplicates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { checkIn, createChallenge, HABITS, insertMedia, join, refreshed, TODAY } from '../challenges/fixtures.js';

let t: TestContext;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  alice = await t.users.create();
  bob = await t.users.create();
});
afterAll(() => t.close());

describe('POST /checkins', () => {
  it('201 with the check-in, streak and points; counters move together', async () => {
    const c = await createChallenge(t, alice);
    const res = await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water, caption: '  8 glasses  ' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ new_streak: 1, points_earned: 10, streak_broken: false });
    expect(body.checkin).toMatchObject({
      challenge_id: c.id, habit_id: HABITS.water, user_id: alice.id, local_date: TODAY, caption: '8 glasses',
      photo_media_id: null, video_media_id: null, points_earned: 10, streak_after: 1,
    });
    const counters = await t.db.withSystem((tx) => tx.one(sql`
      select m.points, m.total_check_ins, m.current_streak, m.last_check_in_date, p.points as profile_points,
             p.total_check_ins as profile_total, ch.total_check_ins as habit_total
      from challenge_members m join user_profiles p on p.user_id = m.user_id
      join challenge_habits ch on ch.challenge_id = m.challenge_id and ch.habit_id = ${HABITS.water}
      where m.challenge_id = ${c.id} and m.user_id = ${alice.id}`));
    expect(counters).toEqual({
      points: 10, total_check_ins: 1, current_streak: 1, last_check_in_date: TODAY, profile_points: 10, profile_total: 1, habit_total: 1,
    });
  });

  it('a second check-in of the same habit the same day → 409 DUPLICATE_CHECK_IN; another habit is fine', async () => {
    const c = await createChallenge(t, alice);
    expect((await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water })).statusCode).toBe(201);
    const again = await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('DUPLICATE_CHECK_IN');
    expect((await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.exercise })).statusCode).toBe(201);
  });

  it('a habit that is not part of the challenge → 422', async () => {
    const c = await createChallenge(t, alice);
    const res = await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.reading });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([{ path: 'body.habit_id', message: 'is not a habit of this challenge' }]);
  });

  it('not a member → 404 (private or public, never joined, left, or removed); unknown challenge 404', async () => {
    const priv = await createChallenge(t, alice);
    const pub = await createChallenge(t, alice, { is_public: true });
    for (const c of [priv, pub]) {
      const res = await checkIn(t, bob, { challenge_id: c.id, habit_id: HABITS.water });
      expect(res.statusCode).toBe(404);
    }
    await join(t, bob, priv.invite_code);
    await t.app.inject({ method: 'POST', url: `/api/v1/challenges/${priv.id}/leave`, headers: bob.auth });
    expect((await checkIn(t, bob, { challenge_id: priv.id, habit_id: HABITS.water })).statusCode).toBe(404);
    const unknown = await checkIn(t, bob, { challenge_id: '7d4c8f1e-7a51-4d2b-9b1a-2f0e6c1d9a00', habit_id: HABITS.water });
    expect(unknown.statusCode).toBe(404);
  });

  it('before the start date, after the end date, or once closed → 409 CHALLENGE_NOT_ACTIVE', async () => {
    const pending = await createChallenge(t, alice, { start_date: '2026-06-16', end_date: '2026-06-18' });
    const early = await checkIn(t, alice, { challenge_id: pending.id, habit_id: HABITS.water });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('CHALLENGE_NOT_ACTIVE');

    t.clock.advanceDays(1);
    try {
      const a = await refreshed(t, alice);
      expect((await checkIn(t, a, { challenge_id: pending.id, habit_id: HABITS.water })).statusCode).toBe(201);
      t.clock.advanceDays(3); // 2026-06-19, the day after end_date
      const late = await checkIn(t, await refreshed(t, alice), { challenge_id: pending.id, habit_id: HABITS.exercise });
      expect(late.json().code).toBe('CHALLENGE_NOT_ACTIVE');
    } finally {
      t.clock.set('2026-06-15T12:00:00Z');
    }

    const closed = await createChallenge(t, alice);
    await t.db.withSystem((tx) => tx.execute(sql`update challenges set status = 'archived' where id = ${closed.id}`));
    expect((await checkIn(t, alice, { challenge_id: closed.id, habit_id: HABITS.water })).json().code).toBe('CHALLENGE_NOT_ACTIVE');
  });

  it('the window follows the member’s local date: the first day opens at local midnight', async () => {
    // 2026-06-15T20:00Z is already the 16th in Ho Chi Minh City (UTC+7), still the 15th in UTC.
    const saigon = await t.users.create({ timezone: 'Asia/Ho_Chi_Minh' });
    t.clock.set('2026-06-15T16:00:00Z'); // 23:00 local on the 15th
    try {
      const c = await createChallenge(t, await refreshed(t, saigon), { start_date: '2026-06-16', end_date: '2026-06-30' });
      expect((await checkIn(t, await refreshed(t, saigon), { challenge_id: c.id, habit_id: HABITS.water })).json().code).toBe('CHALLENGE_NOT_ACTIVE');
      t.clock.set('2026-06-15T17:30:00Z'); // 00:30 local on the 16th
      const res = await checkIn(t, await refreshed(t, saigon), { challenge_id: c.id, habit_id: HABITS.water });
      expect(res.statusCode).toBe(201);
      expect(res.json().checkin.local_date).toBe('2026-06-16');
    } finally {
      t.clock.set('2026-06-15T12:00:00Z');
    }
  });
});

describe('evidence (require_evidence)', () => {
  const evidenceCase = async (checkinType: string) => {
    const c = await createChallenge(t, alice, { checkin_type: checkinType, require_evidence: true, habit_ids: Object.values(HABITS) });
    return c.id as string;
  };

  it('photo: needs a photo the user uploaded', async () => {
    const id = await evidenceCase('photo');
    const photo = await insertMedia(t, alice.id, 'photo');
    const video = await insertMedia(t, alice.id, 'video');
    const bobsPhoto = await insertMedia(t, bob.id, 'photo');
    const none = await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, caption: 'trust me' });
    expect(none.statusCode).toBe(422);
    expect(none.json().errors[0].path).toBe('body.photo_media_id');
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, photo_media_id: video })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, photo_media_id: bobsPhoto })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, photo_media_id: '7d4c8f1e-7a51-4d2b-9b1a-2f0e6c1d9a00' })).statusCode).toBe(422);
    const ok = await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, photo_media_id: photo });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().checkin.photo_media_id).toBe(photo);
  });

  it('video: needs a video the user uploaded', async () => {
    const id = await evidenceCase('video');
    const photo = await insertMedia(t, alice.id, 'photo');
    const video = await insertMedia(t, alice.id, 'video');
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, photo_media_id: photo })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, video_media_id: photo })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, video_media_id: video })).statusCode).toBe(201);
  });

  it('caption: needs a non-empty caption', async () => {
    const id = await evidenceCase('caption');
    for (const caption of [undefined, '', '    ']) {
      const res = await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, ...(caption === undefined ? {} : { caption }) });
      expect(res.statusCode).toBe(422);
      expect(res.json().errors[0].path).toBe('body.caption');
    }
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, caption: 'Done' })).statusCode).toBe(201);
  });

  it('any: at least one of photo, video or caption', async () => {
    const id = await evidenceCase('any');
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, caption: ' ' })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.water, caption: 'ok' })).statusCode).toBe(201);
    const photo = await insertMedia(t, alice.id, 'photo');
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.exercise, photo_media_id: photo })).statusCode).toBe(201);
    const video = await insertMedia(t, alice.id, 'video');
    expect((await checkIn(t, alice, { challenge_id: id, habit_id: HABITS.reading, video_media_id: video })).statusCode).toBe(201);
  });

  it('without require_evidence nothing is needed, but given media must still be the user’s own of the right kind', async () => {
    const c = await createChallenge(t, alice, { checkin_type: 'photo' });
    const bobsPhoto = await insertMedia(t, bob.id, 'photo');
    expect((await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water, photo_media_id: bobsPhoto })).statusCode).toBe(422);
    expect((await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water })).statusCode).toBe(201);
  });

  it('rejects unknown fields such as user_id or points (400)', async () => {
    const c = await createChallenge(t, alice);
    for (const extra of [{ user_id: bob.id }, { points_earned: 1000 }, { local_date: '2026-06-01' }]) {
      expect((await checkIn(t, alice, { challenge_id: c.id, habit_id: HABITS.water, ...extra })).statusCode).toBe(400);
    }
  });
});
