export interface ParallelizeOptions {
  /**
   * Hand pieces to workers in chunks of this many consecutive pieces rather than one at a time;
   * worth it when there are many more pieces than workers and each piece is small. 1 by default.
   */
  chunkSize?: number;
  /** Stops handing out pieces; pieces already started run to their end. */
  signal?: AbortSignal;
}

/**
 * Runs `doWorkPiece(0) … doWorkPiece(pieces - 1)` with at most `workers` of them in flight at once
 * (client-go's `ParallelizeUntil`) and resolves when all have finished. Pieces are handed out in
 * order, so with one worker they run one after another.
 *
 * If a piece throws, no further pieces start and the promise rejects with that error once the
 * pieces in flight have finished. If `signal` aborts before every piece has started, the promise
 * likewise rejects with `signal.reason` once the pieces in flight have finished: nothing keeps
 * running after it settles.
 */
export async function parallelize(
  workers: number,
  pieces: number,
  doWorkPiece: (piece: number) => void | Promise<void>,
  options: ParallelizeOptions = {},
): Promise<void> {
  if (!(workers >= 1)) throw new RangeError(`workers must be >= 1, got ${workers}`);
  if (!(pieces >= 0)) throw new RangeError(`pieces must be >= 0, got ${pieces}`);
  const { signal } = options;
  if (pieces === 0) return;
  if (signal?.aborted) throw signal.reason;
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 1));
  const chunks = Math.ceil(pieces / chunkSize);
  let nextChunk = 0;
  let started = 0;
  let failure: { error: unknown } | undefined;

  const work = async () => {
    for (let chunk = nextChunk++; chunk < chunks; chunk = nextChunk++) {
      const end = Math.min((chunk + 1) * chunkSize, pieces);
      for (let piece = chunk * chunkSize; piece < end; piece++) {
        if (failure !== undefined || signal?.aborted) return;
        started++;
        try {
          await doWorkPiece(piece);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(workers, chunks) }, work));
  if (failure !== undefined) throw failure.error;
  if (started < pieces && signal?.aborted) throw signal.reason;
}
