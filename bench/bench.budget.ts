/** How long each part runs. `--quick` shrinks everything for a smoke run (figures then mean little). */
export interface Budget {
  quick: boolean;
  /** Warm-up before measuring, per measured configuration. */
  warmupMs: number;
  /** One measured round. */
  roundMs: number;
  /** Rounds per configuration (medians are taken over them). */
  rounds: number;
}

export function budgetFor(quick: boolean): Budget {
  return quick
    ? { quick, warmupMs: 100, roundMs: 150, rounds: 2 }
    : { quick, warmupMs: 400, roundMs: 1000, rounds: 3 };
}

/** Concurrencies of the gated group's scaling figures (`gated.<store>.c<N>.ops`) and of its chart. */
export const GATED_CONCURRENCIES = [1, 8, 64, 256] as const;
