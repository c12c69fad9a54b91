import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { KafkaSasl, KafkaTls } from '../../config/config';
import { assertNever } from '../../domain/assert-never';

/** kafkajs's `ssl` and `sasl` settings from the validated configuration. */
export function kafkaSecurity({
  ssl,
  sasl,
}: {
  ssl?: KafkaTls | undefined;
  sasl?: KafkaSasl | undefined;
}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ...(ssl === undefined
      ? {}
      : {
          ssl: {
            rejectUnauthorized: ssl.rejectUnauthorized,
            ...(ssl.ca === undefined ? {} : { ca: [ssl.ca] }),
            ...(ssl.cert === undefined || ssl.key === undefined ? {} : { cert: ssl.cert, key: ssl.key }),
          },
        }),
    ...(sasl === undefined ? {} : { sasl: saslOptions(sasl) }),
  };
}

function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  // One literal per mechanism: kafkajs types the options as a union keyed by it.
  switch (mechanism) {
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
    default:
      return assertNever(mechanism, 'SASL mechanism');
  }
}

const field = (e: unknown, key: string): unknown => (typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined);

/**
 * What a failed start says, so a wrong password or an unknown CA reads as such at once
 * rather than as a generic connection failure. Never includes the password.
 */
export function describeStartFailure(error: unknown, { ssl, sasl }: { ssl?: KafkaTls | undefined; sasl?: KafkaSasl | undefined }): string {
  const chain: unknown[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    chain.push(e);
    e = field(e, 'cause') ?? field(e, 'originalError');
  }
  const text = chain
    .map((e) => `${String(field(e, 'name') ?? '')} ${String(field(e, 'message') ?? '')} ${String(field(e, 'code') ?? '')}`)
    .join(' ');
  if (sasl !== undefined && /SASL|[Aa]uthentication/.test(text)) {
    return `Kafka refused this instance's SASL credentials (KAFKA_SASL_MECHANISM=${sasl.mechanism}, KAFKA_SASL_USERNAME=${sasl.username}); check them`;
  }
  if (/certificate|CERT_|self.signed|SSL|TLS|EPROTO|wrong version number/i.test(text)) {
    return ssl === undefined
      ? 'Kafka bus start failed: the brokers speak TLS but KAFKA_SSL is off'
      : 'Kafka bus start failed: the TLS handshake with the brokers failed (check KAFKA_SSL_CA_FILE, or a client certificate the brokers ask for)';
  }
  return 'Kafka bus start failed';
}
