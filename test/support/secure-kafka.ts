import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The test cluster's SASL_SSL listener, as `infra.sh up` starts it and writes it down in
 * `<infra>/kafka/env` (KAFKA_SECURE_*): its bootstrap servers, the CA that signed the
 * brokers' certificates, and the SASL user with its password. Fails loudly when the
 * cluster was started without it (an older infra.sh): `infra.sh up` restarts such brokers.
 */
export interface SecureKafka {
  readonly brokers: string[];
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
}

export function secureKafka(): SecureKafka {
  const infraDir = process.env['TEST_INFRA_DIR'] ?? join(__dirname, '..', '..', '.infra');
  const envFile = join(infraDir, 'kafka', 'env');
  if (!existsSync(envFile)) throw new Error(`${envFile} is missing: start the cluster with bash scripts/infra/infra.sh up`);
  const env = new Map(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const get = (name: string): string => {
    const value = env.get(name);
    if (value === undefined || value === '')
      throw new Error(`${envFile} has no ${name}: the cluster predates its SASL_SSL listener; run bash scripts/infra/infra.sh up`);
    return value;
  };
  return {
    brokers: get('KAFKA_SECURE_BROKERS').split(','),
    caFile: get('KAFKA_SECURE_SSL_CA_FILE'),
    username: get('KAFKA_SECURE_SASL_USERNAME'),
    password: readFileSync(get('KAFKA_SECURE_SASL_PASSWORD_FILE'), 'utf8').trim(),
  };
}
