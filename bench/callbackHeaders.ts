// The signature headers the gateway benchmarks send. DingTalk signs each callback at its own time, and the
// gateway keeps the signatures of a key's last few timestamps (RECENT_SIGNS_PER_KEY) so that a replay needs no
// new HMAC. To cost what real traffic costs, the benchmarks rotate through four times as many timestamps: no
// request finds its signature kept. Only the replayed row, one captured callback sent again, sends one.
import { RECENT_SIGNS_PER_KEY } from '../src/core/gateway/auth';
import { signature } from '../src/core/signing';

export const DISTINCT_TIMESTAMPS = RECENT_SIGNS_PER_KEY * 4;

/** `count` `timestamp`/`sign` pairs signed with `secret`, all within the hour DingTalk allows. */
export function signedHeaderSets(secret: string, count = DISTINCT_TIMESTAMPS): { timestamp: string; sign: string }[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const timestamp = String(now - i);
    return { timestamp, sign: signature(secret, timestamp) };
  });
}
