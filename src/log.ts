/**
 * Where the pipeline's messages go. The action logs through @actions/core
 * (workflow commands, groups); the CLI logs plain lines to the console.
 */
import * as core from '@actions/core';

export interface Log {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /** Runs `fn` inside a collapsible group (action) or under a heading (CLI). */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** The action's log: @actions/core. */
export const coreLog: Log = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  error: message => core.error(message),
  debug: message => core.debug(message),
  group: (name, fn) => core.group(name, fn)
};

/** A plain console log for the CLI; `verbose` shows debug lines. */
export function consoleLog(verbose = false): Log {
  return {
    info: message => console.log(message),
    warning: message => console.error(`warning: ${message}`),
    error: message => console.error(`error: ${message}`),
    debug: message => {
      if (verbose) console.error(`debug: ${message}`);
    },
    group: async (name, fn) => {
      console.log(`== ${name}`);
      return fn();
    }
  };
}

/** A log that drops everything (tests, benches). */
export const silentLog: Log = {
  info: () => {},
  warning: () => {},
  error: () => {},
  debug: () => {},
  group: (_name, fn) => fn()
};
