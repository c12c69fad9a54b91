import bcrypt from 'bcrypt';
import { ChatError } from '../domain/errors';

/**
 * bcrypt only reads the first 72 bytes of a password: two passwords sharing those bytes
 * would be equal. So a longer password is refused outright (400 PASSWORD_TOO_LONG), never
 * silently truncated.
 */
export const BCRYPT_MAX_BYTES = 72;

export function assertPasswordFits(password: string): void {
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    throw new ChatError('PASSWORD_TOO_LONG', `password must be at most ${BCRYPT_MAX_BYTES} bytes in UTF-8`);
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Compares against `hash`, or, when there is no user (`hash` undefined), against a dummy
   * hash of the same cost, so an unknown user takes as long as a wrong password and
   * response time does not reveal which user ids exist.
   */
  verify(password: string, hash: string | undefined): Promise<boolean>;
}

export function createPasswordHasher({ cost = 10 }: { /** bcrypt cost factor. Default 10. */ cost?: number } = {}): PasswordHasher {
  const dummy = bcrypt.hashSync('dummy-password-for-timing', cost);
  return {
    async hash(password) {
      assertPasswordFits(password);
      return bcrypt.hash(password, cost);
    },
    async verify(password, hash) {
      assertPasswordFits(password);
      const ok = await bcrypt.compare(password, hash ?? dummy);
      return hash !== undefined && ok;
    },
  };
}
