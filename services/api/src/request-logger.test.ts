import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { REDACT_PATHS } from '@eap/core';
import { requestLoggerFactory } from './request-logger.ts';

/** A pino logger like the process's (redaction included) writing JSON lines into `lines`. */
function capturingLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  return { logger, lines, childCalls: vi.spyOn(logger, 'child') };
}

describe('requestLoggerFactory', () => {
  it('writes what a pino child with the request id writes, redaction included', () => {
    const { logger, lines } = capturingLogger('info');
    const log = requestLoggerFactory(logger, { request_id: 'r-1' }, {});
    log.error({ write_key: 'eap_w_secret', route: '/v1/events' }, 'request failed');
    log.info('second');
    logger.child({ request_id: 'r-1' }).error({ write_key: 'eap_w_secret', route: '/v1/events' }, 'request failed');
    const [first, second, direct] = lines.map(({ time: _time, ...line }) => line);
    expect(first).toMatchObject({ request_id: 'r-1', write_key: '[redacted]', route: '/v1/events', msg: 'request failed', level: 50 });
    expect(first).toEqual(direct);
    expect(second).toMatchObject({ request_id: 'r-1', msg: 'second' });
  });

  it('builds no pino child while the request logs nothing at an enabled level', () => {
    const { logger, lines, childCalls } = capturingLogger('info');
    const log = requestLoggerFactory(logger, { request_id: 'r-2' }, {});
    log.debug({ code: 'RATE_LIMITED' }, 'request refused');
    log.trace('nothing');
    expect(log.level).toBe('info');
    expect(childCalls).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    log.warn('now');
    expect(childCalls).toHaveBeenCalledTimes(1);
    log.warn('again');
    expect(childCalls).toHaveBeenCalledTimes(1);
    expect(lines.map((line) => line.msg)).toEqual(['now', 'again']);
  });

  it('honours a route log level given to the child and children of its own', () => {
    const { logger, lines } = capturingLogger('info');
    const log = requestLoggerFactory(logger, { request_id: 'r-3' }, { level: 'debug' });
    expect(log.level).toBe('debug');
    log.debug('debug line');
    log.child({ part: 'x' }).info('grandchild');
    expect(lines).toMatchObject([
      { request_id: 'r-3', msg: 'debug line', level: 20 },
      { request_id: 'r-3', part: 'x', msg: 'grandchild' },
    ]);
  });
});
