import { createHmac, generateKeyPairSync } from 'node:crypto';
import bcrypt from 'bcrypt';
import jwt from 'jsonwebtoken';
import { ChatError } from '../../src/domain/errors';
import { createPasswordHasher, BCRYPT_MAX_BYTES } from '../../src/auth/password-hasher';
import { createPasswordSealer } from '../../src/auth/password-sealer';
import { createTokenService } from '../../src/auth/token-service';

const secret = 'x'.repeat(40);
const tokens = createTokenService({ secret, issuer: 'iss', audience: 'aud', ttlSeconds: 60 });
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ChatError) return error.code;
    throw error;
  }
  return 'NO_ERROR';
};
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('token service', () => {
  it('round-trips a token', () => {
    const issued = tokens.issue('alice');
    const claims = tokens.verify(issued.token);
    expect(claims).toMatchObject({ userId: 'alice', jti: issued.claims.jti });
  });

  it('refuses alg:none', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', jti: 'j', iss: 'iss', aud: 'aud', exp: now + 60 })}.`;
    expect(codeOf(() => tokens.verify(token))).toBe('UNAUTHORIZED');
  });

  it('refuses a token signed with another algorithm (HS512) even with the right secret', () => {
    const token = jwt.sign({ jti: 'j' }, secret, { algorithm: 'HS512', subject: 'alice', issuer: 'iss', audience: 'aud', expiresIn: 60 });
    expect(codeOf(() => tokens.verify(token))).toBe('UNAUTHORIZED');
  });

  it('refuses alg:none made by the library itself (no signature at all)', () => {
    const token = jwt.sign({ jti: 'j' }, null, { algorithm: 'none', subject: 'alice', issuer: 'iss', audience: 'aud', expiresIn: 60 });
    expect(token.endsWith('.')).toBe(true);
    expect(codeOf(() => tokens.verify(token))).toBe('UNAUTHORIZED');
  });

  describe('HS/RS algorithm confusion', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const claims = () => ({ sub: 'alice', jti: 'j', iss: 'iss', aud: 'aud', exp: Math.floor(Date.now() / 1000) + 60 });

    it('refuses an RS256 token (signed with a private key an attacker owns)', () => {
      const token = jwt.sign({ jti: 'j' }, privateKey, {
        algorithm: 'RS256',
        subject: 'alice',
        issuer: 'iss',
        audience: 'aud',
        expiresIn: 60,
      });
      expect(jwt.verify(token, publicKey, { algorithms: ['RS256'] })).toMatchObject({ sub: 'alice' });
      expect(codeOf(() => tokens.verify(token))).toBe('UNAUTHORIZED');
    });

    it('refuses an HS256 token whose HMAC key is a PEM public key', () => {
      // The classic confusion: HMAC with the (public) RSA key as the secret. jsonwebtoken
      // refuses to sign that, so the token is made by hand.
      const header = b64({ alg: 'HS256', typ: 'JWT' });
      const body = b64(claims());
      const sig = createHmac('sha256', publicPem).update(`${header}.${body}`).digest('base64url');
      const token = `${header}.${body}.${sig}`;
      expect(codeOf(() => tokens.verify(token))).toBe('UNAUTHORIZED');
      // The forgery is well formed: a plain HMAC check with the PEM text would accept it.
      const [h, p, s] = token.split('.');
      expect(createHmac('sha256', publicPem).update(`${h}.${p}`).digest('base64url')).toBe(s);
    });

    it('refuses an RS256 header over an HMAC signature made with the service secret', () => {
      const header = b64({ alg: 'RS256', typ: 'JWT' });
      const body = b64(claims());
      const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
      expect(codeOf(() => tokens.verify(`${header}.${body}.${sig}`))).toBe('UNAUTHORIZED');
    });
  });

  it('refuses a token without sub or jti even when correctly signed', () => {
    const noJti = jwt.sign({}, secret, { algorithm: 'HS256', subject: 'alice', issuer: 'iss', audience: 'aud', expiresIn: 60 });
    const noSub = jwt.sign({ jti: 'j' }, secret, { algorithm: 'HS256', issuer: 'iss', audience: 'aud', expiresIn: 60 });
    const noExp = jwt.sign({ jti: 'j' }, secret, { algorithm: 'HS256', subject: 'alice', issuer: 'iss', audience: 'aud' });
    expect(codeOf(() => tokens.verify(noJti))).toBe('UNAUTHORIZED');
    expect(codeOf(() => tokens.verify(noSub))).toBe('UNAUTHORIZED');
    expect(codeOf(() => tokens.verify(noExp))).toBe('UNAUTHORIZED');
  });

  it('refuses a tampered payload', () => {
    const [h, , s] = tokens.issue('alice').token.split('.');
    const now = Math.floor(Date.now() / 1000);
    const forged = `${h}.${b64({ sub: 'mallory', jti: 'j', iss: 'iss', aud: 'aud', exp: now + 60 })}.${s}`;
    expect(codeOf(() => tokens.verify(forged))).toBe('UNAUTHORIZED');
  });

  it('refuses an expired token with TOKEN_EXPIRED', () => {
    const token = jwt.sign({ jti: 'j', exp: Math.floor(Date.now() / 1000) - 10 }, secret, {
      algorithm: 'HS256',
      subject: 'alice',
      issuer: 'iss',
      audience: 'aud',
    });
    expect(codeOf(() => tokens.verify(token))).toBe('TOKEN_EXPIRED');
  });

  const signWith = (iss: string, aud: string) =>
    jwt.sign({ jti: 'j' }, secret, { algorithm: 'HS256', subject: 'alice', issuer: iss, audience: aud, expiresIn: 60 });

  it('refuses a wrong audience', () => {
    expect(codeOf(() => tokens.verify(signWith('iss', 'other')))).toBe('UNAUTHORIZED');
    expect(codeOf(() => tokens.verify(signWith('iss', 'aud')))).toBe('NO_ERROR');
  });

  it('refuses a wrong issuer', () => {
    expect(codeOf(() => tokens.verify(signWith('other', 'aud')))).toBe('UNAUTHORIZED');
  });

  it('refuses a tampered header (alg switched to HS512 over an HS256 signature)', () => {
    const [, body, sig] = tokens.issue('alice').token.split('.');
    expect(codeOf(() => tokens.verify(`${b64({ alg: 'HS512', typ: 'JWT' })}.${body}.${sig}`))).toBe('UNAUTHORIZED');
  });

  it('refuses a tampered signature', () => {
    const token = tokens.issue('alice').token;
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect(codeOf(() => tokens.verify(flipped))).toBe('UNAUTHORIZED');
  });

  it('refuses a token signed with another secret', () => {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    const body = b64({ sub: 'alice', jti: 'j', iss: 'iss', aud: 'aud', exp: Math.floor(Date.now() / 1000) + 60 });
    const sig = createHmac('sha256', 'y'.repeat(40)).update(`${header}.${body}`).digest('base64url');
    expect(codeOf(() => tokens.verify(`${header}.${body}.${sig}`))).toBe('UNAUTHORIZED');
  });
});

describe('password hasher', () => {
  const hasher = createPasswordHasher({ cost: 4 });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse');
    await expect(hasher.verify('correct horse', hash)).resolves.toBe(true);
    await expect(hasher.verify('wrong horse', hash)).resolves.toBe(false);
  });

  it(`refuses passwords over ${BCRYPT_MAX_BYTES} bytes, counting UTF-8 bytes`, async () => {
    const long = 'é'.repeat(37); // 74 bytes, 37 characters
    await expect(hasher.hash(long)).rejects.toMatchObject({ code: 'PASSWORD_TOO_LONG' });
    await expect(hasher.verify(long, undefined)).rejects.toMatchObject({ code: 'PASSWORD_TOO_LONG' });
    await expect(hasher.hash('a'.repeat(72))).resolves.toMatch(/^\$2b\$04\$/);
  });

  it('runs a real bcrypt compare for an unknown user (timing does not reveal existence)', async () => {
    const spy = jest.spyOn(bcrypt, 'compare');
    await expect(hasher.verify('whatever', undefined)).resolves.toBe(false);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0]![1])).toMatch(/^\$2b\$04\$/);
    spy.mockRestore();
  });
});

describe('password sealer', () => {
  const sealer = createPasswordSealer({ secret });
  it('round-trips and never contains the password in clear', () => {
    const sealed = sealer.seal('hunter2-password');
    expect(sealed).not.toContain('hunter2');
    expect(sealer.open(sealed)).toBe('hunter2-password');
  });
  it('refuses a tampered or foreign seal', () => {
    const sealed = sealer.seal('hunter2-password');
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => sealer.open(bytes.toString('base64url'))).toThrow(ChatError);
    expect(() => createPasswordSealer({ secret: 'z'.repeat(40) }).open(sealed)).toThrow(ChatError);
    expect(() => sealer.open('short')).toThrow(ChatError);
  });
});
