import { logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../observability/logger';

/** kafkajs's log lines, through our logger (component `kafkajs`), one level down. */
export function kafkaLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry): void => {
      const { message, ...rest } = entry;
      // kafkajs logs protocol errors it is about to retry (a young topic's metadata, a
      // coordinator still loading) as errors; they are warnings here. Failures that
      // survive its retries reach our code, which logs them as errors.
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) log.warn(rest, message);
      else if (level === KafkaLogLevel.INFO) log.debug(rest, message);
      else log.trace(rest, message);
    };
}
