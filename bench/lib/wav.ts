import { wavHeader } from '../../test/support/wav.js';
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A PCM WAV as Asterisk's MixMonitor writes it (canonical 44-byte header, 16-bit mono, 8 kHz by default): sine tones
 * changing pitch every 2 s (like turns of speech, so the encoder has real work), written in 1-second pieces.
 */
export function writeSineWav(path: string, seconds: number, sampleRate = 8000): number {
  const samples = Math.round(seconds * sampleRate);
  const header = wavHeader(samples * 2, { sampleRate });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    const chunk = Buffer.alloc(sampleRate * 2);
    for (let start = 0; start < samples; start += sampleRate) {
      const n = Math.min(sampleRate, samples - start);
      for (let j = 0; j < n; j++) {
        const t = (start + j) / sampleRate;
        const freq = [440, 660, 523][Math.floor(t / 2) % 3]!;
        chunk.writeInt16LE(Math.round(Math.sin(2 * Math.PI * freq * t) * 12_000), j * 2);
      }
      writeSync(fd, chunk, 0, n * 2);
    }
  } finally {
    closeSync(fd);
  }
  return 44 + samples * 2;
}
