// Starts the C++ interop_server binary for one test (or one group of tests) and stops it again.
//
// The binary is taken from $INTEROP_SERVER (CTest sets it). It is started with
// `--port 0 --host 127.0.0.1` plus the extra flags of the test, and is ready once it printed
// `listening on http(s)://127.0.0.1:PORT` on stdout.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;
const LISTENING_RE = /^listening on (https?):\/\/([^\s/]+):(\d+)\s*$/;

// Every server still running when the test process exits is killed, whatever happened.
const running = new Set();
process.on('exit', () => {
    for (const proc of running) {
        try {
            proc.kill('SIGKILL');
        } catch {
            // already gone
        }
    }
});

function serverBinary() {
    const fromEnv = process.env.INTEROP_SERVER;
    if (fromEnv) {
        if (!existsSync(fromEnv)) {
            throw new Error(`INTEROP_SERVER=${fromEnv} does not exist (build the interop_server target)`);
        }
        return fromEnv;
    }
    // Convenience for running `node --test` by hand next to a default build directory.
    const here = path.dirname(fileURLToPath(import.meta.url));
    const fallback = path.resolve(here, '../../../build/tests/interop_server');
    if (existsSync(fallback)) {
        return fallback;
    }
    throw new Error('INTEROP_SERVER is not set: point it at the interop_server binary '
                    + '(CTest does this; by hand: INTEROP_SERVER=build/tests/interop_server node --test)');
}

function tail(lines, n = 20) {
    return lines.length ? `\n--- interop_server stderr (last ${Math.min(n, lines.length)} lines) ---\n`
        + lines.slice(-n).join('\n') : ' (no stderr output)';
}

/**
 * Starts interop_server.
 *
 * @param {string[]} flags extra command line flags, e.g. ['--ping-interval', '300']
 * @param {object} [options]
 * @param {import('node:test').TestContext} [options.t] when given, the server is stopped in
 *        t.after(); otherwise call close() yourself (e.g. in after()). close() throws if the
 *        server died on its own before it was called, so a crash fails the test.
 * @returns {Promise<{url: string, origin: string, host: string, port: number, secure: boolean,
 *          proc: import('node:child_process').ChildProcess, stdoutLines: string[],
 *          stderrLines: string[], alive: () => boolean, close: () => Promise<void>}>}
 */
export async function startServer(flags = [], { t } = {}) {
    const binary = serverBinary();
    // INTEROP_SERVER_FLAGS: flags for every server a suite starts (e.g. --worker-threads 2).
    const extra = (process.env.INTEROP_SERVER_FLAGS ?? '').split(' ').filter((f) => f);
    const args = ['--port', '0', '--host', '127.0.0.1', ...extra, ...flags];
    const proc = spawn(binary, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, QT_QPA_PLATFORM: 'offscreen' },
    });
    running.add(proc);

    const stdoutLines = [];
    const stderrLines = [];
    let exitInfo = null;
    let closing = false;

    const exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => {
            exitInfo = { code, signal };
            running.delete(proc);
            resolve(exitInfo);
        });
    });

    readline.createInterface({ input: proc.stderr }).on('line', (line) => stderrLines.push(line));
    const stdout = readline.createInterface({ input: proc.stdout });

    let timer;
    const ready = new Promise((resolve, reject) => {
        stdout.on('line', (line) => {
            stdoutLines.push(line);
            const m = LISTENING_RE.exec(line);
            if (m) {
                resolve({ scheme: m[1], host: m[2], port: Number(m[3]) });
            }
        });
        proc.once('error', (err) => reject(new Error(`cannot start ${binary}: ${err.message}`)));
        exited.then(({ code, signal }) => reject(new Error(
            `interop_server exited before it was ready (code ${code}, signal ${signal}); `
            + `args: ${args.join(' ')}; stdout: ${JSON.stringify(stdoutLines)}${tail(stderrLines)}`)));
        timer = setTimeout(() => reject(new Error(
            `interop_server did not print "listening on ..." within ${STARTUP_TIMEOUT_MS} ms; `
            + `args: ${args.join(' ')}; stdout: ${JSON.stringify(stdoutLines)}${tail(stderrLines)}`)),
        STARTUP_TIMEOUT_MS);
    });

    const stop = async () => {
        closing = true;
        if (exitInfo) {
            return;
        }
        proc.kill('SIGTERM');
        let killTimer;
        const stopped = await Promise.race([
            exited.then(() => true),
            new Promise((resolve) => { killTimer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS); }),
        ]);
        clearTimeout(killTimer);
        if (!stopped) {
            proc.kill('SIGKILL');
            await exited;
        }
    };

    let where;
    try {
        where = await ready;
    } catch (err) {
        await stop();
        throw err;
    } finally {
        clearTimeout(timer);
    }

    // Stops the server; throws if it had died on its own (a crash) before that.
    const close = async () => {
        const diedOnItsOwn = exitInfo !== null && !closing;
        await stop();
        if (diedOnItsOwn) {
            throw new Error(`interop_server died during the test (code ${exitInfo.code}, `
                            + `signal ${exitInfo.signal})${tail(stderrLines)}`);
        }
    };

    const secure = where.scheme === 'https';
    const origin = `${where.scheme}://${where.host}:${where.port}`;
    const server = {
        url: origin,
        origin,
        host: where.host,
        port: where.port,
        secure,
        proc,
        stdoutLines,
        stderrLines,
        alive: () => exitInfo === null,
        exitInfo: () => exitInfo,
        stderrTail: (n) => tail(stderrLines, n),
        close,
    };

    if (t) {
        t.after(close);
    }
    return server;
}
