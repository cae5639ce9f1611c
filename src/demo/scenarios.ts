/** The demo's portal: users whose UF_PHONE_INNER are the traces' agent extensions, and a few CRM clients. */
export const DEMO_USERS = [
  { ID: '1', NAME: 'Admin', LAST_NAME: 'Default', ACTIVE: true, UF_PHONE_INNER: null },
  { ID: '11', NAME: 'Anna', LAST_NAME: 'Support', ACTIVE: true, UF_PHONE_INNER: '101' },
  { ID: '12', NAME: 'Boris', LAST_NAME: 'Support', ACTIVE: true, UF_PHONE_INNER: '102' },
  { ID: '13', NAME: 'Clara', LAST_NAME: 'Support', ACTIVE: true, UF_PHONE_INNER: '103' },
  { ID: '21', NAME: 'Dmitry', LAST_NAME: 'Sales', ACTIVE: true, UF_PHONE_INNER: '201' },
  { ID: '22', NAME: 'Elena', LAST_NAME: 'Sales', ACTIVE: true, UF_PHONE_INNER: '202' },
  { ID: '23', NAME: 'Fedor', LAST_NAME: 'Sales', ACTIVE: true, UF_PHONE_INNER: '203' },
  // The agents of the live suite's traces (autopause, concurrent_calls): 301-303.
  { ID: '31', NAME: 'Galina', LAST_NAME: 'Outbound', ACTIVE: true, UF_PHONE_INNER: '301' },
  { ID: '32', NAME: 'Igor', LAST_NAME: 'Outbound', ACTIVE: true, UF_PHONE_INNER: '302' },
  { ID: '33', NAME: 'Kira', LAST_NAME: 'Outbound', ACTIVE: true, UF_PHONE_INNER: '303' },
];

export const DEMO_CRM = {
  contacts: [{ ID: 501, NAME: 'Olga Client', PHONE: [{ VALUE: '5551001', VALUE_TYPE: 'WORK' }], ASSIGNED_BY_ID: 12 }],
  companies: [{ ID: 701, TITLE: 'Acme LLC', PHONE: [{ VALUE: '5555001', VALUE_TYPE: 'WORK' }], ASSIGNED_BY_ID: 13 }],
  leads: [],
};

/** Not a trace of its own: a click in Bitrix24 that makes the daemon originate, then the click_to_call trace. */
export const CLICK_FROM_BITRIX24 = 'click_from_bitrix24';

/** The bundled real traces, in the order the demo plays them, with what a viewer should look for. */
export const TRACE_STORIES = [
  { name: 'support_ringall_answer', story: 'support (ringall) rings 101, 102, 103; 102 answers after 2 s; caller hangs up 5 s later' },
  { name: 'caller_abandon', story: 'support rings everyone, nobody answers, the caller hangs up after 8 s' },
  { name: 'no_members_all_paused', story: 'all agents paused: nobody rings, the caller leaves by queue timeout' },
  { name: 'blind_transfer', story: '102 answers, then blind-transfers the caller to 103, who answers' },
  { name: 'click_to_call', story: 'an Originate (from some other tool) rings agent 101 first, then dials 5559876: logged as an outbound call' },
  {
    name: CLICK_FROM_BITRIX24,
    story: 'a user clicks a number in Bitrix24: the daemon rings their phone, then the customer, and reuses Bitrix24\'s CALL_ID',
  },
  { name: 'recording', story: 'support call answered by 102, recorded with MixMonitor' },
  {
    name: 'sales_leastrecent_ringback',
    story:
      'sales (leastrecent): 201 does not answer and is rung again and again (the ring-back bug). The replayed recording cannot react, but watch the daemon pause 201 after its first miss and unpause it after the cooldown',
  },
];
