import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callJson, register, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
let fileServer: Server | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  await new Promise((resolve) => (fileServer ? fileServer.close(resolve) : resolve(undefined)));
  fileServer = undefined;
});

const WAV = Buffer.from('RIFF....WAVEfmt fake audio');

async function finishedCall(e: BitrixEmulator): Promise<string> {
  const callId = await register(e);
  await callJson(e, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7, DURATION: 3 });
  return callId;
}

async function attach(e: BitrixEmulator, params: Record<string, unknown>) {
  return callJson(e, 'telephony.externalCall.attachRecord', params);
}

// docs/reference/bitrix24-telephony.md#attach-record
describe('telephony.externalCall.attachRecord', () => {
  it('rejects a call that is not finished yet', async () => {
    emu = await startEmulator();
    const callId = await register(emu);
    const r = await attach(emu, { CALL_ID: callId, FILENAME: 'a.wav', FILE_CONTENT: WAV.toString('base64') });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: '',
      error_description: 'Call is not found in the statistic table. Looks like it is not finished yet.',
    });
  });

  it('stores base64 content and returns the file id; re-attaching replaces the record', async () => {
    emu = await startEmulator();
    const callId = await finishedCall(emu);
    const first = await attach(emu, { CALL_ID: callId, FILENAME: 'a.wav', FILE_CONTENT: WAV.toString('base64') });
    expect(first.body.result).toEqual({ FILE_ID: 1 });
    const second = await attach(emu, { CALL_ID: callId, FILENAME: 'b.mp3', FILE_CONTENT: Buffer.from('ID3').toString('base64') });
    expect(second.body.result).toEqual({ FILE_ID: 2 });
    expect(emu.records).toHaveLength(1);
    expect(emu.records[0]).toMatchObject({ callId, fileName: 'b.mp3', mode: 'base64', fileId: 2 });
    expect(emu.records[0]?.bytes.toString()).toBe('ID3');
  });

  it('checks the extension case-sensitively and the content', async () => {
    emu = await startEmulator();
    const callId = await finishedCall(emu);
    const text = async (p: object) => (await attach(emu!, { CALL_ID: callId, ...p })).body.error_description;
    expect(await text({ FILENAME: 'a.WAV', FILE_CONTENT: 'AAAA' })).toBe('Wrong file extension. Only wav and mp3 are allowed');
    expect(await text({ FILENAME: 'a.ogg', FILE_CONTENT: 'AAAA' })).toBe('Wrong file extension. Only wav and mp3 are allowed');
    expect(await text({ FILENAME: '', FILE_CONTENT: 'AAAA' })).toBe('File name is empty');
    expect(await text({ FILENAME: 'a.wav', FILE_CONTENT: '' })).toBe('File content is empty.');
    expect(await text({ FILENAME: 'a.wav', FILE_CONTENT: '!!!' })).toBe(
      'File content is not properly encoded. Base64 encoding is expected.',
    );
    expect(await text({})).toBe('Required parameters are not set. Request should contain or URL or FILENAME parameter');
  });

  it('hands out an upload URL and accepts a multipart POST of the file there', async () => {
    emu = await startEmulator();
    const callId = await finishedCall(emu);
    const r = await attach(emu, { CALL_ID: callId, FILENAME: 'ignored.txt' });
    expect(r.body.result).toEqual({ uploadUrl: expect.stringContaining(`${emu.webhookUrl}upload/?token=`), fieldName: 'file' });

    const form = new FormData();
    form.append('file', new Blob([WAV], { type: 'audio/wav' }), 'call.wav');
    const upload = await fetch(r.body.result.uploadUrl, { method: 'POST', body: form });
    expect(upload.status).toBe(200);
    expect(((await upload.json()) as { result: unknown }).result).toEqual({ FILE_ID: 1 });
    expect(emu.records[0]).toMatchObject({ callId, fileName: 'call.wav', mode: 'upload' });
    expect(emu.records[0]?.bytes.equals(WAV)).toBe(true);
    expect(emu.commands.at(-1)).toMatchObject({ method: 'upload', ok: true });
  });

  it('checks the uploaded file name, the field and the token', async () => {
    emu = await startEmulator();
    const callId = await finishedCall(emu);
    const { uploadUrl } = (await attach(emu, { CALL_ID: callId, FILENAME: 'x.wav' })).body.result;
    const post = async (url: string, field: string, name: string) => {
      const form = new FormData();
      form.append(field, new Blob([WAV]), name);
      const res = await fetch(url, { method: 'POST', body: form });
      return { status: res.status, body: (await res.json()) as { error: string; error_description: string } };
    };
    expect((await post(uploadUrl, 'file', 'call.ogg')).body.error_description).toBe(
      'Wrong file extension. Only wav and mp3 are allowed',
    );
    expect((await post(uploadUrl, 'document', 'call.wav')).body.error_description).toBe(
      'Error: required parameter file is not found',
    );
    const forged = await post(`${emu.webhookUrl}upload/?token=telephony|Y2FsbElkPXg=|bad`, 'file', 'call.wav');
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('ACCESS_DENIED');
  });

  it('downloads RECORD_URL without an extension check and reports HTTP errors', async () => {
    fileServer = createServer((req, res) => {
      if (req.url === '/rec/777') res.writeHead(200, { 'Content-Disposition': 'attachment; filename="777.ogg"' }).end(WAV);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fileServer!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
    emu = await startEmulator();
    const callId = await finishedCall(emu);
    const ok = await attach(emu, { CALL_ID: callId, RECORD_URL: `${base}/rec/777` });
    expect(ok.body.result).toEqual({ FILE_ID: 1 });
    expect(emu.records[0]).toMatchObject({ fileName: '777.ogg', mode: 'url' });
    const missing = await attach(emu, { CALL_ID: callId, RECORD_URL: `${base}/nope.wav` });
    expect(missing.body).toEqual({ error: '', error_description: 'Server returns HTTP error code 404' });
  });
});
