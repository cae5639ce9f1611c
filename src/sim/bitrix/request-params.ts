/**
 * Request → params as CRestUtil::getRequestData does it (docs/reference/bitrix24-rest.md#request-encoding):
 * the query string via parse_str; for POST, `application/json` via JSON (invalid → nothing),
 * multipart via its fields, anything else via parse_str of the raw body.
 * Body values replace query values key by key (array_replace).
 */
import { boundaryOf, parseMultipart, type MultipartFile } from './multipart.js';
import { PhpFormBuilder, parseStr } from './php-form.js';
import { phpEntries, setOwn, type Params } from './php.js';

export interface ParsedRequest {
  params: Params;
  files: MultipartFile[];
}

export function requestParams(
  httpMethod: string,
  search: string,
  contentType: string | undefined,
  body: Buffer,
): ParsedRequest {
  const params = parseStr(search.replace(/^\?/, ''));
  if (httpMethod !== 'POST') return { params, files: [] };

  const type = (contentType ?? '').replace(/;.*$/, '').trim();
  let post: Params = {};
  let files: MultipartFile[] = [];
  if (type === 'application/json') {
    // Exact, case-sensitive match like the PHP `switch`.
    post = jsonParams(body.toString('utf8').trim());
  } else if (type.toLowerCase() === 'multipart/form-data') {
    const boundary = boundaryOf(contentType ?? '');
    const parsed = boundary ? parseMultipart(body, boundary) : null;
    if (parsed) {
      const builder = new PhpFormBuilder();
      for (const [name, value] of parsed.fields) builder.add(name, value);
      post = builder.toParams();
      files = parsed.files;
    }
  } else {
    const raw = body.toString('utf8').trim();
    if (raw.length > 0) post = parseStr(raw);
  }

  for (const [k, v] of Object.entries(post)) setOwn(params, k, v);
  return { params, files };
}

/** Invalid JSON silently becomes an empty param set (docs/reference/bitrix24-rest.md#request-encoding). */
function jsonParams(raw: string): Params {
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch {
    return {};
  }
  if (Array.isArray(decoded)) return Object.fromEntries(phpEntries(decoded));
  if (typeof decoded === 'object' && decoded !== null) return decoded as Params;
  return {};
}
