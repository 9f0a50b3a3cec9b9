// One window's outbox in its own process, for `npm run bench`: it posts instantly (the network is not what is
// measured) and tells the bench when each post started, on the shared high-resolution clock.
import { performance } from 'node:perf_hooks';
import { Outbox } from '../src/core/send/outbox/outbox';

const now = (): number => performance.timeOrigin + performance.now();
const outbox = new Outbox({
  dir: process.argv[2],
  label: `bench window ${process.pid}`,
  send: async (_robotId, message) => {
    process.send?.({ posted: message.msgtype === 'text' ? message.text.content : '', at: now() });
    return { ok: true, attempts: 1, bytes: 1 };
  },
});

process.on('message', (message: { enqueue?: { robotId: string; text: string }; cpu?: boolean }) => {
  if (message.enqueue) {
    const at = now();
    void outbox.enqueue(message.enqueue.robotId, [{ msgtype: 'text', text: { content: message.enqueue.text } }], 'bench').then(
      () => process.send?.({ enqueued: message.enqueue?.text, at }),
    );
  }
  if (message.cpu) process.send?.({ cpu: process.cpuUsage(), sender: outbox.isSender });
});
process.on('disconnect', () => void outbox.close(100).then(() => process.exit(0)));

void outbox.start().then(() => process.send?.({ ready: outbox.isSender }));
