// Small helpers so that every wait in the interop tests is bounded.

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves like `promise`, or rejects with "timed out after MS ms: WHAT". */
export function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for one `event` on an emitter (Node EventEmitter or component-emitter) and resolves
 * with its arguments (a single argument is unwrapped). Rejects after `ms`, or at once when one
 * of `failOn` is emitted first.
 */
export function waitEvent(emitter, event, ms, { failOn = [] } = {}) {
    const listeners = [];
    const listen = (name, fn) => {
        emitter.on(name, fn);
        listeners.push([name, fn]);
    };
    const done = new Promise((resolve, reject) => {
        listen(event, (...args) => resolve(args.length > 1 ? args : args[0]));
        for (const name of failOn) {
            listen(name, (...args) => reject(new Error(
                `got '${name}' while waiting for '${event}': ${args.map(describe).join(', ')}`)));
        }
    });
    return withTimeout(done, ms, `waiting for '${event}'`).finally(() => {
        for (const [name, fn] of listeners) {
            emitter.off(name, fn);
        }
    });
}

function describe(value) {
    if (value instanceof Error) {
        return `${value.message}${value.description ? ` (${describe(value.description)})` : ''}`;
    }
    if (typeof value === 'object' && value !== null) {
        try {
            return JSON.stringify(value);
        } catch {
            return String(value);
        }
    }
    return String(value);
}

/**
 * Collects every `event` of an emitter so that tests can wait for the next N of them.
 * Items are the event's first argument.
 */
export class Inbox {
    constructor(emitter, event = 'message') {
        this.items = [];
        this.event = event;
        this.waiter = null;
        emitter.on(event, (item) => {
            this.items.push(item);
            this.#check();
        });
    }

    #check() {
        if (this.waiter && this.items.length >= this.waiter.n) {
            const { n, resolve } = this.waiter;
            this.waiter = null;
            resolve(this.items.splice(0, n));
        }
    }

    /** Resolves with the next `n` items (removing them), or rejects after `ms`. */
    take(n, ms, what = `${n} '${this.event}' event(s)`) {
        if (this.waiter) {
            throw new Error('Inbox.take() is already waiting');
        }
        const got = new Promise((resolve) => {
            this.waiter = { n, resolve };
            this.#check();
        });
        return withTimeout(got, ms, `${what} (got ${this.items.length})`).finally(() => {
            this.waiter = null;
        });
    }

    /** Resolves with the next item. */
    async next(ms, what) {
        const [item] = await this.take(1, ms, what);
        return item;
    }
}

/** Buffer view of a received binary message (engine.io-client gives Buffers under Node). */
export function toBuffer(data) {
    if (Buffer.isBuffer(data)) {
        return data;
    }
    if (data instanceof ArrayBuffer) {
        return Buffer.from(data);
    }
    if (ArrayBuffer.isView(data)) {
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    throw new Error(`not binary data: ${typeof data} ${String(data).slice(0, 40)}`);
}

/** Bytes 0..n-1 modulo 256, so that every byte value appears in longer buffers. */
export function byteRamp(n, start = 0) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
        out[i] = (start + i) & 0xff;
    }
    return out;
}
