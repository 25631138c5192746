/**
 * A push-fed byte stream for watch responses: the server pushes encoded events as writes happen,
 * the HTTP layer or the in-process transport iterates it. Ending the iteration early (a client that
 * closes the watch) runs the close callback, which unsubscribes the watch and stops its timers.
 */
export class PushStream implements AsyncIterable<Uint8Array> {
  #queue: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #closed = false;
  readonly #onClose: () => void;

  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(text: string): void {
    if (this.#ended) return;
    this.#queue.push(Buffer.from(text, "utf8"));
    this.#wake?.();
  }

  /** No more data: the iteration ends once what is queued has been read. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#wake?.();
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: async (): Promise<IteratorResult<Uint8Array>> => {
        for (;;) {
          const chunk = this.#queue.shift();
          if (chunk) return { value: chunk, done: false };
          if (this.#ended) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<Uint8Array>> => {
        this.#queue = [];
        this.end();
        return { value: undefined, done: true };
      },
    };
  }
}
