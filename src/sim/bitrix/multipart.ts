/**
 * Minimal multipart/form-data parser (RFC 7578) for the upload URL flow
 * (docs/reference/bitrix24-telephony.md#upload-url) and for method calls sent as multipart
 * (docs/reference/bitrix24-rest.md#request-encoding). Parts with a `filename` are
 * files (PHP `$_FILES`), the others are fields (PHP `$_POST`).
 */

export interface MultipartFile {
  field: string;
  fileName: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartBody {
  fields: Array<[string, string]>;
  files: MultipartFile[];
}

export function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/** Returns null when the body is not well-formed multipart for this boundary. */
export function parseMultipart(body: Buffer, boundary: string): MultipartBody | null {
  const delimiter = Buffer.from(`--${boundary}`);
  const result: MultipartBody = { fields: [], files: [] };
  let pos = body.indexOf(delimiter);
  if (pos === -1) return null;

  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return result;
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') return null;
    pos += 2;

    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd === -1) return null;
    const headers = parseHeaders(body.subarray(pos, headerEnd).toString('utf8'));
    const contentStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), contentStart);
    if (next === -1) return null;
    const data = body.subarray(contentStart, next);
    pos = next + 2;

    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    if (name === null) continue;
    const fileName = dispositionParam(disposition, 'filename');
    if (fileName === null) {
      result.fields.push([name, data.toString('utf8')]);
    } else {
      result.files.push({
        field: name,
        fileName,
        contentType: headers.get('content-type') ?? 'application/octet-stream',
        data: Buffer.from(data),
      });
    }
  }
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | null {
  const re = new RegExp(`(?:^|;)\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(disposition);
  if (!m) return null;
  const quoted = m[1];
  return quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (m[2] ?? '').trim();
}
