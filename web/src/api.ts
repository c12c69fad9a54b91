import { createRestApi, type LoginResponse, type PublicUser, type RoomSummary } from '../../client/src/index.js';
import type { ClusterView } from '../../src/protocol/instance-view';

export { ChatError } from '../../client/src/index.js';
export type { PublicUser };
export type Room = RoomSummary;
export type Login = LoginResponse;

/**
 * The REST API (api.md) for the pages, same origin: the client package's REST client
 * (client/), plus the admin endpoint the package does not cover. `token` is read on every
 * call, so a login or logout takes effect at once. Every failure is a ChatError; a network
 * failure is one with status 0 and code NETWORK.
 */
export function createApi({ token }: { token: () => string | undefined }) {
  const rest = createRestApi({ baseUrl: location.origin, token });
  return {
    ...rest,
    cluster: () => rest.request<ClusterView>('GET', '/api/admin/cluster'),
  };
}

export type Api = ReturnType<typeof createApi>;
