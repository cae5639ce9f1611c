/**
 * The canonical 44-byte header of a 16-bit PCM WAV, as Asterisk's MixMonitor writes it (src/recordings/wav.ts reads
 * the same layout). The one writer of it for tests, the fake speech-to-text server and the benchmarks. `format` 1 is
 * PCM; another value makes a file the pipeline must refuse. With dataBytes 0 it is a whole "never connected" file.
 */
export function wavHeader(dataBytes: number, opts: { sampleRate?: number; channels?: number; format?: number } = {}): Buffer {
  const sampleRate = opts.sampleRate ?? 8000;
  const channels = opts.channels ?? 1;
  const blockAlign = 2 * channels;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(opts.format ?? 1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
