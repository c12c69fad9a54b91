import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ChatError } from '../domain/errors';

/**
 * Login needs the password at the owner, which is across Kafka. It travels sealed with
 * AES-256-GCM under a key derived (HKDF) from the cluster secret, so topics, dead-letter
 * topics and broker disks never hold a password in clear. GCM also authenticates it: a
 * tampered record fails to open and is refused, not compared.
 */
export interface PasswordSealer {
  seal(password: string): string;
  open(sealed: string): string;
}

export function createPasswordSealer({ secret }: { secret: string }): PasswordSealer {
  const key = Buffer.from(hkdfSync('sha256', secret, 'keyed-chat', 'login-password-seal-v1', 32));
  return {
    seal(password) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    open(sealed) {
      const data = Buffer.from(sealed, 'base64url');
      if (data.length < 28) throw new ChatError('VALIDATION', 'sealed password is malformed');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
        decipher.setAuthTag(data.subarray(12, 28));
        return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new ChatError('VALIDATION', 'sealed password failed authentication');
      }
    },
  };
}
