// DingTalk's signature (../shared/dingtalk-api.md: base64 of HMAC-SHA256 over "timestamp\nsecret", keyed by the
// secret), computed with node:crypto independently of src/core/signing: the tests' oracle, and the stand-in's.
import { createHmac } from 'node:crypto';

export function dingtalkSign(secret: string, timestamp: number | string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}
