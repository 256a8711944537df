// Who a request is counted as (§5.1 client IP, §5.2 spoofing): X-Forwarded-For is believed only from
// TRUST_PROXY peers, IPv4-mapped IPv6 is the IPv4 address, IPv6 counts by its /64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { clientKey, ipv6Groups } from '../../src/plugins/client-ip.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

describe('clientKey', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['::ffff:a01:203', '10.1.2.3'],
    ['0:0:0:0:0:ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:0:0:1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8::1:2:3:4', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['not-an-ip', 'not-an-ip'],
  ])('%s → %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('expands :: to the right number of groups', () => {
    expect(ipv6Groups('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('::2')).toEqual([0, 0, 0, 0, 0, 0, 0, 2]);
    expect(ipv6Groups('1:2:3::6:7:8')).toEqual([1, 2, 3, 0, 0, 6, 7, 8]);
    expect(ipv6Groups('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', '1.2.3.4', 'g::1', '']) expect(ipv6Groups(bad)).toBeNull();
  });
});

const ipRoute = (app: FastifyInstance) => {
  app.get('/rl-probe/ip', { config: { public: true } }, async (request) => ({ ip: request.ip }));
};
const authAttempt = (t: TestContext, remoteAddress: string, xff?: string) =>
  t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, headers: xff ? { 'x-forwarded-for': xff } : {}, payload: {} });
async function admittedOf(requests: Promise<{ statusCode: number }>[]) {
  return (await Promise.all(requests)).filter((r) => r.statusCode !== 429).length;
}

describe('no trusted proxy (the default)', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_ENABLED: 'true' }, extend: ipRoute });
  });
  afterAll(() => t.close());

  it('request.ip is the socket peer whatever X-Forwarded-For says', async () => {
    const res = await t.app.inject({ url: '/rl-probe/ip', remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '1.2.3.4' } });
    expect(res.json()).toEqual({ ip: '203.0.113.9' });
  });

  it('a different X-Forwarded-For on each request gains nothing', async () => {
    const tries = Array.from({ length: 30 }, (_, i) => authAttempt(t, '203.0.113.10', `10.0.${i}.1`));
    expect(await admittedOf(tries)).toBe(10);
  });

  it('50 addresses in one IPv6 /64 share one bucket; the next /64 has its own', async () => {
    const tries = Array.from({ length: 50 }, (_, i) => authAttempt(t, `2001:db8:aa:bb:${(i * 977).toString(16)}::${i.toString(16)}`));
    expect(await admittedOf(tries)).toBe(10);
    expect((await authAttempt(t, '2001:db8:aa:bb:ffff:ffff:ffff:ffff')).statusCode).toBe(429);
    expect((await authAttempt(t, '2001:db8:aa:bc::1')).statusCode).not.toBe(429);
  });

  it('::ffff:10.1.2.3 and 10.1.2.3 share one bucket', async () => {
    const tries = Array.from({ length: 20 }, (_, i) => authAttempt(t, i % 2 ? '::ffff:10.1.2.3' : '10.1.2.3'));
    expect(await admittedOf(tries)).toBe(10);
    const mapped = await authAttempt(t, '::ffff:10.1.2.3');
    expect(mapped.statusCode).toBe(429);
  });
});

describe('TRUST_PROXY=127.0.0.1/32', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: '127.0.0.1/32' }, extend: ipRoute });
  });
  afterAll(() => t.close());

  it('request.ip is the right-most untrusted X-Forwarded-For entry', async () => {
    const via = (remoteAddress: string, xff: string) => t.app.inject({ url: '/rl-probe/ip', remoteAddress, headers: { 'x-forwarded-for': xff } });
    expect((await via('127.0.0.1', '198.51.100.1')).json()).toEqual({ ip: '198.51.100.1' });
    expect((await via('127.0.0.1', 'spoofed, 198.51.100.2')).json()).toEqual({ ip: '198.51.100.2' });
    expect((await via('127.0.0.1', '198.51.100.3, 127.0.0.1')).json()).toEqual({ ip: '198.51.100.3' });
    expect((await via('192.0.2.1', '198.51.100.4')).json()).toEqual({ ip: '192.0.2.1' }); // peer not trusted
  });

  it('distinct forwarded client IPs get distinct buckets', async () => {
    const tries = Array.from({ length: 30 }, (_, i) => authAttempt(t, '127.0.0.1', `198.51.100.${100 + i}`));
    expect(await admittedOf(tries)).toBe(30);
    const res = await authAttempt(t, '127.0.0.1', '198.51.100.200');
    expect(res.headers.ratelimit).toMatch(/^"auth";r=9;/);
  });

  it('a client rotating the entries left of its real address gains nothing', async () => {
    const tries = Array.from({ length: 30 }, (_, i) => authAttempt(t, '127.0.0.1', `10.9.${i}.1, 198.51.100.50`));
    expect(await admittedOf(tries)).toBe(10);
  });

  it('an untrusted peer sending X-Forwarded-For is counted as itself', async () => {
    const tries = Array.from({ length: 30 }, (_, i) => authAttempt(t, '192.0.2.77', `198.51.100.${i}`));
    expect(await admittedOf(tries)).toBe(10);
  });
});
