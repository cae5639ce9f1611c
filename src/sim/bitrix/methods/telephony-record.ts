/**
 * telephony.externalCall.attachRecord (docs/reference/bitrix24-telephony.md#attach-record-modes) in its
 * three modes — RECORD_URL, FILENAME+FILE_CONTENT (base64), FILENAME only (upload URL) — and the
 * `upload` endpoint that receives the multipart POST.
 */
import { createHmac, randomInt } from 'node:crypto';
import { systemErrors } from '../envelope.js';
import type { MethodContext, MethodHandler } from '../dispatch.js';
import { parseStr, phpUrlencode } from '../php-form.js';
import { fileExtension, isset, phpString } from '../php.js';

const ALLOWED_EXTENSIONS = ['wav', 'mp3'];
const NOT_FINISHED = 'Call is not found in the statistic table. Looks like it is not finished yet.';
const DOWNLOAD_TIMEOUT_MS = 60_000;

export const attachRecordMethod: MethodHandler = async (params, ctx) => {
  const callId = params.CALL_ID ?? null;

  if (isset(params.RECORD_URL)) {
    requireFinished(ctx, callId);
    let downloaded: { fileName: string; bytes: Buffer };
    try {
      downloaded = await downloadRecord(phpString(params.RECORD_URL), phpString(params.FILENAME));
    } catch (err) {
      throw ctx.fail(err instanceof Error ? err.message : String(err));
    }
    // No wav/mp3 check in URL mode.
    const fileId = ctx.state.attachRecord({ callId: String(callId), ...downloaded, mode: 'url' });
    return { result: { FILE_ID: fileId } };
  }

  if (isset(params.FILENAME)) {
    requireFinished(ctx, callId);
    if (!isset(params.FILE_CONTENT)) {
      // Mode 3: the extension is checked later, on the uploaded file's name.
      return { result: { uploadUrl: uploadUrl(ctx, String(callId)), fieldName: 'file' } };
    }
    const fileName = phpString(params.FILENAME);
    if (fileName === '') throw ctx.fail('File name is empty');
    if (!ALLOWED_EXTENSIONS.includes(fileExtension(fileName))) {
      throw ctx.fail('Wrong file extension. Only wav and mp3 are allowed');
    }
    const content = phpString(params.FILE_CONTENT);
    if (content === '' || content === 'false') throw ctx.fail('File content is empty.');
    const bytes = base64DecodeLenient(content);
    // src CRestUtil::saveFile: content that decodes to nothing is "not properly encoded".
    if (bytes.length === 0) throw ctx.fail('File content is not properly encoded. Base64 encoding is expected.');
    const fileId = ctx.state.attachRecord({ callId: String(callId), fileName, bytes, mode: 'base64' });
    return { result: { FILE_ID: fileId } };
  }

  // Sic: "or URL or FILENAME" is the source text.
  throw ctx.fail('Required parameters are not set. Request should contain or URL or FILENAME parameter');
};

/** POST {webhook}/upload/?token=… with multipart field `file`. */
export const uploadMethod: MethodHandler = (params, ctx) => {
  const callId = verifyToken(phpString(params.token), ctx.tokenSecret);
  if (callId === null) throw systemErrors.accessDenied('Link check failed');
  const file = ctx.files.find((f) => f.field === 'file');
  if (!file) throw ctx.fail('Error: required parameter file is not found');
  if (!ALLOWED_EXTENSIONS.includes(fileExtension(file.fileName))) {
    throw ctx.fail('Wrong file extension. Only wav and mp3 are allowed');
  }
  requireFinished(ctx, callId);
  const fileId = ctx.state.attachRecord({ callId, fileName: file.fileName, bytes: file.data, mode: 'upload' });
  return { result: { FILE_ID: fileId } };
};

function requireFinished(ctx: MethodContext, callId: unknown): void {
  if (!ctx.state.statisticByCallId(callId)) throw ctx.fail(NOT_FINISHED);
}

/**
 * CRestUtil::getSpecialUrl: token = scope|base64(query)|signature; a webhook gets `{webhook}/upload/?token=`,
 * the app `{portal}/rest/upload.json?auth={access token}&token=` (so the link dies with the token).
 */
function uploadUrl(ctx: MethodContext, callId: string): string {
  const query = Buffer.from(`callId=${phpUrlencode(callId)}&_=${randomInt(1, 2 ** 31 - 1)}`).toString('base64');
  const signed = `telephony|${query}`;
  const token = encodeURIComponent(`${signed}|${sign(signed, ctx.tokenSecret)}`);
  if (ctx.auth.type === 'app' && ctx.auth.accessToken !== null) {
    return `${ctx.restBase}upload.json?auth=${encodeURIComponent(ctx.auth.accessToken)}&token=${token}`;
  }
  return `${ctx.webhookBase}upload/?token=${token}`;
}

function sign(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('hex');
}

/** The call id the token was issued for, or null when the signature does not match. */
function verifyToken(token: string, secret: string): string | null {
  const parts = token.split('|');
  if (parts.length !== 3) return null;
  const [scope, query, signature] = parts as [string, string, string];
  if (sign(`${scope}|${query}`, secret) !== signature) return null;
  const callId = parseStr(Buffer.from(query, 'base64').toString('utf8')).callId;
  return typeof callId === 'string' ? callId : null;
}

/** PHP non-strict base64_decode: characters outside the alphabet are skipped. */
export function base64DecodeLenient(content: string): Buffer {
  return Buffer.from(content.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

/** Synchronous download as in RECORD_URL mode; error texts as in src attachRecordWithUrl. */
export async function downloadRecord(url: string, fileName: string): Promise<{ fileName: string; bytes: Buffer }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${cause?.code ?? 'NETWORK'}: ${cause?.message ?? (err as Error).message}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`Server returns HTTP error code ${response.status}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const disposition = /filename="?([^";]+)"?/i.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const fromPath = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  return { fileName: fileName || disposition || fromPath || 'record', bytes };
}
