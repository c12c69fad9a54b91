import { createServiceGroup, service } from '../../src/service-group';

/** Start in order, stop in reverse; a failed start undoes itself; a failed stop stops the rest. */
describe('service group', () => {
  const recorder = () => {
    const events: string[] = [];
    const part = (name: string, { failStart = false, failStop = false } = {}) =>
      service(name, {
        start: async () => {
          if (failStart) throw new Error(`${name} cannot start`);
          events.push(`start ${name}`);
        },
        stop: async () => {
          events.push(`stop ${name}`);
          if (failStop) throw new Error(`${name} cannot stop`);
        },
      });
    return { events, part };
  };

  it('starts in the order given and stops in reverse', async () => {
    const { events, part } = recorder();
    const group = createServiceGroup([part('store'), part('bus'), part('http')]);
    await group.start();
    await group.stop();
    expect(events).toEqual(['start store', 'start bus', 'start http', 'stop http', 'stop bus', 'stop store']);
  });

  it('a start that fails stops what had started, in reverse, and rejects with the failure', async () => {
    const { events, part } = recorder();
    const group = createServiceGroup([part('store'), part('bus'), part('http', { failStart: true }), part('never')]);
    await expect(group.start()).rejects.toThrow('http cannot start');
    expect(events).toEqual(['start store', 'start bus', 'stop bus', 'stop store']);
    await group.stop();
    expect(events).toHaveLength(4);
  });

  it('a stop that fails is reported and the others still stop', async () => {
    const { events, part } = recorder();
    const failed: string[] = [];
    const group = createServiceGroup([part('store'), part('bus', { failStop: true }), part('http')], {
      onStopError: (name) => failed.push(name),
    });
    await group.start();
    await group.stop();
    expect(events.slice(3)).toEqual(['stop http', 'stop bus', 'stop store']);
    expect(failed).toEqual(['bus']);
  });

  it('stopping twice, or before starting, does nothing', async () => {
    const { events, part } = recorder();
    const group = createServiceGroup([part('store')]);
    await group.stop();
    await group.start();
    await group.stop();
    await group.stop();
    expect(events).toEqual(['start store', 'stop store']);
  });
});
