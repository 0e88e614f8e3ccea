// Drawing batches from two pools at a fixed share: `sft` mixes general SFT records into the
// curated reasoning traces, `rl-all` mixes general prompts into the verifiable ones.
import { EpochSampler } from '../train/batches';
import { Rng } from '../util/rng';

/**
 * How many of each batch come from the second pool so that, batch after batch, the running
 * total stays within one item of `share` x items drawn (error diffusion): every batch gets the
 * floor or the ceiling of share x size, so even a small share of a small batch shows up.
 */
export class ShareCounter {
  private due = 0;
  constructor(private readonly share: number) {
    if (!(share >= 0 && share <= 1)) throw new Error(`share must be in [0, 1], got ${share}`);
  }

  /** Items of the second pool in the next batch of `size`. */
  next(size: number): number {
    this.due += this.share * size;
    // The epsilon keeps 0.2 x 5 = 0.99999... from rounding down.
    const n = Math.min(size, Math.floor(this.due + 1e-9));
    this.due -= n;
    return n;
  }
}

/**
 * Batches with `share` of their items from `side` and the rest from `main`, each pool drawn
 * without replacement and reshuffled every epoch, in shuffled positions (so a consumer that
 * takes a prefix of the batch, as dynamic sampling does, is not biased against either pool).
 */
export class MixedSampler<T> {
  private readonly counter: ShareCounter;
  private readonly main?: EpochSampler<T>;
  private readonly side?: EpochSampler<T>;

  constructor(
    main: T[],
    side: T[],
    share: number,
    private readonly rng: Rng,
  ) {
    this.counter = new ShareCounter(share);
    if (share < 1) {
      if (!main.length) throw new Error('no records to mix into');
      this.main = new EpochSampler(main, rng);
    }
    if (share > 0) {
      if (!side.length) throw new Error('no records to mix in');
      this.side = new EpochSampler(side, rng);
    }
  }

  next(count: number): T[] {
    const n = this.counter.next(count);
    const items = [...(n > 0 ? this.side!.next(n) : []), ...(n < count ? this.main!.next(count - n) : [])];
    return this.rng.shuffle(items);
  }
}
