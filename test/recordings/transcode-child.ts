/**
 * A daemon in miniature for transcode-process.test.ts: starts a transcode with the ffmpeg it is given, and exits
 * (process.exit, as the daemon does after its stop) when the test tells it to, with the transcode still running.
 */
import { transcodeToMp3 } from '../../src/recordings/transcode.js';

const [input, output, ffmpegPath] = process.argv.slice(2);
if (!input || !output || !ffmpegPath || !process.send) throw new Error('usage: fork transcode-child.ts <input> <output> <ffmpeg> with an IPC channel');
transcodeToMp3(input, output, { bitrateKbps: 32, timeoutMs: 600_000, nice: 10, ffmpegPath }).catch(() => undefined);
process.on('message', (m) => {
  if (m === 'exit') process.exit(0);
});
process.send('started');
