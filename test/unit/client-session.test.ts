import { createChatClient } from '../../client/src/chat-client';
import { ChatError } from '../../client/src/chat-error';
import { createRestApi, type FetchLike } from '../../client/src/rest-api';

/** A fetch that answers from a table of `METHOD path` → [status, body], recording calls. */
function fakeFetch(routes: Record<string, (body: unknown, headers: Record<string, string>) => [number, unknown]>) {
  const calls: { method: string; path: string; headers: Record<string, string>; body: unknown }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname + new URL(url).search;
    const body: unknown = init.body === undefined ? undefined : JSON.parse(init.body);
    calls.push({ method: init.method, path, headers: init.headers, body });
    const route = routes[`${init.method} ${new URL(url).pathname}`];
    if (route === undefined) return { status: 404, ok: false, json: async () => ({ error: { code: 'NOT_FOUND', message: 'no route' } }) };
    const [status, answer] = route(body, init.headers);
    return { status, ok: status >= 200 && status < 300, json: async () => answer };
  };
  return { fetch, calls };
}

const user = { userId: 'alice', displayName: 'alice' };

describe('client REST API', () => {
  it('sends the bearer token, builds history queries, and maps error bodies to ChatError', async () => {
    const { fetch, calls } = fakeFetch({
      'GET /api/rooms/r%201/messages': () => [200, { messages: [] }],
      'POST /api/rooms': () => [404, { error: { code: 'USER_NOT_FOUND', message: 'unknown users: bob' } }],
      'GET /api/me': () => [502, 'not json'],
    });
    const api = createRestApi({ baseUrl: 'http://chat.test/', token: () => 'tok', fetch });
    await api.history('r 1', { afterSeq: 3, limit: 10 });
    expect(calls[0]).toMatchObject({
      method: 'GET',
      path: '/api/rooms/r%201/messages?afterSeq=3&limit=10',
      headers: { authorization: 'Bearer tok' },
    });
    await expect(api.createRoom({ name: 'x', members: ['bob'] })).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
      status: 404,
      retriable: false,
    });
    await expect(api.me()).rejects.toMatchObject({ code: 'HTTP', status: 502, retriable: true });
  });

  it('v1.1: refresh, logout with the refresh token, and user search', async () => {
    const { fetch, calls } = fakeFetch({
      'POST /api/auth/refresh': () => [200, { token: 't2', expiresIn: 60, refreshToken: 'r2', refreshExpiresIn: 600 }],
      'POST /api/auth/logout': () => [204, undefined],
      'GET /api/users': () => [200, { users: [user] }],
    });
    const api = createRestApi({ baseUrl: 'http://chat.test', token: () => 'tok', fetch });
    expect(await api.refresh('r1')).toEqual({ token: 't2', expiresIn: 60, refreshToken: 'r2', refreshExpiresIn: 600 });
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/auth/refresh', body: { refreshToken: 'r1' } });
    await api.logout('r2');
    expect(calls[1]).toMatchObject({ method: 'POST', path: '/api/auth/logout', body: { refreshToken: 'r2' } });
    await api.logout();
    expect(calls[2]).toMatchObject({ method: 'POST', path: '/api/auth/logout', body: undefined });
    expect(await api.searchUsers('al ice&x', 5)).toEqual([user]);
    expect(calls[3]).toMatchObject({ method: 'GET', path: '/api/users?q=al+ice%26x&limit=5', headers: { authorization: 'Bearer tok' } });
  });

  it('reports an unreachable server as NETWORK (status 0, retriable)', async () => {
    const api = createRestApi({ baseUrl: 'http://chat.test', fetch: async () => Promise.reject(new Error('ECONNREFUSED')) });
    const error = await api.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChatError);
    expect(error).toMatchObject({ code: 'NETWORK', status: 0, retriable: true });
  });
});

describe('client session refresh', () => {
  it('uses the refresh token when the login gave one (v1.1), rotating it', async () => {
    const { fetch, calls } = fakeFetch({
      'POST /api/auth/login': () => [200, { token: 't1', expiresIn: 60, user, refreshToken: 'r1', refreshExpiresIn: 600 }],
      'POST /api/auth/refresh': (body) => [
        200,
        { token: 't2', expiresIn: 60, refreshToken: `${(body as { refreshToken: string }).refreshToken}-next`, refreshExpiresIn: 600 },
      ],
    });
    const sessions: unknown[] = [];
    const client = createChatClient({ baseUrl: 'http://chat.test', fetch, onSession: (s) => sessions.push(s) });
    await client.login('alice', 'password-1');
    // Two connections refused at once share one refresh.
    await expect(Promise.all([client.refresh(), client.refresh()])).resolves.toEqual([true, true]);
    expect(calls.filter((c) => c.path === '/api/auth/refresh')).toHaveLength(1);
    expect(client.session()).toEqual({ token: 't2', user, refreshToken: 'r1-next' });
    expect(sessions).toHaveLength(2);
  });

  it('falls back to reauthenticate without a refresh token (the server today), and says false when it cannot', async () => {
    const { fetch } = fakeFetch({ 'POST /api/auth/login': () => [200, { token: `t${Math.random()}`, expiresIn: 60, user }] });
    const reauthenticate = jest.fn(async () => ({ token: 'again', user }));
    const client = createChatClient({ baseUrl: 'http://chat.test', fetch, reauthenticate });
    await client.login('alice', 'password-1');
    await expect(client.refresh()).resolves.toBe(true);
    expect(client.session()?.token).toBe('again');
    const bare = createChatClient({ baseUrl: 'http://chat.test', fetch });
    await bare.login('alice', 'password-1');
    await expect(bare.refresh()).resolves.toBe(false);
  });
});
