/**
 * The HTTP boundary's data: routes are plain functions from a request to a response, so every route is
 * tested without a port (inject-style), and the server is the only place that listens.
 */
export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. /bitrix/events */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Peer address as the socket saw it (IPv4-mapped IPv6 unwrapped). */
  remoteAddress: string;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  /**
   * A response that stays open (server-sent events): `body` is written first, then the server hands the stream a
   * sink. The route still decides everything as data; only the server touches the socket.
   */
  stream?: (sink: StreamSink) => void;
}

/** The open end of a streamed response. */
export interface StreamSink {
  /** false once the peer is gone or the server is closing. */
  write(chunk: string): boolean;
  end(): void;
  /** Told once, when the peer goes away or the server closes. */
  onClose(listener: () => void): void;
}

export type Route = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

/** Stable error codes; the status is decided once, at the boundary (src/http/errors.ts). */
export type HttpErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'BAD_REQUEST'
  | 'INVALID_NUMBER'
  | 'UNKNOWN_USER'
  | 'DUPLICATE'
  /** The same CALL_ID while its call is still live (held until the core reports the end). */
  | 'CALL_IN_PROGRESS'
  | 'RATE_LIMITED'
  | 'PBX_UNAVAILABLE'
  /** Asterisk refused the Originate (Response: Error, e.g. the context or extension does not exist). */
  | 'ORIGINATE_FAILED'
  /** Bitrix24 could not be reached to register a callback: nothing was rung. */
  | 'PORTAL_UNAVAILABLE'
  /** A feature this request needs is not configured (e.g. callbacks without a target). */
  | 'NOT_CONFIGURED'
  | 'INTERNAL';

/** pino-compatible subset: (object, message). */
export interface HttpLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
