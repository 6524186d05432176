// Runs nginx in front of interop servers for one test (or group of tests), with the example
// configuration examples/nginx/nginx.conf.
//
// The configuration is that file itself, read and changed only where a test must differ:
// - `listen 127.0.0.1:PORT` on a free port instead of `listen 8080`;
// - the upstream's `server` lines name the given servers instead of 127.0.0.1:3001/3002;
// - `sticky: false` drops the `hash $remote_addr consistent;` line: round robin, nginx's
//   default, for negative controls;
// - the process runs in the foreground as one process (`daemon off; master_process off;
//   worker_processes 1;`), so that it is our child and nothing outlives it;
// - pid file, error log and temporary files go to a fresh temporary directory (the prefix, -p),
//   and the access log is off unless `accessLog: true` (then `accessLog()` reads it).
// Each change must apply exactly once: when the example changes shape, this fails loudly
// instead of testing something else.
//
// The binary is $NGINX or /usr/sbin/nginx (Debian's nginx / nginx-light 1.22); nginxBinary()
// returns null when there is none, for skipping.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { delay } from './util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const EXAMPLE_CONF = path.resolve(here, '../../../examples/nginx/nginx.conf');

const STARTUP_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
const PORT_ATTEMPTS = 5;

// Every nginx still running when the test process exits is killed, whatever happened, and its
// temporary directory removed. That covers a normal exit and process.exit(); for a test process
// killed by a signal, nginx is started under `setpriv --pdeathsig KILL` (util-linux) when
// available, so that the kernel kills it together with its parent.
const running = new Map(); // proc -> temporary directory
process.on('exit', () => {
    for (const [proc, dir] of running) {
        try {
            proc.kill('SIGKILL');
        } catch {
            // already gone
        }
        rmSync(dir, { recursive: true, force: true });
    }
});
const SETPRIV = '/usr/bin/setpriv';

/** The nginx binary to use, or null when there is none. */
export function nginxBinary() {
    const candidate = process.env.NGINX || '/usr/sbin/nginx';
    return existsSync(candidate) ? candidate : null;
}

/** A port that was free a moment ago on 127.0.0.1 (nginx may still lose it to a race: retried). */
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

function replaceOnce(text, pattern, replacement, what) {
    const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`));
    if (!matches || matches.length !== 1) {
        throw new Error(`${EXAMPLE_CONF}: expected exactly one ${what} (${pattern}), found `
                        + `${matches ? matches.length : 0}; update tests/interop/lib/nginx.mjs`);
    }
    return text.replace(pattern, replacement);
}

/**
 * The test configuration derived from the example (see the top of this file).
 *
 * @param {object} options
 * @param {string[]} options.upstreams HOST:PORT of each server
 * @param {boolean} options.sticky keep `hash $remote_addr consistent;` (else round robin)
 * @param {number} options.port the port to listen on (127.0.0.1)
 * @param {string} options.dir the temporary directory (prefix) for pid, logs and temp files
 * @param {boolean} [options.accessLog] keep an access log (dir/access.log) in the example's format
 */
export function testConfig({ upstreams, sticky, port, dir, accessLog = false }) {
    let conf = readFileSync(EXAMPLE_CONF, 'utf8');
    conf = replaceOnce(conf, /^worker_processes\s+\S+;$/m,
        'daemon off;\nmaster_process off;\nworker_processes 1;', 'worker_processes line');
    conf = replaceOnce(conf, /^pid\s+\S+;$/m, `pid ${path.join(dir, 'nginx.pid')};`, 'pid line');
    conf = replaceOnce(conf, /^error_log\s+[^;]+;$/m,
        `error_log ${path.join(dir, 'error.log')} info;`, 'top-level error_log line');
    conf = replaceOnce(conf, /^([ \t]*)access_log\s+[^;]+;$/m,
        accessLog ? `$1access_log ${path.join(dir, 'access.log')} upstream;` : '$1access_log off;',
        'access_log line');
    conf = replaceOnce(conf, /^([ \t]*)listen\s+8080;$/m, `$1listen 127.0.0.1:${port};`, 'listen 8080 line');
    // The example's two upstream servers become the given ones (any number).
    const serverLines = /^([ \t]*)server\s+127\.0\.0\.1:300[12];[^\n]*\n([ \t]*server\s+127\.0\.0\.1:300[12];[^\n]*\n)/m;
    conf = replaceOnce(conf, serverLines,
        (_, indent) => upstreams.map((u) => `${indent}server ${u};\n`).join(''), 'pair of upstream server lines');
    const hashLine = /^([ \t]*)hash \$remote_addr consistent;$/m;
    conf = replaceOnce(conf, hashLine,
        sticky ? '$1hash $remote_addr consistent;' : '$1# (test: no hash, round robin)', 'hash line');
    return conf;
}

function tail(lines, n = 20) {
    return lines.length ? `\n--- nginx output (last ${Math.min(n, lines.length)} lines) ---\n`
        + lines.slice(-n).join('\n') : ' (no output)';
}

function readLog(file) {
    try {
        return readFileSync(file, 'utf8');
    } catch {
        return '';
    }
}

/** Resolves true once something accepts TCP connections on 127.0.0.1:port. */
function canConnect(port) {
    return new Promise((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port });
        sock.once('connect', () => {
            sock.destroy();
            resolve(true);
        });
        sock.once('error', () => resolve(false));
    });
}

async function startOnce({ binary, upstreams, sticky, accessLog }) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qsio-nginx-'));
    const port = await freePort();
    const confFile = path.join(dir, 'nginx.conf');
    const config = testConfig({ upstreams, sticky, port, dir, accessLog });
    writeFileSync(confFile, config);

    // -e: where nginx logs before it has read the configuration's error_log.
    const args = ['-c', confFile, '-p', `${dir}/`, '-e', path.join(dir, 'error.log')];
    const proc = existsSync(SETPRIV)
        ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.set(proc, dir);
    const output = [];
    readline.createInterface({ input: proc.stdout }).on('line', (l) => output.push(l));
    readline.createInterface({ input: proc.stderr }).on('line', (l) => output.push(l));

    let exitInfo = null;
    const exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => {
            exitInfo = { code, signal };
            running.delete(proc);
            resolve(exitInfo);
        });
    });
    let spawnError = null;
    proc.once('error', (err) => { spawnError = err; });

    const errorLog = () => readLog(path.join(dir, 'error.log'));
    const stop = async () => {
        if (!exitInfo) {
            // SIGTERM: fast shutdown (SIGQUIT would wait for held long-polls and WebSockets).
            proc.kill('SIGTERM');
            let timer;
            const stopped = await Promise.race([
                exited.then(() => true),
                new Promise((resolve) => { timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS); }),
            ]);
            clearTimeout(timer);
            if (!stopped) {
                proc.kill('SIGKILL');
                await exited;
            }
        }
    };

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
        if (spawnError || exitInfo) {
            await stop();
            const log = errorLog();
            rmSync(dir, { recursive: true, force: true });
            const addressInUse = /Address already in use/.test(log + output.join('\n'));
            const err = new Error(spawnError
                ? `cannot start ${binary}: ${spawnError.message}`
                : `nginx exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal}); `
                  + `args: ${args.join(' ')}${tail(output)}\n--- error.log ---\n${log}`);
            err.addressInUse = addressInUse;
            throw err;
        }
        if (await canConnect(port)) {
            break;
        }
        if (Date.now() > deadline) {
            await stop();
            const log = errorLog();
            rmSync(dir, { recursive: true, force: true });
            throw new Error(`nginx did not accept connections on 127.0.0.1:${port} within `
                            + `${STARTUP_TIMEOUT_MS} ms${tail(output)}\n--- error.log ---\n${log}`);
        }
        await delay(20);
    }
    return { proc, port, dir, config, output, errorLog, stop, alive: () => exitInfo === null, exitInfo: () => exitInfo };
}

/**
 * Starts nginx with the example configuration in front of `upstreams`.
 *
 * @param {object} options
 * @param {string[]} options.upstreams HOST:PORT of each server, e.g. ['127.0.0.1:41234', ...]
 * @param {boolean} [options.sticky=true] `hash $remote_addr consistent` (false: round robin)
 * @param {boolean} [options.accessLog=false] keep an access log; `accessLog()` returns its text
 * @param {import('node:test').TestContext} [options.t] when given, nginx is stopped in t.after();
 *        otherwise call close() yourself. close() throws if nginx died on its own before.
 * @returns {Promise<{url: string, host: string, port: number, config: string, dir: string,
 *          proc: import('node:child_process').ChildProcess, alive: () => boolean,
 *          errorLog: () => string, accessLog: () => string, close: () => Promise<void>}>}
 */
export async function startNginx({ upstreams, sticky = true, accessLog = false, t } = {}) {
    if (!Array.isArray(upstreams) || upstreams.length === 0) {
        throw new Error('startNginx: upstreams must be a non-empty list of HOST:PORT');
    }
    const binary = nginxBinary();
    if (!binary) {
        throw new Error('no nginx: install Debian\'s nginx (or nginx-light), or set $NGINX');
    }
    let started;
    for (let attempt = 1; ; attempt++) {
        try {
            started = await startOnce({ binary, upstreams, sticky, accessLog });
            break;
        } catch (err) {
            if (!err.addressInUse || attempt >= PORT_ATTEMPTS) {
                throw err;
            }
        }
    }

    let closed = false;
    const close = async () => {
        if (closed) {
            return;
        }
        closed = true;
        const diedOnItsOwn = !started.alive();
        const info = started.exitInfo();
        await started.stop();
        const log = started.errorLog();
        rmSync(started.dir, { recursive: true, force: true });
        if (diedOnItsOwn) {
            throw new Error(`nginx died during the test (code ${info.code}, signal ${info.signal})`
                            + `${tail(started.output)}\n--- error.log ---\n${log}`);
        }
    };

    const nginx = {
        url: `http://127.0.0.1:${started.port}`,
        host: '127.0.0.1',
        port: started.port,
        config: started.config,
        dir: started.dir,
        proc: started.proc,
        alive: started.alive,
        errorLog: started.errorLog,
        accessLog: () => readLog(path.join(started.dir, 'access.log')),
        close,
    };
    if (t) {
        t.after(close);
    }
    return nginx;
}
