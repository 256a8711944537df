// The key a client is counted under (§5.2). `request.ip` is already the right peer: the socket
// address, or the right-most untrusted X-Forwarded-For entry when the peer is in TRUST_PROXY
// (Fastify's trustProxy). Two normalisations keep one client from looking like many:
//  - an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports) is the
//    IPv4 address it carries;
//  - any other IPv6 address counts by its /64: one subscriber usually holds a whole /64, so keying
//    the full address would let a client rotate through 2^64 addresses for free.
import { isIPv4, isIPv6 } from 'node:net';

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** The 8 groups of an IPv6 address (`::` expanded, dotted IPv4 tail and zone id handled), or null. */
export function ipv6Groups(address: string): number[] | null {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!isIPv6(text)) return null;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return null;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const parts = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (!parts.every((p) => HEX_GROUP.test(p))) return null;
  return parts.map((p) => parseInt(p, 16));
}

/** The rate-limit key for a client address: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 as its /64. */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip; // IPv4: the common case, no parsing
  const groups = ipv6Groups(ip);
  if (!groups) return ip; // not an address (cannot come from a socket); counted as given
  const mapped = groups[5] === 0xffff && groups.slice(0, 5).every((g) => g === 0);
  if (mapped) return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
