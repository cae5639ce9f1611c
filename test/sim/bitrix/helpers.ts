/** Shared helpers for the Bitrix emulator tests: a fake clock and small HTTP wrappers. */
import { startBitrixEmulator, type BitrixEmulator, type EmulatorOptions } from '../../../src/sim/bitrix-emulator.js';

/** 2026-03-10T08:19:38Z: the moment of the register example in the REST docs (api-reference/telephony/telephony-external-call-register.md). */
export const T0 = Date.UTC(2026, 2, 10, 8, 19, 38);

export class FakeClock {
  now = T0;
  readonly fn = (): number => this.now;
  tick(ms: number): void {
    this.now += ms;
  }
}

export const USERS: NonNullable<EmulatorOptions['users']> = [
  { ID: 1, NAME: 'Admin', LAST_NAME: 'Owner', ACTIVE: true, UF_PHONE_INNER: null, ADMIN: true },
  { ID: 7, NAME: 'Anna', LAST_NAME: 'Ivanova', ACTIVE: true, UF_PHONE_INNER: '101', TIMEMAN_STATUS: 'OPENED' },
  { ID: 8, NAME: 'Boris', LAST_NAME: 'Petrov', ACTIVE: true, UF_PHONE_INNER: '102', PERSONAL_MOBILE: '+79990001122' },
  { ID: 9, NAME: 'Gone', LAST_NAME: 'Away', ACTIVE: false, UF_PHONE_INNER: '103' },
  { ID: 10, NAME: 'Bot', LAST_NAME: 'Robot', ACTIVE: true, UF_PHONE_INNER: '104', IS_REAL_USER: false },
];

export const CRM: NonNullable<EmulatorOptions['crm']> = {
  contacts: [{ ID: 651, NAME: 'John', LAST_NAME: 'Doe', PHONE: [{ VALUE: '+7 (495) 123-45-67', VALUE_TYPE: 'WORK' }], ASSIGNED_BY_ID: 7 }],
  companies: [{ ID: 31, TITLE: 'Acme LLC', PHONE: ['+74951234567', '+74950000000'], ASSIGNED_BY_ID: 8 }],
  leads: [{ ID: 400, TITLE: 'Old lead', PHONE: ['+74951234567'], ASSIGNED_BY_ID: 7 }],
};

export function startEmulator(options: EmulatorOptions = {}): Promise<BitrixEmulator> {
  return startBitrixEmulator({ users: USERS, crm: CRM, rateLimit: false, ...options });
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** A response read as JSON where it is JSON, as text where not. */
export async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML or empty bodies stay text
  }
  return { status: response.status, body, headers: response.headers };
}

/** POST with a JSON body. */
export async function callJson(emu: BitrixEmulator, method: string, params: unknown = {}): Promise<Reply> {
  const response = await fetch(`${emu.webhookUrl}${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(params),
  });
  return reply(response);
}

/** POST with a hand-written application/x-www-form-urlencoded body. */
export async function callForm(emu: BitrixEmulator, method: string, body: string): Promise<Reply> {
  const response = await fetch(`${emu.webhookUrl}${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  return reply(response);
}

export async function get(url: string, init?: RequestInit): Promise<Reply> {
  return reply(await fetch(url, init));
}

/** A register with sensible defaults; returns the CALL_ID. */
export async function register(emu: BitrixEmulator, params: Record<string, unknown> = {}): Promise<string> {
  const r = await callJson(emu, 'telephony.externalcall.register', {
    USER_ID: 7,
    PHONE_NUMBER: '+74951234567',
    TYPE: 2,
    ...params,
  });
  if (r.status !== 200) throw new Error(`register failed: ${JSON.stringify(r.body)}`);
  return r.body.result.CALL_ID as string;
}

/** The data of ONEXTERNALCALLSTART for user 7 clicking +7 (495) 123-45-67 (the seeded contact 651), as the form carries it. */
export function clickData(callId: string): Record<string, string> {
  return {
    PHONE_NUMBER: '+7 (495) 123-45-67',
    PHONE_NUMBER_INTERNATIONAL: '+74951234567',
    EXTENSION: '',
    USER_ID: '7',
    CALL_LIST_ID: '0',
    LINE_NUMBER: '',
    IS_MOBILE: '0',
    CALL_ID: callId,
    CRM_ENTITY_TYPE: 'CONTACT',
    CRM_ENTITY_ID: '651',
  };
}
