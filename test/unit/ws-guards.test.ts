import { createKeyedRateLimiter } from '../../src/domain/keyed-rate-limiter';
import { clientIp } from '../../src/gateway/client-ip';
import { isOriginAllowed } from '../../src/gateway/ws/origin-policy';

describe('isOriginAllowed', () => {
  const allowedOrigins = ['https://chat.example.com', 'http://localhost:5173'];
  const allowed = (origin: string | undefined, host = 'api.example.com:8443') => isOriginAllowed({ origin, host, allowedOrigins });

  it('allows a request without Origin (not a browser)', () => {
    expect(allowed(undefined)).toBe(true);
  });

  it('allows the same origin: Origin host equals the Host header (any scheme: TLS may end at a proxy)', () => {
    expect(allowed('https://api.example.com:8443')).toBe(true);
    expect(allowed('http://api.example.com:8443')).toBe(true);
    expect(allowed('https://API.example.com:8443')).toBe(true);
    expect(isOriginAllowed({ origin: 'https://api.example.com', host: 'api.example.com:443', allowedOrigins: [] })).toBe(true);
    expect(isOriginAllowed({ origin: 'http://api.example.com', host: 'api.example.com', allowedOrigins: [] })).toBe(true);
  });

  it('allows listed origins exactly', () => {
    expect(allowed('https://chat.example.com')).toBe(true);
    expect(allowed('http://localhost:5173')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const origin of [
      'https://evil.example',
      'https://chat.example.com.evil.example',
      'http://chat.example.com',
      'https://chat.example.com:444',
      'https://api.example.com',
      'https://api.example.com:8444',
      'null',
      '',
      'file://',
      'ws://api.example.com:8443',
      'https://api.example.com:8443@evil.example',
    ]) {
      expect([origin, allowed(origin)]).toEqual([origin, false]);
    }
    expect(isOriginAllowed({ origin: 'https://a.example', host: undefined, allowedOrigins: [] })).toBe(false);
  });

  it('allows the opaque origin null only when listed', () => {
    expect(isOriginAllowed({ origin: 'null', host: 'h', allowedOrigins: ['null'] })).toBe(true);
  });
});

describe('createKeyedRateLimiter', () => {
  it('gives each key its burst, refills at the rate, and keeps keys apart', () => {
    let t = 0;
    const limiter = createKeyedRateLimiter({ ratePerSec: 0.5, burst: 30, now: () => t });
    for (let i = 0; i < 30; i++) expect(limiter.take('1.2.3.4')).toBe(true);
    expect(limiter.take('1.2.3.4')).toBe(false);
    expect(limiter.take('5.6.7.8')).toBe(true);
    t += 1_999;
    expect(limiter.take('1.2.3.4')).toBe(false);
    t += 1;
    expect(limiter.take('1.2.3.4')).toBe(true);
    expect(limiter.take('1.2.3.4')).toBe(false);
  });

  it('bounds its memory: refilled buckets are swept and the least recently used dropped', () => {
    let t = 0;
    const limiter = createKeyedRateLimiter({ ratePerSec: 1, burst: 2, maxKeys: 100, now: () => t });
    for (let i = 0; i < 1_000; i++) limiter.take(`k${i}`);
    expect(limiter.size()).toBeLessThanOrEqual(100);
    t += 2_000;
    limiter.take('fresh');
    expect(limiter.size()).toBe(1);
  });
});

describe('clientIp', () => {
  const req = (remoteAddress: string | undefined, xff?: string | string[]) =>
    ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as Parameters<typeof clientIp>[0];

  it('uses the socket address of a remote client and ignores its X-Forwarded-For', () => {
    expect(clientIp(req('203.0.113.9', '198.51.100.1'))).toBe('203.0.113.9');
  });

  it('believes X-Forwarded-For from a local proxy, up to the first non-loopback hop', () => {
    expect(clientIp(req('127.0.0.1', '198.51.100.1'))).toBe('198.51.100.1');
    expect(clientIp(req('::1', '10.0.0.1, 198.51.100.1, 127.0.0.1'))).toBe('198.51.100.1');
    expect(clientIp(req('::ffff:127.0.0.1', ['2001:db8::1']))).toBe('2001:db8::1');
    expect(clientIp(req('127.0.0.1'))).toBe('127.0.0.1');
  });

  it('falls back to the socket address when the forwarded value is not an address', () => {
    expect(clientIp(req('127.0.0.1', 'evil\r\nheader'))).toBe('127.0.0.1');
    expect(clientIp(req('127.0.0.1', 'x'.repeat(100)))).toBe('127.0.0.1');
  });
});
