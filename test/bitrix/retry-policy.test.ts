import { describe, expect, it } from 'vitest';
import { BitrixError, createBitrixError } from '../../src/bitrix/errors.js';
import { mayHaveExecuted, toBitrixError } from '../../src/bitrix/outbox/retry-policy.js';

/** What a failed request may have done: a register that may have run is repeated only in Bitrix24's window. */

const network = (code: string) => createBitrixError('batch', { type: 'network', code, name: 'RequestError', message: code });
const http = (status: number, code = 'INVALID_RESPONSE') => new BitrixError({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', code, description: 'x', method: 'batch', httpStatus: status });

describe('mayHaveExecuted', () => {
  it.each<[string, BitrixError, boolean]>([
    ['a reset after the request left', network('ECONNRESET'), true],
    ['a timeout', network('ETIMEDOUT'), true],
    ['a 500 from the portal', http(500), true],
    ['a 503 from the gateway (QUERY_LIMIT_EXCEEDED or down)', http(503, 'QUERY_LIMIT_EXCEEDED'), false],
    ['a 429', http(429, 'OPERATION_TIME_LIMIT'), false],
    ['a refused connection', network('ECONNREFUSED'), false],
    ['an unknown host', network('ENOTFOUND'), false],
    ['no route', network('EHOSTUNREACH'), false],
    ['no application token yet (raised before sending)', new BitrixError({ kind: 'retryable', errorCode: 'AUTH_REQUIRED', code: 'not_installed', description: 'x', method: 'batch' }), false],
    ['the portal\'s plan refuses the whole request (403, app mode waits)', new BitrixError({ kind: 'retryable', errorCode: 'ACCOUNT', code: 'PAYMENT_REQUIRED', description: 'x', method: 'batch', httpStatus: 403 }), false],
    ['a refused access token, answered before any method ran (401)', new BitrixError({ kind: 'retryable', errorCode: 'AUTH_REQUIRED', code: 'INVALID_TOKEN', description: 'x', method: 'batch', httpStatus: 401 }), false],
    ['anything unexpected', toBitrixError(new Error('boom')), true],
  ])('%s', (_name, err, expected) => {
    expect(mayHaveExecuted(err)).toBe(expected);
  });

  it('keeps a BitrixError as it is and makes anything else a retryable one', () => {
    const e = network('ECONNRESET');
    expect(toBitrixError(e)).toBe(e);
    expect(toBitrixError('text')).toMatchObject({ kind: 'retryable', errorCode: 'NETWORK', description: 'text' });
  });
});
