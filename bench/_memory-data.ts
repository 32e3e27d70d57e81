/**
 * Deterministic memory entries for the benchmarks: words from a synthetic vocabulary drawn with a
 * Zipf law (as in natural text, a few words are everywhere and most are rare), 8–30 words each,
 * spread over owners, kinds and sessions. Same seed, same entries.
 */
export interface GeneratedEntry {
  owner: string; kind: 'working' | 'episodic' | 'semantic'; text: string;
  session_id?: string; category?: string; key?: string; source?: string;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function vocabulary(size: number, seed = 7): string[] {
  const rand = rng(seed);
  const onsets = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'st', 'tr', 'pl', 'gr', 'sh', 'ch'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ea'];
  const codas = ['', '', 'n', 'r', 's', 'l', 'x', 'm'];
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(rand() * 3);
    let w = '';
    for (let i = 0; i < syllables; i++) w += onsets[Math.floor(rand() * onsets.length)] + vowels[Math.floor(rand() * vowels.length)];
    words.add(w + codas[Math.floor(rand() * codas.length)]);
  }
  return [...words];
}

/** Cumulative Zipf(s = 1) weights, sampled by binary search. */
export function zipfSampler(n: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) { sum += 1 / (i + 1); cdf[i] = sum; }
  return () => {
    const x = rand() * sum;
    let lo = 0, hi = n - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  };
}

export function* generateEntries(count: number, options: { owners: string[]; vocab: string[]; seed?: number }): Generator<GeneratedEntry> {
  const rand = rng(options.seed ?? 42);
  const pick = zipfSampler(options.vocab.length, rand);
  const categories = ['prefs', 'people', 'projects', 'infra', 'health', 'travel', 'work', 'home'];
  for (let i = 0; i < count; i++) {
    const len = 8 + Math.floor(rand() * 23);
    const words: string[] = [];
    for (let j = 0; j < len; j++) words.push(options.vocab[pick()]);
    const owner = options.owners[i % options.owners.length];
    const r = rand();
    if (r < 0.6) yield { owner, kind: 'episodic', text: words.join(' '), source: 'bench', session_id: `s${i % 5000}` };
    else if (r < 0.9) yield { owner, kind: 'semantic', text: words.join(' '), category: categories[i % categories.length], key: `k${i}` };
    else yield { owner, kind: 'working', text: words.join(' '), session_id: `s${i % 5000}` };
  }
}
