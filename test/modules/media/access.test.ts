// Who may read and delete media (row-level security's app.can_read_media), and what a signed URL
// is worth: owner; members of a challenge whose check-in uses it; any signed-in user for avatars;
// 404 for everyone else. Signed URLs expire (test clock) and cannot be edited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext, type TestUser } from '../../helpers/app.js';
import { checkIn, createChallenge, HABITS, join, refreshed } from '../challenges/fixtures.js';
import { jpeg, tempDataDir, upload } from './helpers.js';

let t: TestContext;
let alice: TestUser; // owner
let bob: TestUser; // a stranger
let carol: TestUser; // in a challenge with alice

beforeAll(async () => {
  t = await createTestApp({ env: { DATA_DIR: tempDataDir() } });
  [alice, bob, carol] = [await t.users.create(), await t.users.create(), await t.users.create()];
});
afterAll(() => t.close());

const get = (user: TestUser, id: string) => t.app.inject({ url: `/api/v1/media/${id}`, headers: user.auth });
const del = (user: TestUser, id: string) => t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: user.auth });
const uploaded = async (user: TestUser, kind: 'photo' | 'avatar' = 'photo') => {
  const res = await upload(t, user, kind, await jpeg());
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; url: string }>();
};

describe('reading and deleting', () => {
  it('a stranger gets 404 for GET and DELETE of my photo, exactly as for an id that does not exist', async () => {
    const photo = await uploaded(alice);
    const missing = '00000000-0000-4000-8000-00000000abcd';
    for (const res of [await get(bob, photo.id), await del(bob, photo.id), await get(bob, missing), await del(bob, missing)]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    expect((await get(alice, photo.id)).statusCode).toBe(200); // still there
  });

  it('without a token: 401', async () => {
    const photo = await uploaded(alice);
    expect((await t.app.inject({ url: `/api/v1/media/${photo.id}` })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/media' })).statusCode).toBe(401);
  });

  it('a member of a challenge whose check-in uses the photo can read it (and fetch its bytes), not delete it', async () => {
    const challenge = await createChallenge(t, alice);
    expect((await join(t, carol, challenge.invite_code)).statusCode).toBe(200);
    const photo = await uploaded(alice);
    expect((await get(carol, photo.id)).statusCode).toBe(404); // not used by any check-in yet
    expect((await checkIn(t, alice, { challenge_id: challenge.id, habit_id: HABITS.exercise, photo_media_id: photo.id })).statusCode).toBe(201);

    const seen = await get(carol, photo.id);
    expect(seen.statusCode).toBe(200);
    const bytes = await t.app.inject({ url: seen.json().url });
    expect(bytes.statusCode).toBe(200);
    expect(bytes.headers['content-type']).toBe('image/jpeg');
    expect((await get(bob, photo.id)).statusCode).toBe(404);
    expect((await del(carol, photo.id)).statusCode).toBe(403);
  });

  it('any signed-in user can read an avatar', async () => {
    const avatar = await uploaded(alice, 'avatar');
    const res = await get(bob, avatar.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().kind).toBe('avatar');
  });

  it('DELETE is refused with 409 MEDIA_IN_USE while a check-in or my profile uses it', async () => {
    const challenge = await createChallenge(t, alice);
    const photo = await uploaded(alice);
    expect((await checkIn(t, alice, { challenge_id: challenge.id, habit_id: HABITS.water, photo_media_id: photo.id })).statusCode).toBe(201);
    const inUse = await del(alice, photo.id);
    expect(inUse.statusCode).toBe(409);
    expect(inUse.json().code).toBe('MEDIA_IN_USE');

    const avatar = await uploaded(alice, 'avatar');
    expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: alice.auth, payload: { avatar_media_id: avatar.id } })).statusCode).toBe(200);
    expect((await del(alice, avatar.id)).json().code).toBe('MEDIA_IN_USE');
    expect((await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: alice.auth, payload: { avatar_media_id: null } })).statusCode).toBe(200);
    expect((await del(alice, avatar.id)).statusCode).toBe(204);
  });

  it('uploaded media plug into check-ins and profiles by kind (a photo is not an avatar)', async () => {
    const photo = await uploaded(alice);
    const res = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: alice.auth, payload: { avatar_media_id: photo.id } });
    expect(res.statusCode).toBe(422);
  });
});

describe('signed URLs', () => {
  it('work without a token until they expire (test clock), then 403; a fresh GET gives a working one', async () => {
    const photo = await uploaded(alice);
    expect((await t.app.inject({ url: photo.url })).statusCode).toBe(200);
    t.clock.advance(299_000);
    expect((await t.app.inject({ url: photo.url })).headers['cache-control']).toBe('private, max-age=1');
    t.clock.advance(1_000);
    const expired = await t.app.inject({ url: photo.url });
    expect(expired.statusCode).toBe(403);
    expect(expired.json().code).toBe('FORBIDDEN');
    expect(expired.json().detail).toMatch(/expired/);
    const fresh = (await get(await refreshed(t, alice), photo.id)).json<{ url: string }>().url;
    expect((await t.app.inject({ url: fresh })).statusCode).toBe(200);
  });

  it('a tampered signature, expiry or id is 403', async () => {
    const photo = await uploaded(alice);
    const other = await uploaded(alice);
    const url = new URL(photo.url, 'http://x');
    const sig = url.searchParams.get('sig')!;
    const expires = Number(url.searchParams.get('expires'));
    const tampered = [
      `/media/files/${photo.id}?expires=${expires}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`,
      `/media/files/${photo.id}?expires=${expires + 86400}&sig=${sig}`,
      `/media/files/${other.id}?expires=${expires}&sig=${sig}`,
      `/media/files/${photo.id}?expires=${expires}&sig=AAAA`,
    ];
    for (const u of tampered) {
      const res = await t.app.inject({ url: u });
      expect(res.statusCode, u).toBe(403);
      expect(res.body).not.toContain('\u00ff\u00d8'); // no image bytes
    }
    expect((await t.app.inject({ url: `/media/files/${photo.id}` })).statusCode).toBe(400); // no signature at all
  });
});

