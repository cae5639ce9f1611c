import { open } from 'node:fs/promises';

/**
 * Reads just enough of a WAV file to decide two things: is it a header with no audio (an unanswered
 * call), and can it be attached as it is when ffmpeg cannot transcode it (Bitrix24 accepts .wav).
 */

export type WavInfo =
  | { ok: true; format: number; channels: number; sampleRate: number; bitsPerSample: number; dataOffset: number; dataBytes: number }
  | { ok: false; reason: string };

/** Codecs a player decodes from a WAV: PCM, float, A-law, mu-law, GSM 6.10 (Asterisk's wav49), extensible. */
const PLAYABLE_FORMATS = new Set([0x0001, 0x0003, 0x0006, 0x0007, 0x0031, 0xfffe]);
// Asterisk writes a 44-byte header; 64 KiB leaves room for LIST/fact chunks from other writers.
const HEADER_WINDOW = 64 * 1024;

/**
 * Parses the RIFF chunks in `head` (the start of the file). `fileSize` is the real size: the header's own
 * length fields are not trusted, a recorder that crashed never updated them.
 */
export function parseWav(head: Buffer, fileSize: number): WavInfo {
  if (head.length < 12) return { ok: false, reason: 'shorter than a RIFF header' };
  if (head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    return { ok: false, reason: 'not a RIFF/WAVE file' };
  }
  let fmt: { format: number; channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  let pos = 12;
  while (pos + 8 <= head.length) {
    const id = head.toString('latin1', pos, pos + 4);
    const size = head.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > head.length) return { ok: false, reason: 'fmt chunk is truncated' };
      fmt = {
        format: head.readUInt16LE(body),
        channels: head.readUInt16LE(body + 2),
        sampleRate: head.readUInt32LE(body + 4),
        bitsPerSample: head.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) return { ok: false, reason: 'data chunk before fmt chunk' };
      if (!PLAYABLE_FORMATS.has(fmt.format)) return { ok: false, reason: `unsupported codec 0x${fmt.format.toString(16)}` };
      if (fmt.channels === 0 || fmt.sampleRate === 0) return { ok: false, reason: 'fmt chunk has no channels or no sample rate' };
      return { ok: true, ...fmt, dataOffset: body, dataBytes: Math.max(0, fileSize - body) };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    pos = body + size + (size % 2);
  }
  return { ok: false, reason: fmt ? 'no data chunk' : 'no fmt chunk' };
}

/** parseWav on a file. Throws only when the file cannot be read at all. */
export async function inspectWav(path: string): Promise<WavInfo> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, HEADER_WINDOW));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return parseWav(head.subarray(0, bytesRead), size);
  } finally {
    await handle.close();
  }
}
