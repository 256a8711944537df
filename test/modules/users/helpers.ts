// Relationships set up directly in SQL (as darezone_jobs): the friends and challenges modules are
// not what these tests are about.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { TestContext } from '../../helpers/app.js';

export const PUBLIC_FIELDS = ['avatar_media_id', 'bio', 'current_streak', 'display_name', 'full_name', 'id', 'longest_streak', 'points'];

export async function befriend(t: TestContext, a: string, b: string, status: 'accepted' | 'pending' | 'blocked' = 'accepted') {
  await t.db.withSystem((tx) =>
    tx.execute(sql`insert into friendships (requester_id, addressee_id, status, blocked_by)
      values (${a}, ${b}, ${status}, ${status === 'blocked' ? a : null})
      on conflict ((least(requester_id, addressee_id)), (greatest(requester_id, addressee_id)))
      do update set status = excluded.status, blocked_by = excluded.blocked_by`),
  );
}

export async function shareChallenge(t: TestContext, memberIds: string[], memberStatus: 'active' | 'left' = 'active') {
  const id = randomUUID();
  await t.db.withSystem(async (tx) => {
    await tx.execute(sql`insert into challenges (id, name, type, start_date, end_date, max_members, created_by)
      values (${id}, 'Shared challenge', 'group', '2026-06-01', '2026-07-01', 10, ${memberIds[0]})`);
    for (const userId of memberIds) {
      await tx.execute(sql`insert into challenge_members (challenge_id, user_id, role, status)
        values (${id}, ${userId}, ${userId === memberIds[0] ? 'creator' : 'member'}, ${userId === memberIds[0] ? 'active' : memberStatus})`);
    }
  });
  return id;
}

export async function insertMedia(t: TestContext, ownerId: string, kind: 'avatar' | 'photo') {
  const id = randomUUID();
  await t.db.withSystem((tx) =>
    tx.execute(sql`insert into media (id, owner_id, kind, content_type, size_bytes, storage_key, sha256)
      values (${id}, ${ownerId}, ${kind}, 'image/jpeg', 1234, ${`test/${id}.jpg`}, ${'a'.repeat(64)})`),
  );
  return id;
}
