// Runs once before the services suite: a missing service is a failure, not a skip.
import net from 'node:net';
import pg from 'pg';

function tcpPing(url: string, timeoutMs = 3000): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) || 6379, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => reject(new Error(`timeout connecting to ${hostname}:${port}`)));
    socket.once('error', reject);
  });
}

export default async function setup() {
  const dbUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: dbUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`services suite: PostgreSQL unreachable at ${dbUrl}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  await tcpPing(redisUrl).catch((err: Error) => {
    throw new Error(`services suite: Redis unreachable at ${redisUrl}: ${err.message}`, { cause: err });
  });
}
