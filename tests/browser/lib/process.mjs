// Stopping a server the browser tests started: SIGTERM, then SIGKILL if it lingers, so that an
// `after` hook never hangs.

export async function stopProcess(child, graceMs = 3000) {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  child?.stdout?.destroy();
  child?.stderr?.destroy();
}
