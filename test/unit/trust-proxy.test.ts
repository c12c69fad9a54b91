import express from 'express';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config/config';
import { parseTrustProxy, type TrustProxy } from '../../src/config/trust-proxy';
import { createClientIpResolver, type ClientIpRequest } from '../../src/gateway/client-ip';

const trust = (text: string): TrustProxy => {
  const parsed = parseTrustProxy(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.value;
};
const req = (remoteAddress: string | undefined, xff?: string | string[]): ClientIpRequest =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as ClientIpRequest;
const ipBy = (rule: string, remoteAddress: string | undefined, xff?: string | string[]): string =>
  createClientIpResolver(trust(rule)).clientIp(req(remoteAddress, xff));

describe('TRUST_PROXY parsing', () => {
  it('defaults to loopback: a proxy on the same host, as before the setting existed', () => {
    expect(loadConfig({}).http.trustProxy).toEqual({
      kind: 'cidrs',
      cidrs: [
        { family: 'ipv4', address: '127.0.0.0', prefix: 8 },
        { family: 'ipv6', address: '::1', prefix: 128 },
      ],
    });
  });

  it('takes a hop count', () => {
    expect(loadConfig({ TRUST_PROXY: '0' }).http.trustProxy).toEqual({ kind: 'hops', hops: 0 });
    expect(loadConfig({ TRUST_PROXY: ' 2 ' }).http.trustProxy).toEqual({ kind: 'hops', hops: 2 });
  });

  it('takes addresses, CIDR blocks and named ranges, mixed, normalising mapped IPv4', () => {
    expect(trust('10.1.0.0/16, 192.0.2.7 ,2001:DB8::/32, ::ffff:198.51.100.1, linklocal')).toEqual({
      kind: 'cidrs',
      cidrs: [
        { family: 'ipv4', address: '10.1.0.0', prefix: 16 },
        { family: 'ipv4', address: '192.0.2.7', prefix: 32 },
        { family: 'ipv6', address: '2001:db8::', prefix: 32 },
        { family: 'ipv4', address: '198.51.100.1', prefix: 32 },
        { family: 'ipv4', address: '169.254.0.0', prefix: 16 },
        { family: 'ipv6', address: 'fe80::', prefix: 10 },
      ],
    });
    expect(trust('uniquelocal')).toMatchObject({
      kind: 'cidrs',
      cidrs: expect.arrayContaining([{ family: 'ipv4', address: '172.16.0.0', prefix: 12 }]),
    });
  });

  it('refuses what it cannot read, naming every bad entry, and stops the start', () => {
    const parsed = parseTrustProxy('10.0.0.0/33, nginx.local, 1.2.3.4/x, ::1/129, constructor');
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/10\.0\.0\.0\/33.*0–32/);
    expect(problems.join('\n')).toMatch(/nginx\.local/);
    expect(problems.join('\n')).toMatch(/::1\/129.*0–128/);
    expect(parseTrustProxy('33')).toEqual({ ok: false, problems: [expect.stringMatching(/0–32/)] });
    expect(parseTrustProxy(' , ')).toMatchObject({ ok: false });
    expect(() => loadConfig({ TRUST_PROXY: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: "true" is neither/);
  });
});

describe('client IP by TRUST_PROXY', () => {
  it('loopback: believes X-Forwarded-For only from this host, up to the first outside hop', () => {
    expect(ipBy('loopback', '203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    expect(ipBy('loopback', '127.0.0.1', '198.51.100.1')).toBe('198.51.100.1');
    expect(ipBy('loopback', '::1', '10.0.0.1, 198.51.100.1, 127.0.0.1')).toBe('198.51.100.1');
    expect(ipBy('loopback', '::ffff:127.0.0.1', ['2001:db8::1'])).toBe('2001:db8::1');
    expect(ipBy('loopback', '127.0.0.1')).toBe('127.0.0.1');
  });

  it('a CIDR list: a remote proxy passes its clients on; a client outside it cannot pick its IP', () => {
    const rule = '10.0.0.0/8';
    // The load balancer at 10.0.0.5 appended the peer it saw; the left part is the client's own text.
    expect(ipBy(rule, '10.0.0.5', 'spoofed-by-client, 198.51.100.1, 203.0.113.50')).toBe('203.0.113.50');
    expect(ipBy(rule, '10.0.0.5', '1.1.1.1, 203.0.113.50, 10.0.0.9')).toBe('203.0.113.50');
    expect(ipBy(rule, '::ffff:10.0.0.5', '203.0.113.50')).toBe('203.0.113.50');
    // Straight from the internet: the header is the client's, never read.
    expect(ipBy(rule, '203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    // Loopback is not trusted unless listed.
    expect(ipBy(rule, '127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
    expect(ipBy('127.0.0.1', '127.0.0.2', '198.51.100.1')).toBe('127.0.0.2');
  });

  it('a hop count: the N nearest hops are proxies, the next is the client', () => {
    expect(ipBy('1', '10.0.0.5', '6.6.6.6, 203.0.113.50')).toBe('203.0.113.50');
    expect(ipBy('2', '10.0.0.5', '6.6.6.6, 203.0.113.50, 10.0.0.9')).toBe('203.0.113.50');
    // Fewer hops than trusted: the farthest one known.
    expect(ipBy('3', '10.0.0.5', '203.0.113.50')).toBe('203.0.113.50');
    expect(ipBy('1', '10.0.0.5')).toBe('10.0.0.5');
    // 0: no header is ever believed.
    expect(ipBy('0', '127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
  });

  it('stops at the last trusted hop when the forwarded value is not an address', () => {
    expect(ipBy('loopback', '127.0.0.1', 'evil\r\nheader')).toBe('127.0.0.1');
    expect(ipBy('loopback', '127.0.0.1', 'x'.repeat(100))).toBe('127.0.0.1');
    expect(ipBy('10.0.0.0/8', '10.0.0.5', '198.51.100.1, 10.0.0.7:5555')).toBe('10.0.0.5');
    expect(ipBy('2', '10.0.0.5', '198.51.100.1, ')).toBe('10.0.0.5');
    expect(ipBy('loopback', undefined, '198.51.100.1')).toBe('unknown');
  });

  it("gives Express's req.ip the same answer", async () => {
    for (const [rule, xff] of [
      ['10.0.0.0/8, loopback', '6.6.6.6, 203.0.113.50'],
      ['1', '6.6.6.6, 203.0.113.50'],
      ['0', '203.0.113.50'],
    ] as const) {
      const resolver = createClientIpResolver(trust(rule));
      const app = express();
      app.set('trust proxy', (address: string, index: number) => resolver.trusts(address, index));
      app.get('/', (r, res) => res.json({ express: r.ip, ours: resolver.clientIp(r) }));
      const res = await request(app).get('/').set('X-Forwarded-For', xff);
      expect(res.body.express).toBe(res.body.ours);
    }
  });
});
