// The socket client's request/retry rules and the store's bookkeeping, with a
// stand-in for the Socket.IO socket (node:test; `npm test`).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AckError, AgentSocket } from '../console/src/socket.js';
import { Store } from '../console/src/store.js';

/** A socket whose acks are scripted: each entry is an ack object or 'timeout'. */
function scriptedSocket(script) {
  const sent = [];
  return {
    sent,
    connected: true,
    on() {},
    off() {},
    timeout() {
      return {
        emitWithAck: async (event, payload) => {
          sent.push({ event, payload });
          const next = script.shift();
          if (next === 'timeout') throw new Error('operation has timed out');
          return next;
        },
      };
    },
  };
}

function agentSocket(script) {
  const socket = new AgentSocket('token', {});
  socket.socket = scriptedSocket(script);
  return socket;
}

describe('AgentSocket.request', () => {
  it('sends the same payload again when no ack comes', async () => {
    const socket = agentSocket(['timeout', { ok: true, id: 'c_1:5', seq: 5 }]);
    const payload = { conversation_id: 'c_1', text: 'hi', client_id: 'a-1' };
    const ack = await socket.request('agent_message', payload, { attempts: 3, timeout: 10 });
    assert.equal(ack.seq, 5);
    assert.equal(socket.socket.sent.length, 2);
    assert.deepEqual(socket.socket.sent[0], socket.socket.sent[1]);
  });

  it('retries `unavailable` (nothing was stored) but not other refusals', async () => {
    const retried = agentSocket([{ ok: false, error: { code: 'unavailable', message: 'redis' } }, { ok: true }]);
    await retried.request('agent_message', {}, { attempts: 2, backoffMs: 1 });
    assert.equal(retried.socket.sent.length, 2);

    const refused = agentSocket([{ ok: false, error: { code: 'invalid_state', message: 'closed' } }, { ok: true }]);
    await assert.rejects(refused.request('agent_message', {}, { attempts: 3 }), (err) => err instanceof AckError && err.code === 'invalid_state');
    assert.equal(refused.socket.sent.length, 1);
  });

  it('sends once by default and gives up with `timeout`', async () => {
    const socket = agentSocket(['timeout', { ok: true }]);
    await assert.rejects(socket.request('claim', { conversation_id: 'c_1' }, { timeout: 10 }), (err) => err.code === 'timeout');
    assert.equal(socket.socket.sent.length, 1);
  });
});

const packet = (id, extra = {}) => ({
  conversation_id: id,
  state: 'assigned',
  language: 'bn',
  messages: [{ id: `${id}:1`, seq: 1, conversation_id: id, sender: 'visitor', text: 'hi' }],
  ...extra,
});

describe('Store', () => {
  it('keeps messages that arrive before their packet', () => {
    const store = new Store();
    store.addMessage({ id: 'c_1:2', seq: 2, conversation_id: 'c_1', sender: 'visitor', text: 'early' });
    store.upsertPacket(packet('c_1'));
    assert.deepEqual(
      store.get('c_1').messages.map((m) => m.seq),
      [1, 2],
    );
    assert.equal(store.activeId, 'c_1');
  });

  it('turns an acknowledged pending message into one message, even if the echo came first', () => {
    const store = new Store();
    store.upsertPacket(packet('c_1'));
    store.addPending('c_1', { client_id: 'a-1', text: 'hello', status: 'sending' });
    store.addMessage({ id: 'c_1:2', seq: 2, conversation_id: 'c_1', sender: 'agent', text: 'hello', meta: { agent: { name: 'Asha' } } });
    store.confirmPending('c_1', 'a-1', { id: 'c_1:2', seq: 2 });
    const conv = store.get('c_1');
    assert.equal(conv.pending.length, 0);
    assert.equal(conv.messages.length, 2);
    assert.equal(conv.messages[1].meta.agent.name, 'Asha');
  });

  it('reports a seq gap of a live message, and the packet asked again fills it', () => {
    const store = new Store();
    store.upsertPacket(packet('c_1'));
    const live = (seq) => ({ id: `c_1:${seq}`, seq, conversation_id: 'c_1', sender: 'visitor', text: `m${seq}` });
    assert.equal(store.addMessage(live(2)), null);
    assert.equal(store.addMessage(live(5)), 2); // 3 and 4 were lost
    assert.equal(store.addMessage({ ...live(9), conversation_id: 'c_unknown' }), null);
    store.upsertPacket({ ...packet('c_1'), messages: [1, 2, 3, 4, 5].map(live) });
    assert.deepEqual(
      store.get('c_1').messages.map((m) => m.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(store.addMessage(live(6)), null);
  });

  it('counts unread visitor messages of the conversations not shown', () => {
    const store = new Store();
    store.upsertPacket(packet('c_1'));
    store.upsertPacket(packet('c_2'));
    store.addMessage({ id: 'c_2:2', seq: 2, conversation_id: 'c_2', sender: 'visitor', text: 'x' });
    store.addMessage({ id: 'c_2:2', seq: 2, conversation_id: 'c_2', sender: 'visitor', text: 'x' });
    store.addMessage({ id: 'c_1:2', seq: 2, conversation_id: 'c_1', sender: 'visitor', text: 'y' });
    assert.equal(store.get('c_2').unread, 1);
    assert.equal(store.get('c_1').unread, 0);
    store.setActive('c_2');
    assert.equal(store.get('c_2').unread, 0);
  });

  it('marks conversations missing from a new session as ended, and re-opens re-assigned ones', () => {
    const store = new Store();
    store.upsertPacket(packet('c_1'));
    store.upsertPacket(packet('c_2'));
    store.replaceConversations([packet('c_2')]);
    assert.deepEqual(store.get('c_1').ended, { reason: 'requeued' });
    assert.equal(store.get('c_2').ended, null);
    store.setEnded('c_2', 'closed', { state: 'closed', resolution: { code: 'resolved' } });
    assert.equal(store.get('c_2').packet.state, 'closed');
    store.upsertPacket(packet('c_2'));
    assert.equal(store.get('c_2').ended, null);
  });

  it('sorts the queue and notes when it arrived', () => {
    const store = new Store();
    store.setQueue([{ conversation_id: 'a', wait_seconds: 1 }, { conversation_id: 'b', wait_seconds: 9 }], 1234);
    assert.deepEqual(
      store.queue.map((e) => e.conversation_id),
      ['b', 'a'],
    );
    assert.equal(store.queueReceivedAt, 1234);
  });
});
