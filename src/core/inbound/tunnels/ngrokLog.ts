// What the ngrok agent logs (`--log stdout --log-format json`), read line by line: where its local API listens,
// and the last error, which explains a failure to the user.

/** ngrok's JSON log (`--log stdout --log-format json`), kept short; the last lines explain failures. */
export class NgrokLog {
  private partial = '';
  readonly lines: string[] = [];
  /** Where ngrok says its local API listens (`starting web service` … `addr`). */
  webAddr: string | undefined;
  /** The last line that reports an error (`lvl` eror/crit, an `err` field, or ERR_NGROK_…). */
  lastError: string | undefined;

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
  }

  flush(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(raw: string): void {
    const text = raw.replace(/\r/g, '').trim();
    if (!text) return;
    let shown = text;
    try {
      const entry = JSON.parse(text) as Record<string, unknown>;
      if (entry && typeof entry === 'object') {
        if (entry.msg === 'starting web service' && typeof entry.addr === 'string') this.webAddr = entry.addr;
        const err = typeof entry.err === 'string' && entry.err !== '<nil>' ? entry.err : undefined;
        shown = [entry.msg, err].filter((s) => typeof s === 'string' && s).join(': ').replace(/\s+/g, ' ').trim() || text;
        if (err || entry.lvl === 'eror' || entry.lvl === 'crit' || /ERR_NGROK_\d+/.test(text)) this.lastError = shown;
      }
    } catch {
      if (/ERR_NGROK_\d+|^ERROR:/i.test(text)) this.lastError = text;
    }
    this.lines.push(shown);
    if (this.lines.length > 20) this.lines.shift();
  }

  summary(): string {
    return this.lastError ?? this.lines[this.lines.length - 1] ?? '';
  }
}
