import type { FastifyInstance } from 'fastify';
import { invalid } from '../../errors.js';
import { toPage } from '../../lib/pagination.js';
import { decodeKeyset, keyOf } from '../challenges/keyset.js';
import * as repo from './repository.js';

export function habitToApi(row: Omit<repo.HabitRow, 'cursor_us'>) {
  return {
    id: row.id,
    name: row.name,
    icon: row.icon,
    description: row.description,
    category: row.category,
    is_system: row.is_system,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
  };
}

export async function listHabits(app: FastifyInstance, userId: string, query: { limit: number; cursor?: string }) {
  const cursor = decodeKeyset(query.cursor);
  const rows = await app.db.withUser(userId, (tx) => repo.listHabits(tx, userId, query.limit, cursor));
  const page = toPage(rows, query.limit, keyOf);
  return { items: page.items.map(habitToApi), next_cursor: page.next_cursor };
}

/** Optional text: trimmed, and blank means "not given". */
const optionalText = (value: string | undefined) => (value?.trim() ? value.trim() : null);

export async function createHabit(
  app: FastifyInstance,
  userId: string,
  body: { name: string; icon?: string; description?: string; category?: string },
) {
  const name = body.name.trim();
  if (!name) throw invalid('body.name', 'must not be blank');
  const row = await app.db.withUser(userId, (tx) =>
    repo.insertHabit(tx, userId, {
      name,
      icon: optionalText(body.icon),
      description: optionalText(body.description),
      category: optionalText(body.category),
    }),
  );
  return habitToApi(row!);
}
