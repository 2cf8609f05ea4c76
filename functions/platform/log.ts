import type { InvocationContext } from "@azure/functions";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields` (request id, traceparent, ...). */
  with(fields: LogFields): Logger;
}

type Sink = (level: LogLevel, line: string) => void;

const consoleSink: Sink = (level, line) => {
  (level === "error" ? console.error : level === "warn" ? console.warn : console.log)(line);
};

/** Lines written through the invocation context so the host correlates them with the invocation. */
function invocationSink(context: InvocationContext): Sink {
  return (level, line) => {
    if (level === "debug") context.debug(line);
    else if (level === "info") context.info(line);
    else if (level === "warn") context.warn(line);
    else context.error(line);
  };
}

function serializeError(err: unknown): unknown {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, stack: err.stack, ...(err.cause !== undefined ? { cause: serializeError(err.cause) } : {}) };
  }
  return err;
}

function build(sink: Sink, minLevel: LogLevel, base: LogFields): Logger {
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (rank[level] < rank[minLevel]) return;
    const entry: LogFields = { time: new Date().toISOString(), level, msg, ...base, ...fields };
    if ("err" in entry) entry.err = serializeError(entry.err);
    sink(level, JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    with: (fields) => build(sink, minLevel, { ...base, ...fields }),
  };
}

/** Structured JSON logs: one object per line. */
export function createLogger(options: { level: LogLevel; context?: InvocationContext; fields?: LogFields }): Logger {
  const sink = options.context ? invocationSink(options.context) : consoleSink;
  return build(sink, options.level, options.fields ?? {});
}
