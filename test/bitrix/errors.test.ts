import { describe, expect, it } from 'vitest';
import {
  BitrixError,
  classifyFailure,
  createBitrixError,
  isQueryLimitExceeded,
  type Classification,
  type Failure,
} from '../../src/bitrix/errors.js';

const table: Array<[string, Failure, Classification]> = [
  // Rate limits and portal trouble: retry later.
  ['503 QUERY_LIMIT_EXCEEDED', { type: 'envelope', status: 503, error: 'QUERY_LIMIT_EXCEEDED' }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['503 query_limit_exceeded in lower case', { type: 'envelope', status: 503, error: 'query_limit_exceeded' }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['503 OVERLOAD_LIMIT', { type: 'envelope', status: 503, error: 'OVERLOAD_LIMIT' }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['429 OPERATION_TIME_LIMIT', { type: 'envelope', status: 429, error: 'OPERATION_TIME_LIMIT' }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['500 INTERNAL_SERVER_ERROR', { type: 'envelope', status: 500, error: 'INTERNAL_SERVER_ERROR' }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['502 with an empty code', { type: 'envelope', status: 502, error: '' }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['502 HTML from a proxy', { type: 'invalid-body', status: 502 }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['200 with a non-JSON body', { type: 'invalid-body', status: 200 }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['429 without an envelope', { type: 'invalid-body', status: 429 }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['ECONNRESET', { type: 'network', code: 'ECONNRESET', message: 'socket hang up' }, { kind: 'retryable', errorCode: 'NETWORK' }],
  ['ECONNREFUSED', { type: 'network', code: 'ECONNREFUSED' }, { kind: 'retryable', errorCode: 'NETWORK' }],
  ['got TimeoutError', { type: 'network', name: 'TimeoutError', code: 'ETIMEDOUT' }, { kind: 'retryable', errorCode: 'TIMEOUT' }],
  ['socket ETIMEDOUT', { type: 'network', code: 'ETIMEDOUT' }, { kind: 'retryable', errorCode: 'TIMEOUT' }],
  // Contract and configuration errors: retrying cannot help.
  ['400 telephony error with "" code', { type: 'envelope', status: 400, error: '', description: 'Call is not found' }, { kind: 'fatal', errorCode: 'CONTRACT' }],
  ['400 ERROR_CORE', { type: 'envelope', status: 400, error: 'ERROR_CORE' }, { kind: 'fatal', errorCode: 'CONTRACT' }],
  ['401 INVALID_CREDENTIALS', { type: 'envelope', status: 401, error: 'INVALID_CREDENTIALS' }, { kind: 'fatal', errorCode: 'AUTH' }],
  ['403 insufficient_scope', { type: 'envelope', status: 403, error: 'insufficient_scope' }, { kind: 'fatal', errorCode: 'AUTH' }],
  ['401 without an envelope', { type: 'invalid-body', status: 401 }, { kind: 'fatal', errorCode: 'AUTH' }],
  ['404 ERROR_METHOD_NOT_FOUND', { type: 'envelope', status: 404, error: 'ERROR_METHOD_NOT_FOUND' }, { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' }],
  ['404 HTML page', { type: 'invalid-body', status: 404 }, { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' }],
  ['302 redirect', { type: 'invalid-body', status: 302 }, { kind: 'fatal', errorCode: 'CONTRACT' }],
  ['400 ERROR_BATCH_LENGTH_EXCEEDED', { type: 'envelope', status: 400, error: 'ERROR_BATCH_LENGTH_EXCEEDED' }, { kind: 'fatal', errorCode: 'CONTRACT' }],
  // Batch sub-commands have no status of their own.
  ['batch item with "" code', { type: 'envelope', error: '' }, { kind: 'fatal', errorCode: 'CONTRACT' }],
  ['batch item QUERY_LIMIT_EXCEEDED', { type: 'envelope', error: 'QUERY_LIMIT_EXCEEDED' }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['batch item Operation_Time_Limit', { type: 'envelope', error: 'Operation_Time_Limit' }, { kind: 'retryable', errorCode: 'RATE_LIMITED' }],
  ['batch item OVERLOAD_LIMIT', { type: 'envelope', error: 'OVERLOAD_LIMIT' }, { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' }],
  ['batch item insufficient_scope', { type: 'envelope', error: 'insufficient_scope' }, { kind: 'fatal', errorCode: 'AUTH' }],
  ['batch item ERROR_METHOD_NOT_FOUND', { type: 'envelope', error: 'ERROR_METHOD_NOT_FOUND' }, { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' }],
];

describe('classifyFailure', () => {
  it.each(table)('classifies %s', (_name, failure, expected) => {
    expect(classifyFailure(failure)).toEqual(expected);
  });
});

describe('createBitrixError', () => {
  it('keeps the portal code, description, status and method of an error envelope', () => {
    const err = createBitrixError('telephony.externalcall.finish', {
      type: 'envelope',
      status: 400,
      error: '',
      description: 'Call is not found (call should be registered prior to finishing',
    });
    expect(err).toBeInstanceOf(BitrixError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'BitrixError',
      kind: 'fatal',
      errorCode: 'CONTRACT',
      httpStatus: 400,
      code: '',
      description: 'Call is not found (call should be registered prior to finishing',
      method: 'telephony.externalcall.finish',
      retryable: false,
    });
    expect(err.message).toBe(
      'telephony.externalcall.finish failed (CONTRACT HTTP 400): Call is not found (call should be registered prior to finishing',
    );
  });

  it('has no HTTP status for a batch sub-command error', () => {
    const err = createBitrixError('user.get', { type: 'envelope', error: 'QUERY_LIMIT_EXCEEDED', description: 'Too many requests' });
    expect(err.httpStatus).toBeUndefined();
    expect(err.retryable).toBe(true);
  });

  it('uses the socket code as the code of a network error', () => {
    const err = createBitrixError('telephony.externalcall.register', { type: 'network', code: 'ECONNRESET', message: 'socket hang up' });
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'NETWORK', code: 'ECONNRESET', description: 'socket hang up' });
    expect(err.httpStatus).toBeUndefined();
  });

  it('marks an unusable body with the INVALID_RESPONSE code', () => {
    const err = createBitrixError('batch', { type: 'invalid-body', status: 502 });
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', code: 'INVALID_RESPONSE', httpStatus: 502 });
  });
});

describe('isQueryLimitExceeded', () => {
  it('matches the code in any letter case', () => {
    expect(isQueryLimitExceeded('QUERY_LIMIT_EXCEEDED')).toBe(true);
    expect(isQueryLimitExceeded('Query_Limit_Exceeded')).toBe(true);
    expect(isQueryLimitExceeded('')).toBe(false);
  });
});
