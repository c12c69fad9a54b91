import pino from 'pino';

/**
 * Structured JSON logs (pino). Secrets are redacted by path, so a password, a token or an
 * Authorization header never reaches a log line even when a whole object is logged.
 */
export type Logger = pino.Logger<never>;

export const redactPaths = [
  'password',
  '*.password',
  'sealedPassword',
  '*.sealedPassword',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'jwtSecret',
  '*.jwtSecret',
  // Kafka credentials, wherever the configuration is logged whole.
  'sasl.password',
  '*.sasl.password',
  '*.*.sasl.password',
  'ssl.key',
  '*.ssl.key',
  '*.*.ssl.key',
];

export function createLogger({
  level = 'info',
  instanceId,
  destination,
}: {
  /** pino level; 'silent' for none. Default 'info'. */
  level?: string;
  instanceId: string;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  destination?: pino.DestinationStream;
}): Logger {
  const options: pino.LoggerOptions<never> = {
    level,
    base: { instance: instanceId },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
