import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import got, { HTTPError, RequestError } from 'got';
import type { Segment } from './messages.js';

/**
 * One request to the operator's speech-to-text server: an OpenAI-compatible `POST /v1/audio/transcriptions`
 * (multipart: file, model, language, response_format=verbose_json, timestamp_granularities[]=segment), the only
 * place audio leaves the bridge (docs/reference/transcription-api.md). No retries here: the worker owns them.
 */

export interface SttSettings {
  url: string;
  model: string;
  /** 'auto': the field is left out and the server detects the language. */
  language: string;
  apiKey?: string | undefined;
  timeoutMs: number;
}

/** The server could not give a transcript this time; `status` when it answered at all. */
export class SttError extends Error {
  override readonly name = 'SttError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type Transcribe = (file: string) => Promise<Segment[]>;

export function createSttClient(settings: SttSettings): Transcribe {
  return async (file) => {
    const form = new FormData();
    form.append('file', await openAsBlob(file, { type: 'audio/wav' }), basename(file));
    form.append('model', settings.model);
    if (settings.language !== 'auto') form.append('language', settings.language);
    form.append('response_format', 'verbose_json');
    form.append('timestamp_granularities[]', 'segment');
    let body: unknown;
    try {
      body = await got
        .post(settings.url, {
          body: form,
          headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
          timeout: { request: settings.timeoutMs },
          retry: { limit: 0 },
          followRedirect: false,
          throwHttpErrors: true,
        })
        .json();
    } catch (err) {
      throw describe(err);
    }
    return segmentsOf(body);
  };
}

/** verbose_json's segments; a server that answers only `text` gives one segment over the whole duration. */
export function segmentsOf(body: unknown): Segment[] {
  if (body === null || typeof body !== 'object') throw new SttError('the server answered something other than a JSON object');
  const b = body as { segments?: unknown; text?: unknown; duration?: unknown };
  if (Array.isArray(b.segments)) {
    return b.segments.flatMap((s: unknown) => {
      const seg = s as { start?: unknown; end?: unknown; text?: unknown };
      return typeof seg.start === 'number' && typeof seg.end === 'number' && typeof seg.text === 'string' ? [{ start: seg.start, end: seg.end, text: seg.text }] : [];
    });
  }
  if (typeof b.text === 'string') return [{ start: 0, end: typeof b.duration === 'number' ? b.duration : 1, text: b.text }];
  throw new SttError('the answer has neither segments nor text (is response_format=verbose_json supported?)');
}

function describe(err: unknown): SttError {
  if (err instanceof HTTPError) {
    // The body may echo the request; only its first line, never headers (they carry the key).
    const detail = String(err.response.body ?? '').split('\n')[0]?.slice(0, 200) ?? '';
    return new SttError(`HTTP ${err.response.statusCode}${detail ? `: ${detail}` : ''}`, err.response.statusCode);
  }
  if (err instanceof RequestError) return new SttError(`${err.code}: ${err.message.split('\n')[0] ?? ''}`);
  return new SttError(err instanceof Error ? err.message : String(err));
}
