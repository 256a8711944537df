// What a challenge's members see of each other: today's progress and the check-in feed. Active
// members only (403 for someone who can see the challenge but is not in it, 404 for anyone else).
import type { FastifyInstance } from 'fastify';
import { forbidden } from '../../errors.js';
import type { Tx } from '../../db/database.js';
import { checkinsOnDates } from '../checkins/repository.js';
import { listChallengeCheckins } from '../checkins/service.js';
import { liveStreak } from '../checkins/streaks.js';
import { localDate } from './local-dates.js';
import { allActiveMembers } from './members-repository.js';
import { habitsOf } from './repository.js';
import { loadVisible } from './service.js';

async function requireActiveMember(app: FastifyInstance, tx: Tx, id: string, me: string) {
  const row = await loadVisible(app, tx, id, me);
  if (row.my_status !== 'active') throw forbidden('Only active members can see this');
  return row;
}

/** Each member's progress on their own local today (members may live in different zones). */
export function progress(app: FastifyInstance, me: string, id: string) {
  return app.db.withUser(me, async (tx) => {
    await requireActiveMember(app, tx, id, me);
    const habits = await habitsOf(tx, [id]);
    const now = app.clock.now();
    const members = (await allActiveMembers(tx, id)).map((m) => ({ ...m, today: localDate(now, m.timezone) }));
    const dates = [...new Set(members.map((m) => m.today))];
    const done = new Map<string, string>();
    for (const c of dates.length ? await checkinsOnDates(tx, id, dates) : []) {
      done.set(`${c.user_id}|${c.habit_id}|${c.local_date}`, c.id);
    }
    return {
      challenge_id: id,
      habits: habits.map((h) => ({ id: h.id, name: h.name, icon: h.icon })),
      members: members.map((m) => {
        const marks = habits.map((h) => {
          const checkinId = done.get(`${m.user_id}|${h.id}|${m.today}`) ?? null;
          return { habit_id: h.id, checked_in: checkinId !== null, checkin_id: checkinId };
        });
        return {
          user_id: m.user_id,
          display_name: m.display_name,
          local_date: m.today,
          current_streak: liveStreak(m.current_streak, m.last_check_in_date, m.today),
          points: m.points,
          done: marks.filter((x) => x.checked_in).length,
          habits: marks,
        };
      }),
    };
  });
}

export function challengeCheckins(
  app: FastifyInstance,
  me: string,
  id: string,
  query: { limit: number; cursor?: string; user_id?: string; habit_id?: string; from?: string; to?: string },
) {
  return app.db.withUser(me, async (tx) => {
    await requireActiveMember(app, tx, id, me);
    return listChallengeCheckins(tx, id, query);
  });
}
