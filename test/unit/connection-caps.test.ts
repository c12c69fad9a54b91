import { createConnectionCaps } from '../../src/gateway/ws/connection-caps';

describe('connection caps (per client IP and per instance)', () => {
  it('refuses past the per-IP cap, and counts other IPs apart', () => {
    const caps = createConnectionCaps({ maxPerIp: 2, maxTotal: 10 });
    expect([caps.acquire('a'), caps.acquire('a'), caps.acquire('a')]).toEqual(['ok', 'ok', 'per-ip']);
    expect(caps.acquire('b')).toBe('ok');
    expect(caps.size()).toBe(3);
  });

  it('refuses past the instance cap whatever the IP', () => {
    const caps = createConnectionCaps({ maxPerIp: 5, maxTotal: 2 });
    expect([caps.acquire('a'), caps.acquire('b'), caps.acquire('c')]).toEqual(['ok', 'ok', 'instance']);
  });

  it('gives a slot back on release, and ignores a release of nothing', () => {
    const caps = createConnectionCaps({ maxPerIp: 1, maxTotal: 1 });
    expect(caps.acquire('a')).toBe('ok');
    caps.release('a');
    caps.release('a');
    caps.release('never');
    expect(caps.size()).toBe(0);
    expect(caps.acquire('a')).toBe('ok');
  });
});
