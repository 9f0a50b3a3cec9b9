// Waiting for something, but not for long: a send's outcome before its progress shows, a terminal's last output
// before its report goes.

/** What `promise` settles to if it does within `ms`, else undefined; a rejection within `ms` is passed on. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
