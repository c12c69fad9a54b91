import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStartFailure, kafkaSecurity } from '../../src/adapters/kafka/kafka-security';
import { ConfigError, loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
const pem = join(dir, 'ca.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const notPem = join(dir, 'ca.txt');
writeFileSync(notPem, 'hello');
const base = { KAFKA_BROKERS: 'b1:9093' };

describe('Kafka TLS and SASL settings', () => {
  it('are off by default, and on with a CA file or KAFKA_SSL', () => {
    expect(loadConfig(base).kafka!.ssl).toBeUndefined();
    expect(loadConfig({ ...base, KAFKA_SSL: 'true' }).kafka!.ssl).toEqual({
      ca: undefined,
      cert: undefined,
      key: undefined,
      rejectUnauthorized: true,
    });
    expect(loadConfig({ ...base, KAFKA_SSL_CA_FILE: pem }).kafka!.ssl!.ca).toContain('BEGIN CERTIFICATE');
  });

  it('refuse a missing or non-PEM file, a certificate without its key, and SASL without a mechanism or credentials', () => {
    const refused = (env: Record<string, string>): string => {
      try {
        loadConfig({ ...base, ...env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') })).toContain('KAFKA_SSL_CA_FILE');
    expect(refused({ KAFKA_SSL_CA_FILE: notPem })).toContain('not a PEM file');
    expect(refused({ KAFKA_SSL_CERT_FILE: pem })).toContain('KAFKA_SSL_KEY_FILE');
    expect(refused({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toContain('KAFKA_SASL_MECHANISM');
    expect(refused({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' })).toContain('KAFKA_SASL_PASSWORD');
    expect(refused({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toContain(
      'KAFKA_SASL_MECHANISM',
    );
  });

  it("become kafkajs's ssl and sasl options", () => {
    const { kafka } = loadConfig({
      ...base,
      KAFKA_SSL_CA_FILE: pem,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'chat',
      KAFKA_SASL_PASSWORD: 's3cret',
    });
    expect(kafkaSecurity(kafka!)).toEqual({
      ssl: { rejectUnauthorized: true, ca: [kafka!.ssl!.ca] },
      sasl: { mechanism: 'scram-sha-256', username: 'chat', password: 's3cret' },
    });
    expect(kafkaSecurity({})).toEqual({});
  });

  it('never log the password or the client key, even when the whole configuration is logged', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', instanceId: 'test', destination: { write: (line: string) => void lines.push(line) } });
    const config = loadConfig({ ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'chat', KAFKA_SASL_PASSWORD: 's3cret-value' });
    logger.info({ config }, 'config');
    logger.info({ kafka: config.kafka }, 'kafka');
    expect(lines.join('')).not.toContain('s3cret-value');
    expect(lines.join('')).toContain('chat');
  });

  it('say what failed at start: credentials, TLS, or otherwise', () => {
    const sasl = { mechanism: 'scram-sha-512' as const, username: 'chat', password: 'pw-never-shown' };
    const ssl = { ca: 'x', cert: undefined, key: undefined, rejectUnauthorized: true };
    const authFailed = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(describeStartFailure(authFailed, { ssl, sasl })).toBe(
      "Kafka refused this instance's SASL credentials (KAFKA_SASL_MECHANISM=scram-sha-512, KAFKA_SASL_USERNAME=chat); check them",
    );
    const tls = Object.assign(new Error('Connection error: unable to verify the first certificate'), { name: 'KafkaJSConnectionError' });
    expect(describeStartFailure(tls, { ssl, sasl })).toMatch(/TLS handshake with the brokers failed/);
    expect(describeStartFailure(new Error('ECONNREFUSED'), { ssl, sasl })).toBe('Kafka bus start failed');
  });
});
