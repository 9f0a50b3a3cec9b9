// Tunnels live in core/inbound/tunnels/ (one file per provider). This file keeps the old import path working
// for src/gateway.ts, which is being rewritten on the issue-9 branch; new code imports core/inbound/tunnels.
export * from './inbound/tunnels';
