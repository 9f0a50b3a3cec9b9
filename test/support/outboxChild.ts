// A window's extension host in miniature, for the outbox unit tests: an Outbox on the given folder in its own
// process, so a test can SIGKILL it in the middle of a request as a crashed window would be.
// argv: <dir> <stale ms>. Messages from the parent: { enqueue: string[] }. To the parent: 'ready',
// { posting: text } when a request starts (it never gets an answer), { enqueued: n }.
import { Outbox } from '../../src/core/send/outbox/outbox';
import type { RobotMessage } from '../../src/core/messages';

const [dir, staleMs] = process.argv.slice(2);
const outbox = new Outbox({
  dir,
  label: 'child window',
  leaseStaleMs: Number(staleMs),
  send: (_robotId, message: RobotMessage) => {
    process.send?.({ posting: message.msgtype === 'text' ? message.text.content : '' });
    return new Promise(() => undefined);
  },
});

process.on('message', (message: { enqueue?: string[] }) => {
  void (async () => {
    for (const text of message.enqueue ?? []) await outbox.enqueue('robot-1', [{ msgtype: 'text', text: { content: text } }], text);
    process.send?.({ enqueued: message.enqueue?.length ?? 0 });
  })();
});

void outbox.start().then(() => process.send?.({ ready: outbox.isSender }));
