import { openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { BitrixClient } from '../bitrix/client.js';
import { createBitrixError } from '../bitrix/errors.js';

/**
 * telephony.externalCall.attachRecord (docs/reference/bitrix24-telephony.md#attach-record), after the call's
 * finish: a small file goes inline as base64 (one request); a larger one asks for an upload URL and POSTs the file
 * there as multipart.
 * Every failure is a BitrixError, so the outbox retries the retryable ones and parks the others.
 */

export const ATTACH_METHOD = 'telephony.externalCall.attachRecord';

export interface AttachDeps {
  client: Pick<BitrixClient, 'call'>;
  /** Up to this many bytes the file goes inline. */
  inlineMaxBytes: number;
  /** Timeout of the multipart upload. */
  timeoutMs: number;
  /** Waits for the shared rate limiter before the upload POST (client.call does its own). */
  beforeRequest?: () => Promise<void>;
  fetch?: typeof fetch;
}

export interface AttachRequest {
  callId: string;
  /** Local file to send. */
  file: string;
  /** Name Bitrix24 stores it under; must end in .mp3 or .wav. */
  fileName: string;
}

export interface AttachResult {
  mode: 'base64' | 'upload';
  bytes: number;
  fileId?: number;
}

export async function attachRecordFile(deps: AttachDeps, req: AttachRequest): Promise<AttachResult> {
  const { size } = await stat(req.file);
  if (size <= deps.inlineMaxBytes) {
    const content = (await readFile(req.file)).toString('base64');
    const result = await deps.client.call(ATTACH_METHOD, { CALL_ID: req.callId, FILENAME: req.fileName, FILE_CONTENT: content });
    return { mode: 'base64', bytes: size, ...fileIdOf(result) };
  }
  const grant = await deps.client.call(ATTACH_METHOD, { CALL_ID: req.callId, FILENAME: req.fileName });
  const { uploadUrl, fieldName } = uploadGrant(grant);
  await deps.beforeRequest?.();
  const result = await upload(deps, uploadUrl, fieldName, req);
  return { mode: 'upload', bytes: size, ...fileIdOf(result) };
}

function uploadGrant(result: unknown): { uploadUrl: string; fieldName: string } {
  const r = (result ?? {}) as { uploadUrl?: unknown; fieldName?: unknown };
  if (typeof r.uploadUrl !== 'string' || !URL.canParse(r.uploadUrl)) {
    throw createBitrixError(ATTACH_METHOD, { type: 'invalid-body', status: 200, description: 'attachRecord returned no uploadUrl' });
  }
  return { uploadUrl: r.uploadUrl, fieldName: typeof r.fieldName === 'string' && r.fieldName !== '' ? r.fieldName : 'file' };
}

/** The multipart POST. The URL carries a token: it is never logged nor put in an error. */
async function upload(deps: AttachDeps, url: string, fieldName: string, req: AttachRequest): Promise<unknown> {
  const http = deps.fetch ?? fetch;
  const type = req.fileName.endsWith('.mp3') ? 'audio/mpeg' : 'audio/wav';
  const form = new FormData();
  // openAsBlob streams from disk: a long WAV sent as is would otherwise sit in memory whole.
  form.append(fieldName, await openAsBlob(req.file, { type }), req.fileName);
  let response: Response;
  try {
    // No redirects: they would resend the file (and the token) elsewhere.
    response = await http(url, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(deps.timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const code = e.cause?.code ?? (e.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
    throw createBitrixError('upload', { type: 'network', name: e.name, message: code ?? 'upload failed', ...(code ? { code } : {}) });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw createBitrixError('upload', { type: 'invalid-body', status: response.status, description: 'upload response is not JSON' });
  }
  const envelope = (body ?? {}) as { result?: unknown; error?: unknown; error_description?: unknown };
  if (envelope.error !== undefined && envelope.error !== null) {
    throw createBitrixError('upload', {
      type: 'envelope',
      status: response.status,
      error: String(envelope.error),
      description: String(envelope.error_description ?? ''),
    });
  }
  if (response.status < 200 || response.status >= 300 || !('result' in envelope)) {
    throw createBitrixError('upload', { type: 'invalid-body', status: response.status });
  }
  return envelope.result;
}

function fileIdOf(result: unknown): { fileId?: number } {
  const id = Number((result as { FILE_ID?: unknown } | undefined)?.FILE_ID);
  return Number.isFinite(id) ? { fileId: id } : {};
}
