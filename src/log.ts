// Logging behind a narrow interface: core in the action, a recorder in unit tests.
import * as core from '@actions/core';

export interface Logger {
  info(message: string): void;
  warning(message: string, props?: core.AnnotationProperties): void;
  error(message: string, props?: core.AnnotationProperties): void;
  debug(message: string): void;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export const coreLogger: Logger = {
  info: (m) => core.info(m),
  warning: (m, p) => core.warning(m, p ?? {}),
  error: (m, p) => core.error(m, p ?? {}),
  debug: (m) => core.debug(m),
  group: (t, fn) => core.group(t, fn),
};

export { formatBytes, formatMs } from './format.js';
