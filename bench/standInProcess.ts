// The DingTalk stand-in in its own process, so its CPU time is not counted in the send benchmark's.
// Robots and options come as JSON in argv[2]; the base URL goes back over IPC.
import { startDingTalkStandIn, StandInOptions } from '../test/support/dingtalkStandIn';

if (require.main === module) {
  startDingTalkStandIn(JSON.parse(process.argv[2]) as StandInOptions).then((standIn) => {
    process.send!({ baseUrl: standIn.baseUrl, webhookUrl: standIn.webhookUrl('TOKEN') });
    process.on('disconnect', () => process.exit(0));
  }, (error) => {
    console.error(error);
    process.exit(1);
  });
}
